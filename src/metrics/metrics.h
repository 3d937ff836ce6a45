/* Image quality metrics used by `scmc compare`, the tests and the benchmark. */
#ifndef SCMC_METRICS_H
#define SCMC_METRICS_H
#include "image/image.h"

/* PSNR over the R, G and B samples together (peak 255); INFINITY for identical images. Both
 * images must have the same size. */
double scmc_psnr(const ScmcImage *a, const ScmcImage *b);
double scmc_mse(const ScmcImage *a, const ScmcImage *b);

/* MS-SSIM (Wang, Simoncelli, Bovik 2003): 5 scales with weights 0.0448, 0.2856, 0.3001, 0.2363,
 * 0.1333, an 11-tap Gaussian window (sigma 1.5) applied without padding, 2x2 average pooling
 * between scales, K1 = 0.01, K2 = 0.03, computed per RGB channel and averaged over channels (as
 * pytorch_msssim and CompressAI do). Images whose smaller side is under 161 pixels (a fifth scale would be
 * smaller than the window) use as many
 * scales as fit (weights renormalised); under 11 pixels, one window over the whole image. */
double scmc_msssim(const ScmcImage *a, const ScmcImage *b);
#endif
