/* Lossless coder of UTF-8 (or any byte) strings with the semantic text model. */
#ifndef SCMC_TEXT_CODER_H
#define SCMC_TEXT_CODER_H
#include <stddef.h>
#include <stdint.h>

#include "entropy/range_coder.h"

/* Longest text either coder accepts (the describer's largest grid needs about 3 KB). */
#define SCMC_TEXT_MAX_BYTES 16384

/* Builds the model's CDFs once (thread-safe); returns 0 or SCMC_ERR_NOMEM. */
int scmc_text_model_init(void);
/* Identifier of the model (CRC-32 over its tables and the palette): the layer's model id. */
uint32_t scmc_text_model_id(void);

/* Codes text[0..len) followed by END. */
int scmc_text_encode(ScmcRangeEncoder *enc, const char *text, size_t len);
/* Decodes one string (NUL-terminated, free()) of at most max_len bytes. Returns SCMC_OK or
 * SCMC_ERR_CORRUPT. */
int scmc_text_decode(ScmcRangeDecoder *dec, size_t max_len, char **text, size_t *len);
#endif
