/* The semantic layer's colour vocabulary: common English colour names with the sRGB value each
 * name stands for (bitstream-spec/semantic.md lists them). Names are chosen by nearest colour in
 * OKLab, a perceptual space, so the word a reader sees is the word a person would pick. */
#ifndef SCMC_PALETTE_H
#define SCMC_PALETTE_H
#include <stdint.h>

typedef struct ScmcColourName {
    const char *name;
    uint8_t rgb[3];      /* anchor: the colour the name is chosen by */
    uint8_t paint[3];    /* what the renderer paints for the name */
} ScmcColourName;

extern const ScmcColourName scmc_palette[];
extern const int scmc_palette_size;

/* Index of the palette colour nearest to (r, g, b) in OKLab. */
int scmc_palette_nearest(int r, int g, int b);
/* Index of the palette name that starts text[0..len) exactly, or -1. Longest match wins. */
int scmc_palette_lookup(const char *text, int len);
/* OKLab of an sRGB colour (L in 0..1). */
void scmc_srgb_to_oklab(int r, int g, int b, double lab[3]);
#endif
