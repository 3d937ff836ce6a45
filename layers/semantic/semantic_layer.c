/* The semantic layer as the library sees it (src/lib/layer.h). */
#include <stdlib.h>

#include "lib/layer.h"
#include "semantic.h"

typedef struct SemanticState {
    int width, height;
} SemanticState;

static int encode(const ScmcImage *img, const ScmcImage *base, const ScmcEncoderSettings *s, ScmcPayloads *out)
{
    (void)base; /* the first layer: it describes the image itself */
    const int r = scmc_semantic_encode(img, s->semantic_cols, s->semantic_rows, s->caption, &out->data[0], &out->size[0]);
    if (!r)
        out->count = 1;
    return r;
}

static int dec_open(void **state, int width, int height, int threads)
{
    (void)threads;
    SemanticState *st = malloc(sizeof(*st));
    if (!st)
        return SCMC_ERR_NOMEM;
    st->width = width;
    st->height = height;
    *state = st;
    return SCMC_OK;
}

static int dec_sublayer(void *state, int index, const uint8_t *data, size_t size, const ScmcImage *base, ScmcImage *out)
{
    const SemanticState *st = state;
    (void)base;
    if (index != 0)
        return SCMC_ERR_CORRUPT;
    return scmc_semantic_decode(data, size, st->width, st->height, out);
}

static void dec_close(void *state)
{
    free(state);
}

const ScmcLayerOps scmc_semantic_layer = {
    .type = SCMC_LAYER_SEMANTIC,
    .model_id = scmc_semantic_model_id,
    .encode = encode,
    .dec_open = dec_open,
    .dec_sublayer = dec_sublayer,
    .dec_close = dec_close,
};
