/* Wavelet correction sub-layer: syntax and contexts (bitstream-spec/structure.md, "Wavelet
 * correction"), the encoder's quantizer, and the decoder's integer reconstruction. */
#include "correction.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "entropy/range_coder.h"
#include "metrics/metrics.h"
#include "scmc/scmc.h"
#include "sharpen.h"
#include "wavelet.h"

#define BITS_STEP 12
#define BITS_SHARPEN 4
#define BLOCK 16          /* significance blocks: BLOCK x BLOCK coefficients of a band */
#define BAND_CLASSES 5    /* LL, level 5, level 4, level 3, levels 2 and 1 */
#define MAG_BITS 7        /* unary magnitude bits before the Exp-Golomb escape */
/* Coefficients are magnitude-limited so that q * step * 16 stays far inside the lifting clamp. */
#define MAX_DEQUANT (1 << 16)
typedef struct Contexts {
    ScmcBitModel block[2][BAND_CLASSES][3];
    ScmcBitModel sig[2][BAND_CLASSES][20];
    ScmcBitModel sign[2][BAND_CLASSES][3][9];
    ScmcBitModel mag[2][BAND_CLASSES][2][MAG_BITS];
} Contexts;

typedef struct Band {
    int x0, y0, w, h, cls, level; /* level 0: LL */
    int orient;                   /* 0: LL and A, 1: B, 2: C */
} Band;

/* The bands of a w x h plane in coding order: LL, then levels 5..1, each A (top right), B (bottom
 * left), C (bottom right). Returns their number; empty bands are skipped. */
static int list_bands(int w, int h, Band *out)
{
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1], n = 0;
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    const int L = SCMC_WAVELET_LEVELS;
    out[n++] = (Band){ 0, 0, dw[L], dh[L], 0, 0, 0 };
    for (int l = L; l >= 1; l--) {
        const int cls = l >= 4 ? L + 1 - l : l == 3 ? 3 : 4;
        const Band b[3] = {
            { dw[l], 0, dw[l - 1] - dw[l], dh[l], cls, l, 0 },
            { 0, dh[l], dw[l], dh[l - 1] - dh[l], cls, l, 1 },
            { dw[l], dh[l], dw[l - 1] - dw[l], dh[l - 1] - dh[l], cls, l, 2 },
        };
        for (int k = 0; k < 3; k++)
            if (b[k].w > 0 && b[k].h > 0)
                out[n++] = b[k];
    }
    return n;
}

/* Whether the coarser level holds a significant coefficient at the parent of (x, y) of a band of
 * level l: the LL coefficient at the same position for level 5, else any of the three bands of
 * level l + 1 at (x/2, y/2); positions past a parent band's edge move to its last row/column. */
static int parent_sig(const int32_t *q, int w, const int *dw, const int *dh, int l, int x, int y)
{
    if (l == 0)
        return 0;
    if (l == SCMC_WAVELET_LEVELS) {
        const int px = x < dw[l] ? x : dw[l] - 1, py = y < dh[l] ? y : dh[l] - 1;
        return q[(size_t)py * w + px] != 0;
    }
    const int p = l + 1, aw = dw[l] - dw[p], bh = dh[l] - dh[p];
    int px = x / 2, py = y / 2;
    int sig = 0;
    if (aw > 0) /* A: dw[p] + 0..aw-1, rows 0..dh[p]-1 */
        sig |= q[(size_t)(py < dh[p] ? py : dh[p] - 1) * w + dw[p] + (px < aw ? px : aw - 1)] != 0;
    if (bh > 0) /* B: columns 0..dw[p]-1, rows dh[p] + 0..bh-1 */
        sig |= q[(size_t)(dh[p] + (py < bh ? py : bh - 1)) * w + (px < dw[p] ? px : dw[p] - 1)] != 0;
    if (aw > 0 && bh > 0)
        sig |= q[(size_t)(dh[p] + (py < bh ? py : bh - 1)) * w + dw[p] + (px < aw ? px : aw - 1)] != 0;
    return sig;
}

static inline int sign_of(int32_t v)
{
    return (v > 0) - (v < 0);
}

/* The models of the coefficient at c (band coordinates x, y; only coded neighbours are non-zero):
 * significance by how many of the left, upper, upper-left and upper-right neighbours are non-zero,
 * whether the left or upper one exceeds 1 in magnitude, and the parent; sign by the signs of the
 * left and upper neighbours in the band's orientation (smooth corrections give runs of one sign);
 * magnitude by the same "exceeds 1" bit. */
static void coefficient_models(Contexts *m, int cls, const Band *bd, const int32_t *c, int w, int x, int y, int parent,
                               ScmcBitModel **sig, ScmcBitModel **sign, ScmcBitModel **mag)
{
    const int left = x > 0 ? c[-1] : 0, up = y > 0 ? c[-w] : 0;
    const int up_left = x > 0 && y > 0 ? c[-w - 1] : 0, up_right = x + 1 < bd->w && y > 0 ? c[-w + 1] : 0;
    const int nonzero = (left != 0) + (up != 0) + (up_left != 0) + (up_right != 0);
    const int big = left > 1 || left < -1 || up > 1 || up < -1;
    *sig = &m->sig[cls][bd->cls][4 * nonzero + 2 * big + parent];
    *sign = &m->sign[cls][bd->cls][bd->orient][3 * (sign_of(left) + 1) + sign_of(up) + 1];
    *mag = m->mag[cls][bd->cls][big];
}

/* The encoder's rate-distortion choice of each value (rdo_choose): the plane's values are
 * rewritten in place while the models adapt as the real pass will, so each choice prices its bits
 * with the probabilities the coder will have at that point. */
#define COST_STEPS 4096 /* bit costs are looked up at this resolution of the probability */

typedef struct Rdo {
    const double *coef; /* the plane's wavelet coefficients */
    double step;        /* the plane's quantizer step */
    double weight;      /* squared error of this plane per unit of RGB squared error */
    double lambda;      /* squared RGB error per bit */
    const float *cost;  /* cost[k]: -log2(k / COST_STEPS), k = 0..COST_STEPS (cost[0] = cost[1]) */
} Rdo;

/* The bits an adaptive model spends on bit, at its present probability. */
static inline double bit_cost(const Rdo *r, const ScmcBitModel *m, int bit)
{
    const unsigned p0 = m->p0 / (SCMC_CDF_TOTAL / COST_STEPS);
    return r->cost[bit ? COST_STEPS - p0 : p0];
}

/* The bits of value v in the coefficient models sm, gm and mm (code_plane's binarization). */
static double value_bits(const Rdo *r, const ScmcBitModel *sm, const ScmcBitModel *gm, const ScmcBitModel *mm,
                         int32_t v)
{
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    double bits = bit_cost(r, sm, a != 0);
    if (!a)
        return bits;
    bits += bit_cost(r, gm, v < 0);
    for (uint32_t k = 1; k <= MAG_BITS; k++) {
        bits += bit_cost(r, &mm[k - 1], a > k);
        if (a == k)
            return bits;
    }
    int n = 0; /* Exp-Golomb escape of a - MAG_BITS - 1: 2n + 1 bypass bits */
    while (((a - MAG_BITS) >> (n + 1)) != 0)
        n++;
    return bits + 2 * n + 1;
}

/* |c| / step rounded to the nearest integer, at most max_q. */
static int32_t nearest_magnitude(double c, double step, int max_q)
{
    const double a = floor(fabs(c) / step + 0.5);
    return a > max_q ? max_q : (int32_t)a;
}

/* The value for coefficient i among its nearest quantized magnitude, one less, and zero: the one
 * with the least weight * squared error + lambda * bits; *cost is that least sum. */
static int32_t rdo_choose(const Rdo *r, size_t i, const ScmcBitModel *sm, const ScmcBitModel *gm,
                          const ScmcBitModel *mm, int max_q, double *cost)
{
    const double c = r->coef[i], ac = fabs(c);
    const int32_t hi = nearest_magnitude(c, r->step, max_q);
    int32_t best = 0;
    double best_j = r->weight * c * c + r->lambda * value_bits(r, sm, gm, mm, 0);
    for (int32_t a = hi; a >= 1 && a >= hi - 1; a--) {
        const double err = ac - a * r->step;
        const int32_t v = c < 0 ? -a : a;
        const double j = r->weight * err * err + r->lambda * value_bits(r, sm, gm, mm, v);
        if (j < best_j)
            best_j = j, best = v;
    }
    *cost = best_j;
    return best;
}

static inline void put_bit(ScmcRangeEncoder *e, ScmcBitModel *m, int bit)
{
    if (e)
        scmc_renc_bit(e, m, bit);
    else
        scmc_bit_model_update(m, bit);
}

/* Codes one plane's coefficients with exactly one of e (src: the values), d and rdo non-NULL; q
 * is the plane being filled in coding order (all zero on entry), so both sides read the same
 * contexts. With rdo nothing is written: the values in src are chosen (rdo_choose, and whole
 * blocks against zero) and the models updated as if coded. */
static int code_plane(int32_t *q, int32_t *src, int w, int h, int cls, int max_q, Contexts *m,
                      ScmcRangeEncoder *e, ScmcRangeDecoder *d, const Rdo *rdo)
{
    Band bands[1 + 3 * SCMC_WAVELET_LEVELS];
    const int nb = list_bands(w, h, bands);
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    for (int b = 0; b < nb; b++) {
        const Band *bd = &bands[b];
        const int nbx = (bd->w + BLOCK - 1) / BLOCK, nby = (bd->h + BLOCK - 1) / BLOCK;
        uint8_t *flags = calloc((size_t)nbx * nby, 1);
        if (!flags)
            return SCMC_ERR_NOMEM;
        for (int by = 0; by < nby; by++)
            for (int bx = 0; bx < nbx; bx++) {
                const int x1 = bx * BLOCK, y1 = by * BLOCK;
                const int x2 = x1 + BLOCK < bd->w ? x1 + BLOCK : bd->w, y2 = y1 + BLOCK < bd->h ? y1 + BLOCK : bd->h;
                ScmcBitModel *bm = &m->block[cls][bd->cls][(bx > 0 && flags[by * nbx + bx - 1]) +
                                                           (by > 0 && flags[(by - 1) * nbx + bx])];
                int any;
                Contexts saved;
                double zero_j = 0, coded_j = 0;
                if (!d) {
                    any = 0;
                    for (int y = y1; y < y2 && !any; y++)
                        for (int x = x1; x < x2; x++)
                            any |= src[(size_t)(bd->y0 + y) * w + bd->x0 + x] != 0;
                    if (rdo && any) {
                        saved = *m;
                        for (int y = y1; y < y2; y++)
                            for (int x = x1; x < x2; x++) {
                                const double c = rdo->coef[(size_t)(bd->y0 + y) * w + bd->x0 + x];
                                zero_j += rdo->weight * c * c;
                            }
                        zero_j += rdo->lambda * bit_cost(rdo, bm, 0);
                        coded_j = rdo->lambda * bit_cost(rdo, bm, 1);
                    }
                    put_bit(e, bm, any);
                } else {
                    any = scmc_rdec_bit(d, bm);
                }
                flags[by * nbx + bx] = (uint8_t)any;
                if (d && scmc_rdec_overrun(d)) {
                    free(flags);
                    return SCMC_ERR_CORRUPT;
                }
                if (!any)
                    continue;
                for (int y = y1; y < y2; y++)
                    for (int x = x1; x < x2; x++) {
                        int32_t *c = &q[(size_t)(bd->y0 + y) * w + bd->x0 + x];
                        ScmcBitModel *sm, *gm, *mm;
                        coefficient_models(m, cls, bd, c, w, x, y, parent_sig(q, w, dw, dh, bd->level, x, y), &sm,
                                           &gm, &mm);
                        if (!d) {
                            const size_t i = (size_t)(bd->y0 + y) * w + bd->x0 + x;
                            int32_t v = src[i];
                            if (rdo) {
                                double j;
                                v = src[i] = rdo_choose(rdo, i, sm, gm, mm, max_q, &j);
                                coded_j += j;
                            }
                            const uint32_t a = (uint32_t)(v < 0 ? -v : v);
                            put_bit(e, sm, a != 0);
                            if (a) {
                                put_bit(e, gm, v < 0);
                                uint32_t k = 1;
                                while (k <= MAG_BITS) {
                                    put_bit(e, &mm[k - 1], a > k);
                                    if (a == k)
                                        break;
                                    k++;
                                }
                                if (k > MAG_BITS && e)
                                    scmc_renc_expgolomb(e, a - MAG_BITS - 1);
                            }
                            *c = v;
                        } else if (scmc_rdec_bit(d, sm)) {
                            const int neg = scmc_rdec_bit(d, gm);
                            uint32_t a = 1;
                            while (a <= MAG_BITS && scmc_rdec_bit(d, &mm[a - 1]))
                                a++;
                            if (a > MAG_BITS) {
                                const uint32_t x2v = scmc_rdec_expgolomb(d);
                                if (x2v > (uint32_t)max_q) {
                                    free(flags);
                                    return SCMC_ERR_CORRUPT;
                                }
                                a += x2v;
                            }
                            if (a > (uint32_t)max_q) {
                                free(flags);
                                return SCMC_ERR_CORRUPT;
                            }
                            *c = neg ? -(int32_t)a : (int32_t)a;
                        }
                    }
                if (d && scmc_rdec_overrun(d)) {
                    free(flags);
                    return SCMC_ERR_CORRUPT;
                }
                if (rdo && any && zero_j <= coded_j) { /* the whole block is cheaper as zeros */
                    *m = saved;
                    scmc_bit_model_update(bm, 0);
                    flags[by * nbx + bx] = 0;
                    for (int y = y1; y < y2; y++)
                        for (int x = x1; x < x2; x++) {
                            const size_t i = (size_t)(bd->y0 + y) * w + bd->x0 + x;
                            src[i] = q[i] = 0;
                        }
                }
            }
        free(flags);
    }
    return SCMC_OK;
}

static ScmcCorrection *correction_new(int width, int height)
{
    ScmcCorrection *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->width = width;
    c->height = height;
    c->q = calloc((size_t)width * height * 3, sizeof(int32_t));
    if (!c->q) {
        free(c);
        return NULL;
    }
    return c;
}

void scmc_correction_free(ScmcCorrection *c)
{
    if (!c)
        return;
    free(c->q);
    free(c);
}

/* Codes the three planes (see code_plane for e and d). With coef (the planes' wavelet
 * coefficients; e and d NULL) it is the encoder's choice pass instead: the values in src are
 * rewritten for the weight lambda. */
static int code_all(ScmcCorrection *c, int32_t *src, ScmcRangeEncoder *e, ScmcRangeDecoder *d,
                    const double *coef, double lambda)
{
    Contexts *m = malloc(sizeof(*m));
    float *cost = coef ? malloc((COST_STEPS + 1) * sizeof(*cost)) : NULL;
    if (!m || (coef && !cost)) {
        free(m);
        free(cost);
        return SCMC_ERR_NOMEM;
    }
    ScmcBitModel *all = (ScmcBitModel *)m;
    for (size_t i = 0; i < sizeof(*m) / sizeof(ScmcBitModel); i++)
        scmc_bit_model_init(&all[i]);
    if (cost) {
        for (int k = 1; k <= COST_STEPS; k++)
            cost[k] = (float)-log2((double)k / COST_STEPS);
        cost[0] = cost[1];
    }
    const size_t n = (size_t)c->width * c->height;
    /* Squared RGB error per squared error of Y, Co, Cg (r = Y + Co - Cg, g = Y + Cg, b = Y - Co - Cg). */
    static const double rgb_weight[3] = { 3, 2, 3 };
    int r = SCMC_OK;
    for (int p = 0; p < 3 && !r; p++) {
        const Rdo rdo = { coef ? coef + p * n : NULL, c->step[p],
                          rgb_weight[p], lambda, cost };
        r = code_plane(c->q + p * n, src ? src + p * n : NULL, c->width, c->height, p > 0, MAX_DEQUANT / c->step[p],
                       m, e, d, coef ? &rdo : NULL);
    }
    free(m);
    free(cost);
    return r;
}

int scmc_correction_parse(const uint8_t *payload, size_t size, int width, int height, ScmcCorrection **out)
{
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, payload, size);
    const int step = (int)scmc_rdec_bypass(&d, BITS_STEP), chroma = (int)scmc_rdec_bypass(&d, BITS_STEP);
    const int sharpen = (int)scmc_rdec_bypass(&d, BITS_SHARPEN);
    if (step < 1 || chroma < 1)
        return SCMC_ERR_CORRUPT;
    ScmcCorrection *c = correction_new(width, height);
    if (!c)
        return SCMC_ERR_NOMEM;
    c->step[0] = step;
    c->step[1] = c->step[2] = chroma;
    c->sharpen = sharpen;
    int r = code_all(c, NULL, NULL, &d, NULL, 0);
    if (!r && scmc_rdec_overrun(&d))
        r = SCMC_ERR_CORRUPT;
    if (r) {
        scmc_correction_free(c);
        return r;
    }
    *out = c;
    return SCMC_OK;
}

/* floor(v / 16) for any sign. */
static inline int floor_div16(int32_t v)
{
    return v >= 0 ? v >> 4 : -((-v + 15) >> 4);
}

int scmc_correction_apply(const ScmcCorrection *c, const ScmcImage *base, ScmcImage *out)
{
    if (base->width != c->width || base->height != c->height)
        return SCMC_ERR_INVALID_ARG;
    const int w = c->width, h = c->height;
    const size_t n = (size_t)w * h;
    int32_t *plane = malloc(n * 3 * sizeof(int32_t)), *tmp = malloc((size_t)(w > h ? w : h) * sizeof(int32_t));
    int r = plane && tmp ? scmc_image_alloc(out, w, h) : SCMC_ERR_NOMEM;
    if (r) {
        free(plane);
        free(tmp);
        return r;
    }
    for (int p = 0; p < 3; p++) {
        const int32_t scale = c->step[p] << SCMC_WAVELET_FRAC;
        for (size_t i = 0; i < n; i++)
            plane[p * n + i] = c->q[p * n + i] * scale;
        scmc_wavelet_inverse(plane + p * n, w, h, tmp);
    }
    for (size_t i = 0; i < n; i++) {
        const int64_t y = plane[i], co = plane[n + i], cg = plane[2 * n + i];
        const int64_t dv[3] = { y + co - cg, y + cg, y - co - cg };
        for (int k = 0; k < 3; k++) {
            const int64_t lim = 1023 << SCMC_WAVELET_FRAC;
            const int32_t dk = (int32_t)(dv[k] > lim ? lim : dv[k] < -lim ? -lim : dv[k]);
            const int v = base->rgb[3 * i + k] + floor_div16(dk + 8);
            out->rgb[3 * i + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(plane);
    free(tmp);
    return SCMC_OK;
}

int scmc_correction_encode(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                           uint8_t **payload, size_t *size)
{
    return scmc_correction_encode_rd(img, base, step, chroma_step, SCMC_CORRECTION_RDO_LAMBDA, payload, size);
}

int scmc_correction_encode_rd(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                              double lambda_scale, uint8_t **payload, size_t *size)
{
    if (img->width != base->width || img->height != base->height || step < 1 || step > SCMC_CORRECTION_MAX_STEP ||
        chroma_step < 1 || chroma_step > SCMC_CORRECTION_MAX_STEP || !(lambda_scale >= 0))
        return SCMC_ERR_INVALID_ARG;
    const int w = img->width, h = img->height;
    const size_t n = (size_t)w * h;
    ScmcCorrection *c = correction_new(w, h);
    double *plane = malloc(n * 3 * sizeof(double)), *tmp = malloc((size_t)(w > h ? w : h) * sizeof(double));
    int32_t *src = malloc(n * 3 * sizeof(int32_t));
    int r = SCMC_ERR_NOMEM;
    if (!c || !plane || !tmp || !src)
        goto done;
    c->step[0] = step;
    c->step[1] = c->step[2] = chroma_step;
    for (size_t i = 0; i < n; i++) {
        const double dr = (double)img->rgb[3 * i] - base->rgb[3 * i];
        const double dg = (double)img->rgb[3 * i + 1] - base->rgb[3 * i + 1];
        const double db = (double)img->rgb[3 * i + 2] - base->rgb[3 * i + 2];
        plane[i] = (dr + 2 * dg + db) / 4;
        plane[n + i] = (dr - db) / 2;
        plane[2 * n + i] = (2 * dg - dr - db) / 4;
    }
    for (int p = 0; p < 3; p++) {
        scmc_wavelet_forward(plane + p * n, w, h, tmp);
        /* Nearest values first: they mark the blocks the choice pass visits. */
        for (size_t i = 0; i < n; i++) {
            const double v = plane[p * n + i];
            const int32_t a = nearest_magnitude(v, c->step[p], MAX_DEQUANT / c->step[p]);
            src[p * n + i] = v < 0 ? -a : a;
        }
    }
    /* The choice pass: a quantizer's distortion per bit grows with its step squared, so lambda does. */
    r = code_all(c, src, NULL, NULL, plane, lambda_scale * step * step);
    memset(c->q, 0, n * 3 * sizeof(int32_t));
    if (r)
        goto done;
    /* A correction that lands further from the image than its base (rounding on a tiny or flat
     * image can) is sent as all zeros: the sub-layer never makes the picture worse. */
    memcpy(c->q, src, n * 3 * sizeof(int32_t));
    ScmcImage trial = { 0 };
    r = scmc_correction_apply(c, base, &trial);
    if (r)
        goto done;
    if (scmc_mse(img, &trial) > scmc_mse(img, base)) {
        memset(src, 0, n * 3 * sizeof(int32_t));
        scmc_image_free(&trial);
        r = scmc_image_copy(&trial, base);
        if (r)
            goto done;
    }
    /* The display sharpening works on what the decoder has: base plus the coded correction. */
    int sharpen;
    r = scmc_sharpen_choose(img, &trial, &sharpen);
    scmc_image_free(&trial);
    if (r)
        goto done;
    memset(c->q, 0, n * 3 * sizeof(int32_t));
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    scmc_renc_bypass(&e, (uint32_t)step, BITS_STEP);
    scmc_renc_bypass(&e, (uint32_t)chroma_step, BITS_STEP);
    scmc_renc_bypass(&e, (uint32_t)sharpen, BITS_SHARPEN);
    r = code_all(c, src, &e, NULL, NULL, 0);
    if (!r && (e.error || scmc_renc_finish(&e, payload, size)))
        r = SCMC_ERR_NOMEM;
    scmc_renc_free(&e);
done:
    scmc_correction_free(c);
    free(plane);
    free(tmp);
    free(src);
    return r;
}
