/* The trained starting states of the wavelet correction's adaptive models (structure format STR10,
 * bitstream-spec/structure.md, "Starting states"). Until STR9 every context started at p = 1/2 and
 * every weight at 0.2, and a correction of a few kilobytes spent a good part of its first bits
 * learning what every picture shares (most coefficients are zero, the fine bands more so, the
 * chroma more than the luma). The tables hold, per set of quantizer steps, each context's starting
 * probability and each mixer's starting weights, averaged over the final states of the training
 * pictures (layers/structure/tools/train_correction_states.c writes correction_states.c). They are
 * normative: the encoder and the decoder start from the same entries. */
#ifndef SCMC_CORRECTION_STATES_H
#define SCMC_CORRECTION_STATES_H
#include <stdint.h>

#include "entropy/mixer.h"

/* Sets of starting states, chosen by the correction's header (scmc_correction_start_set). */
#define SCMC_CORRECTION_START_SETS 5
/* The probability contexts (single bit models and mixer contexts) and the mixers' weight sets of
 * one set, in the order of bitstream-spec/structure.md (correction.c checks the counts). */
#define SCMC_CORRECTION_START_PROBS 29355
#define SCMC_CORRECTION_START_WEIGHTS 720

/* Starting probability codes: code k starts a context at the probability of a 1
 * scmc_mix_squash(16 k) / 4096 with an update count of 1; code 0 (a context the training never
 * saw, or saw even) starts it as before STR10, at 1/2 with a count of 0. */
extern const int8_t scmc_correction_start_probs[SCMC_CORRECTION_START_SETS][SCMC_CORRECTION_START_PROBS];
/* Starting weights, 16.16 fixed point, SCMC_MIX_INPUTS per weight set. */
extern const int32_t scmc_correction_start_weights[SCMC_CORRECTION_START_SETS][SCMC_CORRECTION_START_WEIGHTS]
                                                  [SCMC_MIX_INPUTS];

/* The set a correction of luma step `step` starts from, with (dq 1) or without dependent
 * quantization: without, 0 for steps of 100 and more (the structure levels), else 1; with, 2 for
 * steps of 24 and more, 3 for 12-23, 4 below 12. */
static inline int scmc_correction_start_set(int step, int dq)
{
    if (!dq)
        return step >= 100 ? 0 : 1;
    return step >= 24 ? 2 : step >= 12 ? 3 : 4;
}

#endif
