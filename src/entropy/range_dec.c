/* Range decoder: the mirror of range_enc.c. Reads past the end of the buffer return zeros (the
 * encoder drops trailing zero bytes), so no input can make it read out of bounds. */
#include "range_coder.h"

#define TOP (1u << 24)


static inline uint8_t next_byte(ScmcRangeDecoder *d)
{
    if (d->pos < d->size)
        return d->buf[d->pos++];
    d->overrun++;
    return 0;
}

void scmc_rdec_init(ScmcRangeDecoder *d, const uint8_t *buf, size_t size)
{
    d->buf = buf;
    d->size = size;
    d->pos = 0;
    d->overrun = 0;
    d->range = 0xFFFFFFFFu;
    d->code = 0;
    for (int i = 0; i < 4; i++)
        d->code = (d->code << 8) | next_byte(d);
}

static inline void normalize(ScmcRangeDecoder *d)
{
    while (d->range < TOP) {
        d->range <<= 8;
        d->code = (d->code << 8) | next_byte(d);
    }
}

int scmc_rdec_symbol(ScmcRangeDecoder *d, const uint32_t *cdf, int n)
{
    const uint32_t r = d->range >> SCMC_CDF_BITS;
    uint32_t v = d->code / r;
    if (v >= SCMC_CDF_TOTAL) /* only in an invalid stream */
        v = SCMC_CDF_TOTAL - 1;
    int lo = 0, hi = n; /* cdf[lo] <= v < cdf[hi] */
    while (hi - lo > 1) {
        const int mid = (lo + hi) >> 1;
        if (cdf[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    d->code -= r * cdf[lo];
    d->range = r * (cdf[lo + 1] - cdf[lo]);
    normalize(d);
    return lo;
}

int scmc_rdec_bit_p(ScmcRangeDecoder *d, uint32_t p0)
{
    const uint32_t bound = (d->range >> SCMC_CDF_BITS) * p0;
    int bit;
    if (d->code < bound) {
        d->range = bound;
        bit = 0;
    } else {
        d->code -= bound;
        d->range -= bound;
        bit = 1;
    }
    normalize(d);
    return bit;
}

int scmc_rdec_bit(ScmcRangeDecoder *d, ScmcBitModel *m)
{
    const int bit = scmc_rdec_bit_p(d, m->p0);
    scmc_bit_model_update(m, bit);
    return bit;
}

uint32_t scmc_rdec_bypass(ScmcRangeDecoder *d, int nbits)
{
    uint32_t v = 0;
    for (int i = 0; i < nbits; i++) {
        d->range >>= 1;
        int bit = 0;
        if (d->code >= d->range) {
            d->code -= d->range;
            bit = 1;
        }
        v = (v << 1) | (uint32_t)bit;
        normalize(d);
    }
    return v;
}

uint32_t scmc_rdec_expgolomb(ScmcRangeDecoder *d)
{
    int n = 0;
    while (scmc_rdec_bypass(d, 1) == 0) {
        if (++n > 32)
            return UINT32_MAX;
    }
    const uint64_t w = (1ull << n) | scmc_rdec_bypass(d, n);
    if (w - 1 >= UINT32_MAX)
        return UINT32_MAX;
    return (uint32_t)(w - 1);
}

uint32_t scmc_rdec_escaped(ScmcRangeDecoder *d, const uint32_t *cdf, int n)
{
    const int s = scmc_rdec_symbol(d, cdf, n);
    if (s < n - 1)
        return (uint32_t)s;
    const uint32_t extra = scmc_rdec_expgolomb(d);
    if (extra == UINT32_MAX || extra > UINT32_MAX - 1 - (uint32_t)(n - 1))
        return UINT32_MAX;
    return extra + (uint32_t)(n - 1);
}

int scmc_rdec_overrun(const ScmcRangeDecoder *d)
{
    return d->overrun > 4;
}
