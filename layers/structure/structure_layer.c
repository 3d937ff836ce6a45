/* The structure layer as the library sees it (src/lib/layer.h). */
#include <stdlib.h>

#include "lib/layer.h"
#include "structure.h"

typedef struct StructureState {
    int width, height;
    ScmcStructure *parsed;
} StructureState;

static int encode(const ScmcImage *img, const ScmcImage *base, const ScmcEncoderSettings *s, const ScmcRunConfig *run,
                  ScmcPayloads *out)
{
    (void)run;
    ScmcStructureParams p;
    scmc_structure_params(s->structure_detail, &p);
    const int r = scmc_structure_encode(img, base, &p, &out->data[0], &out->size[0]);
    if (!r)
        out->count = 1;
    return r;
}

static int dec_open(void **state, int width, int height, const ScmcRunConfig *run)
{
    (void)run;
    StructureState *st = calloc(1, sizeof(*st));
    if (!st)
        return SCMC_ERR_NOMEM;
    st->width = width;
    st->height = height;
    *state = st;
    return SCMC_OK;
}

static int dec_sublayer(void *state, int index, const uint8_t *data, size_t size)
{
    StructureState *st = state;
    ScmcStructure *parsed;
    if (index != 0)
        return SCMC_ERR_CORRUPT;
    const int r = scmc_structure_parse(data, size, st->width, st->height, &parsed);
    if (r)
        return r;
    scmc_structure_free(st->parsed);
    st->parsed = parsed;
    return SCMC_OK;
}

static int render(void *state, const ScmcImage *base, ScmcImage *out)
{
    const StructureState *st = state;
    if (!st->parsed)
        return SCMC_ERR_INVALID_ARG;
    return scmc_structure_rebuild(st->parsed, base, out);
}

static void dec_close(void *state)
{
    StructureState *st = state;
    scmc_structure_free(st->parsed);
    free(st);
}

const ScmcLayerOps scmc_structure_layer = {
    .type = SCMC_LAYER_STRUCTURE,
    .model_id = scmc_structure_model_id,
    .encode = encode,
    .dec_open = dec_open,
    .dec_sublayer = dec_sublayer,
    .render = render,
    .dec_close = dec_close,
};
