#include <math.h>
#include <string.h>

#include "palette.h"

/* In the spirit of the CSS/X11 names, picked for the colours of photographs: greys, skies, water,
 * foliage, earth, skin, brick and the saturated primaries. The anchor is the colour a name stands
 * for when naming (typical members of each name, not the CSS constants); the paint colour, what
 * the renderer uses, is the mean of the training cells given that name
 * (tools/fit_paint_colours.py). Order is part of the format: append only (the text model's
 * identifier covers this table). */
const ScmcColourName scmc_palette[] = {
    { "black", { 18, 18, 20 }, { 18, 21, 18 } }, /* 488 cells */
    { "charcoal", { 52, 52, 56 }, { 52, 58, 54 } }, /* 855 cells */
    { "dark grey", { 85, 85, 88 }, { 79, 85, 77 } }, /* 1517 cells */
    { "grey", { 125, 125, 125 }, { 128, 127, 112 } }, /* 2135 cells */
    { "silver", { 170, 170, 172 }, { 159, 168, 166 } }, /* 809 cells */
    { "light grey", { 205, 205, 205 }, { 197, 206, 201 } }, /* 227 cells */
    { "white", { 240, 240, 238 }, { 232, 242, 230 } }, /* 251 cells */
    { "slate", { 95, 108, 125 }, { 96, 108, 111 } }, /* 723 cells */
    { "navy", { 28, 36, 80 }, { 19, 37, 72 } }, /* 62 cells */
    { "dark blue", { 40, 62, 120 }, { 39, 68, 120 } }, /* 119 cells */
    { "blue", { 55, 100, 185 }, { 61, 99, 170 } }, /* 33 cells */
    { "steel blue", { 90, 130, 170 }, { 92, 134, 167 } }, /* 297 cells */
    { "sky blue", { 125, 170, 220 }, { 123, 165, 204 } }, /* 135 cells */
    { "light blue", { 180, 208, 232 }, { 172, 209, 230 } }, /* 136 cells */
    { "teal", { 35, 110, 112 }, { 59, 105, 109 } }, /* 155 cells */
    { "turquoise", { 70, 180, 180 }, { 103, 170, 167 } }, /* 98 cells */
    { "dark green", { 30, 58, 30 }, { 42, 57, 32 } }, /* 480 cells */
    { "forest green", { 50, 90, 40 }, { 65, 82, 44 } }, /* 602 cells */
    { "green", { 80, 135, 55 }, { 108, 136, 68 } }, /* 254 cells */
    { "light green", { 150, 195, 110 }, { 154, 191, 107 } }, /* 106 cells */
    { "olive", { 105, 105, 50 }, { 108, 106, 68 } }, /* 1612 cells */
    { "khaki", { 185, 175, 120 }, { 179, 172, 122 } }, /* 377 cells */
    { "yellow", { 235, 215, 60 }, { 226, 215, 84 } }, /* 24 cells */
    { "gold", { 200, 155, 40 }, { 194, 159, 57 } }, /* 60 cells */
    { "orange", { 225, 120, 35 }, { 219, 121, 39 } }, /* 11 cells */
    { "rust", { 160, 75, 35 }, { 155, 87, 55 } }, /* 95 cells */
    { "dark brown", { 65, 42, 28 }, { 58, 45, 27 } }, /* 475 cells */
    { "brown", { 115, 78, 48 }, { 105, 82, 53 } }, /* 767 cells */
    { "tan", { 180, 140, 100 }, { 161, 142, 102 } }, /* 1093 cells */
    { "beige", { 215, 198, 165 }, { 207, 200, 164 } }, /* 227 cells */
    { "peach", { 240, 190, 150 }, { 238, 192, 145 } }, /* 59 cells */
    { "maroon", { 100, 28, 35 }, { 105, 35, 30 } }, /* 58 cells */
    { "red", { 190, 35, 40 }, { 179, 37, 41 } }, /* 22 cells */
    { "salmon", { 230, 125, 110 }, { 223, 124, 109 } }, /* 12 cells */
    { "pink", { 235, 160, 175 }, { 228, 162, 168 } }, /* 11 cells */
    { "magenta", { 190, 50, 140 }, { 186, 52, 135 } }, /* 4 cells */
    { "purple", { 105, 55, 130 }, { 106, 56, 129 } }, /* 2 cells */
    { "lavender", { 175, 160, 210 }, { 173, 157, 203 } }, /* 9 cells */
};
const int scmc_palette_size = (int)(sizeof(scmc_palette) / sizeof(scmc_palette[0]));

static double to_linear(int v)
{
    const double c = v / 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

void scmc_srgb_to_oklab(int r, int g, int b, double lab[3])
{
    const double lr = to_linear(r), lg = to_linear(g), lb = to_linear(b);
    const double l = cbrt(0.4122214708 * lr + 0.5363325363 * lg + 0.0514459929 * lb);
    const double m = cbrt(0.2119034982 * lr + 0.6806995451 * lg + 0.1073969566 * lb);
    const double s = cbrt(0.0883024619 * lr + 0.2817188376 * lg + 0.6299787005 * lb);
    lab[0] = 0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s;
    lab[1] = 1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s;
    lab[2] = 0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s;
}

int scmc_palette_nearest(int r, int g, int b)
{
    static double pal_lab[64][3];
    static int ready; /* benign race: every thread computes the same values */
    if (!ready) {
        for (int i = 0; i < scmc_palette_size; i++)
            scmc_srgb_to_oklab(scmc_palette[i].rgb[0], scmc_palette[i].rgb[1], scmc_palette[i].rgb[2], pal_lab[i]);
        ready = 1;
    }
    double lab[3];
    scmc_srgb_to_oklab(r, g, b, lab);
    int best = 0;
    double best_d = 1e30;
    for (int i = 0; i < scmc_palette_size; i++) {
        const double d0 = lab[0] - pal_lab[i][0], d1 = lab[1] - pal_lab[i][1], d2 = lab[2] - pal_lab[i][2];
        const double d = d0 * d0 + d1 * d1 + d2 * d2;
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return best;
}

int scmc_palette_lookup(const char *text, int len)
{
    int best = -1, best_len = 0;
    for (int i = 0; i < scmc_palette_size; i++) {
        const int n = (int)strlen(scmc_palette[i].name);
        if (n <= len && n > best_len && !memcmp(text, scmc_palette[i].name, (size_t)n)) {
            best = i;
            best_len = n;
        }
    }
    return best;
}
