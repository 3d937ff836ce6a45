/* The signal layer's model: transforms, gains, fixed-point hyper-synthesis and entropy tables,
 * loaded and validated from a weight file (docs/weights.md). */
#ifndef SCMC_SIGNAL_MODEL_H
#define SCMC_SIGNAL_MODEL_H
#include <stdint.h>

#include "nn/nn_ops.h"
#include "nn/weights.h"

#define SCMC_SIGNAL_NUM_SCALES 64
/* Largest |z| and |y| symbol a stream may carry: keeps the fixed-point network in range. */
#define SCMC_SIGNAL_Z_LIMIT 32767
#define SCMC_SIGNAL_Y_LIMIT (1 << 20)

typedef struct ScmcConvLayer {
    const float *weight, *bias;
    int cin, cout, k;
} ScmcConvLayer;

typedef struct ScmcGdnLayer {
    const float *beta, *gamma;
    int c;
} ScmcGdnLayer;

typedef struct ScmcIntConvLayer {
    const int32_t *weight, *bias;
    int cin, cout, k;
} ScmcIntConvLayer;

/* Scale contexts of the y symbols (bitstream-spec/signal.md, "Scale context"): the magnitudes of
 * the left and upper neighbours in the channel, each capped at 2, summed (0..4), times the
 * activity of the group before at the same position (none, 0, 1-2, 3-6, 7+ non-zero symbols). */
#define SCMC_SIGNAL_CTX_SAME 5
#define SCMC_SIGNAL_CTX_PREV 5
#define SCMC_SIGNAL_NUM_CTX (SCMC_SIGNAL_CTX_SAME * SCMC_SIGNAL_CTX_PREV)
#define SCMC_SIGNAL_CTX_DELTA_MAX 63

/* Kernel and stride of the detail transforms: one latent position per block. */
#define SCMC_SIGNAL_DETAIL_BLOCK 16

/* The restoration network (layers/signal/enhance.c, docs/signal.md "The restoration network"):
 * 3 x 3 convolutions at half resolution, head (12 + 1 -> channels), blocks x (channels ->
 * channels), tail (channels -> 12), ReLU between; optionally a quarter-resolution branch added
 * to the features before body[branch_at]: down (3 x 3, stride 2), branch_depth x mid (3 x 3),
 * up (1 x 1 to 4 x channels, shuffled to half resolution). Optional in a weight file. */
#define SCMC_ENHANCE_MAX_BLOCKS 16
#define SCMC_ENHANCE_MAX_CHANNELS 256
typedef struct ScmcEnhancer {
    int channels, blocks;      /* 0: the model has no restoration network */
    int views;                 /* mirrored views averaged: 1 (as is), 2 (and left-right), 4 (and top-bottom, both) */
    int branch_at, branch_depth; /* branch_depth 0: no quarter-resolution branch */
    ScmcConvLayer head, body[SCMC_ENHANCE_MAX_BLOCKS], tail;
    ScmcConvLayer down, mid[SCMC_ENHANCE_MAX_BLOCKS], up;
} ScmcEnhancer;

typedef struct ScmcSignalModel {
    ScmcWeights w;
    uint32_t id;
    /* M latent channels: the first M - detail from g_a, the last detail from the linear d_a. */
    int N, M, groups, num_qualities, act_bits, weight_bits, detail;
    ScmcConvLayer g_a[4], g_s[4], h_a[3];
    ScmcConvLayer d_a, d_s;                /* detail transforms (no bias), when detail > 0 */
    ScmcGdnLayer g_a_gdn[3], g_s_igdn[3];
    ScmcIntConvLayer h_s[3];
    const float *gain, *inv_gain;          /* num_qualities x M */
    ScmcEnhancer enhancer;
    const int32_t *scale_table_q;          /* 64 thresholds, act_bits fraction bits */
    /* added to the hyperprior's scale index per context; all zero when the file has no table */
    int8_t ctx_delta[SCMC_SIGNAL_NUM_CTX][SCMC_SIGNAL_NUM_SCALES];
    uint32_t *gauss_cdf[SCMC_SIGNAL_NUM_SCALES];
    int gauss_len[SCMC_SIGNAL_NUM_SCALES]; /* symbols incl. escape: 2T + 2 */
    /* per quality and channel of z, index (quality - 1) * N + c: the file's per-quality tables
     * (z_q_cdf*) when it has them, else its shared tables (z_cdf*) for every quality */
    uint32_t **z_cdf;
    int *z_len, *z_offset;
    uint32_t *cdf_store;
} ScmcSignalModel;

/* Loads a weight file's bytes; err gets a one-line reason on failure. */
int scmc_signal_model_load(const uint8_t *data, size_t size, ScmcSignalModel *m, char *err, size_t errlen);
void scmc_signal_model_free(ScmcSignalModel *m);
/* The model built into the library (loaded once, shared, never freed), or NULL if it fails. */
const ScmcSignalModel *scmc_signal_default_model(void);

/* Fixed-point hyper-synthesis (integers only: identical on every machine): z symbols (N x zh x zw)
 * to the mean (M x 4zh x 4zw, act_bits fraction bits) and scale index of every latent. */
int scmc_signal_hyper_synthesis(const ScmcSignalModel *m, const int32_t *z, int zh, int zw, int32_t *mean_q,
                                uint8_t *scale_idx);
#endif
