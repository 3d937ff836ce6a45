/* Cost of the signal layer's progressive sub-layers: each image is coded as usual (1 + the groups
 * the encoder sends, each its own range-coder payload with its own length and CRC in the layer table),
 * then the same z and y symbols are coded again as one payload, as a non-progressive codec would.
 * Prints both sizes per image and the mean overhead.
 *   scalability_cost IMAGE... [--quality Q] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "container/container.h"
#include "entropy/range_coder.h"
#include "image/image.h"
#include "layers/signal/signal_codec.h"

typedef struct PutY {
    ScmcRangeEncoder *e;
    const ScmcSignalDecoder *d;
} PutY;

static void put_in_context(void *arg, size_t k, int ctx)
{
    const PutY *p = arg;
    scmc_signal_put_y(p->e, p->d->m, scmc_signal_scale_in_context(p->d->m, ctx, p->d->scale_idx[k]), p->d->y[k]);
}

/* Re-codes every symbol of a parsed signal stream into one range-coder payload; its size. */
static size_t one_payload_size(const ScmcSignalDecoder *d)
{
    const ScmcSignalModel *m = d->m;
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    scmc_renc_bypass(&e, (uint32_t)(d->quality - 1), 3);
    scmc_renc_bypass(&e, (uint32_t)d->show_mean, 1);
    for (int c = 0; c < m->N; c++)
        for (int i = 0; i < d->zh * d->zw; i++)
            scmc_signal_put_z(&e, m, d->quality, c, d->z[(size_t)c * d->zh * d->zw + i]);
    PutY put = { &e, d }; /* the groups sent, with their contexts */
    if (scmc_signal_each_symbol(m, d->y, d->yh, d->yw, d->groups_parsed, put_in_context, &put))
        return 0;
    uint8_t *buf;
    size_t size = 0;
    if (scmc_renc_finish(&e, &buf, &size) == 0)
        free(buf);
    return size;
}

int main(int argc, char **argv)
{
    int quality = 4, n = 0;
    double sum_prog = 0, sum_single = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quality") && i + 1 < argc) {
            quality = atoi(argv[++i]);
            continue;
        }
        ScmcImage img;
        char err[256];
        if (scmc_image_read(argv[i], &img, NULL, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        ScmcEncoderSettings s;
        scmc_encoder_default_settings(&s);
        s.layers = SCMC_LAYERS_SIGNAL;
        s.quality = quality;
        ScmcEncoder *enc;
        uint8_t *stream;
        size_t size;
        if (scmc_encoder_open(&enc, &s) || scmc_encode(enc, img.rgb, img.width, img.height, (size_t)img.width * 3, &stream, &size))
            return 2;
        scmc_encoder_close(&enc);
        ScmcContainer c;
        ScmcSignalDecoder d;
        if (scmc_container_parse(stream, size, &c) ||
            scmc_signal_decoder_init(&d, scmc_signal_default_model(), scmc_nn_default_ops(), img.width, img.height))
            return 2;
        for (int k = 0; k < c.layers[0].num_sublayers; k++)
            if (scmc_signal_decode_sublayer(&d, k, stream + c.layers[0].sub[k].offset, c.layers[0].sub[k].length))
                return 2;
        /* the same container with a single sub-layer holding everything */
        /* only the payload's size matters: its bytes are zeros, but the container copies them */
        size_t len[1] = { one_payload_size(&d) };
        uint8_t *zeros = calloc(len[0] ? len[0] : 1, 1);
        if (!zeros)
            return 2;
        const uint8_t *p[1] = { zeros };
        ScmcContainer one = c;
        one.layers[0].num_sublayers = 1;
        uint8_t *single;
        size_t single_size;
        if (scmc_container_write(&one, p, len, &single, &single_size))
            return 2;
        free(zeros);
        free(single);
        printf("%s: progressive %zu bytes, one payload %zu bytes (+%.2f%%)\n", argv[i], size, single_size,
               100.0 * ((double)size / (double)single_size - 1));
        sum_prog += (double)size;
        sum_single += (double)single_size;
        n++;
        scmc_signal_decoder_free(&d);
        scmc_free(stream);
        scmc_image_free(&img);
    }
    if (n)
        printf("%d images at quality %d: %.1f bytes progressive, %.1f bytes as one payload: +%.2f%% for the sub-layers\n",
               n, quality, sum_prog / n, sum_single / n, 100.0 * (sum_prog / sum_single - 1));
    return 0;
}
