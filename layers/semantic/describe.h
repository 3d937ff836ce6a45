/* Describer (image -> text) and renderer (text -> image) of the semantic layer. */
#ifndef SCMC_DESCRIBE_H
#define SCMC_DESCRIBE_H
#include "image/image.h"

#define SCMC_SEMANTIC_MIN_COLS 2
#define SCMC_SEMANTIC_MAX_COLS 16
#define SCMC_SEMANTIC_MIN_ROWS 2
#define SCMC_SEMANTIC_MAX_ROWS 12

/* The text of img: a sentence on brightness and dominant colours, then a colour grid of
 * cols x rows named cells (swapped to rows x cols for portrait images, so cells stay squarish).
 * *text is NUL-terminated UTF-8, freed with free(). Deterministic. */
int scmc_describe(const ScmcImage *img, int cols, int rows, char **text);

/* Paints a width x height image from a text written by scmc_describe (the colour grid, smoothly
 * interpolated). Returns SCMC_ERR_CORRUPT when the text holds no well-formed grid. */
int scmc_render(const char *text, int width, int height, ScmcImage *out);
#endif
