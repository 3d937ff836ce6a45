/* The CDF 9/7 wavelet of the structure layer's correction sub-layer (bitstream-spec/structure.md,
 * "Wavelet correction"). The inverse is normative and integer-only (fixed-point lifting), so every
 * decoder reconstructs the same correction; the forward transform is the encoder's business and
 * runs in double precision. Planes use the Mallat layout: after each level the low band occupies
 * the top-left ceil(w/2) x ceil(h/2) of the region the level transformed. */
#ifndef SCMC_WAVELET_H
#define SCMC_WAVELET_H
#include <stdint.h>

/* Decomposition levels of the correction (fixed by the syntax). */
#define SCMC_WAVELET_LEVELS 5
/* Fixed-point fraction bits of the inverse transform's samples (value = 16 * grey levels). */
#define SCMC_WAVELET_FRAC 4
/* Every lifted sample is clamped to +-this, which keeps hostile coefficients from overflowing
 * while no genuine stream comes near it. */
#define SCMC_WAVELET_CLAMP (1 << 28)

/* Band geometry: the region that level l (1 = finest) splits is dims[l-1] wide/high, and its low
 * band dims[l]; dims[0] is the plane's size. */
void scmc_wavelet_dims(int size, int dims[SCMC_WAVELET_LEVELS + 1]);

/* In place, levels 1..SCMC_WAVELET_LEVELS (vertical split, then horizontal); tmp holds max(w, h)
 * doubles. */
void scmc_wavelet_forward(double *plane, int w, int h, double *tmp);
/* In place, the inverse in the exact integer order the syntax fixes; tmp holds max(w, h) int32_t. */
void scmc_wavelet_inverse(int32_t *plane, int w, int h, int32_t *tmp);
/* The same for levels SCMC_WAVELET_LEVELS down to `level` only: the top-left dims[level - 1]
 * region becomes the low band of level level - 1 (the whole plane for level 1). */
void scmc_wavelet_inverse_to(int32_t *plane, int w, int h, int level, int32_t *tmp);
/* One forward level (`level`, 1 = finest) of the region dims[level - 1] in integer lifting with the
 * inverse's constants, rounding and clamp; normative, as the correction's coarse-scale prediction
 * (bitstream-spec/structure.md) feeds its contexts. tmp holds max(w, h) int32_t. */
void scmc_wavelet_forward_level_int(int32_t *plane, int w, int h, int level, int32_t *tmp);
#endif
