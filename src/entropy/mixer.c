/* Logistic mixing of adaptive bit models (mixer.h; bitstream-spec/entropy.md, "Mixed bits"). */
#include "mixer.h"

#include "range_coder.h"

/* The logistic 4096 / (1 + e^-x) at x = -8, -7.5, ..., 8, rounded: the squash interpolates
 * between these, so no floating point enters a prediction. */
static const int16_t squash_knots[33] = {
    1,    2,    4,    6,    10,   17,   27,   45,   74,   120,  194,  311,  488,  747,  1102, 1546, 2048,
    2550, 2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
};

#define INITIAL_WEIGHT (65536 / 5) /* 0.2 */
#define BIAS_INPUT 77              /* the constant input: 0.3 in stretch units */
#define LEARNING_RATE 20           /* weight step per (input x error) in 2^-16 units */
#define SLOW_SHIFT 7               /* the slow probability's window: 128 bits */
#define FAST_SHIFT 3               /* the fast one's: 8 bits (32 until structure format STRA) */
#define APM_SHIFT 7                /* a map's points move 1/128 of the way to each bit */
#define APM_MIN 16                 /* bounds of a refined probability (1/65536 units) */

/* v / 2^s rounded towards minus infinity (a right shift of a negative value is
 * implementation-defined in C, so it is spelled out). */
static inline int64_t shift_floor(int64_t v, int s)
{
    return v >= 0 ? v >> s : -((-v + ((int64_t)1 << s) - 1) >> s);
}

int scmc_mix_squash(int d)
{
    if (d > SCMC_MIX_STRETCH_MAX)
        d = SCMC_MIX_STRETCH_MAX;
    if (d < -SCMC_MIX_STRETCH_MAX)
        d = -SCMC_MIX_STRETCH_MAX;
    const int j = (d + 2048) >> 7, f = (d + 2048) & 127;
    return squash_knots[j] + (((squash_knots[j + 1] - squash_knots[j]) * f) >> 7);
}

void scmc_mix_tables_init(ScmcMixTables *t)
{
    /* The inverse of squash: stretch[p] is the least d whose squash reaches p. */
    int p = 0;
    for (int d = -SCMC_MIX_STRETCH_MAX; d <= SCMC_MIX_STRETCH_MAX; d++) {
        const int v = scmc_mix_squash(d);
        while (p <= v && p < 4096)
            t->stretch[p++] = (int16_t)d;
    }
    while (p < 4096)
        t->stretch[p++] = SCMC_MIX_STRETCH_MAX;
}

void scmc_mix_context_init(ScmcMixContext *c)
{
    c->slow = c->fast = 1u << 15;
    c->count = 0;
}

void scmc_mix_weights_init(ScmcMixWeights *w)
{
    for (int i = 0; i < SCMC_MIX_INPUTS; i++)
        w->w[i] = INITIAL_WEIGHT;
}

void scmc_mix_apm_init(ScmcMixApm *a, size_t n)
{
    if (n == 0)
        return;
    /* Point j sits at stretch (j - 16) * 128: the squash there, so the map starts as the identity. */
    for (int j = 0; j < SCMC_MIX_APM_KNOTS; j++)
        a[0].p[j] = (uint16_t)(scmc_mix_squash((j - 16) * 128) << 4);
    for (size_t i = 1; i < n; i++)
        a[i] = a[0];
}

static int64_t weighted_sum(const ScmcMixWeights *w, const int32_t *in, int k)
{
    int64_t dot = 0;
    for (int i = 0; i < k; i++)
        dot += (int64_t)w->w[i] * in[i];
    return dot;
}

uint32_t scmc_mix_predict(const ScmcMixTables *t, ScmcMix *m)
{
    int k = 0;
    for (int i = 0; i < m->n; i++) {
        m->in[k++] = t->stretch[m->ctx[i]->slow >> 4];
        m->in[k++] = t->stretch[m->ctx[i]->fast >> 4];
    }
    m->in[k++] = BIAS_INPUT;
    if (m->has_direct)
        m->in[k++] = m->direct;
    int64_t dot = weighted_sum(m->weights, m->in, k);
    if (m->weights2)
        dot = shift_floor(dot + weighted_sum(m->weights2, m->in, k), 1);
    const int64_t d = shift_floor(dot, 16);
    m->p1 = scmc_mix_squash(d < -SCMC_MIX_STRETCH_MAX ? -SCMC_MIX_STRETCH_MAX : d > SCMC_MIX_STRETCH_MAX ? SCMC_MIX_STRETCH_MAX : (int)d);
    if (!m->apm)
        return (uint32_t)(4096 - m->p1) << 4;
    const int x = t->stretch[m->p1] + 2048; /* 1..4095 */
    m->apm_knot = x >> 7;
    m->apm_frac = x & 127;
    const int j = m->apm_knot, f = m->apm_frac;
    const int refined = (m->apm->p[j] * (128 - f) + m->apm->p[j + 1] * f) >> 7;
    int q = ((m->p1 << 4) + refined) >> 1;
    q = q < APM_MIN ? APM_MIN : q > 65536 - APM_MIN ? 65536 - APM_MIN : q;
    return (uint32_t)(65536 - q);
}

/* Moves p (1/65536 units) towards the bit by 1/2^shift of the distance. */
static inline uint16_t adapt(uint16_t p, int bit, int shift)
{
    return bit ? (uint16_t)(p + ((65535 - p) >> shift)) : (uint16_t)(p - (p >> shift));
}

void scmc_mix_update(ScmcMix *m, int bit)
{
    const int err = ((bit << 12) - m->p1) * LEARNING_RATE;
    const int k = 2 * m->n + 1 + m->has_direct;
    for (int i = 0; i < k; i++) {
        const int32_t step = (int32_t)shift_floor((int64_t)m->in[i] * err, 16);
        m->weights->w[i] += step;
        if (m->weights2)
            m->weights2->w[i] += step;
    }
    if (m->apm) {
        uint16_t *p = &m->apm->p[m->apm_frac < 64 ? m->apm_knot : m->apm_knot + 1];
        *p = adapt(*p, bit, APM_SHIFT);
    }
    for (int i = 0; i < m->n; i++) {
        ScmcMixContext *c = m->ctx[i];
        /* The first updates average (the bit model's count-based rate), then each rate holds its
         * window. */
        const int early = scmc_bit_model_shift(c->count);
        c->slow = adapt(c->slow, bit, early < SLOW_SHIFT ? early : SLOW_SHIFT);
        c->fast = adapt(c->fast, bit, early < FAST_SHIFT ? early : FAST_SHIFT);
        if (c->count < 255)
            c->count++;
    }
}
