/* Edge sharpening of the structure level as shown (sharpen.h; bitstream-spec/structure.md, "Edge
 * sharpening (display)"). */
#include "sharpen.h"

#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"

/* Binomial weights of order 8 (a Gaussian of sigma sqrt 2): wide enough that the Laplacian's sign
 * marks the two halves of a ramp rather than the grain inside it. Sums stay below 1020 * 256 * 256
 * and the Laplacian below 2^30: int32 throughout. */
static const int32_t smooth_taps[9] = { 1, 8, 28, 56, 70, 56, 28, 8, 1 };
#define SMOOTH_RADIUS 4
#define WINDOW_RADIUS 2 /* the 5x5 neighbourhood of the targets */

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* sign[i] = sign of the 4-neighbour Laplacian of the smoothed luma R + 2G + B (borders: nearest
 * sample). */
static int laplacian_sign(const ScmcImage *img, int8_t *sign)
{
    const int w = img->width, h = img->height;
    const size_t n = (size_t)w * h;
    int32_t *row = malloc(n * sizeof(int32_t)), *s = malloc(n * sizeof(int32_t));
    if (!row || !s) {
        free(row);
        free(s);
        return SCMC_ERR_NOMEM;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *p = img->rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            int32_t acc = 0;
            for (int k = -SMOOTH_RADIUS; k <= SMOOTH_RADIUS; k++) {
                const uint8_t *q = p + 3 * clampi(x + k, 0, w - 1);
                acc += smooth_taps[k + SMOOTH_RADIUS] * (q[0] + 2 * q[1] + q[2]);
            }
            row[(size_t)y * w + x] = acc;
        }
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int32_t acc = 0;
            for (int k = -SMOOTH_RADIUS; k <= SMOOTH_RADIUS; k++)
                acc += smooth_taps[k + SMOOTH_RADIUS] * row[(size_t)clampi(y + k, 0, h - 1) * w + x];
            s[(size_t)y * w + x] = acc;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int32_t c = s[(size_t)y * w + x];
            const int32_t lap = s[(size_t)clampi(y - 1, 0, h - 1) * w + x] + s[(size_t)clampi(y + 1, 0, h - 1) * w + x] +
                                s[(size_t)y * w + clampi(x - 1, 0, w - 1)] + s[(size_t)y * w + clampi(x + 1, 0, w - 1)] -
                                4 * c;
            sign[(size_t)y * w + x] = (int8_t)((lap > 0) - (lap < 0));
        }
    free(row);
    free(s);
    return SCMC_OK;
}

int scmc_sharpen_targets(const ScmcImage *img, uint8_t *tgt)
{
    const int w = img->width, h = img->height;
    const size_t n = (size_t)w * h;
    int8_t *sign = malloc(n);
    int16_t *luma = malloc(n * sizeof(int16_t));
    int r = sign && luma ? laplacian_sign(img, sign) : SCMC_ERR_NOMEM;
    if (r)
        goto done;
    for (size_t i = 0; i < n; i++)
        luma[i] = (int16_t)(img->rgb[3 * i] + 2 * img->rgb[3 * i + 1] + img->rgb[3 * i + 2]);
    /* The target is a whole colour, that of the darkest (Laplacian > 0) or brightest (< 0) pixel of
     * the 5x5 window, the first in raster order on ties: a channel whose edge runs against the
     * luma's is steepened too, and no colour is made up. */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * w + x;
            size_t best = i;
            if (sign[i]) {
                int best_luma = sign[i] > 0 ? INT16_MAX : -1;
                for (int dy = -WINDOW_RADIUS; dy <= WINDOW_RADIUS; dy++)
                    for (int dx = -WINDOW_RADIUS; dx <= WINDOW_RADIUS; dx++) {
                        const size_t j = (size_t)clampi(y + dy, 0, h - 1) * w + clampi(x + dx, 0, w - 1);
                        if (sign[i] > 0 ? luma[j] < best_luma : luma[j] > best_luma) {
                            best_luma = luma[j];
                            best = j;
                        }
                    }
            }
            memcpy(tgt + 3 * i, img->rgb + 3 * best, 3);
        }
done:
    free(sign);
    free(luma);
    return r;
}

/* x moved strength/16 of the way to t, rounded half away from zero; between x and t, so no clamp. */
static inline int blend_one(int x, int t, int strength)
{
    const int v = strength * (t - x);
    return x + (v >= 0 ? (v + 8) >> 4 : -((-v + 8) >> 4));
}

void scmc_sharpen_blend(ScmcImage *img, const uint8_t *tgt, int strength)
{
    const size_t n = (size_t)img->width * img->height * 3;
    for (size_t i = 0; i < n; i++)
        img->rgb[i] = (uint8_t)blend_one(img->rgb[i], tgt[i], strength);
}

int scmc_sharpen_apply(ScmcImage *img, int strength)
{
    if (strength < 0 || strength > SCMC_SHARPEN_MAX)
        return SCMC_ERR_INVALID_ARG;
    if (!strength)
        return SCMC_OK;
    uint8_t *tgt = malloc((size_t)img->width * img->height * 3);
    if (!tgt)
        return SCMC_ERR_NOMEM;
    const int r = scmc_sharpen_targets(img, tgt);
    if (!r)
        scmc_sharpen_blend(img, tgt, strength);
    free(tgt);
    return r;
}

int scmc_sharpen_choose(const ScmcImage *orig, const ScmcImage *img, int *strength)
{
    if (orig->width != img->width || orig->height != img->height)
        return SCMC_ERR_INVALID_ARG;
    const size_t n = (size_t)img->width * img->height * 3;
    uint8_t *tgt = malloc(n);
    if (!tgt)
        return SCMC_ERR_NOMEM;
    const int r = scmc_sharpen_targets(img, tgt);
    if (r) {
        free(tgt);
        return r;
    }
    uint64_t sse[SCMC_SHARPEN_MAX + 1] = { 0 };
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s <= SCMC_SHARPEN_MAX; s++) {
            const int64_t d = blend_one(img->rgb[i], tgt[i], s) - orig->rgb[i];
            sse[s] += (uint64_t)(d * d);
        }
    free(tgt);
    *strength = 0;
    for (int s = SCMC_SHARPEN_MAX; s > 0; s--)
        if (sse[s] <= sse[0]) {
            *strength = s;
            break;
        }
    return SCMC_OK;
}
