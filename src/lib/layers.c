/* The layers this build carries, in stream order. */
#include <stdlib.h>

#include "layer.h"

extern const ScmcLayerOps scmc_semantic_layer;
extern const ScmcLayerOps scmc_structure_layer;
extern const ScmcLayerOps scmc_signal_layer;

static const ScmcLayerOps *const all_layers[] = {
    &scmc_semantic_layer,
    &scmc_structure_layer,
    &scmc_signal_layer,
};

const ScmcLayerOps *scmc_layer_ops(int type)
{
    for (size_t i = 0; i < sizeof(all_layers) / sizeof(all_layers[0]); i++)
        if ((int)all_layers[i]->type == type)
            return all_layers[i];
    return NULL;
}

unsigned scmc_available_layers(void)
{
    unsigned m = 0;
    for (size_t i = 0; i < sizeof(all_layers) / sizeof(all_layers[0]); i++)
        m |= 1u << all_layers[i]->type;
    return m;
}

void scmc_payloads_free(ScmcPayloads *p)
{
    for (int i = 0; i < p->count; i++)
        free(p->data[i]);
    p->count = 0;
}

double scmc_payloads_stream_bytes(const ScmcPayloads *p)
{
    double bytes = 0.0;
    for (int i = 0; i < p->count; i++)
        bytes += (double)(p->size[i] + scmc_container_sublayer_entry_bytes(p->size[i]));
    return bytes;
}
