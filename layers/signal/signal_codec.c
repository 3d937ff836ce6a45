#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "container/container.h"
#include "entropy/range_coder.h"
#include "enhance.h"
#include "signal_codec.h"

/* The transforms downsample by 16 (y) and 64 (z): images are padded to a multiple of 64. */
#define PAD 64

static int run_conv(const ScmcNnOps *ops, const ScmcConvLayer *l, int stride, ScmcTensor *x)
{
    ScmcTensor out;
    const int r = ops->conv2d(x, l->weight, l->bias, l->cout, l->k, stride, l->k / 2, &out);
    scmc_tensor_free(x);
    *x = out;
    return r;
}

static int run_deconv(const ScmcNnOps *ops, const ScmcConvLayer *l, ScmcTensor *x)
{
    ScmcTensor out;
    const int r = ops->conv_transpose2d(x, l->weight, l->bias, l->cout, l->k, 2, l->k / 2, 1, &out);
    scmc_tensor_free(x);
    *x = out;
    return r;
}

/* y = g_a(x) on the first M - detail channels, d_a(x) on the last detail ones (before the gains).
 * Takes x (the padded residual) and frees it. */
static int analysis(const ScmcSignalModel *m, const ScmcNnOps *ops, ScmcTensor *x, ScmcTensor *y)
{
    ScmcTensor det = { 0, 0, 0, NULL };
    const int b = SCMC_SIGNAL_DETAIL_BLOCK;
    int r = m->detail ? ops->conv2d(x, m->d_a.weight, NULL, m->detail, b, b, 0, &det) : SCMC_OK;
    for (int i = 0; i < 4 && !r; i++) {
        r = run_conv(ops, &m->g_a[i], 2, x);
        if (!r && i < 3)
            r = ops->gdn(x, m->g_a_gdn[i].beta, m->g_a_gdn[i].gamma, 0);
    }
    if (!r && m->detail) {
        r = scmc_tensor_alloc(y, m->M, x->h, x->w);
        if (!r) {
            memcpy(y->data, x->data, sizeof(float) * scmc_tensor_size(x));
            memcpy(y->data + scmc_tensor_size(x), det.data, sizeof(float) * scmc_tensor_size(&det));
        }
        scmc_tensor_free(x);
    } else if (!r) {
        *y = *x;
        x->data = NULL;
    }
    scmc_tensor_free(&det);
    scmc_tensor_free(x);
    return r;
}

/* x_hat = g_s(first M - detail channels) + d_s(last detail channels). Takes y (after the inverse
 * gains) and leaves x_hat in its place. */
static int synthesis(const ScmcSignalModel *m, const ScmcNnOps *ops, ScmcTensor *y)
{
    ScmcTensor det = { 0, 0, 0, NULL };
    const int mg = m->M - m->detail, b = SCMC_SIGNAL_DETAIL_BLOCK;
    int r = SCMC_OK;
    if (m->detail) {
        const ScmcTensor tail = { m->detail, y->h, y->w, y->data + (size_t)mg * y->h * y->w };
        r = ops->conv_transpose2d(&tail, m->d_s.weight, NULL, 3, b, b, 0, 0, &det);
        y->c = mg; /* g_s reads the first mg channels; the buffer is freed whole */
    }
    for (int i = 0; i < 4 && !r; i++) {
        r = run_deconv(ops, &m->g_s[i], y);
        if (!r && i < 3)
            r = ops->gdn(y, m->g_s_igdn[i].beta, m->g_s_igdn[i].gamma, 1);
    }
    if (!r && m->detail)
        for (size_t i = 0; i < scmc_tensor_size(y); i++)
            y->data[i] += det.data[i];
    scmc_tensor_free(&det);
    return r;
}

/* z symbol: index within the table of channel c at the stream's quality, else the escape and a
 * zigzag Exp-Golomb value. */
void scmc_signal_put_z(ScmcRangeEncoder *e, const ScmcSignalModel *m, int quality, int c, int32_t v)
{
    const size_t t = (size_t)(quality - 1) * m->N + c;
    const int32_t d = v - m->z_offset[t];
    if (d >= 0 && d < m->z_len[t] - 1) {
        scmc_renc_symbol(e, m->z_cdf[t], d);
    } else {
        scmc_renc_symbol(e, m->z_cdf[t], m->z_len[t] - 1);
        scmc_renc_expgolomb(e, d >= 0 ? 2u * (uint32_t)d : 2u * (uint32_t)(-(int64_t)d) - 1);
    }
}

static int get_z(ScmcRangeDecoder *dec, const ScmcSignalModel *m, int quality, int c, int32_t *v)
{
    const size_t t = (size_t)(quality - 1) * m->N + c;
    const int s = scmc_rdec_symbol(dec, m->z_cdf[t], m->z_len[t]);
    int64_t d = s;
    if (s == m->z_len[t] - 1) {
        const uint32_t u = scmc_rdec_expgolomb(dec);
        if (u == UINT32_MAX)
            return SCMC_ERR_CORRUPT;
        d = (u & 1) ? -(int64_t)((u + 1) / 2) : (int64_t)(u / 2);
    }
    const int64_t val = d + m->z_offset[t];
    if (val < -SCMC_SIGNAL_Z_LIMIT || val > SCMC_SIGNAL_Z_LIMIT)
        return SCMC_ERR_CORRUPT;
    *v = (int32_t)val;
    return SCMC_OK;
}

/* y symbol (already centred on its mean) with the Gaussian table of its scale: -T..T directly,
 * else the escape, Exp-Golomb(|v| - T - 1) and a sign bit. */
void scmc_signal_put_y(ScmcRangeEncoder *e, const ScmcSignalModel *m, int idx, int32_t v)
{
    const int n = m->gauss_len[idx], t = (n - 2) / 2;
    if (v >= -t && v <= t) {
        scmc_renc_symbol(e, m->gauss_cdf[idx], v + t);
    } else {
        scmc_renc_symbol(e, m->gauss_cdf[idx], n - 1);
        scmc_renc_expgolomb(e, (uint32_t)((v < 0 ? -(int64_t)v : v) - t - 1));
        scmc_renc_bypass(e, v < 0, 1);
    }
}

double scmc_signal_y_bits(const ScmcSignalModel *m, int idx, int32_t v)
{
    const int n = m->gauss_len[idx], t = (n - 2) / 2;
    const uint32_t *cdf = m->gauss_cdf[idx];
    if (v >= -t && v <= t)
        return -log2((double)(cdf[v + t + 1] - cdf[v + t]) / SCMC_CDF_TOTAL);
    const uint32_t u = (uint32_t)((v < 0 ? -(int64_t)v : v) - t - 1);
    int len = 0; /* Exp-Golomb: 2 floor(log2(u + 1)) + 1 bits, then the sign */
    while ((u + 1) >> (len + 1))
        len++;
    return -log2((double)(cdf[n] - cdf[n - 1]) / SCMC_CDF_TOTAL) + 2 * len + 2;
}

/* The group-before part of a scale context, from the non-zero count of that group's symbols at
 * the same position (bitstream-spec/signal.md). */
static int previous_group_bucket(int nonzero)
{
    return nonzero == 0 ? 1 : nonzero <= 2 ? 2 : nonzero <= 6 ? 3 : 4;
}

void scmc_signal_previous_group_context(const int32_t *prev_group, int per, int plane, uint8_t *prev_ctx)
{
    for (int i = 0; i < plane; i++) {
        int nz = 0;
        for (int c = 0; prev_group && c < per; c++)
            nz += prev_group[(size_t)c * plane + i] != 0;
        prev_ctx[i] = prev_group ? (uint8_t)previous_group_bucket(nz) : 0;
    }
}

int scmc_signal_context(const int32_t *chan, int yw, int i, int prev_ctx)
{
    const int32_t l = i % yw > 0 ? chan[i - 1] : 0, u = i >= yw ? chan[i - yw] : 0;
    const int same = (l < -1 || l > 1 ? 2 : l != 0) + (u < -1 || u > 1 ? 2 : u != 0);
    return same * SCMC_SIGNAL_CTX_PREV + prev_ctx;
}

int scmc_signal_scale_in_context(const ScmcSignalModel *m, int ctx, int k)
{
    const int s = k + m->ctx_delta[ctx][k];
    return s < 0 ? 0 : s >= SCMC_SIGNAL_NUM_SCALES ? SCMC_SIGNAL_NUM_SCALES - 1 : s;
}

int scmc_signal_context_scale(const ScmcSignalModel *m, const int32_t *chan, int yw, int i, int prev_ctx, int k)
{
    return scmc_signal_scale_in_context(m, scmc_signal_context(chan, yw, i, prev_ctx), k);
}

int scmc_signal_each_symbol(const ScmcSignalModel *m, const int32_t *v, int yh, int yw, int groups,
                            void (*visit)(void *arg, size_t k, int ctx), void *arg)
{
    const int per = m->M / m->groups, plane = yh * yw;
    uint8_t *prev_ctx = malloc((size_t)plane);
    if (!prev_ctx)
        return SCMC_ERR_NOMEM;
    for (int g = 0; g < groups; g++) {
        scmc_signal_previous_group_context(g ? v + (size_t)(g - 1) * per * plane : NULL, per, plane, prev_ctx);
        for (int c = g * per; c < (g + 1) * per; c++)
            for (int i = 0; i < plane; i++)
                visit(arg, (size_t)c * plane + i, scmc_signal_context(v + (size_t)c * plane, yw, i, prev_ctx[i]));
    }
    free(prev_ctx);
    return SCMC_OK;
}

/* Rate-distortion rounding of one latent, u = y - mean in quantizer steps. Rounding to nearest
 * ignores the rate. Where the model predicts a near-certain zero (scale at its floor) a rounded
 * +-1 costs 10 to 20 bits: training saw uniform noise there, which the Gaussian prices far
 * lower than a whole step. One step towards zero is taken when the squared error it adds (in
 * steps^2) is below mu times the bits it saves. The gain units make a step cost about the same
 * image distortion at every quality, so one mu serves them all. Encoder-only: the decoder reads
 * whatever symbol is sent. (log2 of the table's own probabilities: a different libm can at worst
 * flip a tie, which changes the stream, never its decodability.) */
static int32_t rd_round(const ScmcSignalModel *m, int idx, float u, double mu)
{
    int32_t v = (int32_t)floorf(u + 0.5f);
    if (v > SCMC_SIGNAL_Y_LIMIT)
        v = SCMC_SIGNAL_Y_LIMIT;
    if (v < -SCMC_SIGNAL_Y_LIMIT)
        v = -SCMC_SIGNAL_Y_LIMIT;
    if (!v)
        return 0;
    const int32_t w = v > 0 ? v - 1 : v + 1;
    const double added = ((double)u - w) * ((double)u - w) - ((double)u - v) * ((double)u - v);
    return added < mu * (scmc_signal_y_bits(m, idx, v) - scmc_signal_y_bits(m, idx, w)) ? w : v;
}

static int get_y(ScmcRangeDecoder *dec, const ScmcSignalModel *m, int idx, int32_t *v)
{
    const int n = m->gauss_len[idx], t = (n - 2) / 2;
    const int s = scmc_rdec_symbol(dec, m->gauss_cdf[idx], n);
    if (s < n - 1) {
        *v = s - t;
        return SCMC_OK;
    }
    const uint32_t u = scmc_rdec_expgolomb(dec);
    const int neg = (int)scmc_rdec_bypass(dec, 1);
    if (u == UINT32_MAX || (int64_t)u + t + 1 > SCMC_SIGNAL_Y_LIMIT)
        return SCMC_ERR_CORRUPT;
    *v = (int32_t)(neg ? -((int64_t)u + t + 1) : (int64_t)u + t + 1);
    return SCMC_OK;
}

static uint64_t squared_error(const ScmcImage *a, const ScmcImage *b)
{
    uint64_t s = 0;
    for (size_t i = 0; i < (size_t)a->width * a->height * 3; i++) {
        const int d = (int)a->rgb[i] - (int)b->rgb[i];
        s += (uint64_t)(d * d);
    }
    return s;
}

/* Squared error against img of the picture the decoder paints from x (3 x hp x wp, the synthesis
 * output): base + 255 x, rounded and clamped as scmc_signal_render does. */
static uint64_t painted_error(const ScmcImage *img, const ScmcImage *base, const ScmcTensor *x)
{
    uint64_t s = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < img->height; y++) {
            const float *row = x->data + ((size_t)c * x->h + y) * x->w;
            for (int xx = 0; xx < img->width; xx++) {
                const size_t p = ((size_t)y * img->width + xx) * 3 + c;
                const float v = (float)base->rgb[p] + 255.0f * row[xx] + 0.5f;
                const int d = (int)(v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v) - (int)img->rgb[p];
                s += (uint64_t)(d * d);
            }
        }
    return s;
}

static int finish_payload(ScmcRangeEncoder *e, ScmcPayloads *out)
{
    if (scmc_renc_finish(e, &out->data[out->count], &out->size[out->count]))
        return SCMC_ERR_NOMEM;
    out->count++;
    return SCMC_OK;
}

double scmc_signal_lambda(int quality)
{
    return 0.0018 * pow(0.14 / 0.0018, (quality - 1) / 7.0);
}

/* The synthesis output (3 x hp x wp) with the first `sent` latent channels at their symbols and the
 * rest at their predicted means. */
static int prefix_picture(const ScmcSignalModel *m, const ScmcNnOps *ops, int quality, const int32_t *v,
                          const int32_t *mean_q, int yh, int yw, int sent, ScmcTensor *x)
{
    const int M = m->M, plane = yh * yw;
    int r = scmc_tensor_alloc(x, M, yh, yw);
    if (r)
        return r;
    const float scale = (float)(1 << m->act_bits);
    const float *ig = m->inv_gain + (size_t)(quality - 1) * M;
    for (int c = 0; c < M; c++)
        for (int i = 0; i < plane; i++) {
            const size_t k = (size_t)c * plane + i;
            x->data[k] = ((c < sent ? (float)v[k] : 0.0f) + (float)mean_q[k] / scale) * ig[c];
        }
    r = synthesis(m, ops, x);
    if (r)
        scmc_tensor_free(x);
    return r;
}

/* Adds what detail channels c0..c1-1 paint (d_s of their symbols) to x, the synthesis output.
 * d_s is linear, without bias, and paints disjoint 16x16 blocks, so this equals synthesising with
 * those symbols added (up to float order), at the price of a few block products per non-zero
 * symbol. */
static void add_detail_channels(const ScmcSignalModel *m, int quality, const int32_t *v, int yh, int yw, int c0,
                                int c1, ScmcTensor *x)
{
    const int M = m->M, plane = yh * yw, b = SCMC_SIGNAL_DETAIL_BLOCK;
    const float *ig = m->inv_gain + (size_t)(quality - 1) * M;
    for (int c = c0; c < c1; c++) {
        const float *kern = m->d_s.weight + (size_t)(c - (M - m->detail)) * 3 * b * b;
        for (int i = 0; i < plane; i++) {
            const int32_t q = v[(size_t)c * plane + i];
            if (!q)
                continue;
            const float a = (float)q * ig[c];
            const int y0 = i / yw * b, x0 = i % yw * b;
            for (int ch = 0; ch < 3; ch++)
                for (int ky = 0; ky < b; ky++) {
                    float *row = x->data + ((size_t)ch * x->h + y0 + ky) * x->w + x0;
                    const float *krow = kern + ((size_t)ch * b + ky) * b;
                    for (int kx = 0; kx < b; kx++)
                        row[kx] += a * krow[kx];
                }
        }
    }
}

/* How many latent groups to write (sub-layers 1..count): every group that holds a nonlinear
 * channel, then the prefix of the detail groups with the lowest training objective
 * lambda * SSE / 3 + bits (SSE over the W x H x 3 samples; bits of the group payloads and of their
 * layer-table entries). x is the synthesis output with the nonlinear channels at their symbols and
 * the detail channels at their means; add_detail_channels builds each detail prefix's picture from
 * the one before, so one synthesis prices them all (x is left with every group added). Shorter
 * nonlinear prefixes, one synthesis each, were tried and left out: on six Kodak images they
 * changed the BD-rate by -0.8 .. +0.4 % (mean -0.05 %) and doubled the encoding time at quality 1
 * (docs/signal.md). Encoder-only: the float sums need not match any decoder's. */
static void groups_to_send(const ScmcSignalModel *m, const ScmcImage *img, const ScmcImage *base, int quality,
                           const int32_t *v, int yh, int yw, const ScmcPayloads *groups, ScmcTensor *x, int *count)
{
    const int G = m->groups, per = m->M / G, mg = m->M - m->detail, first = (mg + per - 1) / per;
    *count = G;
    if (first >= G)
        return;
    const double lambda = scmc_signal_lambda(quality);
    double bits[SCMC_MAX_SUBLAYERS + 1] = { 0 }; /* bits[p]: groups 1..p */
    for (int g = 0; g < G; g++)
        bits[g + 1] = bits[g] + 8.0 * (double)(groups->size[g] + scmc_container_sublayer_entry_bytes(groups->size[g]));
    add_detail_channels(m, quality, v, yh, yw, mg, first * per, x); /* a group shared with nonlinear channels */
    double best = lambda * (double)painted_error(img, base, x) / 3.0 + bits[first];
    *count = first;
    for (int g = first; g < G; g++) {
        add_detail_channels(m, quality, v, yh, yw, g * per, (g + 1) * per, x);
        const double cost = lambda * (double)painted_error(img, base, x) / 3.0 + bits[g + 1];
        if (cost < best) {
            best = cost;
            *count = g + 1;
        }
    }
}

/* Dot product of n floats, n a multiple of 8, in eight partial sums the compiler can vectorise. */
static float block_dot(const float *a, const float *b, int n)
{
    float acc[8] = { 0 };
    for (int j = 0; j < n; j += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += a[j + l] * b[j + l];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* What optimise_detail prices symbols with: the symbols, the hyperprior's scale indices, the bits
 * of the small values per scale index (scmc_signal_y_bits takes a log2 per call) and, per group,
 * the non-zero counts at the block being optimised and at its right and lower neighbours, which
 * give the group-before part of their contexts. */
#define RDO_LUT_MAX 16
typedef struct DetailRdo {
    const ScmcSignalModel *m;
    int32_t *v;
    const uint8_t *raw;
    int yw, plane, per;
    int nz_here[SCMC_MAX_SUBLAYERS], nz_right[SCMC_MAX_SUBLAYERS], nz_down[SCMC_MAX_SUBLAYERS];
    float lut[SCMC_SIGNAL_NUM_SCALES][2 * RDO_LUT_MAX + 1];
} DetailRdo;

static void count_nonzero(const DetailRdo *o, int i, int *nz)
{
    for (int g = 0; g < o->m->groups; g++) {
        nz[g] = 0;
        for (int c = g * o->per; c < (g + 1) * o->per; c++)
            nz[g] += o->v[(size_t)c * o->plane + i] != 0;
    }
}

/* Bits of symbol (c, i), the group-before part of its context given. */
static double coded_bits(const DetailRdo *o, int c, int i, int pctx)
{
    const int32_t *chan = o->v + (size_t)c * o->plane;
    const int k = scmc_signal_context_scale(o->m, chan, o->yw, i, pctx, o->raw[(size_t)c * o->plane + i]);
    return chan[i] >= -RDO_LUT_MAX && chan[i] <= RDO_LUT_MAX ? o->lut[k][chan[i] + RDO_LUT_MAX]
                                                           : scmc_signal_y_bits(o->m, k, chan[i]);
}

/* The bits symbol (c, i) costs at value val, with those of the symbols whose contexts it is part
 * of: its right and lower neighbours in the channel and, with next_group, the next group's symbols
 * at i (whose context depends on whether it is zero). */
static double symbol_bits(const DetailRdo *o, int c, int i, int32_t val, int next_group)
{
    const int g = c / o->per;
    int32_t *at = o->v + (size_t)c * o->plane + i;
    const int32_t keep = *at;
    *at = val;
    double bits = coded_bits(o, c, i, g ? previous_group_bucket(o->nz_here[g - 1]) : 0);
    if (i % o->yw + 1 < o->yw)
        bits += coded_bits(o, c, i + 1, g ? previous_group_bucket(o->nz_right[g - 1]) : 0);
    if (i + o->yw < o->plane)
        bits += coded_bits(o, c, i + o->yw, g ? previous_group_bucket(o->nz_down[g - 1]) : 0);
    if (next_group && g + 1 < o->m->groups) {
        const int pctx = previous_group_bucket(o->nz_here[g] + (val != 0) - (keep != 0));
        for (int n = (g + 1) * o->per; n < (g + 2) * o->per; n++)
            bits += coded_bits(o, n, i, pctx);
    }
    *at = keep;
    return bits;
}

/* A decoder may stop after any group, and a later group must not undo an earlier one: after the
 * joint fit of a block, the detail groups are added in coding order and one that leaves the
 * block's error above what the groups before it left is dropped from the block (its symbols set
 * to 0, which also makes them cheapest). So the picture error of every block, hence of the image
 * before rounding, never rises from one sub-layer to the next. e0: the block's error with no
 * detail; cur and tmp: scratch of bn floats. */
static void guard_prefixes(const DetailRdo *o, int i, const float *kern, const float *ig, int mg, const float *e0,
                           float *cur, float *tmp, int bn)
{
    const int M = o->m->M;
    memcpy(cur, e0, sizeof(float) * bn);
    double prev = 0;
    for (int j = 0; j < bn; j++)
        prev += (double)cur[j] * cur[j];
    for (int c0 = mg; c0 < M;) {
        const int c1 = (c0 / o->per + 1) * o->per < M ? (c0 / o->per + 1) * o->per : M;
        int any = 0;
        memcpy(tmp, cur, sizeof(float) * bn);
        for (int c = c0; c < c1; c++) {
            const float a = (float)o->v[(size_t)c * o->plane + i] * ig[c];
            const float *kc = kern + (size_t)(c - mg) * bn;
            any |= a != 0;
            for (int j = 0; a != 0 && j < bn; j++)
                tmp[j] -= a * kc[j];
        }
        if (any) {
            double err = 0;
            for (int j = 0; j < bn; j++)
                err += (double)tmp[j] * tmp[j];
            if (err > prev) {
                for (int c = c0; c < c1; c++)
                    o->v[(size_t)c * o->plane + i] = 0;
            } else {
                memcpy(cur, tmp, sizeof(float) * bn);
                prev = err;
            }
        }
        c0 = c1;
    }
}

/* Rate-distortion optimisation of the detail symbols. d_a computes the detail coefficients from
 * the residual alone, blind to what the quantized nonlinear channels leave, and rd_round prices
 * their error in quantizer steps as if d_s were orthonormal. But d_s is linear and paints disjoint
 * 16x16 blocks, so the exact picture error of a block under any change of its detail symbols is a
 * few dot products away. Block by block, each symbol moves by +-1 wherever that lowers
 * lambda * SSE / 3 + bits (symbol_bits: the symbol's own, with its scale context as it stands,
 * and the change it makes to the symbols whose contexts it enters), until a pass over the block
 * changes nothing or after DETAIL_RDO_PASSES passes. A third candidate, the jump straight to zero,
 * changed nothing measurable (-0.05 % BD on three images), so moves are +-1. pic: the synthesis output with the
 * nonlinear channels at their symbols and the detail channels at their means; raw_idx: the
 * hyperprior's scale indices before the contexts. Encoder-only (docs/signal.md, "Detail symbols
 * fitted to what the nonlinear channels leave"). */
#define DETAIL_RDO_PASSES 4
static int optimise_detail(const ScmcSignalModel *m, int quality, const ScmcImage *img, const ScmcImage *base,
                           const ScmcTensor *pic, const uint8_t *raw_idx, int yh, int yw, int32_t *v)
{
    const int M = m->M, mg = M - m->detail, plane = yh * yw;
    const int b = SCMC_SIGNAL_DETAIL_BLOCK, bn = 3 * b * b;
    const float *ig = m->inv_gain + (size_t)(quality - 1) * M;
    /* lambda * SSE / 3 with SSE over 8-bit samples; e below is in units of 255 */
    const double lambda = scmc_signal_lambda(quality) * 255.0 * 255.0 / 3.0;
    float *e = malloc(sizeof(float) * bn * 4), *masked = malloc(sizeof(float) * (size_t)m->detail * bn);
    float *e0 = e ? e + bn : NULL, *cur = e ? e + 2 * bn : NULL, *tmp = e ? e + 3 * bn : NULL;
    double *n2_full = malloc(sizeof(double) * m->detail), *n2_masked = malloc(sizeof(double) * m->detail);
    DetailRdo *o = malloc(sizeof(*o));
    if (!e || !masked || !n2_full || !n2_masked || !o) {
        free(o);
        free(e);
        free(masked);
        free(n2_full);
        free(n2_masked);
        return SCMC_ERR_NOMEM;
    }
    memset(o, 0, sizeof(*o));
    o->m = m, o->v = v, o->raw = raw_idx, o->yw = yw, o->plane = plane, o->per = M / m->groups;
    for (int k = 0; k < SCMC_SIGNAL_NUM_SCALES; k++)
        for (int q = -RDO_LUT_MAX; q <= RDO_LUT_MAX; q++)
            o->lut[k][q + RDO_LUT_MAX] = (float)scmc_signal_y_bits(m, k, q);
    for (int d = 0; d < m->detail; d++) {
        double s = 0;
        for (int j = 0; j < bn; j++)
            s += (double)m->d_s.weight[(size_t)d * bn + j] * m->d_s.weight[(size_t)d * bn + j];
        n2_full[d] = s;
    }
    for (int i = 0; i < plane; i++) {
        const int y0 = i / yw * b, x0 = i % yw * b;
        const int bh = img->height - y0 < b ? img->height - y0 : b, bw = img->width - x0 < b ? img->width - x0 : b;
        const int full = bh == b && bw == b;
        const float *kern = full ? m->d_s.weight : masked;
        const double *n2 = full ? n2_full : n2_masked;
        if (!full) /* a block the image edge cuts: the padding's error does not count */
            for (int d = 0; d < m->detail; d++) {
                double s = 0;
                for (int j = 0; j < bn; j++) {
                    const int ky = j / b % b, kx = j % b;
                    const float w = ky < bh && kx < bw ? m->d_s.weight[(size_t)d * bn + j] : 0.0f;
                    masked[(size_t)d * bn + j] = w;
                    s += (double)w * w;
                }
                n2_masked[d] = s;
            }
        for (int j = 0; j < bn; j++) { /* e = residual - picture, in the block */
            const int ch = j / (b * b), ky = j / b % b, kx = j % b;
            if (ky >= bh || kx >= bw) {
                e[j] = 0;
                continue;
            }
            const size_t p = ((size_t)(y0 + ky) * img->width + x0 + kx) * 3 + ch;
            e[j] = ((float)img->rgb[p] - (float)base->rgb[p]) / 255.0f -
                   pic->data[((size_t)ch * pic->h + y0 + ky) * pic->w + x0 + kx];
        }
        memcpy(e0, e, sizeof(float) * bn);
        for (int c = mg; c < M; c++) {
            const float a = (float)v[(size_t)c * plane + i] * ig[c];
            const float *kc = kern + (size_t)(c - mg) * bn;
            for (int j = 0; a != 0 && j < bn; j++)
                e[j] -= a * kc[j];
        }
        count_nonzero(o, i, o->nz_here);
        if (i % yw + 1 < yw)
            count_nonzero(o, i + 1, o->nz_right);
        if (i + yw < plane)
            count_nonzero(o, i + yw, o->nz_down);
        for (int pass = 0; pass < DETAIL_RDO_PASSES; pass++) {
            int changed = 0;
            for (int c = mg; c < M; c++) {
                int32_t *chan = v + (size_t)c * plane;
                const float *kc = kern + (size_t)(c - mg) * bn;
                const float dot = block_dot(kc, e, bn);
                const double a = ig[c];
                double best = -1e-9;
                int step = 0;
                for (int d = -1; d <= 1; d += 2) {
                    const int64_t nv = (int64_t)chan[i] + d;
                    if (nv < -SCMC_SIGNAL_Y_LIMIT || nv > SCMC_SIGNAL_Y_LIMIT)
                        continue;
                    const int next = (nv != 0) != (chan[i] != 0);
                    const double cost = lambda * (-2.0 * d * a * dot + a * a * n2[c - mg]) +
                                        symbol_bits(o, c, i, (int32_t)nv, next) - symbol_bits(o, c, i, chan[i], next);
                    if (cost < best) {
                        best = cost;
                        step = d;
                    }
                }
                if (step) {
                    o->nz_here[c / o->per] += (chan[i] + step != 0) - (chan[i] != 0);
                    chan[i] += step;
                    const float da = (float)(step * a);
                    for (int j = 0; j < bn; j++)
                        e[j] -= da * kc[j];
                    changed = 1;
                }
            }
            if (!changed)
                break;
        }
        guard_prefixes(o, i, kern, ig, mg, e0, cur, tmp, bn);
    }
    free(o);
    free(e);
    free(masked);
    free(n2_full);
    free(n2_masked);
    return SCMC_OK;
}

/* What context_indices and quantize_latents hand scmc_signal_each_symbol. */
typedef struct SymbolPass {
    const ScmcSignalModel *m;
    const uint8_t *raw; /* the hyperprior's scale indices (NULL: idx holds them) */
    uint8_t *idx;
    const float *y;     /* quantize_latents: the latents, their means and mu */
    const int32_t *mean_q;
    float mean_scale;
    double rdoq_mu;
    int32_t *v;
} SymbolPass;

static void set_context_index(void *arg, size_t k, int ctx)
{
    SymbolPass *p = arg;
    p->idx[k] = (uint8_t)scmc_signal_scale_in_context(p->m, ctx, p->raw[k]);
}

/* idx[k]: the scale index symbol k is coded with, from the hyperprior's raw[k] and the contexts of
 * the symbols v (as the decoder will see them). */
static int context_indices(const ScmcSignalModel *m, const int32_t *v, const uint8_t *raw, int yh, int yw,
                           uint8_t *idx)
{
    SymbolPass p = { .m = m, .raw = raw, .idx = idx };
    return scmc_signal_each_symbol(m, v, yh, yw, m->groups, set_context_index, &p);
}

static void round_in_context(void *arg, size_t k, int ctx)
{
    SymbolPass *p = arg;
    p->idx[k] = (uint8_t)scmc_signal_scale_in_context(p->m, ctx, p->idx[k]);
    p->v[k] = rd_round(p->m, p->idx[k], p->y[k] - (float)p->mean_q[k] / p->mean_scale, p->rdoq_mu);
}

/* The latents in quantizer steps, centred on their predicted means and rounded by rd_round, in
 * the order they are coded (each symbol's context sees the ones rounded before it); idx[k]
 * becomes the scale index symbol k is coded with. */
static int quantize_latents(const ScmcSignalModel *m, const ScmcTensor *y, const int32_t *mean_q, uint8_t *idx,
                            double rdoq_mu, int32_t *v)
{
    SymbolPass p = { .m = m, .idx = idx, .y = y->data, .mean_q = mean_q,
                     .mean_scale = (float)(1 << m->act_bits), .rdoq_mu = rdoq_mu, .v = v };
    return scmc_signal_each_symbol(m, v, y->h, y->w, m->groups, round_in_context, &p);
}

/* The fields of sub-layer 0 before z (bitstream-spec/signal.md, "Sub-layer 0"). */
static void put_header(ScmcRangeEncoder *e, const ScmcSignalModel *m, int quality, int show_mean, int strength,
                       int latents)
{
    scmc_renc_bypass(e, (uint32_t)(quality - 1), 3);
    scmc_renc_bypass(e, (uint32_t)show_mean, 1);
    if (m->enhancer.channels) {
        scmc_renc_bypass(e, (uint32_t)strength, 2);
        scmc_renc_bypass(e, (uint32_t)latents, 1);
    }
}

/* *out = base restored by the model's network at the strength (*strength) whose picture is
 * closest to img; base itself (strength 0) when no strength helps or the model has no network. */
static int restore_base(const ScmcSignalModel *m, const ScmcNnOps *ops, const ScmcImage *img, const ScmcImage *base,
                        int quality, int *strength, ScmcImage *out)
{
    *strength = 0;
    int r = scmc_image_copy(out, base);
    if (r || !m->enhancer.channels)
        return r;
    float *corr;
    r = scmc_enhance_correction(&m->enhancer, ops, base, quality, &corr);
    uint64_t best = squared_error(img, base);
    for (int s = 1; s < SCMC_ENHANCE_NUM_STRENGTHS && !r; s++) {
        ScmcImage t;
        r = scmc_enhance_apply(base, corr, s, &t);
        if (r)
            break;
        const uint64_t err = squared_error(img, &t);
        if (err < best) {
            best = err;
            *strength = s;
            scmc_image_free(out);
            *out = t;
        } else {
            scmc_image_free(&t);
        }
    }
    free(corr);
    if (r)
        scmc_image_free(out);
    return r;
}

/* With the latents in out (sub-layer 0 with z, then the groups), whether they pay over the
 * restored base (scmc_pays: the squared error they remove against their bytes beyond sub-layer 0
 * alone); if not, out becomes sub-layer 0 alone, without z (the restoration is then the whole
 * layer), and recon, when asked for, takes the restored base over (restored is left empty). */
static int drop_latents_unless_they_pay(const ScmcSignalModel *m, const ScmcNnOps *ops, const ScmcImage *img,
                                        ScmcImage *restored, int quality, int strength, double lambda,
                                        ScmcPayloads *out, ScmcImage *recon)
{
    ScmcSignalDecoder probe;
    ScmcImage full = { 0 };
    int r = scmc_signal_decoder_init(&probe, m, ops, img->width, img->height);
    if (r)
        return r;
    for (int i = 0; i < out->count && !r; i++)
        r = scmc_signal_decode_sublayer(&probe, i, out->data[i], out->size[i]);
    probe.strength = 0; /* paint on the restored base as it is */
    if (!r)
        r = scmc_signal_render(&probe, restored, &full);
    scmc_signal_decoder_free(&probe);
    if (r)
        return r;
    ScmcPayloads alone = { 0 };
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    put_header(&e, m, quality, 0, strength, 0);
    r = finish_payload(&e, &alone);
    if (!r) {
        const double bytes = scmc_payloads_stream_bytes(out) - scmc_payloads_stream_bytes(&alone);
        const double gain = (double)squared_error(img, restored) - (double)squared_error(img, &full);
        const int pays = scmc_pays(gain, lambda, bytes);
        if (!pays) {
            scmc_payloads_free(out);
            *out = alone;
            alone.count = 0;
        }
        if (recon && pays) { /* what the decoder paints: the latents on the restored base */
            *recon = full;
            full.rgb = NULL;
        } else if (recon) {
            *recon = *restored;
            restored->rgb = NULL;
        }
    }
    scmc_payloads_free(&alone);
    scmc_image_free(&full);
    return r;
}

int scmc_signal_encode(const ScmcSignalModel *m, const ScmcNnOps *ops, const ScmcImage *img,
                       const ScmcImage *base, const ScmcSignalEncodeParams *par, ScmcPayloads *out)
{
    return scmc_signal_encode_rec(m, ops, img, base, par, out, NULL);
}

int scmc_signal_encode_rec(const ScmcSignalModel *m, const ScmcNnOps *ops, const ScmcImage *img,
                           const ScmcImage *base_in, const ScmcSignalEncodeParams *par, ScmcPayloads *out,
                           ScmcImage *recon)
{
    const int W = img->width, H = img->height, quality = par->quality;
    const int wp = (W + PAD - 1) / PAD * PAD, hp = (H + PAD - 1) / PAD * PAD;
    const int M = m->M, yh = hp / 16, yw = wp / 16, zh = hp / 64, zw = wp / 64;
    /* the latents code the picture against the restored base */
    ScmcImage restored;
    int strength;
    int r = restore_base(m, ops, img, base_in, quality, &strength, &restored);
    if (r)
        return r;
    const ScmcImage *base = &restored;
    ScmcTensor x;
    r = scmc_tensor_alloc(&x, 3, hp, wp);
    if (r) {
        scmc_image_free(&restored);
        return r;
    }
    for (int c = 0; c < 3; c++) /* residual in [-1, 1]; the padding is zero residual */
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                const size_t p = ((size_t)y * W + xx) * 3 + c;
                x.data[((size_t)c * hp + y) * wp + xx] = ((float)img->rgb[p] - (float)base->rgb[p]) / 255.0f;
            }
    ScmcTensor y = { 0, 0, 0, NULL }, zt = { 0, 0, 0, NULL };
    r = analysis(m, ops, &x, &y);
    if (!r) {
        const float *g = m->gain + (size_t)(quality - 1) * M;
        for (int c = 0; c < M; c++)
            for (int i = 0; i < yh * yw; i++)
                y.data[(size_t)c * yh * yw + i] *= g[c];
        r = scmc_tensor_alloc(&zt, y.c, y.h, y.w);
        if (!r)
            memcpy(zt.data, y.data, sizeof(float) * scmc_tensor_size(&y));
        for (int i = 0; i < 3 && !r; i++) {
            r = run_conv(ops, &m->h_a[i], i == 0 ? 1 : 2, &zt);
            if (!r && i < 2)
                scmc_nn_relu(&zt);
        }
    }
    int32_t *z = NULL, *mean_q = NULL, *v = NULL;
    uint8_t *idx = NULL;
    if (!r) {
        z = malloc(sizeof(int32_t) * (size_t)m->N * zh * zw);
        mean_q = malloc(sizeof(int32_t) * (size_t)M * yh * yw);
        v = malloc(sizeof(int32_t) * (size_t)M * yh * yw);
        idx = malloc((size_t)M * yh * yw);
        if (!z || !mean_q || !v || !idx)
            r = SCMC_ERR_NOMEM;
    }
    if (!r) {
        for (size_t i = 0; i < (size_t)m->N * zh * zw; i++) {
            const float f = floorf(zt.data[i] + 0.5f);
            z[i] = f > SCMC_SIGNAL_Z_LIMIT ? SCMC_SIGNAL_Z_LIMIT : f < -SCMC_SIGNAL_Z_LIMIT ? -SCMC_SIGNAL_Z_LIMIT : (int32_t)f;
        }
        r = scmc_signal_hyper_synthesis(m, z, zh, zw, mean_q, idx);
    }
    int show_mean = 1;
    if (!r) {
        /* Quality must not drop at any step: if the picture painted from the predicted means
         * alone is worse than base, the decoder keeps base for that step. */
        ScmcSignalDecoder probe;
        ScmcImage painted;
        r = scmc_signal_decoder_init(&probe, m, ops, W, H);
        if (!r) {
            memcpy(probe.mean_q, mean_q, sizeof(int32_t) * (size_t)M * yh * yw);
            probe.quality = quality;
            probe.show_mean = 1;
            probe.latents = 1;
            r = scmc_signal_render(&probe, base, &painted);
            scmc_signal_decoder_free(&probe);
        }
        if (!r) {
            show_mean = squared_error(img, &painted) < squared_error(img, base);
            scmc_image_free(&painted);
        }
    }
    uint8_t *raw_idx = NULL;
    ScmcTensor pic = { 0, 0, 0, NULL };
    const int detail_rdo = m->detail && par->detail_rdo;
    if (!r && detail_rdo) {
        raw_idx = malloc((size_t)M * yh * yw);
        if (!raw_idx)
            r = SCMC_ERR_NOMEM;
        else
            memcpy(raw_idx, idx, (size_t)M * yh * yw);
    }
    if (!r)
        r = quantize_latents(m, &y, mean_q, idx, par->rdoq_mu, v);
    if (!r && m->detail && (detail_rdo || !par->all_groups))
        r = prefix_picture(m, ops, quality, v, mean_q, yh, yw, M - m->detail, &pic);
    if (!r && detail_rdo)
        r = optimise_detail(m, quality, img, base, &pic, raw_idx, yh, yw, v);
    if (!r && detail_rdo)
        r = context_indices(m, v, raw_idx, yh, yw, idx);
    ScmcPayloads groups = { 0 };
    if (!r) {
        ScmcRangeEncoder e;
        scmc_renc_init(&e);
        put_header(&e, m, quality, show_mean, strength, 1);
        for (int c = 0; c < m->N; c++)
            for (int i = 0; i < zh * zw; i++)
                scmc_signal_put_z(&e, m, quality, c, z[(size_t)c * zh * zw + i]);
        r = finish_payload(&e, out);
        const int per = M / m->groups;
        for (int g = 0; g < m->groups && !r; g++) {
            scmc_renc_init(&e);
            for (size_t k = (size_t)g * per * yh * yw; k < (size_t)(g + 1) * per * yh * yw; k++)
                scmc_signal_put_y(&e, m, idx[k], v[k]);
            r = finish_payload(&e, &groups);
        }
    }
    int count = m->groups;
    if (!r && !par->all_groups && m->detail)
        groups_to_send(m, img, base, quality, v, yh, yw, &groups, &pic, &count);
    for (int g = 0; g < count && !r; g++) { /* hand the payloads that are sent over to out */
        out->data[out->count] = groups.data[g];
        out->size[out->count++] = groups.size[g];
        groups.data[g] = NULL;
    }
    scmc_payloads_free(&groups);
    if (!r && par->lambda > 0 && m->enhancer.channels)
        r = drop_latents_unless_they_pay(m, ops, img, &restored, quality, strength, par->lambda, out, recon);
    scmc_image_free(&restored);
    free(z);
    free(mean_q);
    free(v);
    free(idx);
    free(raw_idx);
    scmc_tensor_free(&pic);
    scmc_tensor_free(&x);
    scmc_tensor_free(&y);
    scmc_tensor_free(&zt);
    if (r) {
        scmc_payloads_free(out);
        if (recon)
            scmc_image_free(recon);
    }
    return r;
}

int scmc_signal_decoder_init(ScmcSignalDecoder *d, const ScmcSignalModel *m, const ScmcNnOps *ops, int width, int height)
{
    memset(d, 0, sizeof(*d));
    d->m = m;
    d->ops = ops;
    d->width = width;
    d->height = height;
    const int wp = (width + PAD - 1) / PAD * PAD, hp = (height + PAD - 1) / PAD * PAD;
    d->yh = hp / 16, d->yw = wp / 16, d->zh = hp / 64, d->zw = wp / 64;
    const size_t yn = (size_t)m->M * d->yh * d->yw;
    d->z = malloc(sizeof(int32_t) * (size_t)m->N * d->zh * d->zw);
    d->mean_q = malloc(sizeof(int32_t) * yn);
    d->y = calloc(yn, sizeof(int32_t));
    d->scale_idx = malloc(yn);
    if (!d->z || !d->mean_q || !d->y || !d->scale_idx) {
        scmc_signal_decoder_free(d);
        return SCMC_ERR_NOMEM;
    }
    return SCMC_OK;
}

void scmc_signal_decoder_free(ScmcSignalDecoder *d)
{
    free(d->z);
    free(d->mean_q);
    free(d->y);
    free(d->scale_idx);
    scmc_image_free(&d->restored);
    scmc_image_free(&d->restored_from);
    memset(d, 0, sizeof(*d));
}

int scmc_signal_decode_sublayer(ScmcSignalDecoder *d, int index, const uint8_t *data, size_t size)
{
    const ScmcSignalModel *m = d->m;
    ScmcRangeDecoder dec;
    scmc_rdec_init(&dec, data, size);
    if (index == 0) {
        if (d->quality)
            return SCMC_ERR_CORRUPT;
        const size_t zn = (size_t)m->N * d->zh * d->zw;
        int32_t *z = malloc(sizeof(int32_t) * zn);
        if (!z)
            return SCMC_ERR_NOMEM;
        const int q = 1 + (int)scmc_rdec_bypass(&dec, 3);
        const int show = (int)scmc_rdec_bypass(&dec, 1);
        const int strength = m->enhancer.channels ? (int)scmc_rdec_bypass(&dec, 2) : 0;
        const int latents = m->enhancer.channels ? (int)scmc_rdec_bypass(&dec, 1) : 1;
        int r = !latents && show ? SCMC_ERR_CORRUPT : SCMC_OK;
        for (int c = 0; c < m->N && !r && latents; c++)
            for (int i = 0; i < d->zh * d->zw && !r; i++)
                r = get_z(&dec, m, q, c, &z[(size_t)c * d->zh * d->zw + i]);
        if (!r && scmc_rdec_overrun(&dec))
            r = SCMC_ERR_CORRUPT;
        if (!r && latents)
            r = scmc_signal_hyper_synthesis(m, z, d->zh, d->zw, d->mean_q, d->scale_idx);
        if (r) {
            free(z);
            return r;
        }
        memcpy(d->z, z, sizeof(int32_t) * zn);
        free(z);
        d->quality = q;
        d->show_mean = show;
        d->strength = strength;
        d->latents = latents;
        return SCMC_OK;
    }
    if (!d->quality || !d->latents || index != d->groups_parsed + 1 || index > m->groups)
        return SCMC_ERR_CORRUPT;
    const int per = m->M / m->groups, plane = d->yh * d->yw;
    int32_t *tmp = malloc(sizeof(int32_t) * (size_t)per * plane);
    uint8_t *prev_ctx = malloc((size_t)plane);
    if (!tmp || !prev_ctx) {
        free(tmp);
        free(prev_ctx);
        return SCMC_ERR_NOMEM;
    }
    int r = SCMC_OK;
    const int c0 = (index - 1) * per;
    scmc_signal_previous_group_context(index > 1 ? d->y + (size_t)(c0 - per) * plane : NULL, per, plane, prev_ctx);
    for (int c = 0; c < per && !r; c++) {
        int32_t *chan = tmp + (size_t)c * plane;
        for (int i = 0; i < plane && !r; i++)
            r = get_y(&dec, m, scmc_signal_context_scale(m, chan, d->yw, i, prev_ctx[i], d->scale_idx[(size_t)(c0 + c) * plane + i]), &chan[i]);
    }
    free(prev_ctx);
    if (!r && scmc_rdec_overrun(&dec))
        r = SCMC_ERR_CORRUPT;
    if (!r) {
        memcpy(d->y + (size_t)c0 * plane, tmp, sizeof(int32_t) * (size_t)per * plane);
        d->groups_parsed = index;
    }
    free(tmp);
    return r;
}

/* d->restored = base restored at d->strength, made again only when base is not the one it was
 * made from. */
static int restore(ScmcSignalDecoder *d, const ScmcImage *base)
{
    const ScmcImage *f = &d->restored_from;
    if (d->restored.rgb && f->width == base->width && f->height == base->height &&
        !memcmp(f->rgb, base->rgb, (size_t)base->width * base->height * 3))
        return SCMC_OK;
    scmc_image_free(&d->restored);
    scmc_image_free(&d->restored_from);
    float *corr;
    int r = scmc_enhance_correction(&d->m->enhancer, d->ops, base, d->quality, &corr);
    if (r)
        return r;
    r = scmc_enhance_apply(base, corr, d->strength, &d->restored);
    free(corr);
    if (!r)
        r = scmc_image_copy(&d->restored_from, base);
    if (r)
        scmc_image_free(&d->restored);
    return r;
}

int scmc_signal_render(ScmcSignalDecoder *d, const ScmcImage *base, ScmcImage *out)
{
    const ScmcSignalModel *m = d->m;
    if (!d->quality)
        return SCMC_ERR_INVALID_ARG;
    if (d->strength) {
        const int r = restore(d, base);
        if (r)
            return r;
        base = &d->restored;
    }
    if (!d->latents || (d->groups_parsed == 0 && !d->show_mean))
        return scmc_image_copy(out, base);
    const int M = m->M, plane = d->yh * d->yw, per = M / m->groups;
    ScmcTensor x;
    int r = scmc_tensor_alloc(&x, M, d->yh, d->yw);
    if (r)
        return r;
    const float scale = (float)(1 << m->act_bits);
    const float *ig = m->inv_gain + (size_t)(d->quality - 1) * M;
    for (int c = 0; c < M; c++) {
        const int have = c < d->groups_parsed * per;
        for (int i = 0; i < plane; i++) {
            const size_t k = (size_t)c * plane + i;
            x.data[k] = ((have ? (float)d->y[k] : 0.0f) + (float)d->mean_q[k] / scale) * ig[c];
        }
    }
    r = synthesis(m, d->ops, &x);
    if (!r)
        r = scmc_image_alloc(out, d->width, d->height);
    if (!r) {
        const int wp = x.w, hp = x.h;
        for (int y = 0; y < d->height; y++)
            for (int xx = 0; xx < d->width; xx++)
                for (int c = 0; c < 3; c++) {
                    const size_t p = ((size_t)y * d->width + xx) * 3 + c;
                    const float v = (float)base->rgb[p] + 255.0f * x.data[((size_t)c * hp + y) * wp + xx] + 0.5f;
                    out->rgb[p] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
    }
    scmc_tensor_free(&x);
    return r;
}
