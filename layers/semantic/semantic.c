#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "describe.h"
#include "semantic.h"
#include "text_coder.h"

/* P(caption present) is low: the flag costs ~0.1 bit when there is none. */
static const uint32_t caption_flag_cdf[3] = { 0, SCMC_CDF_TOTAL - 4096, SCMC_CDF_TOTAL };

uint32_t scmc_semantic_model_id(void)
{
    return scmc_text_model_id();
}

int scmc_utf8_valid(const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < len) {
        const uint8_t c = s[i];
        int n;
        uint32_t cp;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= (size_t)n)
            return 0;
        for (int k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += (size_t)n + 1;
    }
    return 1;
}

int scmc_semantic_encode(const ScmcImage *img, int cols, int rows, const char *caption,
                         uint8_t **payload, size_t *size)
{
    if (caption && (strlen(caption) > SCMC_MAX_CAPTION || !scmc_utf8_valid(caption, strlen(caption))))
        return SCMC_ERR_INVALID_ARG;
    char *text;
    int r = scmc_describe(img, cols, rows, &text);
    if (r)
        return r;
    ScmcRangeEncoder enc;
    scmc_renc_init(&enc);
    r = scmc_text_encode(&enc, text, strlen(text));
    free(text);
    if (!r) {
        scmc_renc_symbol(&enc, caption_flag_cdf, caption != NULL);
        if (caption)
            r = scmc_text_encode(&enc, caption, strlen(caption));
    }
    if (r) {
        scmc_renc_free(&enc);
        return r;
    }
    return scmc_renc_finish(&enc, payload, size) ? SCMC_ERR_NOMEM : SCMC_OK;
}

int scmc_semantic_parse(const uint8_t *payload, size_t size, char **text, char **caption)
{
    ScmcRangeDecoder dec;
    size_t len;
    *text = *caption = NULL;
    scmc_rdec_init(&dec, payload, size);
    int r = scmc_text_decode(&dec, SCMC_TEXT_MAX_BYTES, text, &len);
    if (r)
        return r;
    if (!scmc_utf8_valid(*text, len))
        r = SCMC_ERR_CORRUPT;
    else if (scmc_rdec_symbol(&dec, caption_flag_cdf, 2)) {
        r = scmc_text_decode(&dec, SCMC_MAX_CAPTION, caption, &len);
        if (!r && !scmc_utf8_valid(*caption, len))
            r = SCMC_ERR_CORRUPT;
    }
    if (!r && scmc_rdec_overrun(&dec))
        r = SCMC_ERR_CORRUPT;
    if (r) {
        free(*text);
        free(*caption);
        *text = *caption = NULL;
    }
    return r;
}

int scmc_semantic_decode(const uint8_t *payload, size_t size, int width, int height, ScmcImage *out)
{
    char *text, *caption;
    int r = scmc_semantic_parse(payload, size, &text, &caption);
    if (r)
        return r;
    r = scmc_render(text, width, height, out);
    free(text);
    free(caption);
    return r;
}
