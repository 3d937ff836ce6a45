/* The signal layer's restoration network: a learned correction of base1 (what the layers below
 * decoded), applied at the strength sub-layer 0 names before the latent groups refine it
 * (bitstream-spec/signal.md, "Restoration"). Float: it changes pixels, never the parse. */
#ifndef SCMC_SIGNAL_ENHANCE_H
#define SCMC_SIGNAL_ENHANCE_H
#include "image/image.h"
#include "nn/nn_ops.h"
#include "signal_model.h"

/* Strength field values 0..3 and the fraction of the correction each applies. */
#define SCMC_ENHANCE_NUM_STRENGTHS 4
extern const float scmc_enhance_strengths[SCMC_ENHANCE_NUM_STRENGTHS];
/* The tail's output unit, in grey levels (enhance_model.py, SCALE). */
#define SCMC_ENHANCE_SCALE 16.0f

/* Half-resolution rows each band of the network reads beyond its own on either side: as far as
 * a band's zero padding reaches into the rows the network computes (even). */
int scmc_enhance_margin(const ScmcEnhancer *e);

/* The correction the network predicts for base at quality 1..8: *corr gets 3 planes of
 * height x width floats in grey levels (channel-major; free() it). Runs in bands of rows with a
 * margin as wide as the network sees, so memory stays bounded for any picture size. */
int scmc_enhance_correction(const ScmcEnhancer *e, const ScmcNnOps *ops, const ScmcImage *base, int quality,
                            float **corr);
/* out (allocated here) = clamp(round(base + scmc_enhance_strengths[strength] * corr)). */
int scmc_enhance_apply(const ScmcImage *base, const float *corr, int strength, ScmcImage *out);
#endif
