#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "describe.h"
#include "palette.h"

typedef struct Text {
    char *buf;
    size_t len, cap;
    int error;
} Text;

static void put(Text *t, const char *s)
{
    const size_t n = strlen(s);
    if (t->error)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->error = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

/* Where a set of cells lies, in words: the 3x3 region of its centroid. */
static const char *position_name(double cx, double cy)
{
    static const char *const names[3][3] = {
        { "top left", "top", "top right" },
        { "left", "centre", "right" },
        { "bottom left", "bottom", "bottom right" },
    };
    const int col = cx < 1.0 / 3 ? 0 : cx > 2.0 / 3 ? 2 : 1;
    const int row = cy < 1.0 / 3 ? 0 : cy > 2.0 / 3 ? 2 : 1;
    return names[row][col];
}

static const char *brightness_name(int luma)
{
    return luma < 45 ? "A very dark" : luma < 90 ? "A dark" : luma < 150 ? "A medium-toned"
         : luma < 200 ? "A bright" : "A very bright";
}

int scmc_describe(const ScmcImage *img, int cols, int rows, char **text)
{
    if (cols < SCMC_SEMANTIC_MIN_COLS || cols > SCMC_SEMANTIC_MAX_COLS || rows < SCMC_SEMANTIC_MIN_ROWS ||
        rows > SCMC_SEMANTIC_MAX_ROWS)
        return SCMC_ERR_INVALID_ARG;
    if (img->height > img->width) {
        const int t = cols;
        cols = rows;
        rows = t;
    }
    /* a grid finer than the image makes no sense: at least one pixel per cell */
    if (cols > img->width)
        cols = img->width;
    if (rows > img->height)
        rows = img->height;
    int cell[SCMC_SEMANTIC_MAX_COLS * SCMC_SEMANTIC_MAX_COLS];
    int hist[64] = { 0 };
    double cx[64] = { 0 }, cy[64] = { 0 };
    uint64_t luma_sum = 0;
    for (int r = 0; r < rows; r++) {
        const int y0 = (int)((int64_t)r * img->height / rows), y1 = (int)((int64_t)(r + 1) * img->height / rows);
        for (int c = 0; c < cols; c++) {
            const int x0 = (int)((int64_t)c * img->width / cols), x1 = (int)((int64_t)(c + 1) * img->width / cols);
            uint64_t s[3] = { 0, 0, 0 };
            for (int y = y0; y < y1; y++) {
                const uint8_t *p = img->rgb + ((size_t)y * img->width + x0) * 3;
                for (int x = x0; x < x1; x++, p += 3) {
                    s[0] += p[0];
                    s[1] += p[1];
                    s[2] += p[2];
                }
            }
            const uint64_t n = (uint64_t)(y1 - y0) * (uint64_t)(x1 - x0);
            const int mr = (int)((s[0] + n / 2) / n), mg = (int)((s[1] + n / 2) / n), mb = (int)((s[2] + n / 2) / n);
            luma_sum += (uint64_t)(2126 * mr + 7152 * mg + 722 * mb) * n;
            const int k = scmc_palette_nearest(mr, mg, mb);
            cell[r * cols + c] = k;
            hist[k]++;
            cx[k] += (c + 0.5) / cols;
            cy[k] += (r + 0.5) / rows;
        }
    }
    const int luma = (int)(luma_sum / 10000 / ((uint64_t)img->width * img->height));
    int first = 0, second = -1;
    for (int k = 1; k < scmc_palette_size; k++)
        if (hist[k] > hist[first])
            first = k;
    for (int k = 0; k < scmc_palette_size; k++)
        if (k != first && hist[k] > 0 && (second < 0 || hist[k] > hist[second]))
            second = k;

    Text t = { 0 };
    char line[128];
    put(&t, brightness_name(luma));
    put(&t, " image, mostly ");
    put(&t, scmc_palette[first].name);
    if (second >= 0) {
        put(&t, " and ");
        put(&t, scmc_palette[second].name);
    }
    put(&t, "; ");
    put(&t, scmc_palette[first].name);
    put(&t, " at the ");
    put(&t, position_name(cx[first] / hist[first], cy[first] / hist[first]));
    if (second >= 0) {
        put(&t, ", ");
        put(&t, scmc_palette[second].name);
        put(&t, " at the ");
        put(&t, position_name(cx[second] / hist[second], cy[second] / hist[second]));
    }
    snprintf(line, sizeof(line), ".\nColour grid, %d by %d:", cols, rows);
    put(&t, line);
    for (int r = 0; r < rows; r++) {
        put(&t, "\n");
        for (int c = 0; c < cols; c++) {
            if (c)
                put(&t, ", ");
            put(&t, scmc_palette[cell[r * cols + c]].name);
        }
    }
    if (t.error) {
        free(t.buf);
        return SCMC_ERR_NOMEM;
    }
    *text = t.buf;
    return SCMC_OK;
}
