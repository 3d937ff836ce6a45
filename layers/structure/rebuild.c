/* The structure decoder: base1 = base0 + a correction field through the samples that does not
 * cross the edges of the sketch.
 *
 * The field is harmonic (homogeneous diffusion) relaxed towards biharmonic. A harmonic field
 * forms a cusp at every isolated sample (its Green's function is logarithmic), which the encoder
 * has to pay for with larger fitted values; the biharmonic energy (the summed squared Laplacian)
 * rounds the cusps off. A fixed number of biharmonic sweeps from the harmonic start measured
 * best on Kodak: the fully converged biharmonic field overshoots beside the edges and lost
 * 0.2 dB at the same bytes (docs/structure.md).
 *
 * Everything here is integer arithmetic in a fixed order, so encoder and decoder (and any
 * machine) compute the same base1; the signal layer codes img - base1 on top of it.
 *
 * Both are solved on a pyramid: each level starts from the coarser solution, then red-black
 * over-relaxation of the Laplace equation, then Gauss-Seidel sweeps of the biharmonic energy, a
 * fixed number per level, so the far corners of large regions are reached in fixed work. */
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "structure_internal.h"

#define MAX_LEVELS 16
#define SWEEPS_COARSEST 64
#define SWEEPS_PER_LEVEL 24
#define OMEGA_16 27 /* relaxation factor 27/16 */
/* Biharmonic sweeps after the harmonic ones: about 60 per level are where PSNR and bytes stopped
 * moving on Kodak (150 gave the same; fewer at level 0 cost bytes). */
#define BIH_SWEEPS_COARSEST 240
#define BIH_SWEEPS_PER_LEVEL 60
/* Softening kernel orders per grid scale (scale_log2 1, 2, 3); the largest one bounds the
 * 64-bit accumulators: |correction| * 2^(2 * order) < 2^63. */
#define SOFTEN_ORDER_S1 4
#define SOFTEN_ORDER_S2 8
#define SOFTEN_ORDER_S3 24
#define SOFTEN_ORDER_MAX 24
#define CORRECTION_LIMIT (1023 * 16)

typedef struct Level {
    int w, h;
    uint8_t *known;   /* 1: value fixed by a sample */
    uint8_t *wall;    /* 1: edge pixel, a barrier */
    int32_t *v;       /* one plane at a time */
} Level;

static inline int32_t div_round(int64_t num, int32_t den)
{
    /* num >= 0 here: field values carry FIELD_BIAS */
    return (int32_t)((num + den / 2) / den);
}

/* Sum of v over the 4-neighbours of (x, y) inside the level that are not walls; adds their
 * count to *k. Shared by the relaxation and the smoothing, which must see the same walls. */
static inline int64_t open_neighbour_sum(const Level *l, const int32_t *v, int x, int y, int *k)
{
    const int w = l->w;
    const size_t p = (size_t)y * w + x;
    int64_t sum = 0;
    if (x > 0 && !l->wall[p - 1])
        sum += v[p - 1], ++*k;
    if (x < w - 1 && !l->wall[p + 1])
        sum += v[p + 1], ++*k;
    if (y > 0 && !l->wall[p - w])
        sum += v[p - w], ++*k;
    if (y < l->h - 1 && !l->wall[p + w])
        sum += v[p + w], ++*k;
    return sum;
}

static void relax(Level *l, int sweeps)
{
    const int w = l->w, h = l->h;
    for (int it = 0; it < sweeps; it++)
        for (int colour = 0; colour < 2; colour++)
            for (int y = 0; y < h; y++)
                for (int x = (y + colour) & 1; x < w; x += 2) {
                    const size_t p = (size_t)y * w + x;
                    if (l->known[p] || l->wall[p])
                        continue;
                    int k = 0;
                    const int64_t sum = open_neighbour_sum(l, l->v, x, y, &k);
                    if (!k)
                        continue;
                    const int32_t avg = div_round(sum, k);
                    int32_t nv = l->v[p] + (OMEGA_16 * (avg - l->v[p])) / 16;
                    if (nv < 0)
                        nv = 0;
                    if (nv > 2 * FIELD_BIAS)
                        nv = 2 * FIELD_BIAS;
                    l->v[p] = nv;
                }
}

/* lv = L v, L the graph Laplacian of the open (non-wall) pixels: (L v)_p = k v_p - (sum of the
 * k open neighbours). */
static void graph_laplacian(const Level *l, int32_t *lv)
{
    for (int y = 0; y < l->h; y++)
        for (int x = 0; x < l->w; x++) {
            const size_t p = (size_t)y * l->w + x;
            if (l->wall[p]) {
                lv[p] = 0;
                continue;
            }
            int k = 0;
            const int64_t sum = open_neighbour_sum(l, l->v, x, y, &k);
            lv[p] = (int32_t)(k * (int64_t)l->v[p] - sum);
        }
}

/* -n / (k^2 + k), rounded half away from zero; the divisor is a constant in each case so the
 * division compiles to a multiplication (this is the decoder's hottest loop). */
static inline int32_t biharmonic_step(int32_t n, int k)
{
    const int32_t a = n < 0 ? -n : n;
    int32_t q;
    switch (k) {
    case 1: q = (a + 1) / 2; break;
    case 2: q = (a + 3) / 6; break;
    case 3: q = (a + 6) / 12; break;
    default: q = (a + 10) / 20; break;
    }
    return n < 0 ? q : -q;
}

enum { OPEN_L = 1, OPEN_R = 2, OPEN_U = 4, OPEN_D = 8 };

/* Gauss-Seidel in raster order on the biharmonic energy sum_p (L v)_p^2 over the open pixels,
 * starting from the harmonic solution. Each step sets one free value to the minimum of the
 * energy given the others: v_p -= (L L v)_p / (k^2 + k), the diagonal of L L; lv follows every
 * move, so a step reads 5 values of lv instead of 13 of v. The free pixels and their open
 * neighbours are listed once, in raster order. Magnitudes: v <= 2^15, |lv| <= 2^17, |n| <= 2^20. */
static int biharmonic_relax(Level *l, int sweeps)
{
    const int w = l->w, h = l->h;
    int32_t *lv = malloc((size_t)w * h * sizeof(int32_t));
    int32_t *pix = malloc((size_t)w * h * sizeof(int32_t));
    uint8_t *open = malloc((size_t)w * h);
    if (!lv || !pix || !open) {
        free(lv);
        free(pix);
        free(open);
        return SCMC_ERR_NOMEM;
    }
    graph_laplacian(l, lv);
    int nfree = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            if (l->known[p] || l->wall[p])
                continue;
            const int m = (x > 0 && !l->wall[p - 1] ? OPEN_L : 0) | (x < w - 1 && !l->wall[p + 1] ? OPEN_R : 0) |
                          (y > 0 && !l->wall[p - w] ? OPEN_U : 0) | (y < h - 1 && !l->wall[p + w] ? OPEN_D : 0);
            if (!m)
                continue;
            pix[nfree] = (int32_t)p;
            open[nfree++] = (uint8_t)m;
        }
    int32_t *v = l->v;
    for (int it = 0; it < sweeps; it++)
        for (int i = 0; i < nfree; i++) {
            const int32_t p = pix[i];
            const int m = open[i];
            const int k = (m & 1) + (m >> 1 & 1) + (m >> 2 & 1) + (m >> 3 & 1);
            int32_t nsum = 0;
            if (m & OPEN_L)
                nsum += lv[p - 1];
            if (m & OPEN_R)
                nsum += lv[p + 1];
            if (m & OPEN_U)
                nsum += lv[p - w];
            if (m & OPEN_D)
                nsum += lv[p + w];
            int32_t nv = v[p] + biharmonic_step(k * lv[p] - nsum, k);
            if (nv < 0)
                nv = 0;
            if (nv > 2 * FIELD_BIAS)
                nv = 2 * FIELD_BIAS;
            const int32_t d = nv - v[p];
            if (!d)
                continue;
            v[p] = nv;
            lv[p] += k * d;
            if (m & OPEN_L)
                lv[p - 1] -= d;
            if (m & OPEN_R)
                lv[p + 1] -= d;
            if (m & OPEN_U)
                lv[p - w] -= d;
            if (m & OPEN_D)
                lv[p + w] -= d;
        }
    free(lv);
    free(pix);
    free(open);
    return SCMC_OK;
}

/* A coarser level: a pixel is known when any of its (up to 4) children is, with their mean
 * value; it is a wall when at least two children are walls and none is known. */
static void restrict_level(const Level *f, Level *c)
{
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            int64_t sum = 0;
            int nk = 0, nw = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    const int fx = 2 * x + dx, fy = 2 * y + dy;
                    if (fx >= f->w || fy >= f->h)
                        continue;
                    const size_t q = (size_t)fy * f->w + fx;
                    if (f->known[q])
                        sum += f->v[q], nk++;
                    nw += f->wall[q];
                }
            const size_t p = (size_t)y * c->w + x;
            c->known[p] = nk > 0;
            c->wall[p] = !nk && nw >= 2;
            c->v[p] = nk ? div_round(sum, nk) : FIELD_BIAS;
        }
}

static void prolong(const Level *c, Level *f)
{
    for (int y = 0; y < f->h; y++)
        for (int x = 0; x < f->w; x++) {
            const size_t p = (size_t)y * f->w + x;
            if (!f->known[p])
                f->v[p] = c->v[(size_t)(y / 2) * c->w + x / 2];
        }
}

/* Walls get the mean of their non-wall 8-neighbours, so that a full-resolution pixel whose
 * bilinear footprint is all wall still has a value. */
static void fill_walls(Level *l)
{
    const int w = l->w, h = l->h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t p = (size_t)y * w + x;
            if (!l->wall[p])
                continue;
            int64_t sum = 0;
            int k = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                        continue;
                    const size_t q = (size_t)yy * w + xx;
                    if (!l->wall[q])
                        sum += l->v[q], k++;
                }
            l->v[p] = k ? div_round(sum, k) : FIELD_BIAS;
        }
}

int scmc_structure_field(const ScmcStructure *st, int32_t *field)
{
    Level lv[MAX_LEVELS];
    int nl = 0, r = SCMC_OK;
    memset(lv, 0, sizeof(lv));
    for (int w = st->gw, h = st->gh;; w = (w + 1) / 2, h = (h + 1) / 2) {
        const size_t n = (size_t)w * h;
        lv[nl].w = w;
        lv[nl].h = h;
        lv[nl].known = calloc(n, 1);
        lv[nl].wall = calloc(n, 1);
        lv[nl].v = malloc(n * sizeof(int32_t));
        if (!lv[nl].known || !lv[nl].wall || !lv[nl].v) {
            nl++;
            r = SCMC_ERR_NOMEM;
            goto done;
        }
        nl++;
        if ((w <= 4 && h <= 4) || nl == MAX_LEVELS)
            break;
    }
    const size_t n0 = (size_t)st->gw * st->gh;
    memcpy(lv[0].wall, st->edges, n0);
    for (int c = 0; c < 3; c++) {
        Level *l0 = &lv[0];
        memset(l0->known, 0, n0);
        for (size_t i = 0; i < n0; i++)
            l0->v[i] = FIELD_BIAS;
        for (int k = 0; k < st->nsamples; k++) {
            const ScmcSample *s = &st->samples[k];
            const size_t p = (size_t)s->y * st->gw + s->x;
            l0->known[p] = 1;
            l0->v[p] = FIELD_BIAS + s->q[c] * scmc_structure_step(st, c) * (1 << FIELD_FRAC);
        }
        for (int i = 1; i < nl; i++)
            restrict_level(&lv[i - 1], &lv[i]);
        relax(&lv[nl - 1], SWEEPS_COARSEST);
        if ((r = biharmonic_relax(&lv[nl - 1], BIH_SWEEPS_COARSEST)))
            goto done;
        for (int i = nl - 2; i >= 0; i--) {
            prolong(&lv[i + 1], &lv[i]);
            relax(&lv[i], SWEEPS_PER_LEVEL);
            if ((r = biharmonic_relax(&lv[i], BIH_SWEEPS_PER_LEVEL)))
                goto done;
        }
        fill_walls(l0);
        memcpy(field + c * n0, l0->v, n0 * sizeof(int32_t));
    }
done:
    for (int i = 0; i < nl; i++) {
        free(lv[i].known);
        free(lv[i].wall);
        free(lv[i].v);
    }
    return r;
}

static inline int floor_div(int a, int b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline int clamp_index(int i, int n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* floor(v / 2^s) for any sign (>> of a negative value is implementation-defined in C) */
static inline int64_t floor_shift(int64_t v, int s)
{
    return v >= 0 ? v >> s : -((-v + ((int64_t)1 << s) - 1) >> s);
}

static inline uint8_t clamp255(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Orders of the binomial kernel that softens the correction, per grid scale (scale_log2 0..3);
 * see scmc_structure_apply. Binomial order n has standard deviation sqrt(n)/2 pixels. */
static const int SOFTEN_ORDER[4] = { 0, SOFTEN_ORDER_S1, SOFTEN_ORDER_S2, SOFTEN_ORDER_S3 };

/* Row y of the correction, upsampled from the grid: RGB, x16, interleaved. Bilinear between grid
 * centres ((x + 0.5) / f - 0.5 in grid units), in units of 1 / (2f) per axis; grid pixels on an
 * edge drop out of the weights, so values do not blend across it: the transition lands inside
 * the edge's own cell. */
static void upsample_row(const ScmcStructure *st, const int32_t *field, int width, int y, int32_t *row)
{
    const int f = 1 << st->scale_log2, gw = st->gw, gh = st->gh;
    const size_t n0 = (size_t)gw * gh;
    const int ty = 2 * y + 1 - f;
    int y0 = floor_div(ty, 2 * f);
    const int wy = ty - y0 * 2 * f;
    const int ys[2] = { y0 < 0 ? 0 : y0, y0 + 1 > gh - 1 ? gh - 1 : y0 + 1 };
    const int wys[2] = { 2 * f - wy, wy };
    for (int x = 0; x < width; x++) {
        const int tx = 2 * x + 1 - f;
        int x0 = floor_div(tx, 2 * f);
        const int wx = tx - x0 * 2 * f;
        const int xs[2] = { x0 < 0 ? 0 : x0, x0 + 1 > gw - 1 ? gw - 1 : x0 + 1 };
        const int wxs[2] = { 2 * f - wx, wx };
        int64_t acc[3] = { 0, 0, 0 }, wsum = 0;
        for (int pass = 0; pass < 2 && !wsum; pass++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    const size_t q = (size_t)ys[j] * gw + xs[i];
                    const int w = wys[j] * wxs[i];
                    if (!w || (pass == 0 && st->edges[q]))
                        continue;
                    wsum += w;
                    for (int c = 0; c < 3; c++)
                        acc[c] += (int64_t)w * field[c * n0 + q];
                }
        int32_t v[3];
        for (int c = 0; c < 3; c++)
            v[c] = div_round(acc[c], (int32_t)wsum) - FIELD_BIAS;
        /* YCoCg correction (x16) to RGB, limited to +-1023 grey levels (more cannot matter after
         * the clamp to 0..255, and the bound keeps the softening's sums in 64 bits) */
        const int rgb[3] = { v[SAMPLE_Y] + v[SAMPLE_CO] - v[SAMPLE_CG], v[SAMPLE_Y] + v[SAMPLE_CG],
                             v[SAMPLE_Y] - v[SAMPLE_CO] - v[SAMPLE_CG] };
        for (int c = 0; c < 3; c++)
            row[3 * x + c] = rgb[c] < -CORRECTION_LIMIT ? -CORRECTION_LIMIT : rgb[c] > CORRECTION_LIMIT ? CORRECTION_LIMIT : rgb[c];
    }
}

/* base1 = base0 + the correction field upsampled to full resolution and softened by a separable
 * binomial kernel (order SOFTEN_ORDER[scale_log2], replicated borders). The edge-aware upsampling
 * puts each edge's whole transition inside one grid cell, on the grid's staircase, while the
 * photograph's edges are mostly softer and lie between the grid's steps; softening the sharp
 * transitions (the smooth parts barely change) took Kodak's structure-level decode from 21.34 to
 * about 21.6 dB at the same bytes (docs/structure.md). The vertical pass runs over a ring of
 * order + 1 rows, so memory stays a few rows whatever the image size. Integer throughout, one
 * rounding at the end. */
int scmc_structure_apply(const ScmcStructure *st, const int32_t *field, const ScmcImage *base0, ScmcImage *out)
{
    const int width = base0->width, height = base0->height;
    const int order = SOFTEN_ORDER[st->scale_log2], half = order / 2, ring_rows = order + 1;
    int64_t kernel[SOFTEN_ORDER_MAX + 1];
    kernel[0] = 1; /* binomial coefficients of order, summing to 2^order */
    for (int k = 1; k <= order; k++)
        kernel[k] = kernel[k - 1] * (order - k + 1) / k;
    int32_t *row = malloc((size_t)width * 3 * sizeof(int32_t));
    int64_t *ring = malloc((size_t)ring_rows * width * 3 * sizeof(int64_t));
    int r = row && ring ? scmc_image_alloc(out, width, height) : SCMC_ERR_NOMEM;
    if (r)
        goto done;
    const int shift = 2 * order + 4; /* two passes of 2^order, and the x16 of the correction */
    const int64_t round_half = (int64_t)1 << (shift - 1);
    int next = 0; /* next row to upsample into the ring */
    for (int y = 0; y < height; y++) {
        const int need = y + half < height ? y + half : height - 1;
        for (; next <= need; next++) { /* horizontal pass into the ring */
            upsample_row(st, field, width, next, row);
            int64_t *h = ring + (size_t)(next % ring_rows) * width * 3;
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++) {
                    int64_t acc = 0;
                    for (int k = 0; k <= order; k++)
                        acc += kernel[k] * row[3 * clamp_index(x + k - half, width) + c];
                    h[3 * x + c] = acc;
                }
        }
        const int64_t *taps[SOFTEN_ORDER_MAX + 1]; /* the ring rows under the kernel, borders replicated */
        for (int k = 0; k <= order; k++)
            taps[k] = ring + (size_t)(clamp_index(y + k - half, height) % ring_rows) * width * 3;
        const size_t o = (size_t)y * width * 3;
        for (int i = 0; i < 3 * width; i++) {
            int64_t acc = round_half;
            for (int k = 0; k <= order; k++)
                acc += kernel[k] * taps[k][i];
            out->rgb[o + i] = clamp255(base0->rgb[o + i] + (int)floor_shift(acc, shift));
        }
    }
    r = SCMC_OK;
done:
    free(row);
    free(ring);
    return r;
}
