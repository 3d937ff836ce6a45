/* The hyper-synthesis as a fixed-point network (Balle, Johnston, Minnen 2019): it decides every
 * probability of the y symbols, so it runs in integers, identically on every machine, compiler,
 * backend and thread count. Activations carry act_bits fraction bits in int32, weights
 * weight_bits, biases both; sums are int64. Weights are bounded by 2^20 at load and activations
 * saturate at 2^30; with at most 256 channels (checked at load) no int64 sum can overflow. */
#include <stdlib.h>
#include <string.h>

#include "nn/int_kernel.h"
#include "scmc/scmc.h"
#include "signal_model.h"

#define ACT_MAX ((int64_t)1 << 30)

/* The convolutions are INT_KERNELs (nn/int_kernel.h): AVX2 gives 4 signed 32x32->64 products per
 * instruction. */

/* floor((v + 2^(s-1)) / 2^s) without relying on the sign behaviour of >>. */
static int64_t round_shift(int64_t v, int s)
{
    const int64_t t = v + ((int64_t)1 << (s - 1));
    return t >= 0 ? t >> s : -((-t + ((int64_t)1 << s) - 1) >> s);
}

static int32_t finish(int64_t acc, int shift, int relu)
{
    int64_t v = round_shift(acc, shift);
    if (relu && v < 0)
        v = 0;
    return (int32_t)(v > ACT_MAX ? ACT_MAX : v < -ACT_MAX ? -ACT_MAX : v);
}

/* Transposed conv, stride 2, pad k/2, output padding 1: (cin, h, w) -> (cout, 2h, 2w). */
INT_KERNEL static int deconv2(const ScmcIntConvLayer *l, const int32_t *in, int h, int w, int shift, int32_t *out)
{
    const int k = l->k, pad = k / 2, ho = 2 * h, wo = 2 * w;
    int64_t *acc = malloc(sizeof(int64_t) * (size_t)l->cout * ho * wo);
    if (!acc)
        return SCMC_ERR_NOMEM;
    for (int co = 0; co < l->cout; co++)
        for (int i = 0; i < ho * wo; i++)
            acc[(size_t)co * ho * wo + i] = l->bias[co];
    for (int ci = 0; ci < l->cin; ci++)
        for (int co = 0; co < l->cout; co++) {
            int64_t *o = acc + (size_t)co * ho * wo;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    const int32_t wv = l->weight[(((size_t)ci * l->cout + co) * k + ky) * k + kx];
                    /* input columns whose output column 2 ix - pad + kx lies in [0, wo) */
                    const int last = wo - 1 + pad - kx; /* 2 ix <= last */
                    const int ix0 = kx < pad ? (pad - kx + 1) / 2 : 0;
                    const int ix1 = last < 0 ? 0 : last / 2 + 1 < w ? last / 2 + 1 : w;
                    for (int iy = 0; iy < h; iy++) {
                        const int y = 2 * iy - pad + ky;
                        if (y < 0 || y >= ho)
                            continue;
                        const int32_t *src = in + ((size_t)ci * h + iy) * w;
                        int64_t *dst = o + (size_t)y * wo;
                        for (int ix = ix0; ix < ix1; ix++)
                            dst[2 * ix - pad + kx] += (int64_t)wv * src[ix];
                    }
                }
        }
    for (size_t i = 0; i < (size_t)l->cout * ho * wo; i++)
        out[i] = finish(acc[i], shift, 1);
    free(acc);
    return SCMC_OK;
}

/* Conv, stride 1, pad k/2, no activation: (cin, h, w) -> (cout, h, w) as int64 sums. */
INT_KERNEL static int conv1(const ScmcIntConvLayer *l, const int32_t *in, int h, int w, int64_t *acc)
{
    const int k = l->k, pad = k / 2;
    for (int co = 0; co < l->cout; co++) {
        int64_t *o = acc + (size_t)co * h * w;
        for (int i = 0; i < h * w; i++)
            o[i] = l->bias[co];
        for (int ci = 0; ci < l->cin; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    const int32_t wv = l->weight[(((size_t)co * l->cin + ci) * k + ky) * k + kx];
                    /* output columns whose input column x - pad + kx lies in [0, w) */
                    const int x0 = pad - kx > 0 ? pad - kx : 0;
                    const int x1 = w + pad - kx < w ? w + pad - kx : w;
                    for (int y = 0; y < h; y++) {
                        const int iy = y - pad + ky;
                        if (iy < 0 || iy >= h)
                            continue;
                        const int32_t *src = in + ((size_t)ci * h + iy) * w;
                        int64_t *dst = o + (size_t)y * w;
                        for (int x = x0; x < x1; x++)
                            dst[x] += (int64_t)wv * src[x - pad + kx];
                    }
                }
    }
    return SCMC_OK;
}

int scmc_signal_hyper_synthesis(const ScmcSignalModel *m, const int32_t *z, int zh, int zw, int32_t *mean_q,
                                uint8_t *scale_idx)
{
    const int N = m->N, M = m->M, yh = 4 * zh, yw = 4 * zw;
    const size_t zn = (size_t)N * zh * zw;
    int32_t *a0 = malloc(sizeof(int32_t) * zn);
    int32_t *a1 = malloc(sizeof(int32_t) * zn * 4);
    int32_t *a2 = malloc(sizeof(int32_t) * zn * 16);
    int64_t *acc = malloc(sizeof(int64_t) * (size_t)2 * M * yh * yw);
    int r = SCMC_ERR_NOMEM;
    if (a0 && a1 && a2 && acc) {
        for (size_t i = 0; i < zn; i++) /* symbols are bounded by SCMC_SIGNAL_Z_LIMIT */
            a0[i] = z[i] * (1 << m->act_bits);
        r = deconv2(&m->h_s[0], a0, zh, zw, m->weight_bits, a1);
        if (!r)
            r = deconv2(&m->h_s[1], a1, 2 * zh, 2 * zw, m->weight_bits, a2);
        if (!r)
            r = conv1(&m->h_s[2], a2, yh, yw, acc);
    }
    if (!r) {
        const size_t yn = (size_t)M * yh * yw;
        for (size_t i = 0; i < yn; i++) {
            mean_q[i] = finish(acc[i], m->weight_bits, 0);
            int32_t s = finish(acc[yn + i], m->weight_bits, 0);
            s = s < 0 ? -s : s;
            int idx = 0; /* the smallest table scale >= s (the last one for larger s) */
            while (idx < SCMC_SIGNAL_NUM_SCALES - 1 && m->scale_table_q[idx] < s)
                idx++;
            scale_idx[i] = (uint8_t)idx;
        }
    }
    free(a0);
    free(a1);
    free(a2);
    free(acc);
    return r;
}
