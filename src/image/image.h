/* 8-bit RGB image buffers and image file I/O (PNG, WebP, PPM/PGM/PAM). */
#ifndef SCMC_IMAGE_H
#define SCMC_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ScmcImage {
    int width, height;
    uint8_t *rgb;        /* width*height*3 bytes, rows packed */
} ScmcImage;

/* Allocates a zeroed image; caps at SCMC_MAX_SIDE / SCMC_MAX_PIXELS. Returns SCMC_OK or error. */
int scmc_image_alloc(ScmcImage *img, int width, int height);
int scmc_image_copy(ScmcImage *dst, const ScmcImage *src);
void scmc_image_fill(ScmcImage *img, uint8_t r, uint8_t g, uint8_t b);
void scmc_image_free(ScmcImage *img);

/* What a reader noticed but did not refuse. */
typedef struct ScmcReadNotes {
    int alpha_dropped;
} ScmcReadNotes;

/* Reads PNG, WebP or binary PPM/PGM/PAM, recognised by content. On failure returns an SCMC_ERR_*
 * and a one-line reason in err. */
int scmc_image_read(const char *path, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen);
/* Writes PNG, WebP (lossless) or PPM by the extension of path, through a temporary file renamed
 * into place, so a failure never leaves a partial file. */
int scmc_image_write(const char *path, const ScmcImage *img, char *err, size_t errlen);
/* The extension (a pointer into path) that picks the type scmc_image_write writes; NULL when
 * path names no type it writes. */
const char *scmc_image_output_extension(const char *path);

/* Format-specific parts (image_png.c, image_webp.c, image_pnm.c). Readers get the whole file. */
int scmc_png_read(const uint8_t *data, size_t size, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen);
int scmc_png_write(FILE *f, const ScmcImage *img, char *err, size_t errlen);
int scmc_webp_read(const uint8_t *data, size_t size, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen);
int scmc_webp_write(FILE *f, const ScmcImage *img, char *err, size_t errlen);
int scmc_pnm_read(const uint8_t *data, size_t size, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen);
int scmc_pnm_write(FILE *f, const ScmcImage *img, char *err, size_t errlen);

/* Checks dimensions against the library caps; fills err. */
int scmc_image_check_size(uint64_t width, uint64_t height, char *err, size_t errlen);
#endif
