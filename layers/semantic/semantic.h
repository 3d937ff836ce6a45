/* The semantic layer: one sub-layer holding the image's text (and an optional user caption),
 * rendered to base0 by the decoder. bitstream-spec/semantic.md is the authority. */
#ifndef SCMC_SEMANTIC_H
#define SCMC_SEMANTIC_H
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

uint32_t scmc_semantic_model_id(void);
/* Describes img and codes the text and caption (NULL for none) into *payload (free()). */
int scmc_semantic_encode(const ScmcImage *img, int cols, int rows, const char *caption,
                         uint8_t **payload, size_t *size);
/* Decodes the texts of a payload; *caption is NULL when the stream has none. Free both. */
int scmc_semantic_parse(const uint8_t *payload, size_t size, char **text, char **caption);
/* Decodes a payload into a width x height rendering. */
int scmc_semantic_decode(const uint8_t *payload, size_t size, int width, int height, ScmcImage *out);
/* Non-zero when s[0..len) is valid UTF-8 without NUL bytes. */
int scmc_utf8_valid(const char *s, size_t len);
#endif
