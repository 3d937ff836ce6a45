/* The structure layer's edge sharpening (bitstream-spec/structure.md, "Edge sharpening (display)"):
 * a one-step shock filter on base1 when the structure level is shown (the signal layer refines
 * base1 unsharpened). At a bit rate where the wavelet correction keeps only the
 * coarse bands, every edge of base1 is a ramp a few pixels wide; the filter moves each pixel part
 * of the way towards the colour of the darkest or brightest pixel of its 5x5 neighbourhood, on the
 * side of the ramp the smoothed luma Laplacian says it lies, which steepens the ramp without
 * moving it. The strength is
 * chosen by the encoder and sent in the correction payload; the filter itself is integer-only. */
#ifndef SCMC_SHARPEN_H
#define SCMC_SHARPEN_H
#include <stdint.h>

#include "image/image.h"

/* Strength in sixteenths of the way to the target; 0 leaves the image as it is. */
#define SCMC_SHARPEN_MAX 15

/* tgt (3 * width * height bytes, like img->rgb) = each pixel's target colour: that of the darkest
 * pixel (luma R + 2G + B) of its 5x5 window where the smoothed luma Laplacian is positive, of the
 * brightest where it is negative, its own where it is 0. */
int scmc_sharpen_targets(const ScmcImage *img, uint8_t *tgt);
/* img moves strength/16 of the way to its targets (rounded half away from zero), in place. */
void scmc_sharpen_blend(ScmcImage *img, const uint8_t *tgt, int strength);
/* scmc_sharpen_targets then scmc_sharpen_blend; strength 0 returns at once. */
int scmc_sharpen_apply(ScmcImage *img, int strength);
/* The encoder's choice for img against the original orig: the largest strength whose squared
 * error is not above that of strength 0, i.e. the sharpest edges that cost no PSNR. */
int scmc_sharpen_choose(const ScmcImage *orig, const ScmcImage *img, int *strength);
#endif
