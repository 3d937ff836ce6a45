/* The structure layer's second sub-layer: what the sketch-level image (sub-layer 0) still misses,
 * as quantized CDF 9/7 wavelet coefficients of the YCoCg correction, context-coded
 * (bitstream-spec/structure.md, "Wavelet correction"). It carries the spatial frequencies between
 * the semantic rendering and the edges that a sparse set of samples cannot hold. */
#ifndef SCMC_CORRECTION_H
#define SCMC_CORRECTION_H
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"
#include "restore.h"

/* Quantizer steps are in grey levels of the unit-gain transform, 1..SCMC_CORRECTION_MAX_STEP. */
#define SCMC_CORRECTION_MAX_STEP 4095

typedef struct ScmcCorrection {
    int width, height;
    int step[3];   /* Y, Co, Cg */
    int sharpen;   /* edge sharpening strength for display, 0..SCMC_SHARPEN_MAX (sharpen.h) */
    int dq;        /* 1: dependent quantization (two interleaved quantizers, correction.c) */
    int32_t *q;    /* 3 planes of width * height quantized coefficients, Mallat layout */
    ScmcRestore restore; /* the restoration filter applied after the correction (restore.h) */
} ScmcCorrection;

/* The encoder's rate-distortion weight: the values minimise squared RGB error + lambda * bits with
 * lambda = SCMC_CORRECTION_RDO_LAMBDA * step^2 (docs/structure.md, "Rate-distortion quantization"). */
#define SCMC_CORRECTION_RDO_LAMBDA 0.25
/* Under the signal layer, where the restoration filter takes back part of what a finer choice
 * would have kept, a lighter weight measured better (docs/structure.md, "Restoration filter"). */
#define SCMC_CORRECTION_RDO_LAMBDA_UNDER_SIGNAL 0.2
/* With dependent quantization (its step 1.25 times one quantizer's at about the same rate):
 * measured against 0.14 and 0.2 (docs/structure.md, "Dependent quantization"). */
#define SCMC_CORRECTION_RDO_LAMBDA_DQ 0.17

/* Codes img - base (same size) at the given luma and chroma steps, and the sharpening strength that
 * suits the result, into *payload (free()). */
int scmc_correction_encode(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                           uint8_t **payload, size_t *size);
/* The same with lambda = lambda_scale * step^2 (0: the nearest values, distortion alone), and with
 * dependent quantization when dq is 1. */
int scmc_correction_encode_rd(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                              double lambda_scale, int dq, uint8_t **payload, size_t *size);
/* SCMC_ERR_CORRUPT when the payload is invalid. */
int scmc_correction_parse(const uint8_t *payload, size_t size, int width, int height, ScmcCorrection **out);
/* out = base + the correction, restoration-filtered (out is allocated): base1, what the signal
 * layer refines; the sharpening is for display only (structure_layer.c). Integer-only: identical
 * on every machine. */
int scmc_correction_apply(const ScmcCorrection *c, const ScmcImage *base, ScmcImage *out);
void scmc_correction_free(ScmcCorrection *c);
#endif
