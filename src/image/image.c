#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scmc/scmc.h"
#include "atomic_file.h"
#include "image.h"

/* Largest image file read: a PNG of the largest accepted image is far smaller than this. */
#define MAX_IMAGE_FILE_BYTES ((size_t)1 << 30)

int scmc_image_check_size(uint64_t width, uint64_t height, char *err, size_t errlen)
{
    if (width == 0 || height == 0) {
        snprintf(err, errlen, "image has no pixels (%llux%llu)", (unsigned long long)width, (unsigned long long)height);
        return SCMC_ERR_INVALID_ARG;
    }
    if (width > SCMC_MAX_SIDE || height > SCMC_MAX_SIDE || width * height > SCMC_MAX_PIXELS) {
        snprintf(err, errlen, "image too large (%llux%llu; at most %d per side and %u pixels)",
                 (unsigned long long)width, (unsigned long long)height, SCMC_MAX_SIDE, SCMC_MAX_PIXELS);
        return SCMC_ERR_TOO_LARGE;
    }
    return SCMC_OK;
}

int scmc_image_alloc(ScmcImage *img, int width, int height)
{
    char err[128];
    img->rgb = NULL;
    img->width = img->height = 0;
    const int r = scmc_image_check_size((uint64_t)(width < 0 ? 0 : width), (uint64_t)(height < 0 ? 0 : height), err, sizeof(err));
    if (r)
        return r;
    img->rgb = calloc((size_t)width * height, 3);
    if (!img->rgb)
        return SCMC_ERR_NOMEM;
    img->width = width;
    img->height = height;
    return SCMC_OK;
}

int scmc_image_copy(ScmcImage *dst, const ScmcImage *src)
{
    const int r = scmc_image_alloc(dst, src->width, src->height);
    if (!r)
        memcpy(dst->rgb, src->rgb, (size_t)src->width * src->height * 3);
    return r;
}

void scmc_image_fill(ScmcImage *img, uint8_t r, uint8_t g, uint8_t b)
{
    const size_t n = (size_t)img->width * img->height;
    for (size_t i = 0; i < n; i++) {
        img->rgb[3 * i] = r;
        img->rgb[3 * i + 1] = g;
        img->rgb[3 * i + 2] = b;
    }
}

void scmc_image_free(ScmcImage *img)
{
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

int scmc_image_read(const char *path, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen)
{
    uint8_t *data;
    size_t size;
    char why[200];
    ScmcReadNotes dummy;
    if (!notes)
        notes = &dummy;
    memset(notes, 0, sizeof(*notes));
    img->rgb = NULL;
    int r = scmc_read_file(path, MAX_IMAGE_FILE_BYTES, &data, &size, err, errlen);
    if (r)
        return r;
    why[0] = 0;
    if (size >= 8 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8))
        r = scmc_png_read(data, size, img, notes, why, sizeof(why));
    else if (size >= 12 && !memcmp(data, "RIFF", 4) && !memcmp(data + 8, "WEBP", 4))
        r = scmc_webp_read(data, size, img, notes, why, sizeof(why));
    else if (size >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '6' || data[1] == '7'))
        r = scmc_pnm_read(data, size, img, notes, why, sizeof(why));
    else {
        snprintf(why, sizeof(why), "not a PNG, WebP or binary PPM/PGM/PAM file");
        r = SCMC_ERR_CORRUPT;
    }
    free(data);
    if (r)
        snprintf(err, errlen, "%s: %s", path, why);
    return r;
}

static int has_ext(const char *path, const char *ext)
{
    const size_t n = strlen(path), m = strlen(ext);
    return n > m && !strcasecmp(path + n - m, ext);
}

/* The image types scmc_image_write knows, by extension. */
static const struct {
    const char *ext;
    int (*writer)(FILE *, const ScmcImage *, char *, size_t);
} output_types[] = {
    { ".png", scmc_png_write }, { ".webp", scmc_webp_write }, { ".ppm", scmc_pnm_write }, { ".pnm", scmc_pnm_write },
};

const char *scmc_image_output_extension(const char *path)
{
    for (size_t i = 0; i < sizeof(output_types) / sizeof(output_types[0]); i++)
        if (has_ext(path, output_types[i].ext))
            return path + strlen(path) - strlen(output_types[i].ext);
    return NULL;
}

int scmc_image_write(const char *path, const ScmcImage *img, char *err, size_t errlen)
{
    int (*writer)(FILE *, const ScmcImage *, char *, size_t) = NULL;
    for (size_t i = 0; i < sizeof(output_types) / sizeof(output_types[0]) && !writer; i++)
        if (has_ext(path, output_types[i].ext))
            writer = output_types[i].writer;
    if (!writer) {
        snprintf(err, errlen, "%s: unknown output image type (use .png, .webp or .ppm)", path);
        return SCMC_ERR_INVALID_ARG;
    }
    ScmcAtomicFile af;
    int r = scmc_atomic_open(&af, path, err, errlen);
    if (r)
        return r;
    char why[200] = "";
    r = writer(af.f, img, why, sizeof(why));
    if (r) {
        snprintf(err, errlen, "%s: %s", path, why);
        scmc_atomic_abort(&af);
        return r;
    }
    return scmc_atomic_commit(&af, err, errlen);
}
