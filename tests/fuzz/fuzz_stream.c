/* Fuzz target: whole streams through info, decode (every refinement) and truncate. */
#include <stdint.h>
#include <stdlib.h>

#include "scmc/scmc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ScmcStreamInfo info;
    if (scmc_stream_info(data, size, &info) == SCMC_OK) {
        /* keep work per input bounded: the fuzzer should find bugs, not decode huge images */
        const int small = (int64_t)info.width * info.height <= 1 << 20;
        scmc_stream_info_free(&info);
        if (!small)
            return 0;
    }
    ScmcDecoderSettings s;
    ScmcDecoder *d;
    scmc_decoder_default_settings(&s);
    if (scmc_decoder_open(&d, &s))
        abort();
    ScmcDecodeResult res;
    if (scmc_decode(d, data, size, 0, NULL, NULL, &res) == SCMC_OK) {
        if (res.steps < 1 || !res.rgb)
            abort(); /* success means at least one refinement */
        scmc_free(res.rgb);
        uint8_t *out;
        size_t osize;
        if (scmc_truncate(data, size, 1, &out, &osize) == SCMC_OK)
            scmc_free(out);
    }
    scmc_decoder_close(&d);
    return 0;
}
