/* Byte-level syntax of headers and payloads: a growable writer and a bounded reader, both with
 * sticky error flags checked once at the end rather than after every call. Multi-byte integers are
 * little-endian; varints are unsigned LEB128 of at most 5 bytes (bitstream-spec/container.md). */
#ifndef SCMC_BYTES_H
#define SCMC_BYTES_H
#include <stddef.h>
#include <stdint.h>

typedef struct ScmcByteWriter {
    uint8_t *buf;
    size_t size, cap;
    int error;
} ScmcByteWriter;

void scmc_bw_init(ScmcByteWriter *w);
void scmc_bw_u8(ScmcByteWriter *w, uint32_t v);
void scmc_bw_u16(ScmcByteWriter *w, uint32_t v);
void scmc_bw_u32(ScmcByteWriter *w, uint32_t v);
void scmc_bw_varint(ScmcByteWriter *w, uint32_t v);
void scmc_bw_bytes(ScmcByteWriter *w, const uint8_t *data, size_t n);
void scmc_bw_free(ScmcByteWriter *w);

typedef struct ScmcByteReader {
    const uint8_t *buf;
    size_t size, pos;
    int error;          /* read past the end, or an over-long varint */
    int malformed;      /* the error was an over-long varint, not the end of the data */
} ScmcByteReader;

void scmc_br_init(ScmcByteReader *r, const uint8_t *data, size_t size);
uint32_t scmc_br_u8(ScmcByteReader *r);
uint32_t scmc_br_u16(ScmcByteReader *r);
uint32_t scmc_br_u32(ScmcByteReader *r);
uint32_t scmc_br_varint(ScmcByteReader *r);
/* Pointer to the next n bytes (NULL and error set when fewer remain). */
const uint8_t *scmc_br_bytes(ScmcByteReader *r, size_t n);
#endif
