/* Fits and measures the signal layer's scale-context table (bitstream-spec/signal.md, "Scale
 * context"). The hyperprior gives each latent a scale index k from z alone (1/64 resolution); the
 * decoder also knows, before it parses a latent, its left and upper neighbours in the channel and
 * the group before at the same position. This tool codes images as usual (default layers), parses
 * the signal symbols back, and for every context and k finds the delta (-20..20) that minimises
 * the bits of the --fit images' symbols, then reports the bits of the --test images' symbols with
 * the hyperprior's k alone, with the built-in model's table and with the fitted one.
 * --write-table FILE writes the fitted table (25 lines of 64 integers) for
 * layers/signal/train/export.py --ctx-table.
 *   signal_context --quality Q[,Q...] [--write-table FILE] --fit IMG... --test IMG... */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "container/container.h"
#include "image/image.h"
#include "layers/signal/signal_codec.h"

#define MAX_DELTA 20
#define NUM_DELTA (2 * MAX_DELTA + 1)
#define NUM_CTX SCMC_SIGNAL_NUM_CTX

/* Bits of v with scale index k, k clamped to the table. */
static double y_bits(const ScmcSignalModel *m, int k, int32_t v)
{
    return scmc_signal_y_bits(m, k < 0 ? 0 : k >= SCMC_SIGNAL_NUM_SCALES ? SCMC_SIGNAL_NUM_SCALES - 1 : k, v);
}

typedef struct Accumulate {
    const ScmcSignalDecoder *d;
    double (*cost)[SCMC_SIGNAL_NUM_SCALES][NUM_DELTA];
} Accumulate;

static void add_symbol(void *arg, size_t k, int ctx)
{
    const Accumulate *a = arg;
    const int idx = a->d->scale_idx[k];
    for (int dl = 0; dl < NUM_DELTA; dl++)
        a->cost[ctx][idx][dl] += y_bits(a->d->m, idx + dl - MAX_DELTA, a->d->y[k]);
}

/* Adds, for every parsed latent and every delta, its bits to cost[ctx][k][delta]. */
static int accumulate(const ScmcSignalDecoder *d, double (*cost)[SCMC_SIGNAL_NUM_SCALES][NUM_DELTA])
{
    Accumulate a = { d, cost };
    return scmc_signal_each_symbol(d->m, d->y, d->yh, d->yw, d->groups_parsed, add_symbol, &a) != 0;
}

/* Codes one image at quality q and accumulates its signal symbols; returns 0 on success. */
static int add_image(const char *path, int q, double (*cost)[SCMC_SIGNAL_NUM_SCALES][NUM_DELTA], double *pixels)
{
    ScmcImage img;
    char err[256];
    if (scmc_image_read(path, &img, NULL, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    ScmcEncoderSettings s;
    scmc_encoder_default_settings(&s);
    s.quality = q;
    ScmcEncoder *enc;
    uint8_t *stream;
    size_t size;
    if (scmc_encoder_open(&enc, &s) || scmc_encode(enc, img.rgb, img.width, img.height, (size_t)img.width * 3, &stream, &size)) {
        fprintf(stderr, "%s: encoding failed\n", path);
        return 1;
    }
    scmc_encoder_close(&enc);
    ScmcContainer c;
    ScmcSignalDecoder d;
    if (scmc_container_parse(stream, size, &c) ||
        scmc_signal_decoder_init(&d, scmc_signal_default_model(), scmc_nn_default_ops(), img.width, img.height))
        return 1;
    const ScmcLayerEntry *e = &c.layers[c.num_layers - 1];
    if (e->type != SCMC_LAYER_SIGNAL)
        return 1;
    for (int k = 0; k < e->num_sublayers; k++)
        if (scmc_signal_decode_sublayer(&d, k, stream + e->sub[k].offset, e->sub[k].length))
            return 1;
    if (accumulate(&d, cost))
        return 1;
    *pixels += (double)img.width * img.height;
    scmc_signal_decoder_free(&d);
    scmc_free(stream);
    scmc_image_free(&img);
    return 0;
}

int main(int argc, char **argv)
{
    int qualities[8], nq = 0, mode = 0;
    const char *table_path = NULL;
    static double fit[NUM_CTX][SCMC_SIGNAL_NUM_SCALES][NUM_DELTA], test[NUM_CTX][SCMC_SIGNAL_NUM_SCALES][NUM_DELTA];
    double fit_px = 0, test_px = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quality") && i + 1 < argc) {
            for (char *p = argv[++i]; *p && nq < 8; p++) {
                qualities[nq++] = (int)strtol(p, &p, 10);
                if (!*p)
                    break;
            }
        } else if (!strcmp(argv[i], "--write-table") && i + 1 < argc) {
            table_path = argv[++i];
        } else if (!strcmp(argv[i], "--fit")) {
            mode = 1;
        } else if (!strcmp(argv[i], "--test")) {
            mode = 2;
        } else if (mode) {
            for (int k = 0; k < nq; k++)
                if (add_image(argv[i], qualities[k], mode == 1 ? fit : test, mode == 1 ? &fit_px : &test_px))
                    return 2;
        } else {
            fprintf(stderr, "usage: signal_context --quality Q[,Q...] [--write-table FILE] --fit IMG... --test IMG...\n");
            return 2;
        }
    }
    if (!nq || !fit_px || !test_px) {
        fprintf(stderr, "usage: signal_context --quality Q[,Q...] [--write-table FILE] --fit IMG... --test IMG...\n");
        return 2;
    }
    const ScmcSignalModel *m = scmc_signal_default_model();
    FILE *out = table_path ? fopen(table_path, "w") : NULL;
    if (table_path && !out) {
        fprintf(stderr, "cannot write %s\n", table_path);
        return 2;
    }
    double fit0 = 0, fit1 = 0, test0 = 0, test1 = 0, test_file = 0;
    printf("context (same, previous group) | fitted deltas for k = 0..63 (. = 0)\n");
    for (int x = 0; x < NUM_CTX; x++) {
        char row[SCMC_SIGNAL_NUM_SCALES * 4 + 1] = "";
        for (int k = 0; k < SCMC_SIGNAL_NUM_SCALES; k++) {
            int best = MAX_DELTA;
            for (int dl = 0; dl < NUM_DELTA; dl++)
                if (fit[x][k][dl] < fit[x][k][best])
                    best = dl;
            const int now = m->ctx_delta[x][k] < -MAX_DELTA ? 0 : m->ctx_delta[x][k] > MAX_DELTA ? NUM_DELTA - 1 : m->ctx_delta[x][k] + MAX_DELTA;
            fit0 += fit[x][k][MAX_DELTA];
            fit1 += fit[x][k][best];
            test0 += test[x][k][MAX_DELTA];
            test1 += test[x][k][best];
            test_file += test[x][k][now];
            char cell[16];
            snprintf(cell, sizeof(cell), best == MAX_DELTA ? "  ." : " %+d", best - MAX_DELTA);
            strcat(row, cell);
            if (out)
                fprintf(out, "%d%c", best - MAX_DELTA, k + 1 < SCMC_SIGNAL_NUM_SCALES ? ' ' : '\n');
        }
        printf("(%d, %d) |%s\n", x / SCMC_SIGNAL_CTX_PREV, x % SCMC_SIGNAL_CTX_PREV, row);
    }
    if (out && fclose(out)) {
        fprintf(stderr, "cannot write %s\n", table_path);
        return 2;
    }
    printf("fit images:  %.4f bpp of latent symbols with the hyperprior's scales, %.4f with the fitted table (%+.2f %%)\n",
           fit0 / fit_px, fit1 / fit_px, 100 * (fit1 / fit0 - 1));
    printf("test images: %.4f bpp with the hyperprior's scales, %.4f with the model's table (%+.2f %%), %.4f with the fitted one (%+.2f %%)\n",
           test0 / test_px, test_file / test_px, 100 * (test_file / test0 - 1), test1 / test_px, 100 * (test1 / test0 - 1));
    return 0;
}
