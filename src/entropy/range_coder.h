/*
 * Range coder shared by every layer: multi-symbol coding with 16-bit quantized CDFs, adaptive
 * binary context models, bypass bits and Exp-Golomb escapes, all interleaved in one stream.
 *
 * The coder is the carry-propagating 32-bit range coder of LZMA, with two size savings that
 * matter for payloads of a few dozen bytes: the always-zero first byte is not written, and the
 * final flush picks the value in the last interval with the most trailing zero bits, whose zero
 * bytes (at most 4) are then dropped (the decoder reads zeros past the end of its buffer). Payload lengths
 * come from the container, so nothing marks the end. bitstream-spec/entropy.md is the authority.
 */
#ifndef SCMC_RANGE_CODER_H
#define SCMC_RANGE_CODER_H

#include <stddef.h>
#include <stdint.h>

#define SCMC_CDF_BITS 16
#define SCMC_CDF_TOTAL (1u << SCMC_CDF_BITS)

/* An adaptive probability that the next bit is 0, in 1/65536 units, with an update counter that
 * makes the first updates fast (count-based learning rate). */
typedef struct ScmcBitModel {
    uint16_t p0;
    uint8_t count;
} ScmcBitModel;

void scmc_bit_model_init(ScmcBitModel *m);
/* The learning rate (a shift) after count updates: fast for the first observations (roughly the
 * KT estimator), settling to a window of 128 bits. Shared with the mixer's contexts. */
static inline int scmc_bit_model_shift(unsigned count)
{
    return count < 1 ? 1 : count < 3 ? 2 : count < 7 ? 3 : count < 15 ? 4 : count < 31 ? 5 : count < 63 ? 6 : 7;
}
/* Moves the model towards the bit just coded (called by the coder itself). */
void scmc_bit_model_update(ScmcBitModel *m, int bit);

typedef struct ScmcRangeEncoder {
    uint64_t low;
    uint32_t range;
    uint8_t cache;
    uint64_t cache_size;
    int first;          /* the first byte out is always 0 and is skipped */
    uint8_t *buf;
    size_t size, cap;
    int error;          /* sticky: allocation failed */
} ScmcRangeEncoder;

void scmc_renc_init(ScmcRangeEncoder *e);
/* Codes symbol s with cdf[0..n] (cdf[0] = 0, cdf[n] = SCMC_CDF_TOTAL, strictly increasing). */
void scmc_renc_symbol(ScmcRangeEncoder *e, const uint32_t *cdf, int s);
void scmc_renc_bit(ScmcRangeEncoder *e, ScmcBitModel *m, int bit);
/* A bit at a probability of 0 the caller gives (1/65536 units, 1..65535), nothing adapted. */
void scmc_renc_bit_p(ScmcRangeEncoder *e, uint32_t p0, int bit);
/* nbits (0..32) raw bits, most significant first, each at probability 1/2. */
void scmc_renc_bypass(ScmcRangeEncoder *e, uint32_t value, int nbits);
/* Order-0 Exp-Golomb code of v in bypass bits. */
void scmc_renc_expgolomb(ScmcRangeEncoder *e, uint32_t v);
/* Codes v >= 0 with cdf over n symbols where symbol n-1 is the escape: v < n-1 is coded
 * directly, else escape followed by Exp-Golomb(v - (n-1)). */
void scmc_renc_escaped(ScmcRangeEncoder *e, const uint32_t *cdf, int n, uint32_t v);
/* Flushes and hands over the bytes (caller frees *out with free()); returns 0 or -1 on
 * allocation failure. The encoder is left empty. */
int scmc_renc_finish(ScmcRangeEncoder *e, uint8_t **out, size_t *out_size);
void scmc_renc_free(ScmcRangeEncoder *e);

typedef struct ScmcRangeDecoder {
    uint32_t range, code;
    const uint8_t *buf;
    size_t size, pos;
    size_t overrun;     /* bytes read past the end (zeros); a valid stream needs at most 4 */
} ScmcRangeDecoder;

void scmc_rdec_init(ScmcRangeDecoder *d, const uint8_t *buf, size_t size);
int scmc_rdec_symbol(ScmcRangeDecoder *d, const uint32_t *cdf, int n);
int scmc_rdec_bit(ScmcRangeDecoder *d, ScmcBitModel *m);
int scmc_rdec_bit_p(ScmcRangeDecoder *d, uint32_t p0);
uint32_t scmc_rdec_bypass(ScmcRangeDecoder *d, int nbits);
/* Returns UINT32_MAX for a code longer than 32 bits (invalid stream). */
uint32_t scmc_rdec_expgolomb(ScmcRangeDecoder *d);
uint32_t scmc_rdec_escaped(ScmcRangeDecoder *d, const uint32_t *cdf, int n);
/* Non-zero when the decoder has read more than the flush can explain: the payload was too short
 * for what was parsed from it. */
int scmc_rdec_overrun(const ScmcRangeDecoder *d);

/* Builds a CDF over n symbols (n >= 1, n <= SCMC_CDF_TOTAL) from counts: every symbol gets at
 * least frequency 1, the rest is shared in proportion to counts. Integer-only, so every machine
 * builds the same table. cdf has n + 1 entries. */
void scmc_cdf_from_counts(const uint32_t *counts, int n, uint32_t *cdf);

#endif
