#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "bytes.h"
#include "container.h"
#include "crc32.h"

static void write_header(const ScmcContainer *c, ScmcByteWriter *w)
{
    scmc_bw_bytes(w, (const uint8_t *)SCMC_MAGIC, 4);
    scmc_bw_u8(w, (uint32_t)c->version);
    scmc_bw_varint(w, (uint32_t)c->width);
    scmc_bw_varint(w, (uint32_t)c->height);
    scmc_bw_u8(w, (uint32_t)c->num_layers);
    for (int l = 0; l < c->num_layers; l++) {
        const ScmcLayerEntry *e = &c->layers[l];
        scmc_bw_u8(w, e->type);
        scmc_bw_u32(w, e->model_id);
        scmc_bw_u8(w, (uint32_t)e->num_sublayers);
        for (int s = 0; s < e->num_sublayers; s++) {
            scmc_bw_varint(w, e->sub[s].length);
            scmc_bw_u32(w, e->sub[s].crc);
        }
    }
    scmc_bw_u32(w, scmc_crc32(0, w->buf, w->size));
}

int scmc_container_parse(const uint8_t *data, size_t size, ScmcContainer *c)
{
    ScmcByteReader r;
    memset(c, 0, sizeof(*c));
    scmc_br_init(&r, data, size);
    const uint8_t *magic = scmc_br_bytes(&r, 4);
    if (!magic) /* a prefix of the magic is still a truncated stream, anything else is not ours */
        return size && memcmp(data, SCMC_MAGIC, size) ? SCMC_ERR_CORRUPT : SCMC_ERR_TRUNCATED;
    if (memcmp(magic, SCMC_MAGIC, 4))
        return SCMC_ERR_CORRUPT;
    c->version = (int)scmc_br_u8(&r);
    if (r.error)
        return SCMC_ERR_TRUNCATED;
    if (c->version == 0)
        return SCMC_ERR_CORRUPT;
    if (c->version > SCMC_FORMAT_VERSION)
        return SCMC_ERR_UNSUPPORTED;
    const uint32_t w = scmc_br_varint(&r), h = scmc_br_varint(&r);
    const uint32_t nl = scmc_br_u8(&r);
    if (r.error)
        return r.malformed ? SCMC_ERR_CORRUPT : SCMC_ERR_TRUNCATED;
    if (w == 0 || h == 0)
        return SCMC_ERR_CORRUPT;
    if (w > SCMC_MAX_SIDE || h > SCMC_MAX_SIDE || (uint64_t)w * h > SCMC_MAX_PIXELS)
        return SCMC_ERR_TOO_LARGE;
    if (nl > SCMC_MAX_LAYERS)
        return SCMC_ERR_CORRUPT;
    c->width = (int)w;
    c->height = (int)h;
    c->num_layers = (int)nl;
    uint64_t payload = 0;
    for (uint32_t l = 0; l < nl; l++) {
        ScmcLayerEntry *e = &c->layers[l];
        e->type = scmc_br_u8(&r);
        e->model_id = scmc_br_u32(&r);
        const uint32_t ns = scmc_br_u8(&r);
        if (r.error)
            return SCMC_ERR_TRUNCATED;
        if (ns == 0 || ns > SCMC_MAX_SUBLAYERS)
            return SCMC_ERR_CORRUPT;
        e->num_sublayers = (int)ns;
        for (uint32_t s = 0; s < ns; s++) {
            e->sub[s].length = scmc_br_varint(&r);
            e->sub[s].crc = scmc_br_u32(&r);
            if (r.error)
                return r.malformed ? SCMC_ERR_CORRUPT : SCMC_ERR_TRUNCATED;
            if (e->sub[s].length > SCMC_MAX_SUBLAYER_BYTES)
                return SCMC_ERR_CORRUPT;
            payload += e->sub[s].length;
        }
    }
    const size_t crc_pos = r.pos;
    const uint32_t crc = scmc_br_u32(&r);
    if (r.error)
        return SCMC_ERR_TRUNCATED;
    if (crc != scmc_crc32(0, data, crc_pos))
        return SCMC_ERR_CORRUPT;
    c->header_size = r.pos;
    size_t off = r.pos;
    for (int l = 0; l < c->num_layers; l++)
        for (int s = 0; s < c->layers[l].num_sublayers; s++) {
            c->layers[l].sub[s].offset = off;
            off += c->layers[l].sub[s].length;
        }
    c->total_size = (size_t)(c->header_size + payload);
    return SCMC_OK;
}

int scmc_container_check(const ScmcContainer *c, const uint8_t *data, size_t size, int layer, int sub)
{
    const ScmcSublayerEntry *e = &c->layers[layer].sub[sub];
    if (e->offset > size || e->length > size - e->offset)
        return SCMC_SUBLAYER_MISSING;
    return scmc_crc32(0, data + e->offset, e->length) == e->crc ? SCMC_SUBLAYER_OK : SCMC_SUBLAYER_BAD_CRC;
}

int scmc_container_write(ScmcContainer *c, const uint8_t *const *payloads, const size_t *lengths,
                         uint8_t **out, size_t *out_size)
{
    int i = 0;
    for (int l = 0; l < c->num_layers; l++)
        for (int s = 0; s < c->layers[l].num_sublayers; s++, i++) {
            if (lengths[i] > SCMC_MAX_SUBLAYER_BYTES)
                return SCMC_ERR_TOO_LARGE;
            c->layers[l].sub[s].length = (uint32_t)lengths[i];
            c->layers[l].sub[s].crc = scmc_crc32(0, payloads[i], lengths[i]);
        }
    ScmcByteWriter w;
    scmc_bw_init(&w);
    write_header(c, &w);
    c->header_size = w.size;
    i = 0;
    for (int l = 0; l < c->num_layers; l++)
        for (int s = 0; s < c->layers[l].num_sublayers; s++, i++) {
            c->layers[l].sub[s].offset = w.size;
            scmc_bw_bytes(&w, payloads[i], lengths[i]);
        }
    if (w.error) {
        scmc_bw_free(&w);
        return SCMC_ERR_NOMEM;
    }
    c->total_size = w.size;
    *out = w.buf;
    *out_size = w.size;
    return SCMC_OK;
}

size_t scmc_container_sublayer_entry_bytes(size_t length)
{
    size_t n = 1;
    while (length >>= 7)
        n++;
    return n + 4;
}

size_t scmc_container_layer_entry_bytes(void)
{
    return 1 + 4 + 1;
}

int scmc_container_count_sublayers(const ScmcContainer *c)
{
    int n = 0;
    for (int l = 0; l < c->num_layers; l++)
        n += c->layers[l].num_sublayers;
    return n;
}

void scmc_container_keep(ScmcContainer *c, int n)
{
    int l = 0;
    for (; l < c->num_layers && n > 0; l++) {
        if (c->layers[l].num_sublayers > n)
            c->layers[l].num_sublayers = n;
        n -= c->layers[l].num_sublayers;
    }
    c->num_layers = l;
}
