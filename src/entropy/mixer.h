/*
 * Logistic mixing of adaptive bit models (context mixing), for syntax elements whose bits are
 * predicted better by several contexts together than by any one of them.
 *
 * A decision is predicted from up to SCMC_MIX_MAX_CONTEXTS contexts. Each context holds two
 * adaptive probabilities that the bit is 1, one that settles to a window of about 128 bits and
 * one of about 8; their logits (stretch) and a constant are weighted by a set of weights the
 * caller picks, and the weighted sum's logistic (squash) is the coded probability. After the bit
 * the weights move along the gradient of its code length and every probability towards the bit.
 * Everything is integer arithmetic in a fixed order, so encoder and decoder agree on every
 * machine. bitstream-spec/entropy.md ("Mixed bits") is the authority.
 */
#ifndef SCMC_MIXER_H
#define SCMC_MIXER_H

#include <stdint.h>

#define SCMC_MIX_MAX_CONTEXTS 6
#define SCMC_MIX_INPUTS (2 * SCMC_MIX_MAX_CONTEXTS + 1) /* two rates per context, and the constant */

/* One context: probabilities of a 1 in 1/65536 units, and a count of updates that makes the first
 * ones fast. */
typedef struct ScmcMixContext {
    uint16_t slow, fast;
    uint16_t count;
} ScmcMixContext;

/* The weights of one mixer (16.16 fixed point). */
typedef struct ScmcMixWeights {
    int32_t w[SCMC_MIX_INPUTS];
} ScmcMixWeights;

/* The logistic tables: stretch[p] = ln(p / (4096 - p)) * 256 for p in 1/4096 units, and its
 * inverse sampled for the squash. Built by integer code only. */
typedef struct ScmcMixTables {
    int16_t stretch[4096];
} ScmcMixTables;

/* A decision in progress: the contexts and weights it is predicted from, and after
 * scmc_mix_predict its inputs and probability. */
typedef struct ScmcMix {
    ScmcMixContext *ctx[SCMC_MIX_MAX_CONTEXTS];
    int n;
    ScmcMixWeights *weights;
    int32_t in[SCMC_MIX_INPUTS];
    int p1; /* probability of a 1 in 1/4096 units, 1..4095 */
} ScmcMix;

void scmc_mix_tables_init(ScmcMixTables *t);
/* The logistic 4096 / (1 + e^(-d / 256)), linear between knots at every 128 of d (d clamped to
 * -2047..2047); 1..4095. */
int scmc_mix_squash(int d);
void scmc_mix_context_init(ScmcMixContext *c);
void scmc_mix_weights_init(ScmcMixWeights *w);
/* Starts a decision on weights w. */
static inline void scmc_mix_begin(ScmcMix *m, ScmcMixWeights *w)
{
    m->n = 0;
    m->weights = w;
}
static inline void scmc_mix_add(ScmcMix *m, ScmcMixContext *c)
{
    m->ctx[m->n++] = c;
}
/* Computes the prediction; returns the probability of a 0 in 1/65536 units (for the range coder's
 * scmc_renc_bit_p / scmc_rdec_bit_p). Nothing is changed. */
uint32_t scmc_mix_predict(const ScmcMixTables *t, ScmcMix *m);
/* Learns from the coded bit (after scmc_mix_predict). */
void scmc_mix_update(ScmcMix *m, int bit);

#endif
