/* The restoration network's graph (enhance_model.py is its training twin): pixel-unshuffle by 2
 * with a constant quality plane, 3 x 3 convolutions with ReLU between (and, in a network that has
 * one, a quarter-resolution branch added to the features before one of them), pixel-shuffle back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "enhance.h"

const float scmc_enhance_strengths[SCMC_ENHANCE_NUM_STRENGTHS] = { 0.0f, 0.75f, 1.0f, 1.25f };

/* Half-resolution rows per band; each band reads scmc_enhance_margin() more rows on either side,
 * the rows the band's own zero padding would otherwise disturb. */
#define BAND_ROWS 128

int scmc_enhance_margin(const ScmcEnhancer *e)
{
    /* Each 3 x 3 convolution at half resolution spoils one more row next to the band's edge. A
     * branch joining after `wrong` spoilt rows: its stride-2 convolution spoils quarter rows 0 ..
     * wrong / 2, each of its convolutions one more, and each quarter row is two half rows again.
     * Even, so that every band starts on the quarter grid's rows. */
    int wrong = 1 + e->branch_at; /* head and the body before the branch */
    if (e->branch_depth) {
        const int branch = 2 * (wrong / 2 + 1 + e->branch_depth);
        wrong = branch > wrong ? branch : wrong;
    }
    const int m = wrong + e->blocks - e->branch_at + 1; /* the rest of the body, the tail */
    return (m + 1) & ~1;
}

static int run_conv(const ScmcNnOps *ops, const ScmcConvLayer *l, int relu, ScmcTensor *x)
{
    ScmcTensor out;
    const int r = ops->conv2d(x, l->weight, l->bias, l->cout, 3, 1, 1, &out);
    scmc_tensor_free(x);
    *x = out;
    if (!r && relu)
        scmc_nn_relu(x);
    return r;
}

/* h += the quarter-resolution branch of h: up(relu(mid(... relu(down(h))))) shuffled back to
 * h's resolution (channel c * 4 + dy * 2 + dx of up's output to (c, 2i + dy, 2j + dx)), as
 * F.pixel_shuffle, cropped to h's size. */
static int add_branch(const ScmcEnhancer *e, const ScmcNnOps *ops, ScmcTensor *h)
{
    ScmcTensor d, u;
    int r = ops->conv2d(h, e->down.weight, e->down.bias, e->channels, 3, 2, 1, &d);
    if (r)
        return r;
    scmc_nn_relu(&d);
    for (int l = 0; l < e->branch_depth && !r; l++)
        r = run_conv(ops, &e->mid[l], 1, &d);
    if (!r)
        r = ops->conv2d(&d, e->up.weight, e->up.bias, 4 * e->channels, 1, 1, 0, &u);
    scmc_tensor_free(&d);
    if (r)
        return r;
    for (int c = 0; c < h->c; c++)
        for (int y = 0; y < h->h; y++) {
            float *o = h->data + ((size_t)c * h->h + y) * h->w;
            const float *even = u.data + ((size_t)(c * 4 + (y & 1) * 2) * u.h + y / 2) * u.w;
            const float *odd = even + (size_t)u.h * u.w;
            for (int x = 0; x < h->w; x++)
                o[x] += (x & 1 ? odd : even)[x / 2];
        }
    scmc_tensor_free(&u);
    return SCMC_OK;
}

/* The network on t (13 planes in, 12 out). */
static int run_network(const ScmcEnhancer *e, const ScmcNnOps *ops, ScmcTensor *t)
{
    int r = run_conv(ops, &e->head, 1, t);
    for (int l = 0; l < e->blocks && !r; l++) {
        if (e->branch_depth && l == e->branch_at)
            r = add_branch(e, ops, t);
        if (!r)
            r = run_conv(ops, &e->body[l], 1, t);
    }
    if (!r)
        r = run_conv(ops, &e->tail, 0, t);
    return r;
}

/* Sample (c, y, x) of base, the picture extended to even size by repeating its last row and column. */
static float sample(const ScmcImage *b, int c, int y, int x)
{
    y = y < b->height ? y : b->height - 1;
    x = x < b->width ? x : b->width - 1;
    return (float)b->rgb[((size_t)y * b->width + x) * 3 + c];
}

/* The network's correction of base (one view) into out, 3 planes of H x W. */
static int correct_view(const ScmcEnhancer *e, const ScmcNnOps *ops, const ScmcImage *base, int quality, float *out)
{
    const int W = base->width, H = base->height, hw = (W + 1) / 2, hh = (H + 1) / 2;
    const int margin = scmc_enhance_margin(e);
    const float plane = (float)(quality - 1) / 7.0f;
    int r = SCMC_OK;
    for (int y0 = 0; y0 < hh && !r; y0 += BAND_ROWS) {
        const int y1 = y0 + BAND_ROWS < hh ? y0 + BAND_ROWS : hh;
        const int a = y0 - margin > 0 ? y0 - margin : 0, b = y1 + margin < hh ? y1 + margin : hh;
        ScmcTensor t;
        r = scmc_tensor_alloc(&t, 13, b - a, hw);
        if (r)
            break;
        /* channel c * 4 + dy * 2 + dx holds colour c at (2i + dy, 2j + dx), as pixel_unshuffle */
        for (int c = 0; c < 3; c++)
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    float *p = t.data + (size_t)(c * 4 + dy * 2 + dx) * (b - a) * hw;
                    for (int i = a; i < b; i++)
                        for (int j = 0; j < hw; j++)
                            *p++ = (sample(base, c, 2 * i + dy, 2 * j + dx) - 128.0f) / 64.0f;
                }
        float *q = t.data + (size_t)12 * (b - a) * hw;
        for (size_t i = 0; i < (size_t)(b - a) * hw; i++)
            q[i] = plane;
        r = run_network(e, ops, &t);
        if (!r)
            for (int c = 0; c < 3; c++)
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        const float *p = t.data + (size_t)(c * 4 + dy * 2 + dx) * (b - a) * hw;
                        for (int i = y0; i < y1; i++) {
                            const int y = 2 * i + dy;
                            if (y >= H)
                                continue;
                            float *o = out + ((size_t)c * H + y) * W;
                            for (int j = 0; j < hw; j++)
                                if (2 * j + dx < W)
                                    o[2 * j + dx] = SCMC_ENHANCE_SCALE * p[(size_t)(i - a) * hw + j];
                        }
                    }
        scmc_tensor_free(&t);
    }
    return r;
}

/* base mirrored left-right (flip & 1) and / or top-bottom (flip & 2) into m. */
static int mirror(const ScmcImage *base, int flip, ScmcImage *m)
{
    const int W = base->width, H = base->height;
    int r = scmc_image_alloc(m, W, H);
    for (int y = 0; y < H && !r; y++)
        for (int x = 0; x < W; x++) {
            const int sy = flip & 2 ? H - 1 - y : y, sx = flip & 1 ? W - 1 - x : x;
            memcpy(m->rgb + ((size_t)y * W + x) * 3, base->rgb + ((size_t)sy * W + sx) * 3, 3);
        }
    return r;
}

int scmc_enhance_correction(const ScmcEnhancer *e, const ScmcNnOps *ops, const ScmcImage *base, int quality,
                            float **corr)
{
    *corr = NULL;
    if (!e->channels || e->views < 1 || e->views > 4 || quality < 1 || quality > 8)
        return SCMC_ERR_INVALID_ARG;
    const int W = base->width, H = base->height;
    const size_t n = (size_t)W * H;
    float *out = malloc(sizeof(float) * 3 * n), *view = NULL;
    if (!out)
        return SCMC_ERR_NOMEM;
    int r = correct_view(e, ops, base, quality, out);
    if (!r && e->views > 1 && !(view = malloc(sizeof(float) * 3 * n)))
        r = SCMC_ERR_NOMEM;
    /* The mirrored views' corrections, mirrored back, are added in a fixed order (left-right,
     * top-bottom, both) and the sum scaled once, so the encoder and decoder add the same floats. */
    for (int flip = 1; flip < e->views && !r; flip++) {
        ScmcImage m;
        r = mirror(base, flip, &m);
        if (!r)
            r = correct_view(e, ops, &m, quality, view);
        scmc_image_free(&m);
        for (int c = 0; c < 3 && !r; c++)
            for (int y = 0; y < H; y++) {
                const int sy = flip & 2 ? H - 1 - y : y;
                float *o = out + ((size_t)c * H + y) * W;
                const float *v = view + ((size_t)c * H + sy) * W;
                if (flip & 1)
                    for (int x = 0; x < W; x++)
                        o[x] += v[W - 1 - x];
                else
                    for (int x = 0; x < W; x++)
                        o[x] += v[x];
            }
    }
    free(view);
    if (r) {
        free(out);
        return r;
    }
    if (e->views > 1) {
        const float inv = 1.0f / (float)e->views;
        for (size_t i = 0; i < 3 * n; i++)
            out[i] *= inv;
    }
    *corr = out;
    return SCMC_OK;
}

int scmc_enhance_apply(const ScmcImage *base, const float *corr, int strength, ScmcImage *out)
{
    if (strength < 0 || strength >= SCMC_ENHANCE_NUM_STRENGTHS)
        return SCMC_ERR_INVALID_ARG;
    const int W = base->width, H = base->height;
    int r = scmc_image_alloc(out, W, H);
    if (r)
        return r;
    const float s = scmc_enhance_strengths[strength];
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < (size_t)W * H; i++) {
            const float v = floorf((float)base->rgb[i * 3 + c] + s * corr[(size_t)c * W * H + i] + 0.5f);
            out->rgb[i * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    return SCMC_OK;
}
