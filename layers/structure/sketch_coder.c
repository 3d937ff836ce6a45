/* Lossless coding of the binary sketch: each pixel, in raster order, is one adaptive binary
 * decision whose context is the 10 pixels of the JBIG three-line template already coded:
 *
 *        row y-2:        a9 a8 a7
 *        row y-1:     a6 a5 a4 a3 a2
 *        row y:       a1 a0  X
 *
 * (pixels outside the grid are 0). Edge maps are thin curves, so the template sees the curve
 * arriving from above or the left and predicts where it goes next. */
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "sketch.h"

#define NUM_CONTEXTS (1 << SCMC_SKETCH_CONTEXT_BITS)

/* The grid with a 2-pixel zero border on the left, right and top: rows of gw + 4 bytes, the
 * pixel (x, y) at pad[(y + 2) * (gw + 4) + x + 2]. */
static uint8_t *padded_alloc(int gw, int gh)
{
    return calloc((size_t)(gw + 4) * (size_t)(gh + 2), 1);
}

static inline unsigned context_at(const uint8_t *p, size_t stride)
{
    const uint8_t *r2 = p - 2 * stride, *r1 = p - stride;
    return (unsigned)r2[1] << 9 | (unsigned)r2[0] << 8 | (unsigned)r2[-1] << 7 |
           (unsigned)r1[2] << 6 | (unsigned)r1[1] << 5 | (unsigned)r1[0] << 4 |
           (unsigned)r1[-1] << 3 | (unsigned)r1[-2] << 2 | (unsigned)p[-2] << 1 | (unsigned)p[-1];
}

static void models_init(ScmcBitModel *m)
{
    for (int i = 0; i < NUM_CONTEXTS; i++)
        scmc_bit_model_init(&m[i]);
}

void scmc_sketch_encode(ScmcRangeEncoder *e, const uint8_t *edges, int gw, int gh)
{
    ScmcBitModel models[NUM_CONTEXTS];
    models_init(models);
    const size_t stride = (size_t)gw + 4;
    uint8_t *pad = padded_alloc(gw, gh);
    if (!pad) {
        e->error = 1;
        return;
    }
    for (int y = 0; y < gh; y++) {
        uint8_t *row = pad + (size_t)(y + 2) * stride + 2;
        for (int x = 0; x < gw; x++) {
            const int bit = edges[(size_t)y * gw + x] != 0;
            scmc_renc_bit(e, &models[context_at(row + x, stride)], bit);
            row[x] = (uint8_t)bit;
        }
    }
    free(pad);
}

int scmc_sketch_decode(ScmcRangeDecoder *d, uint8_t *edges, int gw, int gh)
{
    ScmcBitModel models[NUM_CONTEXTS];
    models_init(models);
    const size_t stride = (size_t)gw + 4;
    uint8_t *pad = padded_alloc(gw, gh);
    if (!pad)
        return SCMC_ERR_NOMEM;
    for (int y = 0; y < gh; y++) {
        uint8_t *row = pad + (size_t)(y + 2) * stride + 2;
        for (int x = 0; x < gw; x++) {
            const int bit = scmc_rdec_bit(d, &models[context_at(row + x, stride)]);
            row[x] = (uint8_t)bit;
            edges[(size_t)y * gw + x] = (uint8_t)bit;
        }
        /* a payload that ran out is invalid: stop at once rather than decode a huge grid from
         * the zeros the range decoder reads past the end */
        if (scmc_rdec_overrun(d)) {
            free(pad);
            return SCMC_ERR_CORRUPT;
        }
    }
    free(pad);
    return SCMC_OK;
}
