#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "container/bytes.h"
#include "container/crc32.h"
#include "weights.h"

#define MAX_TENSORS 4096

int scmc_weights_parse(const uint8_t *data, size_t size, ScmcWeights *w, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    if (size < 16 || memcmp(data, "SCMW", 4)) {
        snprintf(err, errlen, "not an SCMC weight file");
        return SCMC_ERR_CORRUPT;
    }
    const uint32_t crc = (uint32_t)data[size - 4] | (uint32_t)data[size - 3] << 8 | (uint32_t)data[size - 2] << 16 |
                         (uint32_t)data[size - 1] << 24;
    if (scmc_crc32(0, data, size - 4) != crc) {
        snprintf(err, errlen, "weight file damaged (CRC mismatch)");
        return SCMC_ERR_CORRUPT;
    }
    /* a copy whose tensor data we can hand out as aligned float / int32 arrays */
    w->buffer = malloc(size);
    if (!w->buffer)
        return SCMC_ERR_NOMEM;
    ScmcByteReader r;
    scmc_br_init(&r, data, size - 4);
    scmc_br_bytes(&r, 4);
    const uint32_t version = scmc_br_u32(&r), count = scmc_br_u32(&r);
    if (version != 1 || count > MAX_TENSORS) {
        snprintf(err, errlen, "unsupported weight file version %u", version);
        scmc_weights_free(w);
        return SCMC_ERR_CORRUPT;
    }
    w->tensors = calloc(count ? count : 1, sizeof(*w->tensors));
    if (!w->tensors) {
        scmc_weights_free(w);
        return SCMC_ERR_NOMEM;
    }
    size_t out = 0;
    for (uint32_t i = 0; i < count; i++) {
        ScmcWeightTensor *t = &w->tensors[i];
        const uint32_t nlen = scmc_br_u16(&r);
        const uint8_t *name = scmc_br_bytes(&r, nlen);
        t->dtype = (int)scmc_br_u8(&r);
        t->ndim = (int)scmc_br_u8(&r);
        if (r.error || nlen == 0 || nlen >= sizeof(t->name) || (t->dtype != SCMC_DTYPE_F32 && t->dtype != SCMC_DTYPE_I32) ||
            t->ndim < 1 || t->ndim > 4)
            break;
        memcpy(t->name, name, nlen);
        t->count = 1;
        for (int d = 0; d < t->ndim; d++) {
            t->dims[d] = scmc_br_u32(&r);
            if (t->dims[d] == 0 || t->dims[d] > (1u << 28))
                r.error = 1;
            t->count *= t->dims[d];
        }
        if (r.error || t->count > (size_t)1 << 28)
            break;
        const uint8_t *src = scmc_br_bytes(&r, t->count * 4);
        if (!src)
            break;
        /* little-endian on disk; the copy is in host order */
        uint32_t *dst = (uint32_t *)(void *)(w->buffer + out);
        for (size_t k = 0; k < t->count; k++)
            dst[k] = (uint32_t)src[4 * k] | (uint32_t)src[4 * k + 1] << 8 | (uint32_t)src[4 * k + 2] << 16 |
                     (uint32_t)src[4 * k + 3] << 24;
        t->data = dst;
        out += t->count * 4;
        w->count = (int)i + 1;
    }
    if (w->count != (int)count || r.pos != r.size) {
        snprintf(err, errlen, "weight file malformed at byte %zu", r.pos);
        scmc_weights_free(w);
        return SCMC_ERR_CORRUPT;
    }
    w->id = crc ? crc : 1;
    return SCMC_OK;
}

void scmc_weights_free(ScmcWeights *w)
{
    free(w->tensors);
    free(w->buffer);
    memset(w, 0, sizeof(*w));
}

const ScmcWeightTensor *scmc_weights_get(const ScmcWeights *w, const char *name, int dtype, size_t count)
{
    for (int i = 0; i < w->count; i++)
        if (!strcmp(w->tensors[i].name, name))
            return w->tensors[i].dtype == dtype && (count == 0 || w->tensors[i].count == count) ? &w->tensors[i] : NULL;
    return NULL;
}
