/* PNG through libpng: every colour type, bit depth and interlacing is read as 8-bit RGB. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "image.h"

typedef struct PngSource {
    const uint8_t *data;
    size_t size, pos;
} PngSource;

typedef struct PngErr {
    char *err;
    size_t errlen;
} PngErr;

static void png_error_fn(png_structp png, png_const_charp msg)
{
    PngErr *pe = png_get_error_ptr(png);
    snprintf(pe->err, pe->errlen, "invalid PNG: %s", msg);
    png_longjmp(png, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* libpng warnings (e.g. unknown chunks) are not worth a line on stderr */
}

static void read_fn(png_structp png, png_bytep out, png_size_t n)
{
    PngSource *src = png_get_io_ptr(png);
    if (n > src->size - src->pos)
        png_error(png, "file is truncated");
    memcpy(out, src->data + src->pos, n);
    src->pos += n;
}

int scmc_png_read(const uint8_t *data, size_t size, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen)
{
    PngErr pe = { err, errlen };
    PngSource src = { data, size, 0 };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &pe, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    /* both change after setjmp and are read after a longjmp: volatile, or an optimizing
     * compiler may hand back their values from the setjmp (a leak, found at -O2 under ASan) */
    png_bytep *volatile rows = NULL;
    volatile int ret = SCMC_ERR_CORRUPT;
    img->rgb = NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(err, errlen, "out of memory");
        return SCMC_ERR_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        scmc_image_free(img);
        png_destroy_read_struct(&png, &info, NULL);
        return ret;
    }
    png_set_read_fn(png, &src, read_fn);
    png_set_user_limits(png, SCMC_MAX_SIDE, SCMC_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    ret = scmc_image_check_size(w, h, err, errlen);
    if (ret)
        png_longjmp(png, 1);
    if (depth == 16)
        png_set_scale_16(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) {
        png_set_tRNS_to_alpha(png);
        ctype |= PNG_COLOR_MASK_ALPHA;
    }
    if (ctype & PNG_COLOR_MASK_ALPHA) {
        png_set_strip_alpha(png);
        notes->alpha_dropped = 1;
    }
    if (!(ctype & PNG_COLOR_MASK_COLOR))
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        snprintf(err, errlen, "unsupported PNG layout");
        png_longjmp(png, 1);
    }
    ret = scmc_image_alloc(img, (int)w, (int)h);
    rows = ret ? NULL : malloc(sizeof(*rows) * h);
    if (!rows) {
        snprintf(err, errlen, "out of memory");
        ret = SCMC_ERR_NOMEM;
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = img->rgb + (size_t)y * w * 3;
    ret = SCMC_ERR_CORRUPT;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return SCMC_OK;
}

int scmc_png_write(FILE *f, const ScmcImage *img, char *err, size_t errlen)
{
    PngErr pe = { err, errlen };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &pe, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(err, errlen, "out of memory");
        return SCMC_ERR_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return SCMC_ERR_IO;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++)
        png_write_row(png, img->rgb + (size_t)y * img->width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return SCMC_OK;
}
