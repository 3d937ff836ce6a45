/* The structure decoder: base1 = base0 + a correction field that is harmonic between the samples
 * (homogeneous diffusion inpainting) and does not cross the edges of the sketch.
 *
 * Everything here is integer arithmetic in a fixed order, so encoder and decoder (and any
 * machine) compute the same base1; the signal layer codes img - base1 on top of it.
 *
 * The Laplace equation is solved by red-black over-relaxation on a pyramid: each level starts
 * from the coarser solution, so a fixed, small number of sweeps per level reaches the far
 * corners of large regions. */
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "structure_internal.h"

#define MAX_LEVELS 16
#define SWEEPS_COARSEST 64
#define SWEEPS_PER_LEVEL 24
#define OMEGA_16 27 /* relaxation factor 27/16 */
#define SMOOTH_PASSES 3

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

/* Harmonic interpolation peaks at isolated samples (its Green's function is logarithmic), which
 * shows as a grid of dots; a few passes of a 5-point mean that does not reach across walls round
 * the peaks off. The encoder fits the sample values through this step too. */
static int smooth(Level *l, int passes)
{
    const int w = l->w, h = l->h;
    int32_t *t = malloc((size_t)w * h * sizeof(int32_t));
    if (!t)
        return SCMC_ERR_NOMEM;
    for (int it = 0; it < passes; it++) {
        memcpy(t, l->v, (size_t)w * h * sizeof(int32_t));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const size_t p = (size_t)y * w + x;
                if (l->wall[p])
                    continue;
                int k = 1;
                const int64_t sum = t[p] + open_neighbour_sum(l, t, x, y, &k);
                l->v[p] = div_round(sum, k);
            }
    }
    free(t);
    return SCMC_OK;
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
        for (int i = nl - 2; i >= 0; i--) {
            prolong(&lv[i + 1], &lv[i]);
            relax(&lv[i], SWEEPS_PER_LEVEL);
        }
        if ((r = smooth(l0, SMOOTH_PASSES)))
            goto done;
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

static inline uint8_t clamp255(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

int scmc_structure_apply(const ScmcStructure *st, const int32_t *field, const ScmcImage *base0, ScmcImage *out)
{
    const int f = 1 << st->scale_log2, gw = st->gw, gh = st->gh;
    const size_t n0 = (size_t)gw * gh;
    int r = scmc_image_alloc(out, base0->width, base0->height);
    if (r)
        return r;
    /* Bilinear between grid centres ((x + 0.5) / f - 0.5 in grid units), in units of 1 / (2f)
     * per axis; grid pixels on an edge drop out of the weights, so values do not blend across
     * it: the transition lands inside the edge's own cell. */
    for (int y = 0; y < out->height; y++) {
        const int ty = 2 * y + 1 - f;
        int y0 = floor_div(ty, 2 * f);
        const int wy = ty - y0 * 2 * f;
        const int ys[2] = { y0 < 0 ? 0 : y0, y0 + 1 > gh - 1 ? gh - 1 : y0 + 1 };
        const int wys[2] = { 2 * f - wy, wy };
        for (int x = 0; x < out->width; x++) {
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
            /* YCoCg correction (x16) to RGB, rounded to nearest */
            const int dr = v[SAMPLE_Y] + v[SAMPLE_CO] - v[SAMPLE_CG];
            const int dg = v[SAMPLE_Y] + v[SAMPLE_CG];
            const int db = v[SAMPLE_Y] - v[SAMPLE_CO] - v[SAMPLE_CG];
            const size_t o = ((size_t)y * out->width + x) * 3;
            const uint8_t *b = base0->rgb + o;
            out->rgb[o + 0] = clamp255(b[0] + floor_div(dr + 8, 16));
            out->rgb[o + 1] = clamp255(b[1] + floor_div(dg + 8, 16));
            out->rgb[o + 2] = clamp255(b[2] + floor_div(db + 8, 16));
        }
    }
    return SCMC_OK;
}
