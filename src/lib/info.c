/* Stream description (scmc info) and truncation (scmc truncate). */
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "layers/semantic/semantic.h"

int scmc_stream_info(const uint8_t *data, size_t size, ScmcStreamInfo *info)
{
    if (!info || (!data && size))
        return SCMC_ERR_INVALID_ARG;
    memset(info, 0, sizeof(*info));
    ScmcContainer *c = malloc(sizeof(*c));
    if (!c)
        return SCMC_ERR_NOMEM;
    int r = scmc_container_parse(data, size, c);
    if (r) {
        free(c);
        return r;
    }
    info->width = c->width;
    info->height = c->height;
    info->format_version = c->version;
    info->header_bytes = c->header_size;
    info->stream_bytes = c->total_size;
    info->num_layers = c->num_layers;
    info->layers = calloc((size_t)(c->num_layers ? c->num_layers : 1), sizeof(*info->layers));
    if (!info->layers) {
        free(c);
        return SCMC_ERR_NOMEM;
    }
    for (int l = 0; l < c->num_layers; l++) {
        const ScmcLayerEntry *e = &c->layers[l];
        ScmcLayerInfo *li = &info->layers[l];
        li->type = (int)e->type;
        li->model_id = e->model_id;
        li->num_sublayers = e->num_sublayers;
        li->sublayers = calloc((size_t)e->num_sublayers, sizeof(*li->sublayers));
        if (!li->sublayers) {
            free(c);
            scmc_stream_info_free(info);
            return SCMC_ERR_NOMEM;
        }
        for (int s = 0; s < e->num_sublayers; s++) {
            const int chk = scmc_container_check(c, data, size, l, s);
            li->sublayers[s].bytes = e->sub[s].length;
            li->sublayers[s].present = chk != SCMC_SUBLAYER_MISSING;
            li->sublayers[s].crc_ok = chk == SCMC_SUBLAYER_OK;
        }
        if (e->type == SCMC_LAYER_SEMANTIC && e->model_id == scmc_semantic_model_id() &&
            scmc_container_check(c, data, size, l, 0) == SCMC_SUBLAYER_OK) {
            /* best effort: an undecodable text is reported as absent */
            scmc_semantic_parse(data + e->sub[0].offset, e->sub[0].length, &info->text, &info->caption);
        }
    }
    free(c);
    return SCMC_OK;
}

void scmc_stream_info_free(ScmcStreamInfo *info)
{
    if (!info)
        return;
    for (int l = 0; info->layers && l < info->num_layers; l++)
        free(info->layers[l].sublayers);
    free(info->layers);
    free(info->text);
    free(info->caption);
    memset(info, 0, sizeof(*info));
}

int scmc_truncate(const uint8_t *data, size_t size, int keep_sublayers, uint8_t **out, size_t *out_size)
{
    if (!data || !out || !out_size || keep_sublayers < 1)
        return SCMC_ERR_INVALID_ARG;
    ScmcContainer *c = malloc(sizeof(*c));
    if (!c)
        return SCMC_ERR_NOMEM;
    int r = scmc_container_parse(data, size, c);
    if (r) {
        free(c);
        return r;
    }
    if (keep_sublayers > scmc_container_count_sublayers(c)) {
        free(c);
        return SCMC_ERR_INVALID_ARG;
    }
    scmc_container_keep(c, keep_sublayers);
    const uint8_t *payloads[SCMC_MAX_LAYERS * SCMC_MAX_SUBLAYERS];
    size_t lengths[SCMC_MAX_LAYERS * SCMC_MAX_SUBLAYERS];
    int n = 0;
    for (int l = 0; l < c->num_layers; l++)
        for (int s = 0; s < c->layers[l].num_sublayers; s++, n++) {
            const int chk = scmc_container_check(c, data, size, l, s);
            if (chk != SCMC_SUBLAYER_OK) { /* only whole, valid sub-layers are kept */
                free(c);
                return chk == SCMC_SUBLAYER_MISSING ? SCMC_ERR_TRUNCATED : SCMC_ERR_CORRUPT;
            }
            payloads[n] = data + c->layers[l].sub[s].offset;
            lengths[n] = c->layers[l].sub[s].length;
        }
    r = scmc_container_write(c, payloads, lengths, out, out_size);
    free(c);
    return r;
}
