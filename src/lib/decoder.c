/* The progressive decoder: a loop over the sub-layers present in the stream, each refining the
 * last reconstruction, stopping at the first sub-layer that is missing, damaged or invalid. */
#include <stdlib.h>
#include <string.h>

#include "layer.h"

struct ScmcDecoder {
    ScmcDecoderSettings s;
    ScmcRunConfig run;
};

/* *shown = a copy of img through the layer's display filter (src/lib/layer.h). */
static int display_copy(const ScmcLayerOps *ops, void *st, const ScmcImage *img, ScmcImage *shown)
{
    int r = scmc_image_copy(shown, img);
    if (!r && (r = ops->present(st, shown)) != SCMC_OK)
        scmc_image_free(shown);
    return r;
}

void scmc_decoder_default_settings(ScmcDecoderSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->threads = 1;
}

int scmc_decoder_open(ScmcDecoder **out, const ScmcDecoderSettings *s)
{
    *out = NULL;
    if (!s || s->threads < 1 || s->threads > 256 || (s->raw_layers != 0 && s->raw_layers != 1))
        return SCMC_ERR_INVALID_ARG;
    for (size_t i = 0; i < sizeof(s->reserved); i++)
        if (s->reserved[i])
            return SCMC_ERR_INVALID_ARG;
    if (!scmc_nn_ops_for(s->backend))
        return SCMC_ERR_UNSUPPORTED;
    ScmcDecoder *d = calloc(1, sizeof(*d));
    if (!d)
        return SCMC_ERR_NOMEM;
    d->s = *s;
    d->run.ops = scmc_nn_ops_for(s->backend);
    d->run.threads = s->threads;
    *out = d;
    return SCMC_OK;
}

void scmc_decoder_close(ScmcDecoder **dec)
{
    if (dec && *dec) {
        free(*dec);
        *dec = NULL;
    }
}

int scmc_decode(ScmcDecoder *dec, const uint8_t *data, size_t size, int max_steps,
                ScmcRefinementCallback cb, void *opaque, ScmcDecodeResult *res)
{
    if (!dec || !res || (!data && size))
        return SCMC_ERR_INVALID_ARG;
    memset(res, 0, sizeof(*res));
    ScmcContainer *c = malloc(sizeof(*c));
    if (!c)
        return SCMC_ERR_NOMEM;
    int r = scmc_container_parse(data, size, c);
    if (r) {
        free(c);
        return r;
    }
    /* Refuse a stream whose known layers need models this build does not have. */
    for (int l = 0; l < c->num_layers; l++) {
        const ScmcLayerOps *ops = scmc_layer_ops((int)c->layers[l].type);
        if (ops && ops->model_id() != c->layers[l].model_id) {
            free(c);
            return SCMC_ERR_MODEL;
        }
    }
    ScmcImage base;
    r = scmc_image_alloc(&base, c->width, c->height);
    if (r) {
        free(c);
        return r;
    }
    scmc_image_fill(&base, SCMC_BASE_GREY, SCMC_BASE_GREY, SCMC_BASE_GREY);
    ScmcStopReason stop = SCMC_STOP_COMPLETE;
    int steps = 0, stop_err = SCMC_OK, fatal = SCMC_OK;
    /* display: base through the display filter of the layer that painted it (none: base itself) */
    ScmcImage display = { 0, 0, NULL };
    for (int l = 0; l < c->num_layers && stop == SCMC_STOP_COMPLETE && !fatal; l++) {
        const ScmcLayerEntry *e = &c->layers[l];
        const ScmcLayerOps *ops = scmc_layer_ops((int)e->type);
        if (!ops) /* an unknown layer type: skipped by length (forward compatibility) */
            continue;
        void *st = NULL;
        int parsed = 0, painted = 0; /* painted: `shown` holds the state after the last parse */
        ScmcImage shown = { 0, 0, NULL };
        ScmcImage filtered = { 0, 0, NULL }; /* `shown` through the display filter, when painted */
        for (int s = 0; s < e->num_sublayers; s++) {
            if (max_steps > 0 && steps >= max_steps) {
                stop = SCMC_STOP_REQUESTED;
                break;
            }
            const int chk = scmc_container_check(c, data, size, l, s);
            if (chk != SCMC_SUBLAYER_OK) {
                stop = chk == SCMC_SUBLAYER_MISSING ? SCMC_STOP_TRUNCATED : SCMC_STOP_CRC;
                stop_err = chk == SCMC_SUBLAYER_MISSING ? SCMC_ERR_TRUNCATED : SCMC_ERR_CORRUPT;
            } else if (!st && (r = ops->dec_open(&st, c->width, c->height, &dec->run)) != SCMC_OK) {
                stop = SCMC_STOP_INVALID;
                stop_err = r;
            } else if ((r = ops->dec_sublayer(st, s, data + e->sub[s].offset, e->sub[s].length)) != SCMC_OK) {
                stop = SCMC_STOP_INVALID;
                stop_err = r;
            } else {
                steps++;
                parsed++;
                painted = 0;
                if (cb) {
                    scmc_image_free(&shown);
                    scmc_image_free(&filtered);
                    if ((fatal = ops->render(st, &base, &shown)) != SCMC_OK)
                        break;
                    painted = 1;
                    if (ops->present && !dec->s.raw_layers &&
                        (fatal = display_copy(ops, st, &shown, &filtered)) != SCMC_OK)
                        break;
                    const ScmcImage *view = filtered.rgb ? &filtered : &shown;
                    const ScmcRefinement ref = { steps, (ScmcLayerType)e->type, s, view->width, view->height, view->rgb };
                    if (cb(opaque, &ref))
                        stop = SCMC_STOP_REQUESTED;
                }
            }
            if (stop != SCMC_STOP_COMPLETE) {
                if (stop != SCMC_STOP_REQUESTED) {
                    res->stop_layer = (ScmcLayerType)e->type;
                    res->stop_sublayer = s;
                }
                break;
            }
        }
        /* the layer's last reconstruction is the base of the next layer (and maybe the output) */
        if (parsed && !fatal && !painted)
            fatal = ops->render(st, &base, &shown);
        if (parsed && !fatal) {
            scmc_image_free(&base);
            scmc_image_free(&display);
            base = shown;
            if (painted && filtered.rgb) { /* the callback's view is already the filtered state */
                display = filtered;
                filtered = (ScmcImage){ 0, 0, NULL };
            } else if (ops->present && !dec->s.raw_layers) {
                fatal = display_copy(ops, st, &base, &display);
            }
        } else {
            scmc_image_free(&shown);
        }
        scmc_image_free(&filtered);
        if (st)
            ops->dec_close(st);
    }
    if (fatal) {
        free(c);
        scmc_image_free(&base);
        scmc_image_free(&display);
        return fatal;
    }
    free(c);
    if (display.rgb) { /* the output is what the last layer shows */
        scmc_image_free(&base);
        base = display;
    }
    if (steps == 0) {
        scmc_image_free(&base);
        return stop_err ? (stop_err == SCMC_ERR_NOMEM ? SCMC_ERR_NOMEM : stop_err == SCMC_ERR_TRUNCATED ? SCMC_ERR_TRUNCATED : SCMC_ERR_CORRUPT)
                        : SCMC_ERR_CORRUPT;
    }
    res->width = base.width;
    res->height = base.height;
    res->rgb = base.rgb;
    res->steps = steps;
    res->stop = stop;
    return SCMC_OK;
}
