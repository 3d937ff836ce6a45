/* The signal layer's payloads (bitstream-spec/signal.md): sub-layer 0 carries the quality, the
 * strength of the restoration network (when the model has one) and the hyper-latent z (unless the
 * layer is the restoration alone); sub-layers 1..G each carry one group of latent channels of y,
 * in the order the model was trained to make every prefix decode well (nested dropout). */
#ifndef SCMC_SIGNAL_CODEC_H
#define SCMC_SIGNAL_CODEC_H
#include <stddef.h>
#include <stdint.h>

#include "entropy/range_coder.h"
#include "image/image.h"
#include "lib/layer.h"
#include "signal_model.h"

/* One z symbol of channel c at a quality / one centred y symbol with scale index idx (escapes included). */
void scmc_signal_put_z(ScmcRangeEncoder *e, const ScmcSignalModel *m, int quality, int c, int32_t v);
void scmc_signal_put_y(ScmcRangeEncoder *e, const ScmcSignalModel *m, int idx, int32_t v);
/* What scmc_signal_put_y spends on v with scale index idx, in bits. */
double scmc_signal_y_bits(const ScmcSignalModel *m, int idx, int32_t v);

/* Scale contexts (bitstream-spec/signal.md, "Scale context"). prev_ctx[i] gets the part of
 * position i's context that comes from the group before (prev_group: its first channel plane, NULL
 * for the first group); scmc_signal_context adds the channel's own part, from its left and upper
 * symbols (chan: the channel's plane, coded up to i - 1), giving 0..SCMC_SIGNAL_NUM_CTX - 1. */
void scmc_signal_previous_group_context(const int32_t *prev_group, int per, int plane, uint8_t *prev_ctx);
int scmc_signal_context(const int32_t *chan, int yw, int i, int prev_ctx);
/* The scale index a symbol in context ctx is coded with: the hyperprior's k moved by the table;
 * scmc_signal_context_scale does the same from the symbol's neighbours. */
int scmc_signal_scale_in_context(const ScmcSignalModel *m, int ctx, int k);
int scmc_signal_context_scale(const ScmcSignalModel *m, const int32_t *chan, int yw, int i, int prev_ctx, int k);
/* Visits the symbols of latent groups 0..groups-1 of v (M planes of yh x yw) in coding order:
 * visit(arg, k, ctx) for symbol k = c * yh * yw + i with the scale context it is coded in, taken
 * from v as it stands at that moment, so visit may set v[k] and the symbols after it see the new
 * value (the encoder rounds that way). SCMC_OK, or SCMC_ERR_NOMEM before any visit. */
int scmc_signal_each_symbol(const ScmcSignalModel *m, const int32_t *v, int yh, int yw, int groups,
                            void (*visit)(void *arg, size_t k, int ctx), void *arg);

/* The encoder's rate-distortion rounding of the latents (signal_codec.c, rd_round): a step towards
 * zero is taken when the squared error it adds, in quantizer steps, is below rdoq_mu times the
 * bits it saves. 0 rounds to nearest. */
#define SCMC_SIGNAL_RDOQ_MU 0.03

/* Rate-distortion weight of quality q (1..8), the lambda the model was trained with
 * (layers/signal/train/model.py, LAMBDAS): cost = lambda * MSE + bits per pixel, MSE over the
 * 8-bit samples of all three channels. */
double scmc_signal_lambda(int quality);

typedef struct ScmcSignalEncodeParams {
    int quality;     /* 1..8 */
    double rdoq_mu;  /* rd_round's mu: SCMC_SIGNAL_RDOQ_MU; 0 rounds to nearest */
    int all_groups;  /* 1: write every latent group; 0: stop where the next detail groups would
                      * cost more rate than their distortion is worth at the quality's lambda */
    int detail_rdo;  /* 1: fit the detail symbols to what the quantized nonlinear channels leave,
                      * by rate-distortion (optimise_detail); 0: keep d_a's, rounded by rd_round */
    double lambda;   /* > 0: the latents (z and the groups) stay only if the squared RGB error
                      * they remove from the restored base exceeds lambda times their bits
                      * (container entries included); 0: they always stay */
} ScmcSignalEncodeParams;

/* Restores base with the model's network at the strength closest to img (when the model has
 * one), then codes img - restored base into sub-layer 0 and the first p latent groups (p = groups
 * with all_groups; otherwise chosen per image, at least every group that holds a nonlinear
 * channel), appended to out (zeroed by the caller); with lambda, sub-layer 0 alone when the
 * latents do not pay. The decoder takes unsent groups as their predicted means. */
int scmc_signal_encode(const ScmcSignalModel *m, const ScmcNnOps *ops, const ScmcImage *img,
                       const ScmcImage *base, const ScmcSignalEncodeParams *par, ScmcPayloads *out);
/* The same; where the encoder judged the latents (lambda > 0, a model with the network) it has
 * rendered what the decoder will show, and recon (if not NULL) gets it (allocated; otherwise left
 * empty): the restored base, or the latents painted on it, computed as the decoder computes them. */
int scmc_signal_encode_rec(const ScmcSignalModel *m, const ScmcNnOps *ops, const ScmcImage *img,
                           const ScmcImage *base, const ScmcSignalEncodeParams *par, ScmcPayloads *out,
                           ScmcImage *recon);

typedef struct ScmcSignalDecoder {
    const ScmcSignalModel *m;
    const ScmcNnOps *ops;
    int width, height, yh, yw, zh, zw;
    int quality;          /* 0 until sub-layer 0 is parsed */
    int show_mean;        /* with no group parsed: paint the predicted means (1) or keep base (0) */
    int strength;         /* restoration strength 0..3 (0: none) */
    int latents;          /* 1: z was sent and groups may follow; 0: the layer is the restoration */
    int groups_parsed;
    int32_t *z, *mean_q, *y;
    uint8_t *scale_idx;
    /* the restored base of the last render, and the base it was made from (renders after each
     * sub-layer restore the same base once) */
    ScmcImage restored, restored_from;
} ScmcSignalDecoder;

int scmc_signal_decoder_init(ScmcSignalDecoder *d, const ScmcSignalModel *m, const ScmcNnOps *ops, int width, int height);
void scmc_signal_decoder_free(ScmcSignalDecoder *d);
/* Parses sub-layer `index`; leaves the state unchanged on failure. */
int scmc_signal_decode_sublayer(ScmcSignalDecoder *d, int index, const uint8_t *data, size_t size);
/* base restored at the parsed strength, + the synthesis of the latents parsed so far (dropped
 * groups take their predicted mean). */
int scmc_signal_render(ScmcSignalDecoder *d, const ScmcImage *base, ScmcImage *out);
#endif
