/*
 * Logistic mixing of adaptive bit models (context mixing), for syntax elements whose bits are
 * predicted better by several contexts together than by any one of them.
 *
 * A decision is predicted from up to SCMC_MIX_MAX_CONTEXTS contexts. Each context holds two
 * adaptive probabilities that the bit is 1, one that settles to a window of about 128 bits and
 * one of about 8; their logits (stretch), a constant and optionally a logit the caller gives
 * directly (a model's own estimate, finer than any context it could pick) are weighted by a set
 * of weights the caller picks (or the mean of two sets' sums), and the weighted sum's logistic
 * (squash) is the mixed probability; an optional adaptive probability map refines it into the
 * coded one. After the bit the weights move along the gradient of its code length and every
 * probability (and the map's nearer point) towards the bit.
 * Everything is integer arithmetic in a fixed order, so encoder and decoder agree on every
 * machine. bitstream-spec/entropy.md ("Mixed bits") is the authority.
 */
#ifndef SCMC_MIXER_H
#define SCMC_MIXER_H

#include <stddef.h>
#include <stdint.h>

#define SCMC_MIX_MAX_CONTEXTS 6
/* two rates per context, the constant and a direct logit */
#define SCMC_MIX_INPUTS (2 * SCMC_MIX_MAX_CONTEXTS + 2)
/* The stretch domain's bound: the mixed sum and a direct input are clamped to +-this (1/256 nat) */
#define SCMC_MIX_STRETCH_MAX 2047

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

#define SCMC_MIX_APM_KNOTS 33

/* An adaptive probability map: probabilities of a 1 (1/65536 units) at 33 points of the mixed
 * probability's stretch, interpolated between them and moved towards each bit. It learns where a
 * context's mixed probability is systematically too high or too low (a secondary estimation). */
typedef struct ScmcMixApm {
    uint16_t p[SCMC_MIX_APM_KNOTS];
} ScmcMixApm;

/* A decision in progress: the contexts and weights it is predicted from, and after
 * scmc_mix_predict its inputs and probability. */
typedef struct ScmcMix {
    ScmcMixContext *ctx[SCMC_MIX_MAX_CONTEXTS];
    int n;
    ScmcMixWeights *weights;
    ScmcMixWeights *weights2; /* a second weight set picked by another context, or NULL */
    ScmcMixApm *apm;          /* the map that refines the mixed probability, or NULL */
    int has_direct;           /* whether `direct` is an input (after the constant) */
    int32_t direct;
    int32_t in[SCMC_MIX_INPUTS];
    int p1;        /* the mixed probability of a 1 in 1/4096 units, 1..4095 */
    int apm_knot;  /* the map's knot below the mixed probability (0..31), and */
    int apm_frac;  /* the distance from it in 1/128 of the knots' spacing */
} ScmcMix;

void scmc_mix_tables_init(ScmcMixTables *t);
/* The logistic 4096 / (1 + e^(-d / 256)), linear between knots at every 128 of d (d clamped to
 * -2047..2047); 1..4095. */
int scmc_mix_squash(int d);
void scmc_mix_context_init(ScmcMixContext *c);
void scmc_mix_weights_init(ScmcMixWeights *w);
/* Starts the n maps at a as the map that leaves every probability as the mixer gives it. */
void scmc_mix_apm_init(ScmcMixApm *a, size_t n);
/* Starts a decision on weights w. */
static inline void scmc_mix_begin(ScmcMix *m, ScmcMixWeights *w)
{
    m->n = 0;
    m->weights = w;
    m->weights2 = 0;
    m->apm = 0;
    m->has_direct = 0;
}
/* Predicts the decision from the mean of two weight sets' sums (w and the one scmc_mix_begin set),
 * both learning from its error: each set is picked by its own context, so the mixer's weights
 * depend on both without a set for every pair. */
static inline void scmc_mix_second_weights(ScmcMix *m, ScmcMixWeights *w)
{
    m->weights2 = w;
}
/* Codes the decision at the mean of the mixed probability and a's refinement of it. */
static inline void scmc_mix_refine(ScmcMix *m, ScmcMixApm *a)
{
    m->apm = a;
}
/* Adds a logit the caller computed (stretch units, ln(p / (1 - p)) * 256; clamped to
 * +-SCMC_MIX_STRETCH_MAX) as the input after the constant. Its weight learns like the others. */
static inline void scmc_mix_direct(ScmcMix *m, int32_t logit)
{
    m->direct = logit < -SCMC_MIX_STRETCH_MAX ? -SCMC_MIX_STRETCH_MAX
                : logit > SCMC_MIX_STRETCH_MAX ? SCMC_MIX_STRETCH_MAX
                                               : logit;
    m->has_direct = 1;
}
static inline void scmc_mix_add(ScmcMix *m, ScmcMixContext *c)
{
    m->ctx[m->n++] = c;
}
/* Computes the prediction; returns the probability of a 0 in 1/65536 units (for the range coder's
 * scmc_renc_bit_p / scmc_rdec_bit_p), 16..65520 with a map. Nothing is changed. */
uint32_t scmc_mix_predict(const ScmcMixTables *t, ScmcMix *m);
/* Learns from the coded bit (after scmc_mix_predict). */
void scmc_mix_update(ScmcMix *m, int bit);

#endif
