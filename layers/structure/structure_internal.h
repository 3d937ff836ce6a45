/* What the parts of the structure layer share: the parsed payload and its samples. */
#ifndef SCMC_STRUCTURE_INTERNAL_H
#define SCMC_STRUCTURE_INTERNAL_H
#include <stdint.h>

#include "entropy/range_coder.h"
#include "structure.h"

/* Sample values are quantized corrections of base0 in this colour space (exactly invertible in
 * integers times 4): Y = (R + 2G + B) / 4, Co = (R - B) / 2, Cg = (2G - R - B) / 4. */
enum { SAMPLE_Y, SAMPLE_CO, SAMPLE_CG };

enum { SAMPLE_LATTICE = 0, SAMPLE_SIDE = 1 };

typedef struct ScmcSample {
    int32_t x, y;   /* grid position */
    uint8_t kind;   /* SAMPLE_LATTICE or SAMPLE_SIDE */
    uint8_t key;    /* side samples: direction of the edge beside it (0 up, 1 down, 2 left, 3 right) */
    int32_t slot;   /* lattice samples: the half-cell slot (raster index) it was placed for */
    int16_t q[3];   /* quantized Y, Co, Cg correction */
} ScmcSample;

struct ScmcStructure {
    int width, height;
    int scale_log2, gw, gh;
    int lattice, side_spacing, qstep, chroma_qstep;
    uint8_t *edges;        /* gw * gh, 0/1 */
    uint8_t *split;        /* per lattice cell (raster order), 1: sampled at its four quadrant
                            * centres instead of its centre; NULL when no cell is split */
    int nsamples;
    ScmcSample *samples;   /* in coding order: lattice points in slot raster order, then side points */
};

static inline int scmc_structure_step(const ScmcStructure *st, int channel)
{
    return channel == SAMPLE_Y ? st->qstep : st->chroma_qstep;
}

/* Lattice cells across and down. */
void scmc_structure_lattice_dims(const ScmcStructure *st, int *nx, int *ny);
/* Whether slot (fi, fj) of the half-cell slot grid (2 nx slots across) lies in a split cell. */
static inline int scmc_structure_slot_split(const ScmcStructure *st, int nx, int fi, int fj)
{
    return st->split && st->split[(fj / 2) * nx + fi / 2];
}
/* Places the samples of a sketch (positions, kinds and keys; values zeroed): a pure function of
 * the edges, the split cells and the two spacings, so the decoder finds the same points as the
 * encoder. */
int scmc_structure_place_samples(ScmcStructure *st);

/* Codes the sample values of st (positions placed) with exactly one of e and d non-NULL: the
 * encoder and the decoder share this code path so their contexts and predictions cannot drift.
 * Returns 0, SCMC_ERR_CORRUPT (decoder: a value out of range) or SCMC_ERR_NOMEM. */
int scmc_structure_code_samples(ScmcStructure *st, ScmcRangeEncoder *e, ScmcRangeDecoder *d);

/* Fixed-point scale and offset of the correction field: value = FIELD_BIAS + 16 * correction. */
#define FIELD_FRAC 4
#define FIELD_BIAS (1 << 14)

/* The correction field on the grid (3 planes of gw * gh: Y, Co, Cg), diffused from the samples
 * with the edges as barriers. Integer-only. */
int scmc_structure_field(const ScmcStructure *st, int32_t *field);

/* out = base0 + the field upsampled to full resolution (edge-aware bilinear). */
int scmc_structure_apply(const ScmcStructure *st, const int32_t *field, const ScmcImage *base0, ScmcImage *out);
#endif
