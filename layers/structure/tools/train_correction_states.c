/* Trains the starting states of the wavelet correction's models (correction_states.h) and writes
 * them as correction_states.c.
 *
 *   train_correction_states [--jobs N] [--qualities LIST] [--levels LIST] [--min-updates N]
 *                           -o correction_states.c IMAGE...
 *
 * Each picture is encoded by the library as a user would (scmc_encode): at each quality of LIST
 * (default 1-8) with every layer, and as a structure-only stream at each structure level of LIST
 * (default 1-5). The correction sub-layers of every stream are parsed again and the states their
 * models end in (scmc_correction_final_states) are pooled into the set the correction's header
 * selects: each context's probability is averaged in the logistic domain (the mixer's stretch),
 * weighted by the updates it received in that picture, and each weight set is averaged over the
 * pictures that used it. Sums are integers, so the table does not depend on the order in which
 * the workers finish. Contexts with fewer than --min-updates updates in all keep code 0 (the
 * untrained start). Without pictures the table is the untrained one (STR9's starts).
 *
 * The table is normative (bitstream-spec/structure.md, "Starting states"): a new one changes the
 * structure layer's format, so it goes with a new model identifier. layers/structure/tools/
 * train_correction_states.sh is the recipe that produced the committed table. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/container.h"
#include "entropy/mixer.h"
#include "image/image.h"
#include "layers/structure/correction.h"
#include "scmc/scmc.h"

#define NP SCMC_CORRECTION_START_PROBS
#define NW SCMC_CORRECTION_START_WEIGHTS
#define NS SCMC_CORRECTION_START_SETS

typedef struct Pool {
    int64_t stretch_sum[NS][NP]; /* sum of updates x stretch(p) */
    int64_t updates[NS][NP];
    int64_t weight_sum[NS][NW][SCMC_MIX_INPUTS];
    int64_t weight_n[NS][NW];
    int64_t corrections[NS];
} Pool;

typedef struct Job {
    char **images;
    int n_images, next;
    int qualities[8], n_qualities, levels[5], n_levels;
    int failed;
    pthread_mutex_t lock;
    Pool total;
    ScmcMixTables tables;
} Job;

static int parse_list(const char *arg, int lo, int hi, int *out, int max)
{
    int n = 0;
    for (const char *p = arg; *p;) {
        char *end;
        const long v = strtol(p, &end, 10);
        if (end == p || v < lo || v > hi || n == max)
            return -1;
        out[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return n;
}

/* Pools the correction of one encoded stream into pool. */
static int pool_stream(const Job *job, const uint8_t *stream, size_t size, Pool *pool, ScmcCorrectionStates *st)
{
    ScmcContainer c;
    if (scmc_container_parse(stream, size, &c))
        return -1;
    for (int l = 0; l < c.num_layers; l++) {
        const ScmcLayerEntry *le = &c.layers[l];
        if (le->type != SCMC_LAYER_STRUCTURE || le->num_sublayers < 2)
            continue;
        ScmcCorrectionPayload pay = { 0 };
        pay.count = le->num_sublayers - 1;
        if (pay.count > SCMC_CORRECTION_PARTS)
            return -1;
        for (int k = 0; k < pay.count; k++) {
            pay.data[k] = (uint8_t *)stream + le->sub[k + 1].offset;
            pay.size[k] = le->sub[k + 1].length;
        }
        if (scmc_correction_final_states(&pay, c.width, c.height, st))
            return -1;
        const int s = st->set;
        const int8_t *start = scmc_correction_start_probs[s];
        for (int i = 0; i < NP; i++) {
            const int updates = st->count[i] - (start[i] != 0);
            if (updates <= 0)
                continue;
            pool->stretch_sum[s][i] += (int64_t)updates * job->tables.stretch[st->p1[i] >> 4];
            pool->updates[s][i] += updates;
        }
        for (int i = 0; i < NW; i++) {
            if (!memcmp(st->weights[i], scmc_correction_start_weights[s][i], sizeof(st->weights[i])))
                continue; /* not used by this picture */
            for (int k = 0; k < SCMC_MIX_INPUTS; k++)
                pool->weight_sum[s][i][k] += st->weights[i][k];
            pool->weight_n[s][i]++;
        }
        pool->corrections[s]++;
    }
    return 0;
}

static int encode_and_pool(Job *job, const ScmcImage *img, int quality, int level, Pool *pool,
                           ScmcCorrectionStates *st)
{
    ScmcEncoderSettings s;
    scmc_encoder_default_settings(&s);
    s.quality = quality;
    if (level) {
        s.layers = SCMC_LAYERS_SEMANTIC | SCMC_LAYERS_STRUCTURE;
        s.structure_detail = level;
    }
    ScmcEncoder *enc = NULL;
    uint8_t *stream = NULL;
    size_t size = 0;
    int r = scmc_encoder_open(&enc, &s);
    if (!r)
        r = scmc_encode(enc, img->rgb, img->width, img->height, (size_t)img->width * 3, &stream, &size);
    scmc_encoder_close(&enc);
    if (!r)
        r = pool_stream(job, stream, size, pool, st);
    scmc_free(stream);
    return r;
}

static void *worker(void *arg)
{
    Job *job = arg;
    Pool *pool = calloc(1, sizeof(*pool));
    ScmcCorrectionStates *st = malloc(sizeof(*st));
    if (!pool || !st) {
        pthread_mutex_lock(&job->lock);
        job->failed = 1;
        pthread_mutex_unlock(&job->lock);
        free(pool);
        free(st);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&job->lock);
        const int i = job->failed ? job->n_images : job->next++;
        pthread_mutex_unlock(&job->lock);
        if (i >= job->n_images)
            break;
        ScmcImage img;
        char err[256];
        int bad = scmc_image_read(job->images[i], &img, NULL, err, sizeof(err));
        if (bad)
            fprintf(stderr, "train_correction_states: %s\n", err);
        for (int q = 0; !bad && q < job->n_qualities; q++)
            bad = encode_and_pool(job, &img, job->qualities[q], 0, pool, st);
        for (int l = 0; !bad && l < job->n_levels; l++)
            bad = encode_and_pool(job, &img, 4, job->levels[l], pool, st);
        if (bad) {
            fprintf(stderr, "train_correction_states: %s: coding failed\n", job->images[i]);
            pthread_mutex_lock(&job->lock);
            job->failed = 1;
            pthread_mutex_unlock(&job->lock);
        } else {
            fprintf(stderr, "\r%d/%d pictures", i + 1, job->n_images);
            scmc_image_free(&img);
        }
    }
    pthread_mutex_lock(&job->lock);
    int64_t *dst = (int64_t *)&job->total;
    const int64_t *src = (const int64_t *)pool;
    for (size_t k = 0; k < sizeof(Pool) / sizeof(int64_t); k++)
        dst[k] += src[k];
    pthread_mutex_unlock(&job->lock);
    free(pool);
    free(st);
    return NULL;
}

/* Rounded a / b for b > 0, halves away from zero. */
static int64_t div_round(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

static int write_table(const char *path, const Job *job, int64_t min_updates, const char *command)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    const Pool *p = &job->total;
    fprintf(f, "/* Generated by layers/structure/tools/train_correction_states.c; do not edit.\n"
               " * %s\n"
               " * %d pictures; corrections pooled per set:",
            command, job->n_images);
    for (int s = 0; s < NS; s++)
        fprintf(f, " %lld", (long long)p->corrections[s]);
    fprintf(f, ".\n * The starting states of the wavelet correction's models (correction_states.h). */\n"
               "#include \"correction_states.h\"\n\n"
               "const int8_t scmc_correction_start_probs[SCMC_CORRECTION_START_SETS][SCMC_CORRECTION_START_PROBS] = {\n");
    for (int s = 0; s < NS; s++) {
        fprintf(f, "    {");
        for (int i = 0; i < NP; i++) {
            int64_t code = 0;
            if (p->updates[s][i] >= min_updates && p->updates[s][i] > 0) {
                code = div_round(p->stretch_sum[s][i], 16 * p->updates[s][i]);
                code = code > 127 ? 127 : code < -127 ? -127 : code;
            }
            fprintf(f, "%s%lld,", i % 32 ? "" : "\n        ", (long long)code);
        }
        fprintf(f, "\n    },\n");
    }
    fprintf(f, "};\n\nconst int32_t scmc_correction_start_weights[SCMC_CORRECTION_START_SETS][SCMC_CORRECTION_START_WEIGHTS]"
               "[SCMC_MIX_INPUTS] = {\n");
    ScmcMixWeights untrained;
    scmc_mix_weights_init(&untrained);
    for (int s = 0; s < NS; s++) {
        fprintf(f, "    {\n");
        for (int i = 0; i < NW; i++) {
            fprintf(f, "        {");
            for (int k = 0; k < SCMC_MIX_INPUTS; k++) {
                /* the untrained weight where no picture used the set */
                const int64_t w = p->weight_n[s][i] ? div_round(p->weight_sum[s][i][k], p->weight_n[s][i])
                                                    : untrained.w[k];
                fprintf(f, "%s%lld", k ? ", " : "", (long long)w);
            }
            fprintf(f, "},\n");
        }
        fprintf(f, "    },\n");
    }
    fprintf(f, "};\n");
    if (fclose(f) || rename(tmp, path)) {
        remove(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static Job job;
    const char *out = NULL;
    int jobs = 1;
    long min_updates = 1;
    job.n_qualities = parse_list("1,2,3,4,5,6,7,8", 1, 8, job.qualities, 8);
    job.n_levels = parse_list("1,2,3,4,5", 1, 5, job.levels, 5);
    char command[1024] = "train_correction_states";
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        const char *opt = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!v) {
            fprintf(stderr, "train_correction_states: %s needs a value\n", opt);
            return 2;
        }
        a++;
        if (!strcmp(opt, "-o"))
            out = v;
        else if (!strcmp(opt, "--jobs") && (jobs = atoi(v)) >= 1 && jobs <= 64)
            ;
        else if (!strcmp(opt, "--qualities") && (job.n_qualities = parse_list(v, 1, 8, job.qualities, 8)) >= 0)
            ;
        else if (!strcmp(opt, "--levels") && (!strcmp(v, "none") ? (job.n_levels = 0) == 0
                                                                  : (job.n_levels = parse_list(v, 1, 5, job.levels, 5)) >= 0))
            ;
        else if (!strcmp(opt, "--min-updates") && (min_updates = atol(v)) >= 1)
            ;
        else {
            fprintf(stderr, "train_correction_states: bad option %s %s\n", opt, v);
            return 2;
        }
        if (strcmp(opt, "-o") && strcmp(opt, "--jobs"))
            snprintf(command + strlen(command), sizeof(command) - strlen(command), " %s %s", opt, v);
    }
    if (!out) {
        fprintf(stderr, "usage: train_correction_states [--jobs N] [--qualities LIST] [--levels LIST|none] "
                        "[--min-updates N] -o correction_states.c IMAGE...\n");
        return 2;
    }
    job.images = argv + a;
    job.n_images = argc - a;
    pthread_mutex_init(&job.lock, NULL);
    scmc_mix_tables_init(&job.tables);
    pthread_t threads[64];
    for (int t = 0; t < jobs; t++)
        if (pthread_create(&threads[t], NULL, worker, &job)) {
            fprintf(stderr, "train_correction_states: cannot start a worker\n");
            return 1;
        }
    for (int t = 0; t < jobs; t++)
        pthread_join(threads[t], NULL);
    fprintf(stderr, "\n");
    if (job.failed)
        return 1;
    if (write_table(out, &job, min_updates, command)) {
        fprintf(stderr, "train_correction_states: cannot write %s\n", out);
        return 1;
    }
    return 0;
}
