/* The structure layer's second sub-layer: what the sketch-level image (sub-layer 0) still misses,
 * as quantized CDF 9/7 wavelet coefficients of the YCoCg correction, context-coded
 * (bitstream-spec/structure.md, "Wavelet correction"). It carries the spatial frequencies between
 * the semantic rendering and the edges that a sparse set of samples cannot hold. */
#ifndef SCMC_CORRECTION_H
#define SCMC_CORRECTION_H
#include <stddef.h>
#include <stdint.h>

#include "correction_states.h"
#include "image/image.h"
#include "prediction_net.h"
#include "restore.h"

/* Quantizer steps are in grey levels of the unit-gain transform, 1..SCMC_CORRECTION_MAX_STEP. */
#define SCMC_CORRECTION_MAX_STEP 4095
/* The finest levels whose reconstruction offsets a correction sends (bitstream-spec/structure.md,
 * "Reconstruction"); the coarser ones hold too few values for an offset to pay its bits. */
#define SCMC_CORRECTION_SHRINK_LEVELS 3

/* A split correction travels in parts, each a sub-layer of its own, coarse to fine, so that a
 * stream cut between them decodes to a coarser correction: part 0 the header, the low band and
 * levels 5 to 3; part 1 level 2; part 2 level 1 and the restoration filter. An unsplit one is all
 * in part 0 (bitstream-spec/structure.md). */
#define SCMC_CORRECTION_PARTS 3 /* at most */

typedef struct ScmcCorrectionPayload {
    int count;                            /* parts: 1, or SCMC_CORRECTION_PARTS when split */
    uint8_t *data[SCMC_CORRECTION_PARTS]; /* each freed by scmc_correction_payload_free() */
    size_t size[SCMC_CORRECTION_PARTS];
} ScmcCorrectionPayload;

void scmc_correction_payload_free(ScmcCorrectionPayload *p);
/* The sum of the parts' sizes. */
size_t scmc_correction_payload_bytes(const ScmcCorrectionPayload *p);

struct Contexts;

typedef struct ScmcCorrection {
    int width, height;
    int split;     /* 1: in SCMC_CORRECTION_PARTS parts, 0: in one */
    int parts;     /* parts parsed so far (the encoder's: all) */
    struct Contexts *models; /* the parser's adaptive models between parts; NULL once complete */
    int step[3];   /* Y, Co, Cg */
    int sharpen;   /* edge sharpening strength for display, 0..SCMC_SHARPEN_MAX (sharpen.h) */
    int dq;        /* 1: dependent quantization (two interleaved quantizers, correction.c) */
    /* Reconstruction offsets: the non-zero values of levels 1..SCMC_CORRECTION_SHRINK_LEVELS
     * stand for points shrink[plane][level - 1][class] / 64 step nearer zero than their own
     * (class 1: under dependent quantization the level of half a step, else 0); all 0 when the
     * stream sends none. */
    int8_t shrink[3][SCMC_CORRECTION_SHRINK_LEVELS][2];
    int32_t *q;    /* 3 planes of width * height quantized coefficients, Mallat layout */
    ScmcRestore restore; /* the restoration filter applied after the correction (restore.h) */
} ScmcCorrection;

/* The encoder's rate-distortion weight: the values minimise squared RGB error + lambda * bits with
 * lambda = SCMC_CORRECTION_RDO_LAMBDA * step^2 (docs/structure.md, "Rate-distortion quantization"). */
#define SCMC_CORRECTION_RDO_LAMBDA 0.25
/* Under the signal layer, where the restoration filter takes back part of what a finer choice
 * would have kept, a lighter weight measured better (docs/structure.md, "Restoration filter"). */
#define SCMC_CORRECTION_RDO_LAMBDA_UNDER_SIGNAL 0.2
/* With dependent quantization (its step 1.25 times one quantizer's at about the same rate):
 * measured against 0.14 and 0.2 (docs/structure.md, "Dependent quantization"). */
#define SCMC_CORRECTION_RDO_LAMBDA_DQ 0.17

/* Codes img - base (same size) at the given luma and chroma steps, and the sharpening strength that
 * suits the result, into out's parts. */
int scmc_correction_encode(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                           ScmcCorrectionPayload *out);
/* The same with lambda = lambda_scale * step^2 (0: the nearest values, distortion alone), with
 * dependent quantization when dq is 1, and in SCMC_CORRECTION_PARTS parts when split is 1 (one
 * part when 0). */
int scmc_correction_encode_rd(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                              double lambda_scale, int dq, int split, ScmcCorrectionPayload *out);
/* The same with the weight of each level's values times level_scale[level] (index 0 the low band,
 * 1..5 the levels; each in (0, 64]; NULL: all 1): the encoder's tuning for a measure other than
 * squared error (scmc.h, ScmcTune). The syntax is the same. */
#define SCMC_CORRECTION_LEVEL_CLASSES 6
int scmc_correction_encode_levels(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                                  double lambda_scale, const double *level_scale, int dq, int split,
                                  ScmcCorrectionPayload *out);
/* The number of parts c has in all (1 or SCMC_CORRECTION_PARTS), and whether all are parsed. */
int scmc_correction_total_parts(const ScmcCorrection *c);
int scmc_correction_complete(const ScmcCorrection *c);
/* Parses part `part` of a correction into *c: part 0 replaces *c with a new correction (freeing
 * the old one), later parts extend it and must come in order. A damaged later part leaves *c with
 * the parts before it and refuses any more. SCMC_ERR_CORRUPT when the payload is invalid. */
int scmc_correction_parse_part(ScmcCorrection **c, int part, const uint8_t *payload, size_t size, int width,
                               int height);
/* The first `parts` parts of payload (1..payload->count) at once. */
int scmc_correction_parse(const ScmcCorrectionPayload *payload, int parts, int width, int height,
                          ScmcCorrection **out);
/* Training (layers/structure/tools/train_correction_states.c): the states a correction's models
 * end in once all of payload is parsed, in the order of the starting-state tables
 * (correction_states.h): each probability context's probability of a 1 (the mixer contexts' slow
 * one) and update count, and each weight set. */
typedef struct ScmcCorrectionStates {
    int set; /* the table set the correction's header selects */
    uint16_t p1[SCMC_CORRECTION_START_PROBS];
    uint16_t count[SCMC_CORRECTION_START_PROBS];
    int32_t weights[SCMC_CORRECTION_START_WEIGHTS][SCMC_MIX_INPUTS];
} ScmcCorrectionStates;
int scmc_correction_final_states(const ScmcCorrectionPayload *payload, int width, int height,
                                 ScmcCorrectionStates *out);
/* out = base + the correction, restoration-filtered once complete (out is allocated): base1, what the signal
 * layer refines; the sharpening is for display only (structure_layer.c). Integer-only: identical
 * on every machine. */
int scmc_correction_apply(const ScmcCorrection *c, const ScmcImage *base, ScmcImage *out);
/* The coarse-scale prediction of level `level`'s bands (1-5) of a w x h plane of coefficient
 * indices q coded at `step` (bitstream-spec/structure.md, "Coarse-scale prediction"): pred (w x h)
 * receives, at the places of that level's three bands, the values the contexts read (1/16 grey
 * levels); it reads only q's coarser levels. With logits (w x h, or NULL) and a level the learned
 * prediction covers (1 to SCMC_PREDNET_LEVELS), also the learned prediction of a luma plane
 * (prediction_net.h) at the same places. For tests and tools; the coder calls the same code. */
int scmc_correction_coarse_prediction(const int32_t *q, int w, int h, int level, int step, int32_t *pred,
                                      ScmcPrednetLogits *logits);
void scmc_correction_free(ScmcCorrection *c);
#endif
