/* The .scmc container: header, layer table, sub-layer payloads (bitstream-spec/container.md).
 * Knows nothing of what the layers contain. */
#ifndef SCMC_CONTAINER_H
#define SCMC_CONTAINER_H
#include <stddef.h>
#include <stdint.h>

#define SCMC_MAGIC "SCMC"
#define SCMC_MAX_LAYERS 16
#define SCMC_MAX_SUBLAYERS 64
#define SCMC_MAX_SUBLAYER_BYTES (1u << 30)

typedef struct ScmcSublayerEntry {
    uint32_t length;
    uint32_t crc;
    size_t offset;      /* from the start of the stream (filled by parse and write) */
} ScmcSublayerEntry;

typedef struct ScmcLayerEntry {
    uint32_t type;
    uint32_t model_id;
    int num_sublayers;
    ScmcSublayerEntry sub[SCMC_MAX_SUBLAYERS];
} ScmcLayerEntry;

typedef struct ScmcContainer {
    int version;
    int width, height;
    int num_layers;
    ScmcLayerEntry layers[SCMC_MAX_LAYERS];
    size_t header_size;
    size_t total_size;  /* header + every announced payload */
} ScmcContainer;

/* Parses and validates the header of data[0..size) (which may be cut anywhere after the
 * header). Returns SCMC_OK, SCMC_ERR_TRUNCATED (cut inside the header), SCMC_ERR_CORRUPT,
 * SCMC_ERR_UNSUPPORTED (newer format version) or SCMC_ERR_TOO_LARGE. */
int scmc_container_parse(const uint8_t *data, size_t size, ScmcContainer *c);

enum { SCMC_SUBLAYER_OK = 0, SCMC_SUBLAYER_MISSING = 1, SCMC_SUBLAYER_BAD_CRC = 2 };
/* Whether a sub-layer is wholly inside data[0..size) and matches its CRC-32. */
int scmc_container_check(const ScmcContainer *c, const uint8_t *data, size_t size, int layer, int sub);

/* Writes c (version, size, layer types, model ids, sub-layer counts) with payloads[i], the
 * sub-layers in table order, whose lengths and CRCs it fills in. *out is freed with free(). */
int scmc_container_write(ScmcContainer *c, const uint8_t *const *payloads, const size_t *lengths,
                         uint8_t **out, size_t *out_size);

/* Header bytes a sub-layer of `length` payload bytes adds to the layer table (its varint length
 * and CRC): what an encoder saves, beyond the payload, by not writing it. */
size_t scmc_container_sublayer_entry_bytes(size_t length);

/* Header bytes a layer adds to the table before its sub-layers' entries (type, model id,
 * sub-layer count). */
size_t scmc_container_layer_entry_bytes(void);

/* Number of sub-layers over all layers. */
int scmc_container_count_sublayers(const ScmcContainer *c);
/* Keeps the first n sub-layers (in stream order), dropping layers left empty. */
void scmc_container_keep(ScmcContainer *c, int n);
#endif
