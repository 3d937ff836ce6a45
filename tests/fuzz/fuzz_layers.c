/* Fuzz target: raw payloads straight into each layer decoder (past the container's CRCs).
 * data[0] picks the layer, data[1..2] the image size, the rest is the payload. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    const ScmcLayerOps *ops = scmc_layer_ops(1 + data[0] % 3);
    if (!ops)
        return 0;
    const int w = 1 + data[1] % 128, h = 1 + data[2] % 128;
    ScmcImage base, out;
    if (scmc_image_alloc(&base, w, h))
        abort();
    scmc_image_fill(&base, 128, 128, 128);
    void *st;
    const ScmcRunConfig run = { scmc_nn_default_ops(), 1 };
    if (ops->dec_open(&st, w, h, &run) == SCMC_OK) {
        for (int i = 0; i < 4; i++) { /* the same bytes as successive sub-layers */
            if (ops->dec_sublayer(st, i, data + 3, size - 3) != SCMC_OK)
                break;
            if (ops->render(st, &base, &out) != SCMC_OK)
                abort(); /* a parsed state always paints */
            if (out.width != w || out.height != h)
                abort();
            scmc_image_free(&base);
            base = out;
        }
        ops->dec_close(st);
    }
    scmc_image_free(&base);
    return 0;
}
