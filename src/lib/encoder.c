/* The encoder: each layer codes the original against the reconstruction the decoder will have,
 * which the encoder obtains by running the layer's own decoder on the sub-layers it just made
 * (closed loop: every truncation point stays consistent). */
#include <stdlib.h>
#include <string.h>

#include "container/container.h"
#include "layer.h"
#include "layers/semantic/semantic.h"
#include "metrics/metrics.h"
#include "layers/structure/structure.h"

struct ScmcEncoder {
    ScmcEncoderSettings s;
    ScmcRunConfig run;
};

void scmc_encoder_default_settings(ScmcEncoderSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->quality = 4;
    s->layers = scmc_available_layers();
    s->caption = NULL;
    s->semantic_cols = 8;
    s->semantic_rows = 6;
    s->threads = 1;
    s->structure_detail = SCMC_STRUCTURE_DETAIL_AUTO;
}

int scmc_encoder_open(ScmcEncoder **out, const ScmcEncoderSettings *s)
{
    *out = NULL;
    if (!s || s->quality < 1 || s->quality > 8 || s->threads < 1 || s->threads > 256 ||
        s->keep_layers < 0 || s->keep_layers > 1 || s->tune < SCMC_TUNE_PSNR || s->tune > SCMC_TUNE_MS_SSIM ||
        s->semantic_cols < 2 || s->semantic_cols > 16 ||
        s->semantic_rows < 2 || s->semantic_rows > 12 ||
        (s->structure_detail != SCMC_STRUCTURE_DETAIL_AUTO &&
         (s->structure_detail < SCMC_STRUCTURE_DETAIL_MIN || s->structure_detail > SCMC_STRUCTURE_DETAIL_MAX)))
        return SCMC_ERR_INVALID_ARG;
    if (s->layers == 0 || (s->layers & ~scmc_available_layers()) || !scmc_nn_ops_for(s->backend))
        return SCMC_ERR_UNSUPPORTED;
    if (s->caption && (strlen(s->caption) > SCMC_MAX_CAPTION || !scmc_utf8_valid(s->caption, strlen(s->caption))))
        return SCMC_ERR_INVALID_ARG;
    for (size_t i = 0; i < sizeof(s->reserved); i++)
        if (s->reserved[i])
            return SCMC_ERR_INVALID_ARG;
    ScmcEncoder *e = calloc(1, sizeof(*e));
    if (!e)
        return SCMC_ERR_NOMEM;
    e->s = *s;
    e->run.ops = scmc_nn_ops_for(s->backend);
    e->run.threads = s->threads;
    *out = e;
    return SCMC_OK;
}

void scmc_encoder_close(ScmcEncoder **enc)
{
    if (enc && *enc) {
        free(*enc);
        *enc = NULL;
    }
}

double scmc_signal_judged_lambda(const ScmcEncoderSettings *s)
{
    /* Under a structure level of its own choosing (auto) the correction's step follows the
     * quality, and its weight is the stream's; a fixed level is coarser than the quality asks
     * for and leaves the rest to the signal layer. */
    if (!(s->layers & SCMC_LAYERS_STRUCTURE) || s->structure_detail != SCMC_STRUCTURE_DETAIL_AUTO || s->keep_layers)
        return 0.0;
    ScmcStructureParams sp;
    scmc_structure_params_for(SCMC_STRUCTURE_DETAIL_AUTO, s->quality, 1, &sp);
    return sp.wavelet_lambda * sp.wavelet_step * sp.wavelet_step;
}

/* Whether a signal layer coded over the structure level base1 (its payloads p, its reconstruction
 * out) is worth its bytes (payloads, their container entries and the layer's) by scmc_pays. */
static int signal_pays(double lambda, const ScmcImage *img, const ScmcImage *base1, const ScmcImage *out,
                       const ScmcPayloads *p)
{
    const double bytes = (double)scmc_container_layer_entry_bytes() + scmc_payloads_stream_bytes(p);
    const double samples = (double)img->width * img->height * 3;
    return scmc_pays((scmc_mse(img, base1) - scmc_mse(img, out)) * samples, lambda, bytes);
}

/* Runs the layer's decoder over its fresh payloads: *base becomes the decoder's reconstruction. */
static int closed_loop(const ScmcLayerOps *ops, const ScmcPayloads *p, const ScmcRunConfig *run, ScmcImage *base)
{
    void *st;
    int r = ops->dec_open(&st, base->width, base->height, run);
    if (r)
        return r;
    for (int i = 0; i < p->count && !r; i++)
        r = ops->dec_sublayer(st, i, p->data[i], p->size[i]);
    ScmcImage next;
    if (!r)
        r = ops->render(st, base, &next);
    if (!r) {
        scmc_image_free(base);
        *base = next;
    }
    ops->dec_close(st);
    return r;
}

int scmc_encode(ScmcEncoder *enc, const uint8_t *rgb, int width, int height, size_t stride,
                uint8_t **out, size_t *out_size)
{
    if (!enc || !rgb || !out || !out_size || width <= 0 || height <= 0 || stride < (size_t)width * 3)
        return SCMC_ERR_INVALID_ARG;
    ScmcImage img, base;
    int r = scmc_image_alloc(&img, width, height);
    if (r)
        return r;
    for (int y = 0; y < height; y++)
        memcpy(img.rgb + (size_t)y * width * 3, rgb + (size_t)y * stride, (size_t)width * 3);
    r = scmc_image_alloc(&base, width, height);
    if (r) {
        scmc_image_free(&img);
        return r;
    }
    scmc_image_fill(&base, SCMC_BASE_GREY, SCMC_BASE_GREY, SCMC_BASE_GREY);

    ScmcContainer *c = calloc(1, sizeof(*c));
    ScmcPayloads *all = calloc(SCMC_MAX_LAYERS, sizeof(*all));
    const uint8_t *data[SCMC_MAX_LAYERS * SCMC_MAX_SUBLAYERS];
    size_t sizes[SCMC_MAX_LAYERS * SCMC_MAX_SUBLAYERS];
    int n = 0;
    if (!c || !all)
        r = SCMC_ERR_NOMEM;
    if (c) {
        c->version = SCMC_FORMAT_VERSION;
        c->width = width;
        c->height = height;
    }
    for (int type = SCMC_LAYER_SEMANTIC; !r && type <= SCMC_LAYER_SIGNAL; type++) {
        if (!(enc->s.layers & (1u << type)))
            continue;
        const ScmcLayerOps *ops = scmc_layer_ops(type);
        ScmcPayloads *p = &all[c->num_layers];
        ScmcImage recon = { 0 };
        r = ops->encode(&img, &base, &enc->s, &enc->run, p, &recon);
        if (r)
            break;
        const double lambda = type == SCMC_LAYER_SIGNAL ? scmc_signal_judged_lambda(&enc->s) : 0.0;
        const int judged = lambda > 0;
        ScmcImage before = { 0 };
        if (judged)
            r = scmc_image_copy(&before, &base);
        if (!r && recon.rgb) { /* the layer rendered what the decoder will: no need to decode again */
            scmc_image_free(&base);
            base = recon;
            recon.rgb = NULL;
        } else if (!r) {
            r = closed_loop(ops, p, &enc->run, &base);
        }
        scmc_image_free(&recon);
        if (judged && !r && !signal_pays(lambda, &img, &before, &base, p)) {
            scmc_payloads_free(p); /* the stream ends with the structure layer, and so does base */
            scmc_image_free(&base);
            base = before;
            continue;
        }
        scmc_image_free(&before);
        if (r)
            break;
        ScmcLayerEntry *e = &c->layers[c->num_layers++];
        e->type = (uint32_t)type;
        e->model_id = ops->model_id();
        e->num_sublayers = p->count;
        for (int i = 0; i < p->count; i++, n++) {
            data[n] = p->data[i];
            sizes[n] = p->size[i];
        }
    }
    if (!r)
        r = scmc_container_write(c, data, sizes, out, out_size);
    if (all)
        for (int l = 0; l < SCMC_MAX_LAYERS; l++)
            scmc_payloads_free(&all[l]);
    free(all);
    free(c);
    scmc_image_free(&img);
    scmc_image_free(&base);
    return r;
}
