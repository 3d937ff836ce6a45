/* Wavelet correction sub-layers: syntax and contexts (bitstream-spec/structure.md, "Sub-layers
 * 1-3: wavelet correction"), the parts, the encoder's quantizer (one quantizer or dependent
 * quantization), and the decoder's integer reconstruction. */
#include "correction.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "entropy/mixer.h"
#include "entropy/range_coder.h"
#include "correction_states.h"
#include "prediction_net.h"
#include "metrics/metrics.h"
#include "scmc/scmc.h"
#include "sharpen.h"
#include "wavelet.h"

#define BITS_STEP 12
#define BITS_SHARPEN 4
#define BITS_SHRINK 6     /* a reconstruction offset, two's complement; -32 is invalid */
#define SHRINK_MAX 31
#define BLOCK 16          /* significance blocks: BLOCK x BLOCK coefficients of a band */
#define BAND_CLASSES 5    /* LL, level 5, level 4, level 3, levels 2 and 1 */
#define MAG_BITS 7        /* unary magnitude bits before the Exp-Golomb escape */
/* Coefficients are magnitude-limited so that q * step * 16 stays far inside the lifting clamp. */
#define MAX_DEQUANT (1 << 16)
/* The coefficient contexts. Significance, sign and magnitude bits are mixed (entropy/mixer.h)
 * from several contexts each, since the neighbours, the parent, the other orientations, for the
 * chroma planes the luma plane, and outside the low band a prediction from the coarser levels
 * (predict_level; for the luma's levels 1-4 also a learned one, prediction_net.h) each tell part
 * of where the activity is; the block flags and the escape's
 * prefix are single adaptive bits. */
#define ACT_CLASSES 8     /* classes of the neighbours' weighted magnitude sum */
#define ESC_PREFIX 18     /* Exp-Golomb prefix bits with their own models (no value needs more) */
#define PRED_CLASSES 6    /* classes of the coarse-scale prediction's magnitude (pred_class) */
#define PRED_MAG_BITS 2   /* the unary magnitude bits that also read the prediction */
#define NET_BANDS 3       /* the band classes the learned prediction covers: levels 4, 3, and 2 and 1 */
#define NET_BAND0 2       /* the first of them (BAND_CLASSES' index of level 4) */
typedef struct Contexts {
    ScmcMixTables tables;
    /* The maps refining the mixed probabilities (not in the starting-state tables: they start as
     * the identity): significance by the prediction's class (0: none; the learned prediction's
     * significance class where it runs) and the non-zero neighbours,
     * sign by the orientation and the prediction's, left and upper signs, magnitude bits by the
     * activity class. */
    ScmcMixApm apm_sig[2][BAND_CLASSES][PRED_CLASSES + 1][5];
    ScmcMixApm apm_sign[2][BAND_CLASSES][3][27];
    ScmcMixApm apm_mag[2][BAND_CLASSES][MAG_BITS][ACT_CLASSES];
    ScmcBitModel block[2][BAND_CLASSES][3][PRED_CLASSES + 1]; /* [..][1 + the block's strongest prediction] */
    ScmcBitModel escape[2][BAND_CLASSES][ESC_PREFIX][ACT_CLASSES];
    ScmcMixWeights sig_w[2][BAND_CLASSES][3][2];
    ScmcMixWeights sig_w2[2][BAND_CLASSES][3][2][PRED_CLASSES + 1]; /* by the prediction's class */
    ScmcMixContext sig_count[2][BAND_CLASSES][20][2];
    ScmcMixContext sig_act[2][BAND_CLASSES][ACT_CLASSES][3][2];
    ScmcMixContext sig_pattern[2][BAND_CLASSES][256][3][3];
    ScmcMixContext sig_orient[BAND_CLASSES][4][ACT_CLASSES];   /* luma */
    ScmcMixContext sig_luma[2][BAND_CLASSES][3][ACT_CLASSES][3]; /* Co, Cg */
    ScmcMixWeights sign_w[2][BAND_CLASSES][3];
    ScmcMixContext sign_near[2][BAND_CLASSES][3][9];
    ScmcMixContext sign_luma[2][BAND_CLASSES][3][3]; /* Co, Cg */
    ScmcMixWeights mag_w[2][BAND_CLASSES][MAG_BITS][3]; /* by the prediction: none, weak, strong */
    ScmcMixContext mag_big[2][BAND_CLASSES][MAG_BITS][2];
    ScmcMixContext mag_act[2][BAND_CLASSES][MAG_BITS][ACT_CLASSES];
    ScmcMixContext mag_cross[3][BAND_CLASSES][MAG_BITS][4]; /* luma: the parent; Co, Cg: the luma */
    /* the coarse-scale prediction (predict_level; not in the LL band) */
    ScmcMixContext sig_pred[2][BAND_CLASSES][3][PRED_CLASSES][3];
    ScmcMixContext sign_pred[2][BAND_CLASSES][3][3][4];
    ScmcMixContext mag_pred[2][BAND_CLASSES][PRED_MAG_BITS][PRED_CLASSES];
    /* the learned prediction's classes (prediction_net.h; luma levels 4, 3 and 2-1: NET_BANDS) */
    ScmcMixContext sig_net[NET_BANDS][3][SCMC_PREDNET_SIG_CLASSES][3];
    ScmcMixContext sign_net[NET_BANDS][3][SCMC_PREDNET_SIGN_CLASSES][3];
    ScmcMixContext mag_net[NET_BANDS][3][SCMC_PREDNET_MAG_CLASSES][PRED_MAG_BITS];
} Contexts;

typedef struct Band {
    int x0, y0, w, h, cls, level; /* level 0: LL */
    int orient;                   /* 0: LL and A, 1: B, 2: C */
    int parent;                   /* the band of the same orientation one level coarser (LL under
                                   * level 5), -1 for LL or when that band is empty */
    int earlier[2], n_earlier;    /* the bands of this level coded before this one */
} Band;

/* The bands of a w x h plane in coding order: LL, then levels 5..1, each A (top right), B (bottom
 * left), C (bottom right). Returns their number; empty bands are skipped. */
static int list_bands(int w, int h, Band *out)
{
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1], n = 0;
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    const int L = SCMC_WAVELET_LEVELS;
    out[n++] = (Band){ 0, 0, dw[L], dh[L], 0, 0, 0 };
    for (int l = L; l >= 1; l--) {
        const int cls = l >= 4 ? L + 1 - l : l == 3 ? 3 : 4;
        const Band b[3] = {
            { dw[l], 0, dw[l - 1] - dw[l], dh[l], cls, l, 0 },
            { 0, dh[l], dw[l], dh[l - 1] - dh[l], cls, l, 1 },
            { dw[l], dh[l], dw[l - 1] - dw[l], dh[l - 1] - dh[l], cls, l, 2 },
        };
        for (int k = 0; k < 3; k++)
            if (b[k].w > 0 && b[k].h > 0)
                out[n++] = b[k];
    }
    for (int i = 0; i < n; i++) {
        out[i].parent = -1;
        out[i].n_earlier = 0;
        for (int j = 0; j < i; j++) {
            if (out[i].level > 0 && (out[i].level == L ? out[j].level == 0 : out[j].level == out[i].level + 1 &&
                                                                                  out[j].orient == out[i].orient))
                out[i].parent = j;
            if (out[i].level > 0 && out[j].level == out[i].level)
                out[i].earlier[out[i].n_earlier++] = j;
        }
    }
    return n;
}

/* Whether the coarser level holds a significant coefficient at the parent of (x, y) of a band of
 * level l: the LL coefficient at the same position for level 5, else any of the three bands of
 * level l + 1 at (x/2, y/2); positions past a parent band's edge move to its last row/column. */
static int parent_sig(const int32_t *q, int w, const int *dw, const int *dh, int l, int x, int y)
{
    if (l == 0)
        return 0;
    if (l == SCMC_WAVELET_LEVELS) {
        const int px = x < dw[l] ? x : dw[l] - 1, py = y < dh[l] ? y : dh[l] - 1;
        return q[(size_t)py * w + px] != 0;
    }
    const int p = l + 1, aw = dw[l] - dw[p], bh = dh[l] - dh[p];
    int px = x / 2, py = y / 2;
    int sig = 0;
    if (aw > 0) /* A: dw[p] + 0..aw-1, rows 0..dh[p]-1 */
        sig |= q[(size_t)(py < dh[p] ? py : dh[p] - 1) * w + dw[p] + (px < aw ? px : aw - 1)] != 0;
    if (bh > 0) /* B: columns 0..dw[p]-1, rows dh[p] + 0..bh-1 */
        sig |= q[(size_t)(dh[p] + (py < bh ? py : bh - 1)) * w + (px < dw[p] ? px : dw[p] - 1)] != 0;
    if (aw > 0 && bh > 0)
        sig |= q[(size_t)(dh[p] + (py < bh ? py : bh - 1)) * w + dw[p] + (px < aw ? px : aw - 1)] != 0;
    return sig;
}

static inline int sign_of(int32_t v)
{
    return (v > 0) - (v < 0);
}

static inline int mag_of(int32_t v)
{
    return v < 0 ? -v : v;
}

/* A logit of the learned prediction (1/1024) in the mixer's stretch units (1/256), rounded down. */
static inline int32_t stretch_of_logit(int32_t v)
{
    return v >= 0 ? v >> 2 : -((-v + 3) >> 2);
}

static inline int at_most(int v, int m)
{
    return v < m ? v : m;
}

/* |value| at (x, y) of band b of plane q, 0 outside the band. */
static inline int band_mag(const int32_t *q, int w, const Band *b, int x, int y)
{
    return x < 0 || y < 0 || x >= b->w || y >= b->h ? 0 : mag_of(q[(size_t)(b->y0 + y) * w + b->x0 + x]);
}

/* The class of a weighted magnitude sum: 0, 1-2, 3-4, 5-7, 8-11, 12-19, 20-35, 36 and more. */
static int activity_class(int a)
{
    static const int16_t upper[ACT_CLASSES - 1] = { 0, 2, 4, 7, 11, 19, 35 };
    int k = 0;
    while (k < ACT_CLASSES - 1 && a > upper[k])
        k++;
    return k;
}

/* What the models of one plane's coefficients read besides the plane itself. */
typedef struct PlaneView {
    int32_t *q;           /* the plane being filled in coding order */
    const int32_t *luma;  /* the coded luma plane (chroma planes), else NULL */
    const int32_t *co;    /* the coded Co plane (the Cg plane), else NULL */
    int32_t *pred;        /* the coarse-scale prediction of the level being coded (predict_level) */
    int32_t *work;        /* predict_level's scratch: a plane, and max(w, h) samples */
    ScmcPrednetLogits *net; /* the learned prediction of the level being coded (luma), else NULL */
    int w, h, plane, step; /* size, 0, 1, 2 for Y, Co, Cg, and the plane's step */
    int dq;               /* dependent quantization (dq_next) */
    int split;            /* the bands in parts by level (part_of_level), else all in part 0 */
    const Band *bands;
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
} PlaneView;

/* The decisions of one coefficient: significance, ready to predict; sign and the unary magnitude
 * bits once value_models has set them (most coefficients are 0 and never need them); the escape
 * prefix's models. */
typedef struct CoefModels {
    ScmcMix sig, sign, mag[MAG_BITS];
    ScmcBitModel *escape; /* [ESC_PREFIX][ACT_CLASSES], read at [j][act] */
    int act;
    /* what value_models reads */
    int cls, band_cls, plane, orient, big, cross, sign_left, sign_up, luma_sign, chroma;
    int pred, pred_sign; /* the prediction's class and sign (pred -1: none, the LL band) */
    int net, net_sign, net_mag; /* the learned prediction's classes (net -1: none) */
    int32_t net_sign_logit, net_mag_logit; /* and its logits in stretch units */
} CoefModels;

/* The class of a prediction of magnitude a (1/16 grey levels) for a plane of step s16 (the same
 * units): under 0.05, 0.12, 0.25, 0.5 and 1 step, and above. */
static int pred_class(int64_t a, int64_t s16)
{
    static const int bounds[PRED_CLASSES - 1] = { 5, 12, 25, 50, 100 };
    int k = 0;
    while (k < PRED_CLASSES - 1 && 100 * a >= bounds[k] * s16)
        k++;
    return k;
}

/* floor(v / 4) for any sign. */
static inline int32_t floor_div4(int32_t v)
{
    return v >= 0 ? v / 4 : -((-v + 3) / 4);
}

/* The coarse-scale prediction of level `level`'s three bands (bitstream-spec/structure.md,
 * "Coarse-scale prediction"), into v->pred at their places: the plane's values of the coarser
 * levels read as index x step (1/16 grey levels), synthesised with the normative inverse to the
 * resolution that level splits, every sample moved a quarter of the way to the nearer of the
 * largest and smallest in its 3 x 3 neighbourhood (a sharpening that restores some of the edges
 * the coarse synthesis blurs), and analysed one level. What a coarser level tells of an edge's
 * position and polarity is thus turned into expected values of the finer coefficients, which the
 * neighbours of a coefficient at the same level do not yet show. */
static int predict_level(const PlaneView *v, int level)
{
    const int w = v->w, W = v->dw[level - 1], H = v->dh[level - 1];
    const int32_t s16 = v->step << SCMC_WAVELET_FRAC;
    int32_t *u = v->work, *tmp = v->work + (size_t)w * v->h, *p = v->pred;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            u[(size_t)y * w + x] = x < v->dw[level] && y < v->dh[level] ? v->q[(size_t)y * w + x] * s16 : 0;
    scmc_wavelet_inverse_to(u, w, v->h, level, tmp);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int32_t lo = INT32_MAX, hi = INT32_MIN;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int yy = y + dy < 0 ? 0 : y + dy >= H ? H - 1 : y + dy;
                    const int xx = x + dx < 0 ? 0 : x + dx >= W ? W - 1 : x + dx;
                    const int32_t t = u[(size_t)yy * w + xx];
                    lo = t < lo ? t : lo;
                    hi = t > hi ? t : hi;
                }
            const int32_t c = u[(size_t)y * w + x];
            /* the nearer extreme; at the midpoint, the smaller */
            const int32_t target = (int64_t)c - lo > (int64_t)hi - c ? hi : lo;
            p[(size_t)y * w + x] = c + floor_div4(target - c);
        }
    scmc_wavelet_forward_level_int(p, w, v->h, level, tmp);
    /* u still holds the synthesis (the forward level's scratch is tmp) */
    if (v->net && level <= SCMC_PREDNET_LEVELS)
        return scmc_prednet_run(u, p, w, W, H, v->step, v->net) ? SCMC_ERR_NOMEM : SCMC_OK;
    return SCMC_OK;
}

int scmc_correction_coarse_prediction(const int32_t *q, int w, int h, int level, int step, int32_t *pred,
                                      ScmcPrednetLogits *logits)
{
    if (w < 1 || h < 1 || level < 1 || level > SCMC_WAVELET_LEVELS || step < 1 || step > SCMC_CORRECTION_MAX_STEP)
        return SCMC_ERR_INVALID_ARG;
    int32_t *work = malloc(((size_t)w * h + (size_t)(w > h ? w : h)) * sizeof(int32_t));
    if (!work)
        return SCMC_ERR_NOMEM;
    PlaneView v = { (int32_t *)q, NULL, NULL, pred, work, logits, w, h, 0, step, 0, 0, NULL, { 0 }, { 0 } };
    scmc_wavelet_dims(w, v.dw);
    scmc_wavelet_dims(h, v.dh);
    const int r = predict_level(&v, level);
    free(work);
    return r;
}

/* The contexts of the coefficient at (x, y) of band b. From the plane: the
 * count of non-zero left, upper, upper-left and upper-right neighbours with whether the left or
 * upper one exceeds 1 and whether the coarser level is significant there (parent_sig); the class of
 * 2 x (left + up) + upper-left + upper-right + the two at distance 2 (magnitudes) with the parent's
 * magnitude and its four neighbours'; the pattern of which of the six are non-zero and whether the
 * left or upper one exceeds 1. From the other planes: for luma the magnitudes at the same place in
 * the level's bands coded before (orientations A, then A and B); for chroma the luma there and
 * around, and for Cg the Co there. Outside the low band, the class and sign of the coarse-scale
 * prediction (v->pred, made for the band's level by predict_level); for the luma's levels 1-4 the
 * learned prediction's classes (v->net, made with it). Signs: the left and upper
 * signs, for chroma with the luma's. qclass is 1 when dependent quantization puts the coefficient under Q1 (its zero bin is half as
 * wide, so zero is rarer): the significance's weight set and neighbour-count context know it. */
static void coefficient_models(Contexts *m, const PlaneView *v, const Band *b, int x, int y, int qclass,
                               CoefModels *cm)
{
    const int32_t *c = &v->q[(size_t)(b->y0 + y) * v->w + b->x0 + x];
    const int w = v->w, cls = v->plane > 0, bc = b->cls;
    const int left = x > 0 ? c[-1] : 0, up = y > 0 ? c[-w] : 0;
    const int up_left = x > 0 && y > 0 ? c[-w - 1] : 0, up_right = x + 1 < b->w && y > 0 ? c[-w + 1] : 0;
    const int left2 = x > 1 ? c[-2] : 0, up2 = y > 1 ? c[-2 * w] : 0;
    const int nonzero = (left != 0) + (up != 0) + (up_left != 0) + (up_right != 0);
    const int big_left = mag_of(left) > 1, big_up = mag_of(up) > 1, big = big_left || big_up;
    const int act = activity_class(2 * (mag_of(left) + mag_of(up)) + mag_of(up_left) + mag_of(up_right) +
                                   mag_of(left2) + mag_of(up2));
    const int pattern = (left != 0) | (up != 0) << 1 | (up_left != 0) << 2 | (up_right != 0) << 3 | (left2 != 0) << 4 |
                        (up2 != 0) << 5 | big_left << 6 | big_up << 7;
    /* The parent: the same orientation one level coarser (the LL band under level 5). */
    int parent = 0, parent_near = 0;
    if (b->parent >= 0) {
        const Band *pb = &v->bands[b->parent];
        const int px0 = b->level == SCMC_WAVELET_LEVELS ? x : x / 2, py0 = b->level == SCMC_WAVELET_LEVELS ? y : y / 2;
        const int px = px0 < pb->w ? px0 : pb->w - 1, py = py0 < pb->h ? py0 : pb->h - 1;
        parent = band_mag(v->q, w, pb, px, py);
        parent_near = band_mag(v->q, w, pb, px - 1, py) + band_mag(v->q, w, pb, px + 1, py) +
                      band_mag(v->q, w, pb, px, py - 1) + band_mag(v->q, w, pb, px, py + 1);
    }
    const int psig = parent_sig(v->q, w, v->dw, v->dh, b->level, x, y);
    int luma = 0, luma_sign = 0, luma_near = 0, co = 0, orient = 0;
    if (v->luma) {
        const int32_t *lc = &v->luma[(size_t)(b->y0 + y) * w + b->x0 + x];
        luma = mag_of(*lc);
        luma_sign = sign_of(*lc);
        luma_near = band_mag(v->luma, w, b, x - 1, y) + band_mag(v->luma, w, b, x + 1, y) +
                    band_mag(v->luma, w, b, x, y - 1) + band_mag(v->luma, w, b, x, y + 1);
        if (v->co)
            co = mag_of(v->co[(size_t)(b->y0 + y) * w + b->x0 + x]);
    } else {
        for (int k = 0; k < b->n_earlier; k++)
            orient += band_mag(v->q, w, &v->bands[b->earlier[k]], x, y);
    }

    cm->pred = -1;
    cm->pred_sign = 0;
    if (b->level > 0) {
        const int32_t pv = v->pred[(size_t)(b->y0 + y) * w + b->x0 + x];
        const int64_t a = pv < 0 ? -(int64_t)pv : pv, s16 = (int64_t)v->step << SCMC_WAVELET_FRAC;
        cm->pred = pred_class(a, s16);
        cm->pred_sign = 10 * a < s16 ? 0 : pv > 0 ? 1 : -1;
    }
    cm->net = cm->net_sign = cm->net_mag = -1;
    int32_t net_sig_logit = 0;
    if (v->net && b->level > 0 && b->level <= SCMC_PREDNET_LEVELS) {
        const ScmcPrednetLogits *nl = &v->net[(size_t)(b->y0 + y) * w + b->x0 + x];
        cm->net = scmc_prednet_sig_class(nl);
        cm->net_sign = scmc_prednet_sign_class(nl);
        cm->net_mag = scmc_prednet_mag_class(nl);
        net_sig_logit = stretch_of_logit(nl->sig);
        /* the sign bit is 1 for a negative value, the logit is of a positive one */
        cm->net_sign_logit = -stretch_of_logit(nl->sign);
        cm->net_mag_logit = stretch_of_logit(nl->mag);
    }
    const int luma_set = v->luma ? 1 + (luma > 0) : 0;
    scmc_mix_begin(&cm->sig, &m->sig_w[cls][bc][luma_set][qclass]);
    scmc_mix_second_weights(&cm->sig, &m->sig_w2[cls][bc][luma_set][qclass][cm->pred + 1]);
    /* the map by the learned prediction's class where it runs, else by the hand-made one's */
    scmc_mix_refine(&cm->sig, &m->apm_sig[cls][bc][(cm->net >= 0 ? cm->net : cm->pred) + 1][nonzero]);
    scmc_mix_add(&cm->sig, &m->sig_count[cls][bc][4 * nonzero + 2 * big + psig][qclass]);
    scmc_mix_add(&cm->sig, &m->sig_act[cls][bc][act][at_most(parent, 2)][parent_near > 0]);
    scmc_mix_add(&cm->sig, &m->sig_pattern[cls][bc][pattern][at_most(parent, 2)][luma_set]);
    if (v->luma)
        scmc_mix_add(&cm->sig, &m->sig_luma[v->plane - 1][bc][at_most(luma, 2)][activity_class(luma_near)]
                                           [v->co ? at_most(co, 2) : 0]);
    else
        scmc_mix_add(&cm->sig, &m->sig_orient[bc][at_most(orient, 3)][act]);
    if (cm->pred >= 0)
        scmc_mix_add(&cm->sig, &m->sig_pred[cls][bc][b->orient][cm->pred][at_most(nonzero, 2)]);
    if (cm->net >= 0) {
        scmc_mix_add(&cm->sig, &m->sig_net[bc - NET_BAND0][b->orient][cm->net][at_most(nonzero, 2)]);
        scmc_mix_direct(&cm->sig, net_sig_logit);
    }

    cm->cls = cls;
    cm->band_cls = bc;
    cm->plane = v->plane;
    cm->orient = b->orient;
    cm->big = big;
    cm->cross = at_most(v->luma ? luma : parent, 3);
    cm->sign_left = sign_of(left);
    cm->sign_up = sign_of(up);
    cm->luma_sign = luma_sign;
    cm->chroma = v->luma != NULL;
    cm->escape = &m->escape[cls][bc][0][0];
    cm->act = act;
}

/* The block flag's prediction context: 0 in the LL band, else 1 + the largest class of the
 * coarse-scale prediction over the block's coefficients (where an edge of the coarser levels
 * crosses the block, the block is rarely all zeros). */
static int block_prediction(const PlaneView *v, const Band *b, int x1, int y1, int x2, int y2)
{
    if (b->level == 0)
        return 0;
    int64_t top = 0;
    for (int y = y1; y < y2; y++)
        for (int x = x1; x < x2; x++) {
            const int32_t pv = v->pred[(size_t)(b->y0 + y) * v->w + b->x0 + x];
            const int64_t a = pv < 0 ? -(int64_t)pv : pv;
            if (a > top)
                top = a;
        }
    return 1 + pred_class(top, (int64_t)v->step << SCMC_WAVELET_FRAC);
}

/* The state changes of the choice pass within one block, so a block that turns out cheaper as
 * zeros can take them back. */
typedef struct JournalEntry {
    void *addr;
    size_t size;
    unsigned char old[sizeof(ScmcMixWeights)];
} JournalEntry;

typedef struct Journal {
    JournalEntry *entries;
    size_t n, cap;
    int error; /* sticky: allocation failed */
} Journal;

static void journal_save(Journal *j, void *addr, size_t size)
{
    if (j->n == j->cap) {
        const size_t cap = j->cap ? 2 * j->cap : 1024;
        JournalEntry *e = realloc(j->entries, cap * sizeof(*e));
        if (!e) {
            j->error = 1;
            return;
        }
        j->entries = e;
        j->cap = cap;
    }
    JournalEntry *e = &j->entries[j->n++];
    e->addr = addr;
    e->size = size;
    memcpy(e->old, addr, size);
}

static void journal_undo(Journal *j)
{
    while (j->n > 0) {
        const JournalEntry *e = &j->entries[--j->n];
        memcpy(e->addr, e->old, e->size);
    }
}

/* The sign and magnitude decisions of a coefficient whose significance is 1. */
static void value_models(Contexts *m, CoefModels *cm)
{
    const int cls = cm->cls, bc = cm->band_cls;
    scmc_mix_begin(&cm->sign, &m->sign_w[cls][bc][cm->orient]);
    scmc_mix_refine(&cm->sign, &m->apm_sign[cls][bc][cm->orient]
                                          [9 * (cm->pred_sign + 1) + 3 * (cm->sign_left + 1) + cm->sign_up + 1]);
    scmc_mix_add(&cm->sign, &m->sign_near[cls][bc][cm->orient][3 * (cm->sign_left + 1) + cm->sign_up + 1]);
    if (cm->chroma)
        scmc_mix_add(&cm->sign, &m->sign_luma[cm->plane - 1][bc][cm->luma_sign + 1][cm->sign_left + 1]);
    if (cm->pred >= 0)
        scmc_mix_add(&cm->sign, &m->sign_pred[cls][bc][cm->orient][cm->pred_sign + 1][cm->pred < 3 ? 0 : cm->pred - 2]);
    if (cm->net >= 0) {
        scmc_mix_add(&cm->sign, &m->sign_net[bc - NET_BAND0][cm->orient][cm->net_sign][cm->pred < 3 ? 0 : cm->pred < 5 ? 1 : 2]);
        scmc_mix_direct(&cm->sign, cm->net_sign_logit);
    }
    for (int k = 0; k < MAG_BITS; k++) {
        scmc_mix_begin(&cm->mag[k], &m->mag_w[cls][bc][k][cm->pred < 0 ? 0 : cm->pred < 3 ? 1 : 2]);
        scmc_mix_refine(&cm->mag[k], &m->apm_mag[cls][bc][k][cm->act]);
        scmc_mix_add(&cm->mag[k], &m->mag_big[cls][bc][k][cm->big]);
        scmc_mix_add(&cm->mag[k], &m->mag_act[cls][bc][k][cm->act]);
        scmc_mix_add(&cm->mag[k], &m->mag_cross[cm->plane][bc][k][cm->cross]);
        if (cm->pred >= 0 && k < PRED_MAG_BITS)
            scmc_mix_add(&cm->mag[k], &m->mag_pred[cls][bc][k][cm->pred]);
        if (cm->net >= 0 && k < PRED_MAG_BITS) {
            scmc_mix_add(&cm->mag[k], &m->mag_net[bc - NET_BAND0][cm->orient][cm->net_mag][k]);
            scmc_mix_direct(&cm->mag[k], cm->net_mag_logit);
        }
    }
}

/* One mixed bit: coded with e, decoded with d, or (neither) only learnt, as the choice pass does;
 * with j the state it changes is journalled first. Returns the bit. */
static int mixed_bit(const ScmcMixTables *t, ScmcMix *mx, ScmcRangeEncoder *e, ScmcRangeDecoder *d, Journal *j,
                     int bit)
{
    const uint32_t p0 = scmc_mix_predict(t, mx);
    if (e)
        scmc_renc_bit_p(e, p0, bit);
    else if (d)
        bit = scmc_rdec_bit_p(d, p0);
    if (j) {
        for (int i = 0; i < mx->n; i++)
            journal_save(j, mx->ctx[i], sizeof(*mx->ctx[i]));
        journal_save(j, mx->weights, sizeof(*mx->weights));
        if (mx->weights2)
            journal_save(j, mx->weights2, sizeof(*mx->weights2));
        if (mx->apm) /* the update moves one of these two points */
            journal_save(j, &mx->apm->p[mx->apm_knot], 2 * sizeof(mx->apm->p[0]));
    }
    scmc_mix_update(mx, bit);
    return bit;
}

/* The same for a single adaptive bit model. */
static int model_bit(ScmcBitModel *bm, ScmcRangeEncoder *e, ScmcRangeDecoder *d, Journal *j, int bit)
{
    if (j)
        journal_save(j, bm, sizeof(*bm));
    if (e)
        scmc_renc_bit(e, bm, bit);
    else if (d)
        bit = scmc_rdec_bit(d, bm);
    else
        scmc_bit_model_update(bm, bit);
    return bit;
}

/* The Exp-Golomb prefix length of u1 >= 1 (the escape's value + 1): floor(log2(u1)). */
static int escape_prefix_length(uint32_t u1)
{
    int n = 0;
    while ((u1 >> (n + 1)) != 0)
        n++;
    return n;
}

/* Codes (e), decodes (d) or learns (neither) the value v of a coefficient: significance, sign,
 * unary magnitude bits up to MAG_BITS, then an Exp-Golomb escape of |v| - MAG_BITS - 1 whose
 * prefix bits are adaptive (in the class of the neighbours' activity) and suffix bits bypass.
 * Returns the value; sets *bad when a decoded one is out of range (the payload is refused). */
static int32_t code_value(Contexts *m, CoefModels *cm, ScmcRangeEncoder *e, ScmcRangeDecoder *d, Journal *j,
                          int32_t v, int max_q, int *bad)
{
    const uint32_t a = (uint32_t)mag_of(v);
    if (!mixed_bit(&m->tables, &cm->sig, e, d, j, a != 0))
        return 0;
    value_models(m, cm);
    const int neg = mixed_bit(&m->tables, &cm->sign, e, d, j, v < 0);
    uint32_t k = 1;
    while (k <= MAG_BITS && mixed_bit(&m->tables, &cm->mag[k - 1], e, d, j, a > k))
        k++;
    if (k > MAG_BITS) {
        const uint32_t u1 = d ? 0 : a - MAG_BITS; /* the escape's value + 1 */
        int n = 0;
        if (d) {
            while (model_bit(&cm->escape[at_most(n, ESC_PREFIX - 1) * ACT_CLASSES + cm->act], e, d, j, 1)) {
                if (++n >= ESC_PREFIX) {
                    *bad = 1;
                    return 0;
                }
            }
            k = MAG_BITS + (((uint32_t)1 << n) | scmc_rdec_bypass(d, n)); /* checked against max_q below */
        } else {
            n = escape_prefix_length(u1);
            for (int i = 0; i <= n; i++)
                model_bit(&cm->escape[at_most(i, ESC_PREFIX - 1) * ACT_CLASSES + cm->act], e, d, j, i < n);
            if (e)
                scmc_renc_bypass(e, u1 & (((uint32_t)1 << n) - 1), n);
            k = a;
        }
    }
    if (k > (uint32_t)max_q) {
        *bad = 1;
        return 0;
    }
    return neg ? -(int32_t)k : (int32_t)k;
}

/* The encoder's rate-distortion choice of each value (rdo_choose): the plane's values are
 * rewritten in place while the models adapt as the real pass will, so each choice prices its bits
 * with the probabilities the coder will have at that point. */
#define COST_STEPS 4096 /* bit costs are looked up at this resolution of the probability */

typedef struct Rdo {
    const double *coef; /* the plane's wavelet coefficients */
    double step;        /* the plane's quantizer step */
    double weight;      /* squared error of this plane per unit of RGB squared error */
    double lambda;      /* squared RGB error per bit */
    const float *cost;  /* cost[k]: -log2(k / COST_STEPS), k = 0..COST_STEPS (cost[0] = cost[1]) */
    const double *level_scale; /* lambda's factor per level (0: LL, 1..5), NULL: 1 */
} Rdo;

/* The bits of a bit coded at probability p0 of a 0 (1/65536 units). */
static inline double p0_cost(const Rdo *r, uint32_t p0, int bit)
{
    const unsigned k = p0 / (SCMC_CDF_TOTAL / COST_STEPS);
    return r->cost[bit ? COST_STEPS - k : k];
}

/* |c| / step rounded to the nearest integer, at most max_q. */
static int32_t nearest_magnitude(double c, double step, int max_q)
{
    const double a = floor(fabs(c) / step + 0.5);
    return a > max_q ? max_q : (int32_t)a;
}

/* The bits of the values of magnitudes lo..hi (1 <= lo <= hi) with the sign of c < 0 (neg), at the
 * models' present probabilities: significance, sign, the unary bits and the escape, as code_value
 * codes them. bits[a - lo] receives each. */
static void value_bits(const Rdo *r, Contexts *m, CoefModels *cm, uint32_t p_sig, int neg, int32_t lo, int32_t hi,
                       double *bits)
{
    value_models(m, cm);
    /* run[k]: the bits shared by every value above k (significance, sign, "a > 1" .. "a > k");
     * stop[k]: the bit that ends the unary code at k. */
    double run[MAG_BITS + 1], stop[MAG_BITS + 1];
    run[0] = p0_cost(r, p_sig, 1) + p0_cost(r, scmc_mix_predict(&m->tables, &cm->sign), neg);
    for (int k = 1; k <= MAG_BITS && k <= hi; k++) {
        const uint32_t p = scmc_mix_predict(&m->tables, &cm->mag[k - 1]);
        run[k] = run[k - 1] + p0_cost(r, p, 1);
        stop[k] = p0_cost(r, p, 0);
    }
    for (int32_t a = lo; a <= hi; a++) {
        if (a <= MAG_BITS) {
            bits[a - lo] = run[a - 1] + stop[a];
        } else {
            const int n = escape_prefix_length((uint32_t)(a - MAG_BITS));
            double b = run[MAG_BITS] + n; /* n suffix bits in bypass */
            for (int k = 0; k <= n; k++) {
                const ScmcBitModel *bm = &cm->escape[at_most(k, ESC_PREFIX - 1) * ACT_CLASSES + cm->act];
                b += p0_cost(r, bm->p0, k < n);
            }
            bits[a - lo] = b;
        }
    }
}

/* The value for coefficient i among its nearest quantized magnitude, one less, and zero: the one
 * with the least weight * squared error + lambda * bits (code_value's bits at the models' present
 * probabilities); *cost is that least sum. */
static int32_t rdo_choose(const Rdo *r, size_t i, Contexts *m, CoefModels *cm, int max_q, double *cost)
{
    const double c = r->coef[i], ac = fabs(c);
    const int32_t hi = nearest_magnitude(c, r->step, max_q);
    const uint32_t p_sig = scmc_mix_predict(&m->tables, &cm->sig);
    int32_t best = 0;
    double best_j = r->weight * c * c + r->lambda * p0_cost(r, p_sig, 0);
    if (hi == 0) {
        *cost = best_j;
        return 0;
    }
    const int32_t lo = hi > 1 ? hi - 1 : 1;
    double bits[2];
    value_bits(r, m, cm, p_sig, c < 0, lo, hi, bits);
    for (int32_t a = lo; a <= hi; a++) {
        const double err = ac - a * r->step;
        const double j = r->weight * err * err + r->lambda * bits[a - lo];
        if (j < best_j)
            best_j = j, best = c < 0 ? -a : a;
    }
    *cost = best_j;
    return best;
}

/* Dependent quantization: two quantizers of the same step whose reconstruction points interleave,
 * Q0 at whole steps (k * step) and Q1 at half steps ((|k| - 1/2) * step with k's sign), zero in
 * both; a four-state machine, reset at each block's start and moved by each value's parity, picks
 * the quantizer of the next coefficient (states 0 and 1: Q0; 2 and 3: Q1). A run of choices can
 * thus reach any multiple of step / 2 at about the cost of indices on a grid of step: the encoder
 * chooses the path through the states (dq_choose_block). */
static const uint8_t dq_next[4][2] = { { 0, 2 }, { 2, 0 }, { 1, 3 }, { 3, 1 } };

/* The reconstruction of index k in state s, in half steps. */
static inline int32_t dq_half_level(int32_t k, int s)
{
    if (k == 0)
        return 0;
    const int32_t a = 2 * mag_of(k) - (s >> 1);
    return k < 0 ? -a : a;
}

/* The encoder's choice of a block's values under dependent quantization: a Viterbi search over the
 * four states, each coefficient's candidates (zero and the two nearest points of the state's
 * quantizer) priced as rdo_choose prices them, with the contexts read from each state's own path
 * (its values are written into v->q for the neighbours a context reads) and the models' present
 * probabilities (they learn the block only once it is chosen). Writes the values into src and
 * returns the path's cost; v->q is left zero over the block. */
#define DQ_MAX_BLOCK (BLOCK * BLOCK)
static double dq_choose_block(const PlaneView *v, const Band *bd, int x1, int y1, int x2, int y2, const Rdo *r,
                              Contexts *m, int32_t *src, int max_q)
{
    const int w = v->w, bw = x2 - x1, n = bw * (y2 - y1);
    int32_t val[DQ_MAX_BLOCK][4];
    int8_t prev[DQ_MAX_BLOCK][4];
    double cost[4] = { 0, HUGE_VAL, HUGE_VAL, HUGE_VAL };
#define AT(t) ((size_t)(bd->y0 + y1 + (t) / bw) * w + bd->x0 + x1 + (t) % bw)
    for (int t = 0; t < n; t++) {
        const int x = x1 + t % bw, y = y1 + t / bw;
        const size_t i = AT(t);
        const double c = r->coef[i], ac = fabs(c), a = ac / r->step;
        double next[4] = { HUGE_VAL, HUGE_VAL, HUGE_VAL, HUGE_VAL };
        for (int s = 0; s < 4; s++) {
            if (cost[s] == HUGE_VAL)
                continue;
            /* The neighbours the contexts read lie at most two rows back within the block. */
            for (int back = 1, cur = s; back <= t && back <= 2 * bw + 1; back++) {
                v->q[AT(t - back)] = val[t - back][cur];
                cur = prev[t - back][cur];
            }
            CoefModels cm;
            coefficient_models(m, v, bd, x, y, s >> 1, &cm);
            const uint32_t p_sig = scmc_mix_predict(&m->tables, &cm.sig);
            const double j0 = cost[s] + r->weight * c * c + r->lambda * p0_cost(r, p_sig, 0);
            if (j0 < next[dq_next[s][0]]) {
                next[dq_next[s][0]] = j0;
                val[t][dq_next[s][0]] = 0;
                prev[t][dq_next[s][0]] = (int8_t)s;
            }
            /* The two nearest points of this state's quantizer: whole steps in Q0, half in Q1. */
            const int32_t lo0 = s < 2 ? (int32_t)floor(a) : (int32_t)floor(a + 0.5);
            const int32_t lo = lo0 < 1 ? 1 : lo0 > max_q ? max_q : lo0, hi = lo0 + 1 > max_q ? max_q : lo0 + 1;
            double bits[2];
            value_bits(r, m, &cm, p_sig, c < 0, lo, hi, bits);
            for (int32_t k = lo; k <= hi; k++) {
                const double err = ac - (s < 2 ? k : k - 0.5) * r->step;
                const double j = cost[s] + r->weight * err * err + r->lambda * bits[k - lo];
                const int ns = dq_next[s][k & 1];
                if (j < next[ns]) {
                    next[ns] = j;
                    val[t][ns] = c < 0 ? -k : k;
                    prev[t][ns] = (int8_t)s;
                }
            }
        }
        memcpy(cost, next, sizeof(cost));
    }
    int s = 0;
    for (int k = 1; k < 4; k++)
        if (cost[k] < cost[s])
            s = k;
    const double best = cost[s];
    for (int t = n - 1; t >= 0; t--) {
        src[AT(t)] = val[t][s];
        v->q[AT(t)] = 0;
        s = prev[t][s];
    }
#undef AT
    return best;
}

/* The encoder's predictions of every level, kept from the choice pass for the coding pass: both
 * passes code the same values in the same order, so each level's coarse-scale prediction and
 * learned classes are the same in both, and the coding pass reads them here instead of computing
 * them again (the network is the larger part of the prediction's time). The levels' bands are
 * disjoint, so one plane-sized array per plane holds all of them at their own places. */
typedef struct Predictions {
    int32_t *pred[3];
    ScmcPrednetLogits *net; /* the luma's learned prediction */
    int ready;     /* filled by a choice pass whose values are the ones coded */
} Predictions;

/* Copies the prediction (and the classes, where the network ran) of level `level`'s bands from v
 * into keep. */
static void keep_level(const PlaneView *v, int nb, int level, Predictions *keep)
{
    for (int bi = 0; bi < nb; bi++) {
        const Band *b = &v->bands[bi];
        if (b->level != level)
            continue;
        for (int y = 0; y < b->h; y++) {
            const size_t i = (size_t)(b->y0 + y) * v->w + b->x0;
            memcpy(keep->pred[v->plane] + i, v->pred + i, (size_t)b->w * sizeof(int32_t));
            if (v->net && level <= SCMC_PREDNET_LEVELS)
                memcpy(keep->net + i, v->net + i, (size_t)b->w * sizeof(ScmcPrednetLogits));
        }
    }
}

/* The part (sub-layer) that carries the bands of a level: of a split correction the low band and
 * levels 5..3 (about a sixtieth of the coefficients), level 2, level 1; else part 0. */
static int part_of_level(int split, int level)
{
    return !split || level == 0 || level >= 3 ? 0 : level == 2 ? 1 : 2;
}

/* Codes one plane's coefficients of one part with exactly one of e (src: the values), d and rdo
 * non-NULL; v->q is the plane being filled in coding order (all zero on entry), so both sides read
 * the same contexts. With rdo nothing is written: the values in src are chosen (rdo_choose, and whole
 * blocks against zero) and the models updated as if coded, journalled in jr. */
static int code_plane(const PlaneView *v, int32_t *src, int nb, int part, int max_q, Contexts *m,
                      ScmcRangeEncoder *e, ScmcRangeDecoder *d, const Rdo *plane_rdo, Journal *jr, Predictions *keep)
{
    Rdo band_rdo;
    const Rdo *rdo = plane_rdo;
    const int w = v->w;
    int predicted = 0; /* the level v->pred holds (0: none) */
    for (int bi = 0; bi < nb; bi++) {
        const Band *bd = &v->bands[bi];
        if (part_of_level(v->split, bd->level) != part)
            continue;
        if (plane_rdo && plane_rdo->level_scale) {
            band_rdo = *plane_rdo;
            band_rdo.lambda *= plane_rdo->level_scale[bd->level];
            rdo = &band_rdo;
        }
        if (bd->level > 0 && bd->level != predicted) {
            if (!(keep && keep->ready) && predict_level(v, bd->level))
                return SCMC_ERR_NOMEM;
            if (keep && !keep->ready)
                keep_level(v, nb, bd->level, keep);
            predicted = bd->level;
        }
        const int nbx = (bd->w + BLOCK - 1) / BLOCK, nby = (bd->h + BLOCK - 1) / BLOCK;
        uint8_t *flags = calloc((size_t)nbx * nby, 1);
        if (!flags)
            return SCMC_ERR_NOMEM;
        for (int by = 0; by < nby; by++)
            for (int bx = 0; bx < nbx; bx++) {
                const int x1 = bx * BLOCK, y1 = by * BLOCK;
                const int x2 = x1 + BLOCK < bd->w ? x1 + BLOCK : bd->w, y2 = y1 + BLOCK < bd->h ? y1 + BLOCK : bd->h;
                ScmcBitModel *bm = &m->block[v->plane > 0][bd->cls][(bx > 0 && flags[by * nbx + bx - 1]) +
                                                                   (by > 0 && flags[(by - 1) * nbx + bx])]
                                            [block_prediction(v, bd, x1, y1, x2, y2)];
                int any = 0, bad = 0;
                double zero_j = 0, coded_j = 0;
                if (!d) {
                    for (int y = y1; y < y2 && !any; y++)
                        for (int x = x1; x < x2; x++)
                            any |= src[(size_t)(bd->y0 + y) * w + bd->x0 + x] != 0;
                    if (rdo && any) {
                        jr->n = 0;
                        for (int y = y1; y < y2; y++)
                            for (int x = x1; x < x2; x++) {
                                const double c = rdo->coef[(size_t)(bd->y0 + y) * w + bd->x0 + x];
                                zero_j += rdo->weight * c * c;
                            }
                        zero_j += rdo->lambda * p0_cost(rdo, bm->p0, 0);
                        coded_j = rdo->lambda * p0_cost(rdo, bm->p0, 1);
                    }
                }
                any = model_bit(bm, e, d, rdo && any ? jr : NULL, any);
                flags[by * nbx + bx] = (uint8_t)any;
                if (d && scmc_rdec_overrun(d)) {
                    free(flags);
                    return SCMC_ERR_CORRUPT;
                }
                if (!any)
                    continue;
                if (rdo && v->dq)
                    coded_j += dq_choose_block(v, bd, x1, y1, x2, y2, rdo, m, src, max_q);
                int state = 0; /* dependent quantization's, reset at each block */
                for (int y = y1; y < y2 && !bad; y++)
                    for (int x = x1; x < x2; x++) {
                        const size_t i = (size_t)(bd->y0 + y) * w + bd->x0 + x;
                        CoefModels cm;
                        coefficient_models(m, v, bd, x, y, state >> 1, &cm);
                        int32_t val = src ? src[i] : 0;
                        if (rdo && !v->dq) {
                            double j;
                            val = src[i] = rdo_choose(rdo, i, m, &cm, max_q, &j);
                            coded_j += j;
                        }
                        v->q[i] = code_value(m, &cm, e, d, rdo ? jr : NULL, val, max_q, &bad);
                        if (bad)
                            break;
                        if (v->dq)
                            state = dq_next[state][v->q[i] & 1];
                    }
                if (bad || (d && scmc_rdec_overrun(d))) {
                    free(flags);
                    return SCMC_ERR_CORRUPT;
                }
                if (rdo && jr->error) {
                    free(flags);
                    return SCMC_ERR_NOMEM;
                }
                if (rdo && zero_j <= coded_j) { /* the whole block is cheaper as zeros */
                    journal_undo(jr);
                    scmc_bit_model_update(bm, 0);
                    flags[by * nbx + bx] = 0;
                    for (int y = y1; y < y2; y++)
                        for (int x = x1; x < x2; x++) {
                            const size_t i = (size_t)(bd->y0 + y) * w + bd->x0 + x;
                            src[i] = v->q[i] = 0;
                        }
                }
            }
        free(flags);
    }
    return SCMC_OK;
}

static ScmcCorrection *correction_new(int width, int height)
{
    ScmcCorrection *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->width = width;
    c->height = height;
    c->q = calloc((size_t)width * height * 3, sizeof(int32_t));
    if (!c->q) {
        free(c);
        return NULL;
    }
    return c;
}

void scmc_correction_free(ScmcCorrection *c)
{
    if (!c)
        return;
    free(c->q);
    free(c->models);
    free(c);
}

/* The models' fields in the order of the starting-state tables (correction_states.h,
 * bitstream-spec/structure.md "Starting states"): the probabilities of the single bit models and
 * the mixers' contexts, then the weight sets. */
enum { FIELD_BIT, FIELD_MIX, FIELD_WEIGHTS };
typedef struct ModelField {
    size_t offset, count;
    int kind;
} ModelField;
#define MODEL_FIELD(f, kind, type) { offsetof(Contexts, f), sizeof(((Contexts *)0)->f) / sizeof(type), kind }
static const ModelField model_fields[] = {
    MODEL_FIELD(block, FIELD_BIT, ScmcBitModel),           MODEL_FIELD(escape, FIELD_BIT, ScmcBitModel),
    MODEL_FIELD(sig_count, FIELD_MIX, ScmcMixContext),     MODEL_FIELD(sig_act, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(sig_pattern, FIELD_MIX, ScmcMixContext),   MODEL_FIELD(sig_orient, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(sig_luma, FIELD_MIX, ScmcMixContext),      MODEL_FIELD(sign_near, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(sign_luma, FIELD_MIX, ScmcMixContext),     MODEL_FIELD(mag_big, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(mag_act, FIELD_MIX, ScmcMixContext),       MODEL_FIELD(mag_cross, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(sig_pred, FIELD_MIX, ScmcMixContext),      MODEL_FIELD(sign_pred, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(mag_pred, FIELD_MIX, ScmcMixContext),      MODEL_FIELD(sig_net, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(sign_net, FIELD_MIX, ScmcMixContext),      MODEL_FIELD(mag_net, FIELD_MIX, ScmcMixContext),
    MODEL_FIELD(sig_w, FIELD_WEIGHTS, ScmcMixWeights),     MODEL_FIELD(sig_w2, FIELD_WEIGHTS, ScmcMixWeights),
    MODEL_FIELD(sign_w, FIELD_WEIGHTS, ScmcMixWeights),    MODEL_FIELD(mag_w, FIELD_WEIGHTS, ScmcMixWeights),
};
#define FIELD_SIZE(f, type) (sizeof(((Contexts *)0)->f) / sizeof(type))
_Static_assert(FIELD_SIZE(block, ScmcBitModel) + FIELD_SIZE(escape, ScmcBitModel) +
                       FIELD_SIZE(sig_count, ScmcMixContext) + FIELD_SIZE(sig_act, ScmcMixContext) +
                       FIELD_SIZE(sig_pattern, ScmcMixContext) + FIELD_SIZE(sig_orient, ScmcMixContext) +
                       FIELD_SIZE(sig_luma, ScmcMixContext) + FIELD_SIZE(sign_near, ScmcMixContext) +
                       FIELD_SIZE(sign_luma, ScmcMixContext) + FIELD_SIZE(mag_big, ScmcMixContext) +
                       FIELD_SIZE(mag_act, ScmcMixContext) + FIELD_SIZE(mag_cross, ScmcMixContext) +
                       FIELD_SIZE(sig_pred, ScmcMixContext) + FIELD_SIZE(sign_pred, ScmcMixContext) +
                       FIELD_SIZE(mag_pred, ScmcMixContext) + FIELD_SIZE(sig_net, ScmcMixContext) +
                       FIELD_SIZE(sign_net, ScmcMixContext) + FIELD_SIZE(mag_net, ScmcMixContext) ==
                   SCMC_CORRECTION_START_PROBS,
               "the starting-state tables must list every probability context");
_Static_assert(FIELD_SIZE(sig_w, ScmcMixWeights) + FIELD_SIZE(sig_w2, ScmcMixWeights) + FIELD_SIZE(sign_w, ScmcMixWeights) +
                       FIELD_SIZE(mag_w, ScmcMixWeights) ==
                   SCMC_CORRECTION_START_WEIGHTS,
               "the starting-state tables must list every weight set");
/* Past `block`, Contexts is its models and less than one alignment unit of padding (after an odd
 * number of 6-byte contexts, before 4-byte weights). */
_Static_assert(sizeof(Contexts) - offsetof(Contexts, block) - _Alignof(Contexts) <
                   FIELD_SIZE(block, ScmcBitModel) * sizeof(ScmcBitModel) +
                       FIELD_SIZE(escape, ScmcBitModel) * sizeof(ScmcBitModel) +
                       (SCMC_CORRECTION_START_PROBS - FIELD_SIZE(block, ScmcBitModel) -
                        FIELD_SIZE(escape, ScmcBitModel)) *
                           sizeof(ScmcMixContext) +
                       SCMC_CORRECTION_START_WEIGHTS * sizeof(ScmcMixWeights),
               "every model of Contexts must be in model_fields");

/* Starts every model from set `set` of the trained tables. */
static void contexts_init(Contexts *m, int set)
{
    scmc_mix_tables_init(&m->tables);
    scmc_mix_apm_init(&m->apm_sig[0][0][0][0], sizeof(m->apm_sig) / sizeof(ScmcMixApm));
    scmc_mix_apm_init(&m->apm_sign[0][0][0][0], sizeof(m->apm_sign) / sizeof(ScmcMixApm));
    scmc_mix_apm_init(&m->apm_mag[0][0][0][0], sizeof(m->apm_mag) / sizeof(ScmcMixApm));
    const int8_t *code = scmc_correction_start_probs[set];
    const int32_t(*weights)[SCMC_MIX_INPUTS] = scmc_correction_start_weights[set];
    for (size_t f = 0; f < sizeof(model_fields) / sizeof(model_fields[0]); f++) {
        const ModelField *mf = &model_fields[f];
        char *base = (char *)m + mf->offset;
        for (size_t i = 0; i < mf->count; i++) {
            if (mf->kind == FIELD_WEIGHTS) {
                memcpy(((ScmcMixWeights *)base)[i].w, *weights++, sizeof(ScmcMixWeights));
                continue;
            }
            /* Code 0: the untrained start; else the probability of a 1 (1/65536 units) and a count
             * of 1. */
            const int k = *code++;
            const uint16_t p1 = (uint16_t)(scmc_mix_squash(16 * k) << 4);
            if (mf->kind == FIELD_BIT) {
                ScmcBitModel *bm = &((ScmcBitModel *)base)[i];
                scmc_bit_model_init(bm);
                if (k) {
                    bm->p0 = (uint16_t)(SCMC_CDF_TOTAL - p1);
                    bm->count = 1;
                }
            } else {
                ScmcMixContext *mc = &((ScmcMixContext *)base)[i];
                scmc_mix_context_init(mc);
                if (k) {
                    mc->slow = mc->fast = p1;
                    mc->count = 1;
                }
            }
        }
    }
}

/* The final states of m, in table order, for training. */
static void contexts_export(const Contexts *m, ScmcCorrectionStates *out)
{
    size_t np = 0, nw = 0;
    for (size_t f = 0; f < sizeof(model_fields) / sizeof(model_fields[0]); f++) {
        const ModelField *mf = &model_fields[f];
        const char *base = (const char *)m + mf->offset;
        for (size_t i = 0; i < mf->count; i++) {
            if (mf->kind == FIELD_WEIGHTS) {
                memcpy(out->weights[nw++], ((const ScmcMixWeights *)base)[i].w, sizeof(ScmcMixWeights));
            } else if (mf->kind == FIELD_BIT) {
                const ScmcBitModel *bm = &((const ScmcBitModel *)base)[i];
                out->p1[np] = (uint16_t)(SCMC_CDF_TOTAL - bm->p0);
                out->count[np++] = bm->count;
            } else {
                const ScmcMixContext *mc = &((const ScmcMixContext *)base)[i];
                out->p1[np] = mc->slow;
                out->count[np++] = mc->count;
            }
        }
    }
}

/* Codes parts first..last of the three planes, each part's Y, Co and Cg in turn, with the models m
 * carried from part to part; e (when not NULL) holds one encoder per part, d decodes the one part
 * parsed. With coef (the planes' wavelet coefficients; e and d NULL) it is the encoder's choice
 * pass instead: the values in src are rewritten for the weight lambda. */
static int code_parts(ScmcCorrection *c, Contexts *m, int32_t *src, ScmcRangeEncoder *e, ScmcRangeDecoder *d,
                      int first, int last, const double *coef, double lambda, const double *level_scale,
                      Predictions *keep)
{
    float *cost = coef ? malloc((COST_STEPS + 1) * sizeof(*cost)) : NULL;
    if (coef && !cost)
        return SCMC_ERR_NOMEM;
    if (cost) {
        for (int k = 1; k <= COST_STEPS; k++)
            cost[k] = (float)-log2((double)k / COST_STEPS);
        cost[0] = cost[1];
    }
    const size_t n = (size_t)c->width * c->height;
    Band bands[1 + 3 * SCMC_WAVELET_LEVELS];
    const int nb = list_bands(c->width, c->height, bands);
    /* Squared RGB error per squared error of Y, Co, Cg (r = Y + Co - Cg, g = Y + Cg, b = Y - Co - Cg). */
    static const double rgb_weight[3] = { 3, 2, 3 };
    Journal journal = { 0 };
    /* predict_level's arrays; a coding pass with the choice pass's predictions needs none */
    const int kept = keep && keep->ready;
    int32_t *pred = NULL, *work = NULL;
    ScmcPrednetLogits *net = NULL;
    if (!kept) {
        pred = malloc(n * sizeof(int32_t));
        work = malloc((n + (size_t)(c->width > c->height ? c->width : c->height)) * sizeof(int32_t));
        net = malloc(n * sizeof(ScmcPrednetLogits));
    }
    int r = kept || (pred && work && net) ? SCMC_OK : SCMC_ERR_NOMEM;
    for (int part = first; part <= last && !r; part++)
        for (int p = 0; p < 3 && !r; p++) {
            PlaneView v = { c->q + p * n, p > 0 ? c->q : NULL, p == 2 ? c->q + n : NULL, kept ? keep->pred[p] : pred,
                            work, p == 0 ? (kept ? keep->net : net) : NULL, c->width, c->height, p, c->step[p], c->dq,
                            c->split, bands, { 0 }, { 0 } };
            scmc_wavelet_dims(c->width, v.dw);
            scmc_wavelet_dims(c->height, v.dh);
            const Rdo rdo = { coef ? coef + p * n : NULL, c->step[p], rgb_weight[p], lambda, cost, level_scale };
            r = code_plane(&v, src ? src + p * n : NULL, nb, part, MAX_DEQUANT / c->step[p], m, e ? &e[part] : NULL, d,
                           coef ? &rdo : NULL, &journal, keep);
        }
    free(journal.entries);
    free(cost);
    free(pred);
    free(work);
    free(net);
    return r;
}

static Contexts *contexts_new(int set)
{
    Contexts *m = malloc(sizeof(*m));
    if (m)
        contexts_init(m, set);
    return m;
}

/* Zeroes the coefficients of one part's bands in every plane. */
static void clear_part(ScmcCorrection *c, int part)
{
    Band bands[1 + 3 * SCMC_WAVELET_LEVELS];
    const int nb = list_bands(c->width, c->height, bands);
    for (int p = 0; p < 3; p++)
        for (int bi = 0; bi < nb; bi++) {
            const Band *bd = &bands[bi];
            if (part_of_level(c->split, bd->level) != part)
                continue;
            for (int y = 0; y < bd->h; y++)
                memset(&c->q[(size_t)p * c->width * c->height + (size_t)(bd->y0 + y) * c->width + bd->x0], 0,
                       (size_t)bd->w * sizeof(int32_t));
        }
}

/* scmc_correction_parse_part, and with final (not NULL) the models' states once complete. */
static int parse_part(ScmcCorrection **cp, int part, const uint8_t *payload, size_t size, int width, int height,
                      ScmcCorrectionStates *final)
{
    if (part < 0 || part >= SCMC_CORRECTION_PARTS ||
        (part > 0 && (!*cp || !(*cp)->models || (*cp)->parts != part || part >= scmc_correction_total_parts(*cp))))
        return SCMC_ERR_CORRUPT;
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, payload, size);
    ScmcCorrection *c = *cp;
    if (part == 0) {
        const int step = (int)scmc_rdec_bypass(&d, BITS_STEP), chroma = (int)scmc_rdec_bypass(&d, BITS_STEP);
        const int sharpen = (int)scmc_rdec_bypass(&d, BITS_SHARPEN);
        const int dq = (int)scmc_rdec_bypass(&d, 1), split = (int)scmc_rdec_bypass(&d, 1);
        if (step < 1 || chroma < 1)
            return SCMC_ERR_CORRUPT;
        c = correction_new(width, height);
        if (!c || !(c->models = contexts_new(scmc_correction_start_set(step, dq)))) {
            scmc_correction_free(c);
            return SCMC_ERR_NOMEM;
        }
        c->step[0] = step;
        c->step[1] = c->step[2] = chroma;
        c->sharpen = sharpen;
        c->dq = dq;
        c->split = split;
        if (scmc_rdec_bypass(&d, 1))
            for (int p = 0; p < 3; p++)
                for (int l = 0; l < SCMC_CORRECTION_SHRINK_LEVELS; l++)
                    for (int k = 0; k <= dq; k++) {
                        const int u = (int)scmc_rdec_bypass(&d, BITS_SHRINK);
                        const int o = u >= 1 << (BITS_SHRINK - 1) ? u - (1 << BITS_SHRINK) : u;
                        if (o < -SHRINK_MAX) {
                            scmc_correction_free(c);
                            return SCMC_ERR_CORRUPT;
                        }
                        c->shrink[p][l][k] = (int8_t)o;
                    }
    }
    int r = code_parts(c, c->models, NULL, NULL, &d, part, part, NULL, 0, NULL, NULL);
    if (!r && part == scmc_correction_total_parts(c) - 1)
        r = scmc_restore_read(&d, &c->restore);
    if (!r && scmc_rdec_overrun(&d))
        r = SCMC_ERR_CORRUPT;
    if (r) {
        /* A damaged later part leaves the parts before it as they were, and no more follow. */
        if (part == 0) {
            scmc_correction_free(c);
            return r;
        }
        clear_part(c, part);
        memset(&c->restore, 0, sizeof(c->restore));
        free(c->models);
        c->models = NULL;
        return r;
    }
    c->parts = part + 1;
    if (scmc_correction_complete(c)) {
        if (final) {
            contexts_export(c->models, final);
            final->set = scmc_correction_start_set(c->step[0], c->dq);
        }
        free(c->models);
        c->models = NULL;
    }
    if (part == 0) {
        scmc_correction_free(*cp);
        *cp = c;
    }
    return SCMC_OK;
}

int scmc_correction_parse_part(ScmcCorrection **cp, int part, const uint8_t *payload, size_t size, int width,
                               int height)
{
    return parse_part(cp, part, payload, size, width, height, NULL);
}

int scmc_correction_final_states(const ScmcCorrectionPayload *payload, int width, int height,
                                 ScmcCorrectionStates *out)
{
    ScmcCorrection *c = NULL;
    int r = SCMC_OK;
    for (int k = 0; k < payload->count && !r; k++)
        r = parse_part(&c, k, payload->data[k], payload->size[k], width, height, out);
    if (!r && (!c || !scmc_correction_complete(c)))
        r = SCMC_ERR_CORRUPT;
    scmc_correction_free(c);
    return r;
}

int scmc_correction_parse(const ScmcCorrectionPayload *payload, int parts, int width, int height,
                          ScmcCorrection **out)
{
    if (parts < 1 || parts > payload->count)
        return SCMC_ERR_INVALID_ARG;
    ScmcCorrection *c = NULL;
    for (int k = 0; k < parts; k++) {
        const int r = scmc_correction_parse_part(&c, k, payload->data[k], payload->size[k], width, height);
        if (r) {
            scmc_correction_free(c);
            return r;
        }
    }
    *out = c;
    return SCMC_OK;
}

int scmc_correction_total_parts(const ScmcCorrection *c)
{
    return c->split ? SCMC_CORRECTION_PARTS : 1;
}

int scmc_correction_complete(const ScmcCorrection *c)
{
    return c->parts == scmc_correction_total_parts(c);
}

void scmc_correction_payload_free(ScmcCorrectionPayload *p)
{
    p->count = 0;
    for (int k = 0; k < SCMC_CORRECTION_PARTS; k++) {
        free(p->data[k]);
        p->data[k] = NULL;
        p->size[k] = 0;
    }
}

size_t scmc_correction_payload_bytes(const ScmcCorrectionPayload *p)
{
    size_t n = 0;
    for (int k = 0; k < SCMC_CORRECTION_PARTS; k++)
        n += p->size[k];
    return n;
}

/* Plane p's reconstruction in half steps: twice its values, or under dependent quantization each
 * value's point in the state the block's values before it in coding order lead to. */
static void half_levels(const ScmcCorrection *c, int p, int32_t *out)
{
    const int w = c->width;
    const int32_t *q = c->q + (size_t)p * w * c->height;
    if (!c->dq) {
        for (size_t i = 0; i < (size_t)w * c->height; i++)
            out[i] = 2 * q[i];
        return;
    }
    Band bands[1 + 3 * SCMC_WAVELET_LEVELS];
    const int nb = list_bands(c->width, c->height, bands);
    for (int bi = 0; bi < nb; bi++) {
        const Band *bd = &bands[bi];
        for (int y1 = 0; y1 < bd->h; y1 += BLOCK)
            for (int x1 = 0; x1 < bd->w; x1 += BLOCK) {
                const int x2 = x1 + BLOCK < bd->w ? x1 + BLOCK : bd->w, y2 = y1 + BLOCK < bd->h ? y1 + BLOCK : bd->h;
                int state = 0;
                for (int y = y1; y < y2; y++)
                    for (int x = x1; x < x2; x++) {
                        const size_t i = (size_t)(bd->y0 + y) * w + bd->x0 + x;
                        out[i] = dq_half_level(q[i], state);
                        state = dq_next[state][q[i] & 1];
                    }
            }
    }
}

/* Plane p's levels V (half steps, from half_levels) in place to the inverse transform's input,
 * 1/16 grey level: V * step * 8, the non-zero values of levels 1..SCMC_CORRECTION_SHRINK_LEVELS
 * moved towards zero by their class's offset (1/64 step), rounded half up in magnitude. */
static void dequantize(const ScmcCorrection *c, int p, int32_t *x)
{
    const int w = c->width;
    const int64_t step = c->step[p];
    Band bands[1 + 3 * SCMC_WAVELET_LEVELS];
    const int nb = list_bands(c->width, c->height, bands);
    for (int bi = 0; bi < nb; bi++) {
        const Band *bd = &bands[bi];
        const int8_t *o = bd->level >= 1 && bd->level <= SCMC_CORRECTION_SHRINK_LEVELS ? c->shrink[p][bd->level - 1]
                                                                                       : NULL;
        for (int y = 0; y < bd->h; y++)
            for (int xx = 0; xx < bd->w; xx++) {
                int32_t *v = &x[(size_t)(bd->y0 + y) * w + bd->x0 + xx];
                if (!*v)
                    continue;
                const int a = mag_of(*v), off = o ? o[c->dq && a == 1] : 0;
                const int32_t m = (int32_t)(((32 * (int64_t)a - off) * step + 2) >> 2);
                *v = *v < 0 ? -m : m;
            }
    }
}

/* The encoder's reconstruction offsets (dequantize): per plane, level and class, the mean over
 * the non-zero values of how far the coefficient lies nearer zero than its value's point, in
 * 1/64 step. Under a dead zone and the choice pass, with coefficients ever rarer away from zero,
 * each value's coefficients gather on its inner side (session 26: 0.12 step at level 1 of
 * quality 1), so the mean is what minimises their squared error. */
static void choose_shrink(ScmcCorrection *c, const double *coef, int32_t *levels)
{
    const int w = c->width;
    const size_t n = (size_t)w * c->height;
    Band bands[1 + 3 * SCMC_WAVELET_LEVELS];
    const int nb = list_bands(c->width, c->height, bands);
    for (int p = 0; p < 3; p++) {
        double sum[SCMC_CORRECTION_SHRINK_LEVELS][2] = { { 0 } };
        int64_t count[SCMC_CORRECTION_SHRINK_LEVELS][2] = { { 0 } };
        half_levels(c, p, levels);
        for (int bi = 0; bi < nb; bi++) {
            const Band *bd = &bands[bi];
            if (bd->level < 1 || bd->level > SCMC_CORRECTION_SHRINK_LEVELS)
                continue;
            for (int y = 0; y < bd->h; y++)
                for (int x = 0; x < bd->w; x++) {
                    const size_t i = (size_t)(bd->y0 + y) * w + bd->x0 + x;
                    const int a = mag_of(levels[i]);
                    if (!a)
                        continue;
                    const int k = c->dq && a == 1;
                    sum[bd->level - 1][k] += a / 2.0 - fabs(coef[p * n + i]) / c->step[p];
                    count[bd->level - 1][k]++;
                }
        }
        for (int l = 0; l < SCMC_CORRECTION_SHRINK_LEVELS; l++)
            for (int k = 0; k < 2; k++) {
                const double o = count[l][k] ? floor(64 * sum[l][k] / count[l][k] + 0.5) : 0;
                c->shrink[p][l][k] = (int8_t)(o > SHRINK_MAX ? SHRINK_MAX : o < -SHRINK_MAX ? -SHRINK_MAX : o);
            }
    }
}

/* Whether c has any reconstruction offset. */
static int has_shrink(const ScmcCorrection *c)
{
    for (int p = 0; p < 3; p++)
        for (int l = 0; l < SCMC_CORRECTION_SHRINK_LEVELS; l++)
            if (c->shrink[p][l][0] || c->shrink[p][l][1])
                return 1;
    return 0;
}

/* The bits the header spends on c's offsets (the flag and the values). */
static int shrink_bits(const ScmcCorrection *c)
{
    return 1 + 3 * SCMC_CORRECTION_SHRINK_LEVELS * (1 + c->dq) * BITS_SHRINK;
}

/* floor(v / 16) for any sign. */
static inline int floor_div16(int32_t v)
{
    return v >= 0 ? v >> 4 : -((-v + 15) >> 4);
}

int scmc_correction_apply(const ScmcCorrection *c, const ScmcImage *base, ScmcImage *out)
{
    if (base->width != c->width || base->height != c->height)
        return SCMC_ERR_INVALID_ARG;
    const int w = c->width, h = c->height;
    const size_t n = (size_t)w * h;
    int32_t *plane = malloc(n * 3 * sizeof(int32_t)), *tmp = malloc((size_t)(w > h ? w : h) * sizeof(int32_t));
    int r = plane && tmp ? scmc_image_alloc(out, w, h) : SCMC_ERR_NOMEM;
    if (r) {
        free(plane);
        free(tmp);
        return r;
    }
    for (int p = 0; p < 3; p++) {
        half_levels(c, p, plane + p * n);
        dequantize(c, p, plane + p * n);
        scmc_wavelet_inverse(plane + p * n, w, h, tmp);
    }
    for (size_t i = 0; i < n; i++) {
        const int64_t y = plane[i], co = plane[n + i], cg = plane[2 * n + i];
        const int64_t dv[3] = { y + co - cg, y + cg, y - co - cg };
        for (int k = 0; k < 3; k++) {
            const int64_t lim = 1023 << SCMC_WAVELET_FRAC;
            const int32_t dk = (int32_t)(dv[k] > lim ? lim : dv[k] < -lim ? -lim : dv[k]);
            const int v = base->rgb[3 * i + k] + floor_div16(dk + 8);
            out->rgb[3 * i + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    free(plane);
    free(tmp);
    /* The filter comes with the last part: a correction cut short is shown unfiltered. */
    r = scmc_correction_complete(c) ? scmc_restore_apply(&c->restore, out) : SCMC_OK;
    if (r)
        scmc_image_free(out);
    return r;
}

/* The encoder's choice of reconstruction offsets (choose_shrink) for c, whose restoration filter
 * is fitted and whose filtered picture is *filtered: they stay if, under the same filter, they
 * lower squared RGB error + lambda * bits; else c has none. (Fitting the filter again over them
 * gained 0.05 % more for an eighth more encoding time: docs/structure.md.) */
static int try_shrink(ScmcCorrection *c, const ScmcImage *img, const ScmcImage *base, const double *coef,
                      double lambda, ScmcImage *filtered)
{
    const size_t n = (size_t)c->width * c->height;
    int32_t *levels = malloc(n * sizeof(int32_t));
    if (!levels)
        return SCMC_ERR_NOMEM;
    choose_shrink(c, coef, levels);
    free(levels);
    if (!has_shrink(c))
        return SCMC_OK;
    ScmcImage shrunk = { 0 };
    const int r = scmc_correction_apply(c, base, &shrunk);
    if (r) {
        memset(c->shrink, 0, sizeof(c->shrink));
        return r;
    }
    if ((scmc_mse(img, filtered) - scmc_mse(img, &shrunk)) * 3.0 * (double)n > lambda * shrink_bits(c)) {
        scmc_image_free(filtered);
        *filtered = shrunk;
    } else {
        memset(c->shrink, 0, sizeof(c->shrink));
        scmc_image_free(&shrunk);
    }
    return SCMC_OK;
}

int scmc_correction_encode(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                           ScmcCorrectionPayload *out)
{
    return scmc_correction_encode_rd(img, base, step, chroma_step, SCMC_CORRECTION_RDO_LAMBDA, 0, 0, out);
}

int scmc_correction_encode_rd(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                              double lambda_scale, int dq, int split, ScmcCorrectionPayload *out)
{
    return scmc_correction_encode_levels(img, base, step, chroma_step, lambda_scale, NULL, dq, split, out);
}

int scmc_correction_encode_levels(const ScmcImage *img, const ScmcImage *base, int step, int chroma_step,
                                  double lambda_scale, const double *level_scale, int dq, int split,
                                  ScmcCorrectionPayload *out)
{
    memset(out, 0, sizeof(*out));
    if (img->width != base->width || img->height != base->height || step < 1 || step > SCMC_CORRECTION_MAX_STEP ||
        chroma_step < 1 || chroma_step > SCMC_CORRECTION_MAX_STEP || !(lambda_scale >= 0))
        return SCMC_ERR_INVALID_ARG;
    for (int l = 0; level_scale && l < SCMC_CORRECTION_LEVEL_CLASSES; l++)
        if (!(level_scale[l] > 0 && level_scale[l] <= 64))
            return SCMC_ERR_INVALID_ARG;
    const int w = img->width, h = img->height;
    const size_t n = (size_t)w * h;
    ScmcCorrection *c = correction_new(w, h);
    Contexts *m = contexts_new(scmc_correction_start_set(step, dq != 0));
    double *plane = malloc(n * 3 * sizeof(double)), *tmp = malloc((size_t)(w > h ? w : h) * sizeof(double));
    int32_t *src = malloc(n * 3 * sizeof(int32_t));
    Predictions keep = { { malloc(n * 3 * sizeof(int32_t)), NULL, NULL }, malloc(n * sizeof(ScmcPrednetLogits)), 0 };
    int r = SCMC_ERR_NOMEM;
    if (!c || !m || !plane || !tmp || !src || !keep.pred[0] || !keep.net)
        goto done;
    keep.pred[1] = keep.pred[0] + n;
    keep.pred[2] = keep.pred[0] + 2 * n;
    c->split = split != 0;
    c->parts = scmc_correction_total_parts(c);
    c->step[0] = step;
    c->step[1] = c->step[2] = chroma_step;
    c->dq = dq != 0;
    for (size_t i = 0; i < n; i++) {
        const double dr = (double)img->rgb[3 * i] - base->rgb[3 * i];
        const double dg = (double)img->rgb[3 * i + 1] - base->rgb[3 * i + 1];
        const double db = (double)img->rgb[3 * i + 2] - base->rgb[3 * i + 2];
        plane[i] = (dr + 2 * dg + db) / 4;
        plane[n + i] = (dr - db) / 2;
        plane[2 * n + i] = (2 * dg - dr - db) / 4;
    }
    for (int p = 0; p < 3; p++) {
        scmc_wavelet_forward(plane + p * n, w, h, tmp);
        /* Nearest values first: they mark the blocks the choice pass visits. */
        for (size_t i = 0; i < n; i++) {
            const double v = plane[p * n + i];
            const int32_t a = nearest_magnitude(v, c->dq ? c->step[p] / 2.0 : c->step[p], MAX_DEQUANT / c->step[p]);
            src[p * n + i] = v < 0 ? -a : a;
        }
    }
    /* The choice pass: a quantizer's distortion per bit grows with its step squared, so lambda does. */
    r = code_parts(c, m, src, NULL, NULL, 0, c->parts - 1, plane, lambda_scale * step * step, level_scale, &keep);
    memset(c->q, 0, n * 3 * sizeof(int32_t));
    if (r)
        goto done;
    keep.ready = 1;
    /* A correction that lands further from the image than its base (rounding on a tiny or flat
     * image can) is sent as all zeros: the sub-layer never makes the picture worse. */
    memcpy(c->q, src, n * 3 * sizeof(int32_t));
    ScmcImage trial = { 0 };
    r = scmc_correction_apply(c, base, &trial);
    if (r)
        goto done;
    if (scmc_mse(img, &trial) > scmc_mse(img, base)) {
        keep.ready = 0; /* other values: the coding pass predicts them itself */
        memset(src, 0, n * 3 * sizeof(int32_t));
        memset(c->q, 0, n * 3 * sizeof(int32_t));
        scmc_image_free(&trial);
        r = scmc_image_copy(&trial, base);
        if (r)
            goto done;
    }
    /* The restoration filter is fitted to what the decoder has, base plus the coded correction,
     * at the quantizer's rate-distortion weight; the display sharpening then to the filtered
     * picture. */
    ScmcImage filtered = { 0 };
    r = scmc_restore_choose(img, &trial, lambda_scale * step * step, &c->restore, &filtered);
    scmc_image_free(&trial);
    if (r)
        goto done;
    trial = filtered;
    /* The reconstruction offsets are weighed once filtered: the filter, fitted to each picture,
     * takes back much of the same bias by itself (at quality 1 under the signal layer, nearly all
     * of it, and offsets weighed before it cost 0.02 dB there). */
    r = try_shrink(c, img, base, plane, lambda_scale * step * step, &trial);
    if (r) {
        scmc_image_free(&trial);
        goto done;
    }
    int sharpen = 0;
    r = scmc_sharpen_choose(img, &trial, &sharpen);
    scmc_image_free(&trial);
    if (r)
        goto done;
    memset(c->q, 0, n * 3 * sizeof(int32_t));
    contexts_init(m, scmc_correction_start_set(step, c->dq));
    ScmcRangeEncoder e[SCMC_CORRECTION_PARTS];
    for (int k = 0; k < c->parts; k++)
        scmc_renc_init(&e[k]);
    scmc_renc_bypass(&e[0], (uint32_t)step, BITS_STEP);
    scmc_renc_bypass(&e[0], (uint32_t)chroma_step, BITS_STEP);
    scmc_renc_bypass(&e[0], (uint32_t)sharpen, BITS_SHARPEN);
    scmc_renc_bypass(&e[0], (uint32_t)c->dq, 1);
    scmc_renc_bypass(&e[0], (uint32_t)c->split, 1);
    scmc_renc_bypass(&e[0], (uint32_t)has_shrink(c), 1);
    if (has_shrink(c))
        for (int p = 0; p < 3; p++)
            for (int l = 0; l < SCMC_CORRECTION_SHRINK_LEVELS; l++)
                for (int k = 0; k <= c->dq; k++)
                    scmc_renc_bypass(&e[0], (uint32_t)c->shrink[p][l][k] & ((1u << BITS_SHRINK) - 1), BITS_SHRINK);
    r = code_parts(c, m, src, e, NULL, 0, c->parts - 1, NULL, 0, NULL, keep.ready ? &keep : NULL);
    if (!r)
        scmc_restore_write(&e[c->parts - 1], &c->restore);
    out->count = c->parts;
    for (int k = 0; k < c->parts; k++) {
        if (!r && (e[k].error || scmc_renc_finish(&e[k], &out->data[k], &out->size[k])))
            r = SCMC_ERR_NOMEM;
        scmc_renc_free(&e[k]);
    }
    if (r)
        scmc_correction_payload_free(out);
done:
    scmc_correction_free(c);
    free(m);
    free(plane);
    free(tmp);
    free(src);
    free(keep.pred[0]);
    free(keep.net);
    return r;
}
