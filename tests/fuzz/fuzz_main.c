/* Plain driver for the fuzz targets when libFuzzer is absent (dav1d tests/libfuzzer style):
 *   fuzz_x FILE...            run each file once (regression inputs)
 *   fuzz_x --iterations N     N deterministic mutations of seed streams encoded here, half of
 *                             them with the container CRCs recomputed so that the mutations
 *                             reach the layer decoders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "container/container.h"
#include "image/atomic_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static uint8_t *seed_stream(size_t *size, int w, int h, const char *caption)
{
    ScmcEncoderSettings s;
    scmc_encoder_default_settings(&s);
    s.caption = caption;
    ScmcEncoder *e;
    uint8_t *rgb = malloc((size_t)w * h * 3), *out = NULL;
    for (int i = 0; i < w * h * 3; i++)
        rgb[i] = (uint8_t)(i * 31 + i / (w * 3) * 7);
    if (scmc_encoder_open(&e, &s) || scmc_encode(e, rgb, w, h, (size_t)w * 3, &out, size))
        abort();
    scmc_encoder_close(&e);
    free(rgb);
    return out;
}

/* Recomputes the CRCs of a (mutated) stream so its payloads pass the container checks. */
static void fix_crcs(uint8_t *buf, size_t *size)
{
    ScmcContainer c;
    if (scmc_container_parse(buf, *size, &c) != SCMC_OK)
        return;
    const uint8_t *p[SCMC_MAX_LAYERS * SCMC_MAX_SUBLAYERS];
    size_t len[SCMC_MAX_LAYERS * SCMC_MAX_SUBLAYERS];
    int n = 0;
    for (int l = 0; l < c.num_layers; l++)
        for (int s = 0; s < c.layers[l].num_sublayers; s++, n++) {
            const ScmcSublayerEntry *e = &c.layers[l].sub[s];
            if (e->offset + e->length > *size)
                return;
            p[n] = buf + e->offset;
            len[n] = e->length;
        }
    uint8_t *out;
    size_t osize;
    if (scmc_container_write(&c, p, len, &out, &osize) == SCMC_OK && osize <= *size) {
        memcpy(buf, out, osize);
        *size = osize;
    }
    free(out);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--iterations")) {
        for (int i = 1; i < argc; i++) {
            uint8_t *data;
            size_t size;
            char err[256];
            if (scmc_read_file(argv[i], 1 << 26, &data, &size, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            LLVMFuzzerTestOneInput(data, size);
            free(data);
        }
        printf("%d inputs ran\n", argc - 1);
        return 0;
    }
    const long iterations = argc >= 3 ? strtol(argv[2], NULL, 10) : 2000;
    size_t sizes[3];
    uint8_t *seeds[3] = { seed_stream(&sizes[0], 64, 48, NULL), seed_stream(&sizes[1], 17, 90, "a caption"),
                          seed_stream(&sizes[2], 1, 1, NULL) };
    uint8_t *buf = malloc(1 << 16);
    for (long it = 0; it < iterations; it++) {
        const int k = (int)(next() % 3);
        size_t size = sizes[k];
        memcpy(buf, seeds[k], size);
        const int edits = 1 + (int)(next() % 8);
        for (int e = 0; e < edits && size; e++) {
            const size_t pos = next() % size;
            switch (next() % 4) {
            case 0: buf[pos] ^= (uint8_t)(1u << (next() % 8)); break;
            case 1: buf[pos] = (uint8_t)next(); break;
            case 2: size = pos; break; /* cut */
            default: if (size < 60000) { buf[size++] = (uint8_t)next(); } break;
            }
        }
        if (next() & 1)
            fix_crcs(buf, &size);
        LLVMFuzzerTestOneInput(buf, size);
    }
    for (int k = 0; k < 3; k++)
        free(seeds[k]);
    free(buf);
    printf("%ld mutated inputs ran\n", iterations);
    return 0;
}
