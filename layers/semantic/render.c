/* Renderer: the colour grid of a semantic text, painted as a smooth image. Each named cell colour
 * is placed at its cell's centre and interpolated with a Catmull-Rom spline (edges clamped), which
 * passes through the cell colours without the blockiness of nearest-cell painting. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "describe.h"
#include "palette.h"

/* Reads "Colour grid, C by R:" and the R lines of C names that follow. */
static int parse_grid(const char *text, int *cols, int *rows, float *colours)
{
    const char *p = strstr(text, "Colour grid, ");
    if (!p)
        return -1;
    p += strlen("Colour grid, ");
    char *end;
    const long c = strtol(p, &end, 10);
    if (end == p || strncmp(end, " by ", 4))
        return -1;
    p = end + 4;
    const long r = strtol(p, &end, 10);
    if (end == p || *end != ':')
        return -1;
    p = end + 1;
    if (c < 1 || c > SCMC_SEMANTIC_MAX_COLS || r < 1 || r > SCMC_SEMANTIC_MAX_COLS)
        return -1;
    for (long y = 0; y < r; y++) {
        if (*p++ != '\n')
            return -1;
        for (long x = 0; x < c; x++) {
            if (x) {
                if (strncmp(p, ", ", 2))
                    return -1;
                p += 2;
            }
            const int k = scmc_palette_lookup(p, (int)strcspn(p, ",\n"));
            if (k < 0 || (int)strlen(scmc_palette[k].name) != (int)strcspn(p, ",\n"))
                return -1;
            p += strlen(scmc_palette[k].name);
            for (int ch = 0; ch < 3; ch++)
                colours[(y * c + x) * 3 + ch] = scmc_palette[k].paint[ch];
        }
    }
    if (*p != 0 && *p != '\n')
        return -1;
    *cols = (int)c;
    *rows = (int)r;
    return 0;
}

/* Catmull-Rom weights for fractional position t in [0, 1) between samples 1 and 2 of 4. */
static void cubic_weights(float t, float w[4])
{
    const float t2 = t * t, t3 = t2 * t;
    w[0] = 0.5f * (-t3 + 2 * t2 - t);
    w[1] = 0.5f * (3 * t3 - 5 * t2 + 2);
    w[2] = 0.5f * (-3 * t3 + 4 * t2 + t);
    w[3] = 0.5f * (t3 - t2);
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Resamples an n-sample row of 3-channel values to len outputs, sample i sitting at the centre
 * of the i-th of n equal cells. */
static void resample_line(const float *in, int n, int in_step, float *out, int len, int out_step)
{
    for (int o = 0; o < len; o++) {
        const float pos = ((float)o + 0.5f) * (float)n / (float)len - 0.5f;
        const int i = (int)floorf(pos);
        float w[4];
        cubic_weights(pos - (float)i, w);
        for (int ch = 0; ch < 3; ch++) {
            float s = 0;
            for (int k = 0; k < 4; k++)
                s += w[k] * in[clampi(i - 1 + k, 0, n - 1) * in_step + ch];
            out[o * out_step + ch] = s;
        }
    }
}

int scmc_render(const char *text, int width, int height, ScmcImage *out)
{
    int cols, rows;
    float colours[SCMC_SEMANTIC_MAX_COLS * SCMC_SEMANTIC_MAX_COLS * 3];
    if (parse_grid(text, &cols, &rows, colours))
        return SCMC_ERR_CORRUPT;
    int r = scmc_image_alloc(out, width, height);
    if (r)
        return r;
    float *tmp = malloc(sizeof(float) * 3 * (size_t)width * rows);
    float *col_in = malloc(sizeof(float) * 3 * (size_t)rows);
    float *col_out = malloc(sizeof(float) * 3 * (size_t)height);
    if (!tmp || !col_in || !col_out) {
        free(tmp);
        free(col_in);
        free(col_out);
        scmc_image_free(out);
        return SCMC_ERR_NOMEM;
    }
    for (int y = 0; y < rows; y++)
        resample_line(colours + (size_t)y * cols * 3, cols, 3, tmp + (size_t)y * width * 3, width, 3);
    for (int x = 0; x < width; x++) {
        for (int y = 0; y < rows; y++)
            memcpy(col_in + y * 3, tmp + ((size_t)y * width + x) * 3, sizeof(float) * 3);
        resample_line(col_in, rows, 3, col_out, height, 3);
        for (int y = 0; y < height; y++)
            for (int ch = 0; ch < 3; ch++) {
                const float v = col_out[y * 3 + ch] + 0.5f;
                out->rgb[((size_t)y * width + x) * 3 + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    }
    free(tmp);
    free(col_in);
    free(col_out);
    return SCMC_OK;
}
