/* The binary edge sketch: extraction (encoder only) and its lossless template-context coder. */
#ifndef SCMC_SKETCH_H
#define SCMC_SKETCH_H
#include <stdint.h>

#include "entropy/range_coder.h"

/* Edges of a gw x gh luma plane (0..255 floats) as one-pixel 8-connected curves: Canny with
 * thresholds from the gradient statistics, thinned, fragments shorter than min_fragment dropped,
 * then the weakest curves dropped until at most density * gw * gh pixels remain. edges[] gets
 * 1 on an edge, 0 elsewhere. Returns 0 or SCMC_ERR_NOMEM. Deterministic. */
int scmc_sketch_extract(const float *luma, int gw, int gh, double density, int min_fragment, uint8_t *edges);

/* Number of context bits of the template (bitstream-spec/structure.md, section Sketch). */
#define SCMC_SKETCH_CONTEXT_BITS 10

/* Codes edges[] (0/1 bytes) pixel by pixel in raster order. */
void scmc_sketch_encode(ScmcRangeEncoder *e, const uint8_t *edges, int gw, int gh);
/* The inverse; returns 0, SCMC_ERR_CORRUPT (the payload ran out) or SCMC_ERR_NOMEM. */
int scmc_sketch_decode(ScmcRangeDecoder *d, uint8_t *edges, int gw, int gh);
#endif
