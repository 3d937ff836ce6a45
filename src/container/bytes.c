#include <stdlib.h>
#include <string.h>

#include "bytes.h"

void scmc_bw_init(ScmcByteWriter *w)
{
    memset(w, 0, sizeof(*w));
}

void scmc_bw_bytes(ScmcByteWriter *w, const uint8_t *data, size_t n)
{
    if (w->error || n == 0)
        return;
    if (w->size + n > w->cap) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap < w->size + n)
            cap *= 2;
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->error = 1;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    memcpy(w->buf + w->size, data, n);
    w->size += n;
}

void scmc_bw_u8(ScmcByteWriter *w, uint32_t v)
{
    const uint8_t b = (uint8_t)v;
    scmc_bw_bytes(w, &b, 1);
}

void scmc_bw_u16(ScmcByteWriter *w, uint32_t v)
{
    const uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    scmc_bw_bytes(w, b, 2);
}

void scmc_bw_u32(ScmcByteWriter *w, uint32_t v)
{
    const uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    scmc_bw_bytes(w, b, 4);
}

void scmc_bw_varint(ScmcByteWriter *w, uint32_t v)
{
    do {
        scmc_bw_u8(w, (v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

void scmc_bw_free(ScmcByteWriter *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

void scmc_br_init(ScmcByteReader *r, const uint8_t *data, size_t size)
{
    r->buf = data;
    r->size = size;
    r->pos = 0;
    r->error = 0;
    r->malformed = 0;
}

const uint8_t *scmc_br_bytes(ScmcByteReader *r, size_t n)
{
    if (r->error || n > r->size - r->pos) {
        r->error = 1;
        return NULL;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

uint32_t scmc_br_u8(ScmcByteReader *r)
{
    const uint8_t *p = scmc_br_bytes(r, 1);
    return p ? p[0] : 0;
}

uint32_t scmc_br_u16(ScmcByteReader *r)
{
    const uint8_t *p = scmc_br_bytes(r, 2);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : 0;
}

uint32_t scmc_br_u32(ScmcByteReader *r)
{
    const uint8_t *p = scmc_br_bytes(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint32_t scmc_br_varint(ScmcByteReader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        const uint32_t b = scmc_br_u8(r);
        if (r->error)
            return 0;
        if (i == 4 && b > 0x0F) { /* more than 32 bits */
            r->error = r->malformed = 1;
            return 0;
        }
        v |= (b & 0x7F) << (7 * i);
        if (!(b & 0x80))
            return v;
    }
    r->error = r->malformed = 1;
    return 0;
}
