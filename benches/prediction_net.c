/* Runs the structure layer's learned coarse-scale prediction (layers/structure/prediction_net.c, the
 * codec's integer network) on one level given as raw numbers, for tests/train/
 * test_learned_prediction.py, which checks its logits against the PyTorch network, and to time it.
 *   prediction_net IN.raw OUT.raw [--repeat N]
 * IN: int32 W, H, step, then the synthesis u and the hand prediction (W x H int32 each, row-major,
 * 1/16 grey levels, the bands at their Mallat places); OUT: the logits (W x H of int16 triples:
 * significance, sign, magnitude in 1/1024; zero outside the three bands). Prints the seconds one run took (the median of N). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layers/structure/prediction_net.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int repeat = 1;
    if (argc == 5 && !strcmp(argv[3], "--repeat"))
        repeat = atoi(argv[4]);
    if ((argc != 3 && argc != 5) || repeat < 1 || repeat > 1000) {
        fprintf(stderr, "usage: prediction_net IN.raw OUT.raw [--repeat N]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    int32_t hdr[3];
    if (!f || fread(hdr, sizeof(int32_t), 3, f) != 3 || hdr[0] < 1 || hdr[1] < 1 || hdr[0] > 16384 ||
        hdr[1] > 16384 || hdr[2] < 1) {
        fprintf(stderr, "prediction_net: cannot read a header from %s\n", argv[1]);
        if (f)
            fclose(f);
        return 1;
    }
    const int W = hdr[0], H = hdr[1], step = hdr[2];
    const size_t n = (size_t)W * H;
    int32_t *u = malloc(n * sizeof(int32_t)), *pred = malloc(n * sizeof(int32_t));
    ScmcPrednetLogits *logits = calloc(n, sizeof(ScmcPrednetLogits));
    double *times = malloc((size_t)repeat * sizeof(double));
    if (!u || !pred || !logits || !times || fread(u, sizeof(int32_t), n, f) != n ||
        fread(pred, sizeof(int32_t), n, f) != n) {
        fprintf(stderr, "prediction_net: %s is short\n", argv[1]);
        fclose(f);
        return 1;
    }
    fclose(f);
    for (int k = 0; k < repeat; k++) {
        const double t0 = now();
        if (scmc_prednet_run(u, pred, W, W, H, step, logits)) {
            fprintf(stderr, "prediction_net: out of memory\n");
            return 1;
        }
        times[k] = now() - t0;
    }
    qsort(times, (size_t)repeat, sizeof(double), cmp_double);
    FILE *o = fopen(argv[2], "wb");
    if (!o || fwrite(logits, sizeof(ScmcPrednetLogits), n, o) != n || fclose(o)) {
        fprintf(stderr, "prediction_net: cannot write %s\n", argv[2]);
        return 1;
    }
    printf("%.4f s\n", times[repeat / 2]);
    free(u);
    free(pred);
    free(logits);
    free(times);
    return 0;
}
