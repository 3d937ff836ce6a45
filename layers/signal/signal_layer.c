/* The signal layer as the library sees it (src/lib/layer.h). */
#include <stdlib.h>

#include "lib/layer.h"
#include "signal_codec.h"

static uint32_t model_id(void)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    return m ? m->id : 0;
}

static int encode(const ScmcImage *img, const ScmcImage *base, const ScmcEncoderSettings *s, const ScmcRunConfig *run,
                  ScmcPayloads *out, ScmcImage *recon)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    if (!m)
        return SCMC_ERR_MODEL;
    run->ops->set_threads(run->threads);
    const ScmcSignalEncodeParams par = { s->quality, SCMC_SIGNAL_RDOQ_MU, 0, 1, scmc_signal_judged_lambda(s) };
    return scmc_signal_encode_rec(m, run->ops, img, base, &par, out, recon);
}

static int dec_open(void **state, int width, int height, const ScmcRunConfig *run)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    if (!m)
        return SCMC_ERR_MODEL;
    ScmcSignalDecoder *d = malloc(sizeof(*d));
    if (!d)
        return SCMC_ERR_NOMEM;
    run->ops->set_threads(run->threads);
    const int r = scmc_signal_decoder_init(d, m, run->ops, width, height);
    if (r) {
        free(d);
        return r;
    }
    *state = d;
    return SCMC_OK;
}

static int dec_sublayer(void *state, int index, const uint8_t *data, size_t size)
{
    return scmc_signal_decode_sublayer(state, index, data, size);
}

static int render(void *state, const ScmcImage *base, ScmcImage *out)
{
    return scmc_signal_render(state, base, out);
}

static void dec_close(void *state)
{
    scmc_signal_decoder_free(state);
    free(state);
}

const ScmcLayerOps scmc_signal_layer = {
    .type = SCMC_LAYER_SIGNAL,
    .model_id = model_id,
    .encode = encode,
    .dec_open = dec_open,
    .dec_sublayer = dec_sublayer,
    .render = render,
    .dec_close = dec_close,
};
