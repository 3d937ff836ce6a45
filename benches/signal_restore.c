/* Runs the signal layer's restoration network (layers/signal/enhance.c) on a picture, as the
 * decoder runs it on base1: writes base + strength's fraction of the correction, and prints the
 * seconds the network took (the median of --repeat runs). tests/train/test_enhance_tools.py
 * checks its output against PyTorch; it also measures the network's speed.
 * --weights runs the network of another signal weight file (add_enhancer.py's output).
 *   signal_restore IN QUALITY STRENGTH OUT.png [--repeat N] [--threads N] [--weights FILE.scmw] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scmc/scmc.h"
#include "image/atomic_file.h"
#include "image/image.h"
#include "layers/signal/enhance.h"
#include "layers/signal/signal_model.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The signal model of a weight file, or NULL with a message. */
static ScmcSignalModel *load_model(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    char err[256];
    ScmcSignalModel *m = calloc(1, sizeof(*m));
    if (!m || scmc_read_file(path, (size_t)1 << 28, &data, &size, err, sizeof(err)) ||
        scmc_signal_model_load(data, size, m, err, sizeof(err))) {
        fprintf(stderr, "signal_restore: %s: %s\n", path, m ? err : "out of memory");
        free(m);
        m = NULL;
    }
    free(data);
    return m;
}

static void free_model(ScmcSignalModel *m)
{
    if (m)
        scmc_signal_model_free(m);
    free(m);
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int repeat = 1, threads = 1;
    const char *weights = NULL;
    for (int i = 5; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--repeat"))
            repeat = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--weights"))
            weights = argv[i + 1];
        else
            repeat = 0;
    }
    const int quality = argc >= 5 ? atoi(argv[2]) : 0, strength = argc >= 5 ? atoi(argv[3]) : -1;
    if (argc < 5 || argc % 2 == 0 || quality < 1 || quality > 8 || strength < 0 ||
        strength >= SCMC_ENHANCE_NUM_STRENGTHS || repeat < 1 || repeat > 100 || threads < 1 || threads > 256) {
        fprintf(stderr, "usage: signal_restore IN QUALITY(1-8) STRENGTH(0-3) OUT.png [--repeat N] [--threads N] "
                        "[--weights FILE.scmw]\n");
        return 2;
    }
    ScmcSignalModel *own = weights ? load_model(weights) : NULL;
    const ScmcSignalModel *m = weights ? own : scmc_signal_default_model();
    if (!m || !m->enhancer.channels) {
        if (m)
            fprintf(stderr, "signal_restore: the signal model has no restoration network\n");
        free_model(own);
        return 1;
    }
    ScmcImage base, out;
    char err[256];
    if (scmc_image_read(argv[1], &base, NULL, err, sizeof(err))) {
        fprintf(stderr, "signal_restore: %s\n", err);
        free_model(own);
        return 1;
    }
    const ScmcNnOps *ops = scmc_nn_default_ops();
    ops->set_threads(threads);
    double *secs = malloc(sizeof(double) * (size_t)repeat);
    float *corr = NULL;
    int r = secs ? SCMC_OK : SCMC_ERR_NOMEM;
    for (int i = 0; i < repeat && !r; i++) {
        free(corr);
        const double t0 = now();
        r = scmc_enhance_correction(&m->enhancer, ops, &base, quality, &corr);
        secs[i] = now() - t0;
    }
    if (!r)
        r = scmc_enhance_apply(&base, corr, strength, &out);
    if (!r && scmc_image_write(argv[4], &out, err, sizeof(err))) {
        fprintf(stderr, "signal_restore: %s\n", err);
        r = SCMC_ERR_IO;
    } else if (r) {
        fprintf(stderr, "signal_restore: %s\n", scmc_strerror(r));
    }
    if (!r) {
        qsort(secs, (size_t)repeat, sizeof(double), by_value);
        printf("%dx%d quality %d: %.3f s (%s backend, %d thread%s, %d view%s, median of %d)\n", base.width,
               base.height, quality, secs[repeat / 2], ops->name, threads, threads > 1 ? "s" : "", m->enhancer.views,
               m->enhancer.views > 1 ? "s" : "", repeat);
        scmc_image_free(&out);
    }
    free(secs);
    free(corr);
    scmc_image_free(&base);
    free_model(own);
    return r ? 1 : 0;
}
