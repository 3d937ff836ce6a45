/* The learned coarse-scale prediction in integers (prediction_net.h; bitstream-spec/structure.md,
 * "Learned prediction"). Activations are 1/1024 units in int32, weights 1/4096 in int16, sums
 * modulo 2^32 rounded back to 1/1024 by a floor shift and clamped, so every machine computes the
 * same logits. The features are streamed a few rows at a time: convolution b (stride 2) reads
 * three rows of a's output, convolution c three rows of b's; the row loops are INT_KERNELs. */
#include "prediction_net.h"

#include <stdlib.h>
#include <string.h>

#include "nn/int_kernel.h"

#define C SCMC_PREDNET_CHANNELS
#define CI (C + 3)
#define ACT_MAX (1 << 20) /* activations are clamped to +-this (no genuine picture comes near) */

/* A sum (taken modulo 2^32, as uint32_t arithmetic is in C) read as two's complement, rounded back
 * to 1/1024 (floor((v + 2^11) / 2^12)) and clamped. Genuine sums are far inside int32; the modular
 * sum only makes hostile input well defined. */
static inline int32_t round_shift(uint32_t sum)
{
    const int64_t v = (sum >= 0x80000000u ? (int64_t)sum - ((int64_t)1 << 32) : (int64_t)sum) +
                      ((int64_t)1 << (SCMC_PREDNET_WEIGHT_FRAC - 1));
    const int64_t q = v >= 0 ? v >> SCMC_PREDNET_WEIGHT_FRAC : -((-v + (1 << SCMC_PREDNET_WEIGHT_FRAC) - 1) >> SCMC_PREDNET_WEIGHT_FRAC);
    return (int32_t)(q > ACT_MAX ? ACT_MAX : q < -ACT_MAX ? -ACT_MAX : q);
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* sign(R) log2(1 + 8 |R| / step) in 1/1024 (R in 1/16 grey levels, so 8 |R| / (16 step) in 1/1024
 * is |R| 512 / step), log2 taken as the exponent plus the mantissa's fraction. */
static int32_t compress(int32_t r, int step)
{
    const int64_t a = r < 0 ? -(int64_t)r : r;
    const int64_t x = 1024 + a * 512 / step;
    int e = 0;
    while ((x >> (e + 11)) != 0)
        e++;
    const int32_t v = (int32_t)((e << 10) + (x >> e) - 1024);
    return r < 0 ? -v : v;
}

typedef struct Net {
    int W, H, bw, bh;
    const int32_t *u;
    int stride;
    int32_t *r;          /* [3][bh][bw]: the hand prediction compressed, bands replicated to bw x bh */
    int32_t *a_rows;     /* [3][C][W + 2]: rows of a's output, padded by one sample on each side */
    int a_tag[3];
    int32_t *b_rows;     /* [3][CI][bw + 2]: rows of b's output and of r, padded likewise */
    int b_tag[3];
    uint32_t *acc;       /* [max(W, bw)]: sums modulo 2^32 */
    int32_t *pad;        /* [W + 2]: one padded input row */
    int32_t *split;      /* [3][CI][2][bw + 1]: b's input rows, padded, even and odd samples apart */
    uint32_t a_base[C];  /* a's bias plus its constant step plane's part, per output channel */
} Net;

/* Pads row[1..n] by replicating its ends into row[0] and row[n + 1]. */
static void pad_row(int32_t *row, int n)
{
    row[0] = row[1];
    row[n + 1] = row[n];
}

/* Row j of convolution a (3 x 3 over u and the constant step plane; replicated borders), ReLU. */
INT_KERNEL static int32_t *a_row(Net *n, int j)
{
    const int slot = j % 3, W = n->W;
    int32_t *out = n->a_rows + (size_t)slot * C * (W + 2);
    if (n->a_tag[slot] == j)
        return out;
    n->a_tag[slot] = j;
    for (int o = 0; o < C; o++) {
        for (int x = 0; x < W; x++)
            n->acc[x] = n->a_base[o];
        for (int ky = 0; ky < 3; ky++) {
            const int32_t *src = n->u + (size_t)clampi(j + ky - 1, 0, n->H - 1) * n->stride;
            memcpy(n->pad + 1, src, (size_t)W * sizeof(int32_t));
            pad_row(n->pad, W);
            const uint32_t w0 = (uint32_t)scmc_prednet_a_w[o][0][ky][0], w1 = (uint32_t)scmc_prednet_a_w[o][0][ky][1],
                           w2 = (uint32_t)scmc_prednet_a_w[o][0][ky][2];
            const int32_t *p = n->pad;
            for (int x = 0; x < W; x++)
                n->acc[x] += w0 * (uint32_t)p[x] + w1 * (uint32_t)p[x + 1] + w2 * (uint32_t)p[x + 2];
        }
        int32_t *row = out + (size_t)o * (W + 2);
        for (int x = 0; x < W; x++) {
            const int32_t v = round_shift(n->acc[x]);
            row[x + 1] = v > 0 ? v : 0;
        }
        pad_row(row, W);
    }
    return out;
}

/* Row k of convolution b (3 x 3, stride 2, over a's output and r upsampled by two), ReLU; with r's
 * row k beside it for convolution c. */
INT_KERNEL static int32_t *b_row(Net *n, int k)
{
    const int slot = k % 3, W = n->W, bw = n->bw;
    int32_t *out = n->b_rows + (size_t)slot * CI * (bw + 2);
    if (n->b_tag[slot] == k)
        return out;
    n->b_tag[slot] = k;
    /* The three input rows (a's output and r upsampled, each padded by one sample), their even
     * and odd padded samples apart: output x reads padded samples 2x, 2x + 1 and 2x + 2, that is
     * even[x], odd[x] and even[x + 1], so every tap is a contiguous run. */
    const size_t half = (size_t)bw + 1;
    for (int ky = 0; ky < 3; ky++) {
        const int j = clampi(2 * k + ky - 1, 0, n->H - 1);
        const int32_t *a = a_row(n, j);
        for (int i = 0; i < CI; i++) {
            const int32_t *src = a + (size_t)i * (W + 2);
            if (i >= C) { /* r's band row j / 2, upsampled */
                const int32_t *rr = n->r + ((size_t)(i - C) * n->bh + (j >> 1)) * bw;
                for (int x = 0; x < W; x++)
                    n->pad[x + 1] = rr[x >> 1];
                pad_row(n->pad, W);
                src = n->pad;
            }
            int32_t *even = n->split + ((size_t)ky * CI + i) * 2 * half, *odd = even + half;
            for (int x = 0; x < (int)half; x++) {
                even[x] = src[clampi(2 * x, 0, W + 1)];
                odd[x] = src[clampi(2 * x + 1, 0, W + 1)];
            }
        }
    }
    for (int o = 0; o < C; o++) {
        for (int x = 0; x < bw; x++)
            n->acc[x] = (uint32_t)scmc_prednet_b_b[o];
        for (int ky = 0; ky < 3; ky++)
            for (int i = 0; i < CI; i++) {
                const int32_t *even = n->split + ((size_t)ky * CI + i) * 2 * half, *odd = even + half;
                const uint32_t w0 = (uint32_t)scmc_prednet_b_w[o][i][ky][0], w1 = (uint32_t)scmc_prednet_b_w[o][i][ky][1],
                               w2 = (uint32_t)scmc_prednet_b_w[o][i][ky][2];
                for (int x = 0; x < bw; x++)
                    n->acc[x] += w0 * (uint32_t)even[x] + w1 * (uint32_t)odd[x] + w2 * (uint32_t)even[x + 1];
            }
        int32_t *row = out + (size_t)o * (bw + 2);
        for (int x = 0; x < bw; x++) {
            const int32_t v = round_shift(n->acc[x]);
            row[x + 1] = v > 0 ? v : 0;
        }
        pad_row(row, bw);
    }
    for (int b = 0; b < 3; b++) {
        int32_t *row = out + (size_t)(C + b) * (bw + 2);
        memcpy(row + 1, n->r + ((size_t)b * n->bh + k) * bw, (size_t)bw * sizeof(int32_t));
        pad_row(row, bw);
    }
    return out;
}

/* A row of convolution c (3 x 3 over b's output and r, the rows in[0..2] from b_row), ReLU, into
 * out ([C][bw]). */
INT_KERNEL static void c_row(Net *n, const int32_t *const in[3], int32_t *out)
{
    const int bw = n->bw;
    for (int o = 0; o < C; o++) {
        for (int x = 0; x < bw; x++)
            n->acc[x] = (uint32_t)scmc_prednet_c_b[o];
        for (int ky = 0; ky < 3; ky++)
            for (int i = 0; i < CI; i++) {
                const int32_t *src = in[ky] + (size_t)i * (bw + 2);
                const uint32_t w0 = (uint32_t)scmc_prednet_c_w[o][i][ky][0], w1 = (uint32_t)scmc_prednet_c_w[o][i][ky][1],
                               w2 = (uint32_t)scmc_prednet_c_w[o][i][ky][2];
                for (int x = 0; x < bw; x++)
                    n->acc[x] += w0 * (uint32_t)src[x] + w1 * (uint32_t)src[x + 1] + w2 * (uint32_t)src[x + 2];
            }
        for (int x = 0; x < bw; x++) {
            const int32_t v = round_shift(n->acc[x]);
            out[(size_t)o * bw + x] = v > 0 ? v : 0;
        }
    }
}

int scmc_prednet_run(const int32_t *u, const int32_t *pred, int stride, int W, int H, int step,
                     ScmcPrednetLogits *logits)
{
    const int nsx = (W + 1) / 2, nsy = (H + 1) / 2, ndx = W / 2, ndy = H / 2;
    if (ndx == 0 && ndy == 0)
        return 0; /* no bands */
    Net n = { W, H, nsx, nsy, u, stride, NULL, NULL, { -1, -1, -1 }, NULL, { -1, -1, -1 }, NULL, NULL, NULL };
    const int bw = n.bw, bh = n.bh;
    /* the step plane is constant, so its part of convolution a is the same at every sample:
     * min(step, 128) / 64 in 1/1024 */
    const uint32_t step_in = (uint32_t)(step < SCMC_PREDNET_STEP_MAX ? step : SCMC_PREDNET_STEP_MAX)
                             << (SCMC_PREDNET_ACT_FRAC - 6);
    for (int o = 0; o < C; o++) {
        n.a_base[o] = (uint32_t)scmc_prednet_a_b[o];
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                n.a_base[o] += (uint32_t)scmc_prednet_a_w[o][1][ky][kx] * step_in;
    }
    n.r = malloc(sizeof(int32_t) * 3 * (size_t)bw * bh);
    n.a_rows = malloc(sizeof(int32_t) * 3 * C * (size_t)(W + 2));
    n.b_rows = malloc(sizeof(int32_t) * 3 * CI * (size_t)(bw + 2));
    n.acc = malloc(sizeof(uint32_t) * (size_t)W);
    n.pad = malloc(sizeof(int32_t) * (size_t)(W + 2));
    n.split = malloc(sizeof(int32_t) * 3 * CI * 2 * ((size_t)bw + 1));
    int32_t *x3 = malloc(sizeof(int32_t) * C * (size_t)bw); /* a row of c's output */
    int ret = -1;
    if (!n.r || !n.a_rows || !n.b_rows || !n.acc || !n.pad || !n.split || !x3)
        goto done;
    /* The bands A (x0 nsx, ndx x nsy), B (y0 nsy, nsx x ndy), C (ndx x ndy) on the bw x bh grid,
     * a missing last column or row replicated, an empty band as zeros. */
    const int bx0[3] = { nsx, 0, nsx }, by0[3] = { 0, nsy, nsy };
    const int bwk[3] = { ndx, nsx, ndx }, bhk[3] = { nsy, ndy, ndy };
    for (int b = 0; b < 3; b++)
        for (int y = 0; y < bh; y++)
            for (int x = 0; x < bw; x++) {
                int32_t v = 0;
                if (bwk[b] > 0 && bhk[b] > 0)
                    v = compress(pred[(size_t)(by0[b] + clampi(y, 0, bhk[b] - 1)) * stride + bx0[b] +
                                      clampi(x, 0, bwk[b] - 1)],
                                 step);
                n.r[((size_t)b * bh + y) * bw + x] = v;
            }
    for (int y = 0; y < bh; y++) {
        const int32_t *in[3];
        for (int ky = 0; ky < 3; ky++)
            in[ky] = b_row(&n, clampi(y + ky - 1, 0, bh - 1));
        c_row(&n, in, x3);
        /* the output (1 x 1 over c's output and r): per band, significance, sign and magnitude */
        const int32_t *rrow = in[1] + (size_t)C * (bw + 2) + 1; /* r's row y, as b_row copied it */
        for (int x = 0; x < bw; x++) {
            int32_t logit[SCMC_PREDNET_OUTPUTS];
            for (int k = 0; k < SCMC_PREDNET_OUTPUTS; k++) {
                uint32_t s = (uint32_t)scmc_prednet_o_b[k];
                for (int i = 0; i < C; i++)
                    s += (uint32_t)scmc_prednet_o_w[k][i] * (uint32_t)x3[(size_t)i * bw + x];
                for (int b = 0; b < 3; b++)
                    s += (uint32_t)scmc_prednet_o_w[k][C + b] * (uint32_t)rrow[(size_t)b * (bw + 2) + x];
                logit[k] = round_shift(s);
            }
            for (int b = 0; b < 3; b++)
                if (x < bwk[b] && y < bhk[b])
                    logits[(size_t)(by0[b] + y) * stride + bx0[b] + x] =
                        (ScmcPrednetLogits){ (int16_t)clampi(logit[b], INT16_MIN, INT16_MAX),
                                             (int16_t)clampi(logit[3 + b], INT16_MIN, INT16_MAX),
                                             (int16_t)clampi(logit[6 + b], INT16_MIN, INT16_MAX) };
        }
    }
    ret = 0;
done:
    free(x3);
    free(n.r);
    free(n.a_rows);
    free(n.b_rows);
    free(n.acc);
    free(n.pad);
    free(n.split);
    return ret;
}
