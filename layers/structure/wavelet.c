/* CDF 9/7 lifting (Daubechies and Sweldens' factorisation), whole-sample symmetric extension at
 * both ends, any length >= 1 (a length-1 signal is left as it is). */
#include "wavelet.h"

#include <stddef.h>

/* Lifting constants, and the same in Q14 for the integer inverse (rounded to nearest). */
#define ALPHA (-1.586134342059924)
#define BETA (-0.052980118572961)
#define GAMMA 0.882911075530934
#define DELTA 0.443506852043971
#define ZETA 1.149604398860241
#define Q 14
#define ALPHA_Q (-25987)  /* -1.586134 * 16384 = -25987.3 */
#define BETA_Q (-868)     /* -0.052980 * 16384 = -868.0 */
#define GAMMA_Q 14466     /* 0.882911 * 16384 = 14465.6 */
#define DELTA_Q 7266      /* 0.443507 * 16384 = 7266.4 */
#define ZETA_Q 18835      /* 1.149604 * 16384 = 18835.1 */
#define INV_ZETA_Q 14252  /* 16384 / 1.149604 = 14251.9 */

void scmc_wavelet_dims(int size, int dims[SCMC_WAVELET_LEVELS + 1])
{
    dims[0] = size;
    for (int l = 1; l <= SCMC_WAVELET_LEVELS; l++)
        dims[l] = (dims[l - 1] + 1) / 2;
}

/* ---- forward (encoder) ---- */

/* One level along a strided line of n samples: low half first, then high. */
static void forward_line(double *x, int n, ptrdiff_t stride, double *tmp)
{
    if (n < 2)
        return;
    const int ns = (n + 1) / 2, nd = n / 2;
    double *s = tmp, *d = tmp + ns;
    for (int i = 0; i < ns; i++)
        s[i] = x[(ptrdiff_t)(2 * i) * stride];
    for (int i = 0; i < nd; i++)
        d[i] = x[(ptrdiff_t)(2 * i + 1) * stride];
    /* Neighbours outside the line mirror: s[ns] = s[ns-1] (even n), d[-1] = d[0], d[nd] = d[nd-1]
     * (odd n); the same rule for every line function of this file. */
#define S_NEXT(i) s[(i) + 1 < ns ? (i) + 1 : ns - 1]
#define D_PREV(i) d[(i) > 0 ? (i) - 1 : 0]
#define D_AT(i) d[(i) < nd ? (i) : nd - 1]
    for (int i = 0; i < nd; i++)
        d[i] += ALPHA * (s[i] + S_NEXT(i));
    for (int i = 0; i < ns; i++)
        s[i] += BETA * (D_PREV(i) + D_AT(i));
    for (int i = 0; i < nd; i++)
        d[i] += GAMMA * (s[i] + S_NEXT(i));
    for (int i = 0; i < ns; i++)
        s[i] += DELTA * (D_PREV(i) + D_AT(i));
    for (int i = 0; i < ns; i++)
        x[(ptrdiff_t)i * stride] = s[i] * ZETA;
    for (int i = 0; i < nd; i++)
        x[(ptrdiff_t)(ns + i) * stride] = d[i] / ZETA;
}

void scmc_wavelet_forward(double *plane, int w, int h, double *tmp)
{
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    for (int l = 1; l <= SCMC_WAVELET_LEVELS; l++) {
        for (int x = 0; x < dw[l - 1]; x++)
            forward_line(plane + x, dh[l - 1], w, tmp);
        for (int y = 0; y < dh[l - 1]; y++)
            forward_line(plane + (size_t)y * w, dw[l - 1], 1, tmp);
    }
}

/* ---- inverse (normative) ---- */

/* floor((c * v + 2^(Q-1)) / 2^Q), exact for negative products too. */
static inline int64_t mul_q(int64_t c, int64_t v)
{
    const int64_t t = c * v + (1 << (Q - 1));
    return t >= 0 ? t >> Q : -((-t + (1 << Q) - 1) >> Q);
}

static inline int32_t clamp_lift(int64_t v)
{
    return (int32_t)(v > SCMC_WAVELET_CLAMP ? SCMC_WAVELET_CLAMP : v < -SCMC_WAVELET_CLAMP ? -SCMC_WAVELET_CLAMP : v);
}

static void inverse_line(int32_t *x, int n, ptrdiff_t stride, int32_t *tmp)
{
    if (n < 2)
        return;
    const int ns = (n + 1) / 2, nd = n / 2;
    int32_t *s = tmp, *d = tmp + ns;
    for (int i = 0; i < ns; i++)
        s[i] = clamp_lift(mul_q(INV_ZETA_Q, x[(ptrdiff_t)i * stride]));
    for (int i = 0; i < nd; i++)
        d[i] = clamp_lift(mul_q(ZETA_Q, x[(ptrdiff_t)(ns + i) * stride]));
    for (int i = 0; i < ns; i++)
        s[i] = clamp_lift(s[i] - mul_q(DELTA_Q, (int64_t)D_PREV(i) + D_AT(i)));
    for (int i = 0; i < nd; i++)
        d[i] = clamp_lift(d[i] - mul_q(GAMMA_Q, (int64_t)s[i] + S_NEXT(i)));
    for (int i = 0; i < ns; i++)
        s[i] = clamp_lift(s[i] - mul_q(BETA_Q, (int64_t)D_PREV(i) + D_AT(i)));
    for (int i = 0; i < nd; i++)
        d[i] = clamp_lift(d[i] - mul_q(ALPHA_Q, (int64_t)s[i] + S_NEXT(i)));
    for (int i = 0; i < ns; i++)
        x[(ptrdiff_t)(2 * i) * stride] = s[i];
    for (int i = 0; i < nd; i++)
        x[(ptrdiff_t)(2 * i + 1) * stride] = d[i];
}

void scmc_wavelet_inverse_to(int32_t *plane, int w, int h, int level, int32_t *tmp)
{
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    for (int l = SCMC_WAVELET_LEVELS; l >= level; l--) {
        for (int y = 0; y < dh[l - 1]; y++)
            inverse_line(plane + (size_t)y * w, dw[l - 1], 1, tmp);
        for (int x = 0; x < dw[l - 1]; x++)
            inverse_line(plane + x, dh[l - 1], w, tmp);
    }
}

void scmc_wavelet_inverse(int32_t *plane, int w, int h, int32_t *tmp)
{
    scmc_wavelet_inverse_to(plane, w, h, 1, tmp);
}

/* ---- one forward level in integers (the coarse-scale prediction, normative) ---- */

/* forward_line's lifting in the inverse's arithmetic: each step rounded by mul_q and clamped, so
 * both sides of the codec compute the same samples. */
static void forward_line_int(int32_t *x, int n, ptrdiff_t stride, int32_t *tmp)
{
    if (n < 2)
        return;
    const int ns = (n + 1) / 2, nd = n / 2;
    int32_t *s = tmp, *d = tmp + ns;
    for (int i = 0; i < ns; i++)
        s[i] = x[(ptrdiff_t)(2 * i) * stride];
    for (int i = 0; i < nd; i++)
        d[i] = x[(ptrdiff_t)(2 * i + 1) * stride];
    for (int i = 0; i < nd; i++)
        d[i] = clamp_lift(d[i] + mul_q(ALPHA_Q, (int64_t)s[i] + S_NEXT(i)));
    for (int i = 0; i < ns; i++)
        s[i] = clamp_lift(s[i] + mul_q(BETA_Q, (int64_t)D_PREV(i) + D_AT(i)));
    for (int i = 0; i < nd; i++)
        d[i] = clamp_lift(d[i] + mul_q(GAMMA_Q, (int64_t)s[i] + S_NEXT(i)));
    for (int i = 0; i < ns; i++)
        s[i] = clamp_lift(s[i] + mul_q(DELTA_Q, (int64_t)D_PREV(i) + D_AT(i)));
    for (int i = 0; i < ns; i++)
        x[(ptrdiff_t)i * stride] = clamp_lift(mul_q(ZETA_Q, s[i]));
    for (int i = 0; i < nd; i++)
        x[(ptrdiff_t)(ns + i) * stride] = clamp_lift(mul_q(INV_ZETA_Q, d[i]));
}

void scmc_wavelet_forward_level_int(int32_t *plane, int w, int h, int level, int32_t *tmp)
{
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    for (int x = 0; x < dw[level - 1]; x++)
        forward_line_int(plane + x, dh[level - 1], w, tmp);
    for (int y = 0; y < dh[level - 1]; y++)
        forward_line_int(plane + (size_t)y * w, dw[level - 1], 1, tmp);
}
#undef S_NEXT
#undef D_PREV
#undef D_AT
