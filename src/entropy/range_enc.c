/* Range encoder: see range_coder.h and bitstream-spec/entropy.md. */
#include <stdlib.h>
#include <string.h>

#include "range_coder.h"

#define TOP (1u << 24)

void scmc_bit_model_init(ScmcBitModel *m)
{
    m->p0 = SCMC_CDF_TOTAL / 2;
    m->count = 0;
}

void scmc_bit_model_update(ScmcBitModel *m, int bit)
{
    const int s = scmc_bit_model_shift(m->count);
    if (bit)
        m->p0 -= m->p0 >> s;
    else
        m->p0 += (SCMC_CDF_TOTAL - m->p0) >> s;
    if (m->count < 255)
        m->count++;
}

void scmc_renc_init(ScmcRangeEncoder *e)
{
    memset(e, 0, sizeof(*e));
    e->range = 0xFFFFFFFFu;
    e->cache_size = 1;
    e->first = 1;
}

static void put_byte(ScmcRangeEncoder *e, uint8_t b)
{
    if (e->first) { /* always 0: see the header comment */
        e->first = 0;
        return;
    }
    if (e->error)
        return;
    if (e->size == e->cap) {
        const size_t cap = e->cap ? 2 * e->cap : 64;
        uint8_t *nb = realloc(e->buf, cap);
        if (!nb) {
            e->error = 1;
            return;
        }
        e->buf = nb;
        e->cap = cap;
    }
    e->buf[e->size++] = b;
}

static void shift_low(ScmcRangeEncoder *e)
{
    if ((uint32_t)e->low < 0xFF000000u || (e->low >> 32) != 0) {
        const uint8_t carry = (uint8_t)(e->low >> 32);
        uint8_t b = e->cache;
        do {
            put_byte(e, (uint8_t)(b + carry));
            b = 0xFF;
        } while (--e->cache_size != 0);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->cache_size++;
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

static inline void normalize(ScmcRangeEncoder *e)
{
    while (e->range < TOP) {
        e->range <<= 8;
        shift_low(e);
    }
}

void scmc_renc_symbol(ScmcRangeEncoder *e, const uint32_t *cdf, int s)
{
    const uint32_t r = e->range >> SCMC_CDF_BITS;
    e->low += (uint64_t)r * cdf[s];
    e->range = r * (cdf[s + 1] - cdf[s]);
    normalize(e);
}

void scmc_renc_bit_p(ScmcRangeEncoder *e, uint32_t p0, int bit)
{
    const uint32_t bound = (e->range >> SCMC_CDF_BITS) * p0;
    if (bit) {
        e->low += bound;
        e->range -= bound;
    } else {
        e->range = bound;
    }
    normalize(e);
}

void scmc_renc_bit(ScmcRangeEncoder *e, ScmcBitModel *m, int bit)
{
    scmc_renc_bit_p(e, m->p0, bit);
    scmc_bit_model_update(m, bit);
}

void scmc_renc_bypass(ScmcRangeEncoder *e, uint32_t value, int nbits)
{
    for (int i = nbits - 1; i >= 0; i--) {
        e->range >>= 1;
        if ((value >> i) & 1)
            e->low += e->range;
        normalize(e);
    }
}

void scmc_renc_expgolomb(ScmcRangeEncoder *e, uint32_t v)
{
    const uint64_t w = (uint64_t)v + 1;
    int n = 0;
    while ((w >> (n + 1)) != 0)
        n++;
    scmc_renc_bypass(e, 0, n);                    /* n zeros ... */
    scmc_renc_bypass(e, 1, 1);                    /* ... a one ... */
    scmc_renc_bypass(e, (uint32_t)(w & ((1ull << n) - 1)), n); /* ... and the n low bits */
}

void scmc_renc_escaped(ScmcRangeEncoder *e, const uint32_t *cdf, int n, uint32_t v)
{
    if (v < (uint32_t)(n - 1)) {
        scmc_renc_symbol(e, cdf, (int)v);
    } else {
        scmc_renc_symbol(e, cdf, n - 1);
        scmc_renc_expgolomb(e, v - (uint32_t)(n - 1));
    }
}

int scmc_renc_finish(ScmcRangeEncoder *e, uint8_t **out, size_t *out_size)
{
    /* The value with the most trailing zero bits inside [low, low + range). */
    const uint64_t hi = e->low + e->range;
    for (int k = 32; k >= 0; k--) {
        const uint64_t mask = (1ull << k) - 1;
        const uint64_t v = (e->low + mask) & ~mask;
        if (v < hi) {
            e->low = v;
            break;
        }
    }
    for (int i = 0; i < 5; i++)
        shift_low(e);
    /* Drop zero bytes of the final value only (at most 4): the decoder, which reads zeros past
     * the end, then never reads more than 4 bytes beyond the payload. */
    for (int k = 0; k < 4 && e->size > 0 && e->buf[e->size - 1] == 0; k++)
        e->size--;
    if (e->error) {
        scmc_renc_free(e);
        return -1;
    }
    *out = e->buf;
    *out_size = e->size;
    if (!*out) { /* an empty payload still gets a valid pointer */
        *out = malloc(1);
        if (!*out)
            return -1;
    }
    e->buf = NULL;
    e->size = e->cap = 0;
    return 0;
}

void scmc_renc_free(ScmcRangeEncoder *e)
{
    free(e->buf);
    e->buf = NULL;
    e->size = e->cap = 0;
}
