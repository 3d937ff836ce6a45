/* The structure layer: an edge sketch of the image at a reduced resolution, coded with a template
 * context model, plus sparse colour samples beside the edges and on a coarse lattice; the decoder
 * rebuilds the sketch-level image from base0 by diffusing the sampled corrections with the edges
 * as barriers (sub-layer 0), then adds a wavelet correction (sub-layer 1, correction.h): base1.
 * bitstream-spec/structure.md is the authority for the payload. */
#ifndef SCMC_STRUCTURE_H
#define SCMC_STRUCTURE_H
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

/* Detail levels (ScmcEncoderSettings.structure_detail); AUTO lets the encoder choose
 * (scmc_structure_params_for). */
#define SCMC_STRUCTURE_DETAIL_AUTO 0
#define SCMC_STRUCTURE_DETAIL_MIN 1
#define SCMC_STRUCTURE_DETAIL_MAX 5
#define SCMC_STRUCTURE_DETAIL_ALONE 3 /* AUTO's level when no signal layer follows */

/* Everything the encoder chooses; the fields marked (coded) travel in the payload header. */
typedef struct ScmcStructureParams {
    int scale_log2;      /* (coded) sketch grid = image / 2^scale_log2, 0..3 */
    int lattice;         /* (coded) lattice spacing in grid pixels, 2..64 */
    int side_spacing;    /* (coded) least distance between samples on one side of an edge, 1..15 */
    int qstep;           /* (coded) quantizer step of the sample luma (Y), 1..64 */
    int chroma_qstep;    /* (coded) quantizer step of the sample chroma (Co, Cg), 1..64 */
    double edge_density; /* fraction of grid pixels the sketch may use */
    int min_fragment;    /* edge fragments shorter than this (pixels) are dropped */
    int refine_passes;   /* encoder-side passes fitting sample values to the rebuild */
    double split_mse;    /* lattice cells whose correction field stays further than this (MSE per
                          * grid pixel, Y + Co + Cg) from the image are split into four; 0: none */
    int wavelet_step;    /* (coded, sub-layer 1) quantizer step of the wavelet correction's luma,
                          * 1..SCMC_CORRECTION_MAX_STEP */
    int wavelet_chroma_step; /* (coded, sub-layer 1) the same for Co and Cg */
    double wavelet_lambda;   /* the correction's rate-distortion weight over step^2 (correction.h) */
    int wavelet_dq;          /* (coded, sub-layer 1) 1: dependent quantization (correction.h) */
    int wavelet_split;       /* (coded, sub-layer 1) 1: the correction in three sub-layers by
                              * resolution, 0: in one (correction.h) */
} ScmcStructureParams;

/* The correction's rate-distortion weight per level (0: the low band, 1..5) for an encoder tuning
 * (ScmcTune; scmc_correction_encode_levels), or NULL when every level weighs the same. */
const double *scmc_structure_level_weights(int tune);

/* The parameters of a detail level (1..5). */
void scmc_structure_params(int detail, ScmcStructureParams *p);
/* The parameters the encoder uses for `detail` (AUTO or 1..5) when the stream is coded at signal
 * quality `quality` (1..8), with or without a signal layer after the structure layer. AUTO
 * without a signal layer is level SCMC_STRUCTURE_DETAIL_ALONE; with one, the wavelet correction
 * takes the low frequencies at a step that falls with the quality (docs/structure.md, "Under a
 * signal layer"). */
void scmc_structure_params_for(int detail, int quality, int with_signal, ScmcStructureParams *p);

uint32_t scmc_structure_model_id(void);

/* Codes img as a refinement of base0 (same size) into *payload (free()): sub-layer 0, the sketch
 * and its samples. Sub-layer 1, the wavelet correction of what it leaves, is correction.h's. */
int scmc_structure_encode(const ScmcImage *img, const ScmcImage *base0, const ScmcStructureParams *p,
                          uint8_t **payload, size_t *size);

/* A parsed payload: the sketch and the decoded correction samples, enough to rebuild. */
typedef struct ScmcStructure ScmcStructure;

/* Parses a payload for a width x height image; SCMC_ERR_CORRUPT when it is invalid. */
int scmc_structure_parse(const uint8_t *payload, size_t size, int width, int height, ScmcStructure **out);
/* base1 = base0 refined by the parsed payload (out is allocated). Integer-only: identical on
 * every machine. */
int scmc_structure_rebuild(const ScmcStructure *st, const ScmcImage *base0, ScmcImage *out);
void scmc_structure_free(ScmcStructure *st);

/* Introspection for tools and tests. */
int scmc_structure_grid(const ScmcStructure *st, int *gw, int *gh, const uint8_t **edges);
int scmc_structure_num_samples(const ScmcStructure *st);
#endif
