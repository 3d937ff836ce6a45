/* The wavelet correction's restoration filter (bitstream-spec/structure.md, "Restoration
 * filter"): a quantized wavelet correction leaves structured errors (ringing beside edges, soft
 * edges, flat areas a little off), which a linear filter fitted by the encoder to the picture
 * takes back in part. Each pixel is put in one of 25 classes by its luma's local activity and
 * direction; the classes share up to 25 filters, each a 7x7 diamond of 12 point-symmetric taps
 * whose weights sum to one (the filter never moves a flat area), applied to R, G and B alike.
 * Each filter limits the differences it takes from its taps to one of four bounds (none, 32, 16,
 * 8), so that across a strong edge it does not smear one side into the other.
 * The filtering may run again on its own output (up to three passes, each with its classes
 * and filters), which takes back more of what a coarse correction leaves.
 * The encoder fits the filters by least squares, merges classes while a filter's bits cost more
 * than it gains, and sends them in the correction payload; the decoder's classification and
 * filtering are integer-only, so base1 is the same on every machine. */
#ifndef SCMC_RESTORE_H
#define SCMC_RESTORE_H
#include <stdint.h>

#include "entropy/range_coder.h"
#include "image/image.h"

#define SCMC_RESTORE_CLASSES 25   /* 5 activity classes x 5 directions */
#define SCMC_RESTORE_TAPS 12      /* tap pairs of the 7x7 diamond, centre excluded */
#define SCMC_RESTORE_SHIFT 7      /* weights in 1/128 */
#define SCMC_RESTORE_MAX_COEF 511 /* |weight| limit of the syntax */
#define SCMC_RESTORE_CLIPS 4      /* bounds of a tap's difference: none, 32, 16, 8 */
#define SCMC_RESTORE_PASSES 3

/* One pass: its filters and which class each one serves. */
typedef struct ScmcRestoreSet {
    int filters; /* 1..SCMC_RESTORE_CLASSES */
    uint8_t map[SCMC_RESTORE_CLASSES];
    uint8_t clip[SCMC_RESTORE_CLASSES]; /* per filter, an index of the bound (0: none) */
    int16_t coef[SCMC_RESTORE_CLASSES][SCMC_RESTORE_TAPS];
} ScmcRestoreSet;

typedef struct ScmcRestore {
    int passes; /* 0: no filtering */
    ScmcRestoreSet set[SCMC_RESTORE_PASSES];
} ScmcRestore;

/* cls[i] (width * height) = the class of pixel i of img, 0..SCMC_RESTORE_CLASSES - 1. */
int scmc_restore_classify(const ScmcImage *img, uint8_t *cls);
/* Filters img in place, pass after pass (nothing when f->passes is 0). */
int scmc_restore_apply(const ScmcRestore *f, ScmcImage *img);
/* The encoder's filters for rec against the original orig, minimising squared RGB error +
 * lambda * bits: passes while one pays (f->passes 0 when none does); with filtered, also rec
 * after them (allocated; what scmc_restore_apply would make of it). */
int scmc_restore_choose(const ScmcImage *orig, const ScmcImage *rec, double lambda, ScmcRestore *f,
                        ScmcImage *filtered);
void scmc_restore_write(ScmcRangeEncoder *e, const ScmcRestore *f);
/* SCMC_ERR_CORRUPT on a value the syntax does not allow. */
int scmc_restore_read(ScmcRangeDecoder *d, ScmcRestore *f);
#endif
