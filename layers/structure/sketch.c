/* Edge extraction for the sketch (encoder only: the decoder receives the sketch itself).
 *
 * Canny: a 5-tap binomial blur, Sobel gradients, non-maximum suppression along the gradient
 * direction, hysteresis between two thresholds taken from the distribution of the suppressed
 * magnitudes. The curves are then thinned to one pixel (Zhang-Suen) and budgeted: fragments
 * shorter than min_fragment go, and the rest are ranked by their summed gradient so that the
 * bits of a tight budget go to the long, strong contours that diffusion cannot guess. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "sketch.h"

/* Hysteresis thresholds: the high one keeps the strongest HIGH_QUANTILE of the ridge pixels, but
 * never less than a contrast a viewer would call an edge. */
#define HIGH_QUANTILE 0.30
#define LOW_RATIO 0.45
#define MIN_HIGH 48.0f /* Sobel of the blurred luma: a clean step of about 12 grey levels */

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void blur5(const float *src, float *dst, float *tmp, int w, int h)
{
    static const float k[5] = { 1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f };
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float s = 0;
            for (int i = -2; i <= 2; i++)
                s += k[i + 2] * src[(size_t)y * w + clampi(x + i, 0, w - 1)];
            tmp[(size_t)y * w + x] = s;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float s = 0;
            for (int i = -2; i <= 2; i++)
                s += k[i + 2] * tmp[(size_t)clampi(y + i, 0, h - 1) * w + x];
            dst[(size_t)y * w + x] = s;
        }
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Zhang-Suen thinning of a 0/1 map in place: removes boundary pixels whose removal keeps
 * 8-connectivity, until none is left to remove. */
static void thin(uint8_t *m, int w, int h, uint8_t *mark)
{
    for (int changed = 1, iter = 0; changed && iter < 64; iter++) {
        changed = 0;
        for (int pass = 0; pass < 2; pass++) {
            memset(mark, 0, (size_t)w * h);
            for (int y = 1; y < h - 1; y++)
                for (int x = 1; x < w - 1; x++) {
                    const uint8_t *c = m + (size_t)y * w + x;
                    if (!*c)
                        continue;
                    /* neighbours clockwise from north */
                    const int p[8] = { c[-w], c[-w + 1], c[1], c[w + 1], c[w], c[w - 1], c[-1], c[-w - 1] };
                    int b = 0, a = 0;
                    for (int i = 0; i < 8; i++) {
                        b += p[i];
                        a += !p[i] && p[(i + 1) & 7];
                    }
                    if (b < 2 || b > 6 || a != 1)
                        continue;
                    if (pass == 0 ? (p[0] && p[2] && p[4]) || (p[2] && p[4] && p[6])
                                  : (p[0] && p[2] && p[6]) || (p[0] && p[4] && p[6]))
                        continue;
                    mark[(size_t)y * w + x] = 1;
                }
            for (size_t i = 0; i < (size_t)w * h; i++)
                if (mark[i]) {
                    m[i] = 0;
                    changed = 1;
                }
        }
    }
}

typedef struct Fragment {
    int label;
    int length;
    double strength;
} Fragment;

static int cmp_fragment(const void *a, const void *b)
{
    const Fragment *x = a, *y = b;
    if (x->strength != y->strength)
        return x->strength > y->strength ? -1 : 1;
    return x->label - y->label;
}

/* Labels 8-connected curves, drops the short ones and the weakest beyond the budget. */
static int budget_fragments(uint8_t *edges, const float *mag, int w, int h, int min_fragment, size_t budget)
{
    const size_t n = (size_t)w * h;
    int32_t *label = malloc(n * sizeof(*label));
    int32_t *stack = malloc(n * sizeof(*stack));
    Fragment *frags = NULL;
    int nfrag = 0, cap = 0, r = SCMC_OK;
    if (!label || !stack) {
        r = SCMC_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        label[i] = -1;
    for (size_t start = 0; start < n; start++) {
        if (!edges[start] || label[start] >= 0)
            continue;
        if (nfrag == cap) {
            cap = cap ? 2 * cap : 256;
            Fragment *f = realloc(frags, (size_t)cap * sizeof(*f));
            if (!f) {
                r = SCMC_ERR_NOMEM;
                goto done;
            }
            frags = f;
        }
        Fragment *f = &frags[nfrag];
        f->label = nfrag;
        f->length = 0;
        f->strength = 0;
        size_t sp = 0;
        stack[sp++] = (int32_t)start;
        label[start] = nfrag;
        while (sp) {
            const int32_t p = stack[--sp];
            const int x = p % w, y = p / w;
            f->length++;
            f->strength += mag[p];
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        continue;
                    const size_t q = (size_t)ny * w + nx;
                    if (edges[q] && label[q] < 0) {
                        label[q] = nfrag;
                        stack[sp++] = (int32_t)q;
                    }
                }
        }
        nfrag++;
    }
    /* keep[label]: fragments long enough, strongest first, while the budget lasts */
    if (nfrag) /* qsort needs a valid pointer even for zero elements */
        qsort(frags, (size_t)nfrag, sizeof(*frags), cmp_fragment);
    uint8_t *keep = calloc((size_t)nfrag + 1, 1);
    if (!keep) {
        r = SCMC_ERR_NOMEM;
        goto done;
    }
    size_t used = 0;
    for (int i = 0; i < nfrag; i++) {
        if (frags[i].length < min_fragment || used + (size_t)frags[i].length > budget)
            continue;
        used += (size_t)frags[i].length;
        keep[frags[i].label] = 1;
    }
    for (size_t i = 0; i < n; i++)
        if (edges[i] && !keep[label[i]])
            edges[i] = 0;
    free(keep);
done:
    free(label);
    free(stack);
    free(frags);
    return r;
}

int scmc_sketch_extract(const float *luma, int gw, int gh, double density, int min_fragment, uint8_t *edges)
{
    const size_t n = (size_t)gw * gh;
    memset(edges, 0, n);
    if (gw < 3 || gh < 3)
        return SCMC_OK; /* too small to hold a contour worth coding */
    float *smooth = malloc(n * sizeof(float)), *tmp = malloc(n * sizeof(float));
    float *mag = calloc(n, sizeof(float)), *ridge = NULL;
    uint8_t *cand = calloc(n, 1);
    int32_t *stack = malloc(n * sizeof(int32_t));
    int r = SCMC_ERR_NOMEM;
    if (!smooth || !tmp || !mag || !cand || !stack)
        goto done;
    blur5(luma, smooth, tmp, gw, gh);

    /* Sobel with the border replicated (so curves reach the frame and close off regions there),
     * the direction quantized to 4 sectors for the suppression */
    uint8_t *dir = (uint8_t *)tmp; /* tmp is free again; n bytes of it suffice */
    for (int y = 0; y < gh; y++) {
        const float *up = smooth + (size_t)(y > 0 ? y - 1 : 0) * gw, *mid = smooth + (size_t)y * gw;
        const float *dn = smooth + (size_t)(y < gh - 1 ? y + 1 : y) * gw;
        for (int x = 0; x < gw; x++) {
            const int xl = x > 0 ? x - 1 : 0, xr = x < gw - 1 ? x + 1 : x;
            const float gx = (up[xr] + 2 * mid[xr] + dn[xr]) - (up[xl] + 2 * mid[xl] + dn[xl]);
            const float gy = (dn[xl] + 2 * dn[x] + dn[xr]) - (up[xl] + 2 * up[x] + up[xr]);
            const float ax = fabsf(gx), ay = fabsf(gy);
            mag[(size_t)y * gw + x] = sqrtf(gx * gx + gy * gy);
            dir[(size_t)y * gw + x] = ay <= 0.41421356f * ax ? 0 : ay >= 2.41421356f * ax ? 2 : (gx > 0) == (gy > 0) ? 1 : 3;
        }
    }
    size_t nridge = 0;
    ridge = malloc(n * sizeof(float));
    if (!ridge)
        goto done;
    static const int off[4][2] = { { 1, 0 }, { 1, 1 }, { 0, 1 }, { -1, 1 } };
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++) {
            const size_t i = (size_t)y * gw + x;
            const float m = mag[i];
            if (m <= 0)
                continue;
            const int dx = off[dir[i]][0], dy = off[dir[i]][1];
            const float a = mag[(size_t)clampi(y + dy, 0, gh - 1) * gw + clampi(x + dx, 0, gw - 1)];
            const float b = mag[(size_t)clampi(y - dy, 0, gh - 1) * gw + clampi(x - dx, 0, gw - 1)];
            if (m > a && m >= b) {
                cand[i] = 1;
                ridge[nridge++] = m;
            }
        }
    if (!nridge) {
        r = SCMC_OK;
        goto done;
    }
    qsort(ridge, nridge, sizeof(float), cmp_float);
    float high = ridge[(size_t)((1.0 - HIGH_QUANTILE) * (double)(nridge - 1))];
    if (high < MIN_HIGH)
        high = MIN_HIGH;
    const float low = LOW_RATIO * high;

    /* hysteresis: ridge pixels above low that connect (8-way) to one above high */
    for (size_t i = 0; i < n; i++) {
        if (!cand[i] || mag[i] < high || edges[i])
            continue;
        size_t sp = 0;
        stack[sp++] = (int32_t)i;
        edges[i] = 1;
        while (sp) {
            const int32_t p = stack[--sp];
            const int x = p % gw, y = p / gw;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= gw || ny >= gh)
                        continue;
                    const size_t q = (size_t)ny * gw + nx;
                    if (cand[q] && !edges[q] && mag[q] >= low) {
                        edges[q] = 1;
                        stack[sp++] = (int32_t)q;
                    }
                }
        }
    }
    thin(edges, gw, gh, cand);
    size_t budget = (size_t)(density * (double)n);
    r = budget_fragments(edges, mag, gw, gh, min_fragment, budget);
done:
    free(smooth);
    free(tmp);
    free(mag);
    free(ridge);
    free(cand);
    free(stack);
    return r;
}
