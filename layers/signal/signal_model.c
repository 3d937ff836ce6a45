#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "entropy/range_coder.h"
#include "signal_model.h"

/* The default weights, linked into the library by embedded_weights.S. */
extern const uint8_t scmc_signal_default_weights[];
extern const uint8_t scmc_signal_default_weights_end[];

typedef struct Loader {
    const ScmcWeights *w;
    char *err;
    size_t errlen;
    int failed;
} Loader;

static const void *get(Loader *ld, const char *name, int dtype, size_t count)
{
    const ScmcWeightTensor *t = scmc_weights_get(ld->w, name, dtype, count);
    if (!t && !ld->failed) {
        snprintf(ld->err, ld->errlen, "weight file lacks %s (%s of %zu values)", name,
                 dtype == SCMC_DTYPE_F32 ? "float32" : "int32", count);
        ld->failed = 1;
    }
    return t ? t->data : NULL;
}

static void conv_weights(Loader *ld, ScmcConvLayer *c, const char *name, int cin, int cout, int k, int has_bias)
{
    char n[64];
    c->cin = cin;
    c->cout = cout;
    c->k = k;
    snprintf(n, sizeof(n), "%s.weight", name);
    c->weight = get(ld, n, SCMC_DTYPE_F32, (size_t)cin * cout * k * k);
    snprintf(n, sizeof(n), "%s.bias", name);
    c->bias = has_bias ? get(ld, n, SCMC_DTYPE_F32, (size_t)cout) : NULL;
}

static void conv(Loader *ld, ScmcConvLayer *c, const char *name, int cin, int cout, int k)
{
    conv_weights(ld, c, name, cin, cout, k, 1);
}

static void gdn(Loader *ld, ScmcGdnLayer *g, const char *name, int c)
{
    char n[64];
    g->c = c;
    snprintf(n, sizeof(n), "%s.beta", name);
    g->beta = get(ld, n, SCMC_DTYPE_F32, (size_t)c);
    snprintf(n, sizeof(n), "%s.gamma", name);
    g->gamma = get(ld, n, SCMC_DTYPE_F32, (size_t)c * c);
}

static void int_conv(Loader *ld, ScmcIntConvLayer *c, const char *name, int cin, int cout, int k)
{
    char n[64];
    c->cin = cin;
    c->cout = cout;
    c->k = k;
    snprintf(n, sizeof(n), "%s.weight", name);
    c->weight = get(ld, n, SCMC_DTYPE_I32, (size_t)cin * cout * k * k);
    snprintf(n, sizeof(n), "%s.bias", name);
    c->bias = get(ld, n, SCMC_DTYPE_I32, (size_t)cout);
    for (size_t i = 0; c->weight && i < (size_t)cin * cout * k * k; i++)
        if (c->weight[i] > (1 << 20) || c->weight[i] < -(1 << 20)) {
            snprintf(ld->err, ld->errlen, "%s has a weight out of fixed-point range", name);
            ld->failed = 1;
            return;
        }
}

/* The optional restoration network: enh.config (channels, blocks[, views]), then its convolutions. */
/* The values of the optional int32 tensor `name` with min_n .. max_n of them (*n gets the count),
 * or NULL when the file has none; one of another size is refused as `what` of the wrong shape. */
static const int32_t *optional_config(Loader *ld, const char *name, int min_n, int max_n, int *n, const char *what)
{
    for (*n = min_n; *n <= max_n; (*n)++) {
        const ScmcWeightTensor *t = scmc_weights_get(ld->w, name, SCMC_DTYPE_I32, (size_t)*n);
        if (t)
            return t->data;
    }
    if (scmc_weights_get(ld->w, name, SCMC_DTYPE_I32, 0)) {
        snprintf(ld->err, ld->errlen, "weight file has a %s of the wrong shape", what);
        ld->failed = 1;
    }
    return NULL;
}

/* count 3 x 3 convolutions channels -> channels called prefix.0, prefix.1, ... */
static void conv_stack(Loader *ld, ScmcConvLayer *l, const char *prefix, int count, int channels)
{
    for (int i = 0; i < count; i++) {
        char n[32];
        snprintf(n, sizeof(n), "%s.%d", prefix, i);
        conv(ld, &l[i], n, channels, channels, 3);
    }
}

static void enhancer(Loader *ld, ScmcEnhancer *e)
{
    int n;
    const int32_t *c = optional_config(ld, "enh.config", 2, 3, &n, "restoration network");
    if (!c)
        return;
    const int views = n == 3 ? c[2] : 1;
    if (c[0] < 1 || c[0] > SCMC_ENHANCE_MAX_CHANNELS || c[1] < 0 || c[1] > SCMC_ENHANCE_MAX_BLOCKS ||
        (views != 1 && views != 2 && views != 4)) {
        snprintf(ld->err, ld->errlen, "weight file has an unsupported restoration network");
        ld->failed = 1;
        return;
    }
    e->channels = c[0];
    e->blocks = c[1];
    e->views = views;
    conv(ld, &e->head, "enh.head", 12 + 1, e->channels, 3);
    conv_stack(ld, e->body, "enh.body", e->blocks, e->channels);
    conv(ld, &e->tail, "enh.tail", e->channels, 12, 3);
    /* enh.branch (at, depth): the quarter-resolution branch, when the file has one */
    const int32_t *b = optional_config(ld, "enh.branch", 2, 2, &n, "restoration branch");
    if (!b)
        return;
    if (b[0] < 0 || b[0] >= e->blocks || b[1] < 1 || b[1] > SCMC_ENHANCE_MAX_BLOCKS) {
        snprintf(ld->err, ld->errlen, "weight file has an unsupported restoration branch");
        ld->failed = 1;
        return;
    }
    e->branch_at = b[0];
    e->branch_depth = b[1];
    conv(ld, &e->down, "enh.down", e->channels, e->channels, 3);
    conv_stack(ld, e->mid, "enh.mid", e->branch_depth, e->channels);
    conv(ld, &e->up, "enh.up", e->channels, 4 * e->channels, 1);
}

/* Checks a CDF of n symbols: 0 .. 65536, strictly increasing. */
static int valid_cdf(const int32_t *cdf, int n)
{
    if (n < 2 || cdf[0] != 0 || cdf[n] != (int32_t)SCMC_CDF_TOTAL)
        return 0;
    for (int i = 0; i < n; i++)
        if (cdf[i + 1] <= cdf[i])
            return 0;
    return 1;
}

int scmc_signal_model_load(const uint8_t *data, size_t size, ScmcSignalModel *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    int r = scmc_weights_parse(data, size, &m->w, err, errlen);
    if (r)
        return r;
    Loader ld = { &m->w, err, errlen, 0 };
    const int32_t *cfg = get(&ld, "config", SCMC_DTYPE_I32, 8);
    if (cfg) {
        m->N = cfg[0], m->M = cfg[1], m->groups = cfg[2], m->num_qualities = cfg[3];
        m->act_bits = cfg[4], m->weight_bits = cfg[5], m->detail = cfg[7];
        if (m->N < 1 || m->N > 256 || m->M < 1 || m->M > 512 || m->groups < 1 || m->groups > 63 ||
            m->M % m->groups || m->num_qualities != 8 || m->act_bits < 4 || m->act_bits > 16 ||
            m->weight_bits < 4 || m->weight_bits > 20 || cfg[6] != SCMC_SIGNAL_NUM_SCALES ||
            m->detail < 0 || m->detail >= m->M) {
            snprintf(err, errlen, "weight file has an unsupported configuration");
            ld.failed = 1;
        }
    }
    if (!ld.failed) {
        const int N = m->N, M = m->M, mg = M - m->detail, b = SCMC_SIGNAL_DETAIL_BLOCK;
        conv(&ld, &m->g_a[0], "g_a.0", 3, N, 5);
        gdn(&ld, &m->g_a_gdn[0], "g_a.1", N);
        conv(&ld, &m->g_a[1], "g_a.2", N, N, 5);
        gdn(&ld, &m->g_a_gdn[1], "g_a.3", N);
        conv(&ld, &m->g_a[2], "g_a.4", N, N, 5);
        gdn(&ld, &m->g_a_gdn[2], "g_a.5", N);
        conv(&ld, &m->g_a[3], "g_a.6", N, mg, 5);
        conv(&ld, &m->g_s[0], "g_s.0", mg, N, 5);
        gdn(&ld, &m->g_s_igdn[0], "g_s.1", N);
        conv(&ld, &m->g_s[1], "g_s.2", N, N, 5);
        gdn(&ld, &m->g_s_igdn[1], "g_s.3", N);
        conv(&ld, &m->g_s[2], "g_s.4", N, N, 5);
        gdn(&ld, &m->g_s_igdn[2], "g_s.5", N);
        conv(&ld, &m->g_s[3], "g_s.6", N, 3, 5);
        if (m->detail) {
            conv_weights(&ld, &m->d_a, "d_a", 3, m->detail, b, 0);
            conv_weights(&ld, &m->d_s, "d_s", m->detail, 3, b, 0);
        }
        conv(&ld, &m->h_a[0], "h_a.0", M, N, 3);
        conv(&ld, &m->h_a[1], "h_a.2", N, N, 5);
        conv(&ld, &m->h_a[2], "h_a.4", N, N, 5);
        int_conv(&ld, &m->h_s[0], "h_s.0", N, N, 5);
        int_conv(&ld, &m->h_s[1], "h_s.2", N, N, 5);
        int_conv(&ld, &m->h_s[2], "h_s.4", N, 2 * M, 3);
        m->gain = get(&ld, "gain", SCMC_DTYPE_F32, (size_t)8 * M);
        m->inv_gain = get(&ld, "inv_gain", SCMC_DTYPE_F32, (size_t)8 * M);
        m->scale_table_q = get(&ld, "scale_table_q", SCMC_DTYPE_I32, SCMC_SIGNAL_NUM_SCALES);
        /* optional: files written before the scale contexts code with the hyperprior's index */
        const ScmcWeightTensor *ct = scmc_weights_get(&m->w, "y_ctx_delta", SCMC_DTYPE_I32,
                                                      (size_t)SCMC_SIGNAL_NUM_CTX * SCMC_SIGNAL_NUM_SCALES);
        for (int i = 0; ct && i < SCMC_SIGNAL_NUM_CTX * SCMC_SIGNAL_NUM_SCALES && !ld.failed; i++) {
            const int32_t v = ((const int32_t *)ct->data)[i];
            if (v < -SCMC_SIGNAL_CTX_DELTA_MAX || v > SCMC_SIGNAL_CTX_DELTA_MAX) {
                snprintf(err, errlen, "weight file has an invalid scale-context table");
                ld.failed = 1;
            }
            m->ctx_delta[i / SCMC_SIGNAL_NUM_SCALES][i % SCMC_SIGNAL_NUM_SCALES] = (int8_t)v;
        }
        if (!ct && scmc_weights_get(&m->w, "y_ctx_delta", SCMC_DTYPE_I32, 0)) {
            snprintf(err, errlen, "weight file has a scale-context table of the wrong shape");
            ld.failed = 1;
        }
        if (!ld.failed)
            enhancer(&ld, &m->enhancer);
    }
    const ScmcWeightTensor *gl = ld.failed ? NULL : scmc_weights_get(&m->w, "gauss_cdf_length", SCMC_DTYPE_I32, SCMC_SIGNAL_NUM_SCALES);
    const ScmcWeightTensor *gc = ld.failed ? NULL : scmc_weights_get(&m->w, "gauss_cdf", SCMC_DTYPE_I32, 0);
    const ScmcWeightTensor *zo = ld.failed ? NULL : scmc_weights_get(&m->w, "z_cdf_offset", SCMC_DTYPE_I32, (size_t)m->N);
    const ScmcWeightTensor *zl = ld.failed ? NULL : scmc_weights_get(&m->w, "z_cdf_length", SCMC_DTYPE_I32, (size_t)m->N);
    const ScmcWeightTensor *zc = ld.failed ? NULL : scmc_weights_get(&m->w, "z_cdf", SCMC_DTYPE_I32, 0);
    const size_t nzq = (size_t)m->num_qualities * m->N;
    const ScmcWeightTensor *qo = ld.failed ? NULL : scmc_weights_get(&m->w, "z_q_cdf_offset", SCMC_DTYPE_I32, nzq);
    const ScmcWeightTensor *ql = ld.failed ? NULL : scmc_weights_get(&m->w, "z_q_cdf_length", SCMC_DTYPE_I32, nzq);
    const ScmcWeightTensor *qc = ld.failed ? NULL : scmc_weights_get(&m->w, "z_q_cdf", SCMC_DTYPE_I32, 0);
    if (!ld.failed && (!gl || !gc || !zo || !zl || !zc)) {
        snprintf(err, errlen, "weight file lacks its entropy tables");
        ld.failed = 1;
    }
    if (!ld.failed && (!qo != !ql || !qo != !qc ||
                       (!qo && (scmc_weights_get(&m->w, "z_q_cdf_offset", SCMC_DTYPE_I32, 0) ||
                                scmc_weights_get(&m->w, "z_q_cdf_length", SCMC_DTYPE_I32, 0))))) {
        snprintf(err, errlen, "weight file has incomplete per-quality z tables");
        ld.failed = 1;
    }
    if (!ld.failed) {
        /* every table as uint32 CDFs for the range coder, each checked */
        m->cdf_store = malloc(sizeof(uint32_t) * (gc->count + zc->count + (qc ? qc->count : 0)));
        m->z_cdf = calloc(nzq, sizeof(*m->z_cdf));
        m->z_len = calloc(nzq, sizeof(int));
        m->z_offset = calloc(nzq, sizeof(int));
        if (!m->cdf_store || !m->z_cdf || !m->z_len || !m->z_offset) {
            scmc_signal_model_free(m);
            return SCMC_ERR_NOMEM;
        }
        const int32_t *glen = gl->data, *gcdf = gc->data;
        size_t pos = 0, store = 0;
        for (int s = 0; s < SCMC_SIGNAL_NUM_SCALES && !ld.failed; s++) {
            const int n = glen[s];
            if (n < 4 || n % 2 || pos + (size_t)n + 1 > gc->count || !valid_cdf(gcdf + pos, n) ||
                (s && m->scale_table_q[s] <= m->scale_table_q[s - 1])) {
                snprintf(err, errlen, "weight file has an invalid Gaussian table %d", s);
                ld.failed = 1;
                break;
            }
            m->gauss_len[s] = n;
            m->gauss_cdf[s] = m->cdf_store + store;
            for (int i = 0; i <= n; i++)
                m->cdf_store[store++] = (uint32_t)gcdf[pos + i];
            pos += (size_t)n + 1;
        }
        /* the shared z tables, then the per-quality ones over them */
        for (int set = 0; set < 2 && !ld.failed; set++) {
            const ScmcWeightTensor *to = set ? qo : zo, *tl = set ? ql : zl, *tc = set ? qc : zc;
            if (!tc)
                break;
            const int32_t *zoff = to->data, *zlen = tl->data, *zcdf = tc->data;
            const size_t count = set ? nzq : (size_t)m->N;
            pos = 0;
            for (size_t t = 0; t < count && !ld.failed; t++) {
                const int n = zlen[t];
                if (n < 2 || pos + (size_t)n + 1 > tc->count || !valid_cdf(zcdf + pos, n) ||
                    zoff[t] < -SCMC_SIGNAL_Z_LIMIT || zoff[t] > SCMC_SIGNAL_Z_LIMIT) {
                    snprintf(err, errlen, "weight file has an invalid %sz table %zu", set ? "per-quality " : "", t);
                    ld.failed = 1;
                    break;
                }
                for (size_t q = set ? t / m->N : 0; q < (set ? t / m->N + 1 : (size_t)m->num_qualities); q++) {
                    const size_t at = q * m->N + t % m->N;
                    m->z_len[at] = n;
                    m->z_offset[at] = zoff[t];
                    m->z_cdf[at] = m->cdf_store + store;
                }
                for (int i = 0; i <= n; i++)
                    m->cdf_store[store++] = (uint32_t)zcdf[pos + i];
                pos += (size_t)n + 1;
            }
        }
    }
    if (ld.failed) {
        scmc_signal_model_free(m);
        return SCMC_ERR_CORRUPT;
    }
    m->id = m->w.id;
    return SCMC_OK;
}

void scmc_signal_model_free(ScmcSignalModel *m)
{
    free(m->cdf_store);
    free(m->z_cdf);
    free(m->z_len);
    free(m->z_offset);
    scmc_weights_free(&m->w);
    memset(m, 0, sizeof(*m));
}

static ScmcSignalModel default_model;
static int default_ok;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void load_default(void)
{
    char err[256];
    const size_t size = (size_t)(scmc_signal_default_weights_end - scmc_signal_default_weights);
    default_ok = scmc_signal_model_load(scmc_signal_default_weights, size, &default_model, err, sizeof(err)) == SCMC_OK;
}

const ScmcSignalModel *scmc_signal_default_model(void)
{
    pthread_once(&default_once, load_default);
    return default_ok ? &default_model : NULL;
}
