/* WebP through libwebp; written lossless so a decoded image keeps its exact pixels. */
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include "scmc/scmc.h"
#include "image.h"

int scmc_webp_read(const uint8_t *data, size_t size, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen)
{
    WebPBitstreamFeatures ft;
    img->rgb = NULL;
    if (WebPGetFeatures(data, size, &ft) != VP8_STATUS_OK) {
        snprintf(err, errlen, "invalid WebP header");
        return SCMC_ERR_CORRUPT;
    }
    int r = scmc_image_check_size((uint64_t)ft.width, (uint64_t)ft.height, err, errlen);
    if (r)
        return r;
    if (ft.has_animation) {
        snprintf(err, errlen, "animated WebP is not supported");
        return SCMC_ERR_CORRUPT;
    }
    r = scmc_image_alloc(img, ft.width, ft.height);
    if (r) {
        snprintf(err, errlen, "out of memory");
        return r;
    }
    const size_t stride = (size_t)ft.width * 3;
    if (!WebPDecodeRGBInto(data, size, img->rgb, stride * ft.height, (int)stride)) {
        scmc_image_free(img);
        snprintf(err, errlen, "invalid or truncated WebP data");
        return SCMC_ERR_CORRUPT;
    }
    notes->alpha_dropped = ft.has_alpha;
    return SCMC_OK;
}

int scmc_webp_write(FILE *f, const ScmcImage *img, char *err, size_t errlen)
{
    uint8_t *out = NULL;
    if (img->width > WEBP_MAX_DIMENSION || img->height > WEBP_MAX_DIMENSION) {
        snprintf(err, errlen, "WebP holds at most %d pixels per side", WEBP_MAX_DIMENSION);
        return SCMC_ERR_TOO_LARGE;
    }
    const size_t n = WebPEncodeLosslessRGB(img->rgb, img->width, img->height, img->width * 3, &out);
    if (n == 0) {
        snprintf(err, errlen, "WebP encoding failed");
        return SCMC_ERR_IO;
    }
    const int ok = fwrite(out, 1, n, f) == n;
    WebPFree(out);
    if (!ok) {
        snprintf(err, errlen, "write failed");
        return SCMC_ERR_IO;
    }
    return SCMC_OK;
}
