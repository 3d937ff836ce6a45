/* The semantic layer as the library sees it (src/lib/layer.h). */
#include <stdlib.h>

#include "lib/layer.h"
#include "describe.h"
#include "semantic.h"

typedef struct SemanticState {
    int width, height;
    char *text;
} SemanticState;

static int encode(const ScmcImage *img, const ScmcImage *base, const ScmcEncoderSettings *s, const ScmcRunConfig *run,
                  ScmcPayloads *out, ScmcImage *recon)
{
    (void)recon; /* the library decodes the payloads: the closed loop */
    (void)base;
    (void)run; /* the first layer: it describes the image itself */
    const int r = scmc_semantic_encode(img, s->semantic_cols, s->semantic_rows, s->caption, &out->data[0], &out->size[0]);
    if (!r)
        out->count = 1;
    return r;
}

static int dec_open(void **state, int width, int height, const ScmcRunConfig *run)
{
    (void)run;
    SemanticState *st = malloc(sizeof(*st));
    if (!st)
        return SCMC_ERR_NOMEM;
    st->width = width;
    st->height = height;
    st->text = NULL;
    *state = st;
    return SCMC_OK;
}

static int dec_sublayer(void *state, int index, const uint8_t *data, size_t size)
{
    SemanticState *st = state;
    char *text, *caption;
    if (index != 0)
        return SCMC_ERR_CORRUPT;
    int r = scmc_semantic_parse(data, size, &text, &caption);
    if (r)
        return r;
    free(caption);
    /* a text the renderer cannot paint makes the payload invalid at parse time */
    ScmcImage probe;
    r = scmc_render(text, 1, 1, &probe);
    if (r) {
        free(text);
        return r;
    }
    scmc_image_free(&probe);
    free(st->text);
    st->text = text;
    return SCMC_OK;
}

static int render(void *state, const ScmcImage *base, ScmcImage *out)
{
    const SemanticState *st = state;
    (void)base; /* the first layer paints from its text alone */
    if (!st->text)
        return SCMC_ERR_INVALID_ARG;
    return scmc_render(st->text, st->width, st->height, out);
}

static void dec_close(void *state)
{
    SemanticState *st = state;
    free(st->text);
    free(st);
}

const ScmcLayerOps scmc_semantic_layer = {
    .type = SCMC_LAYER_SEMANTIC,
    .model_id = scmc_semantic_model_id,
    .encode = encode,
    .dec_open = dec_open,
    .dec_sublayer = dec_sublayer,
    .render = render,
    .dec_close = dec_close,
};
