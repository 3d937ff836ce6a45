

/* Structure payload: header, sketch, sample values (bitstream-spec/structure.md), and the
 * encoder's choices: the sketch, and sample values fitted so that the decoder's diffusion lands
 * close to the image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "scmc/scmc.h"
#include "correction.h"
#include "sketch.h"
#include "structure_internal.h"

/* The identifier names the version of the payload syntax, of the correction's trained starting
 * states and learned prediction network, and of the rebuild ("STRJ": that network with 32
 * channels, its logits also read by the mixed bits directly, the starting states trained again;
 * "STRI": that network with 24
 * channels, trained longer, the starting states trained again with its classes; "STRH": that
 * network trained further and run on level 4 too, with contexts of its own there, the starting states trained
 * again with its classes; "STRG": that network with 16 channels instead of 8; "STRF": a small
 * integer network
 * predicts the significance, sign and magnitude of the luma's three finest levels from the coarser
 * ones, its classes picking contexts of the mixed bits; "STRE": the significance's mixer
 * also weighs by the coarse-scale prediction's class, the magnitude's weight sets follow it, and
 * adaptive probability maps refine the significance, sign and magnitude bits, the block flags read
 * the prediction too; "STRD": the correction's finest
 * levels reconstructed with offsets towards zero that the stream sends; "STRC": the correction's
 * coefficients also read a prediction from the coarser levels; "STRB": the mixer's fast
 * probabilities on a window of 8 bits instead of 32, the starting states trained again; "STRA",
 * the tenth: trained starting states of the correction's models; "STR9": dependent quantization
 * of the correction and its split into three sub-layers; "STR8": a restoration filter after the
 * correction; "STR7": the correction's coefficients in mixed bits; "STR6": edge sharpening after
 * the correction; "STR5": the wavelet correction sub-layer; "STR4": split lattice cells,
 * biharmonic field, softened upsampling), so a decoder never pairs a stream with a different
 * rebuild. */
#define STRUCTURE_MODEL_ID 0x5354524Au

uint32_t scmc_structure_model_id(void)
{
    return STRUCTURE_MODEL_ID;
}

void scmc_structure_params(int detail, ScmcStructureParams *p)
{
    static const ScmcStructureParams levels[5] = {
        /* scale, lattice, side, q, chroma q, density, min fragment, refine, split, wavelet step,
         * wavelet chroma step, wavelet lambda, dependent quantization, correction split. Since
         * STR5 the wavelet correction carries the colour between the edges (it gains more per
         * byte than lattice samples: docs/structure.md), so the lattice is at its widest and the
         * sketch keeps the strongest edges; the levels differ in the sketch budget and the
         * wavelet steps, measured on Kodak with benches/structure_stats.
         * The steps are those at which the mixed contexts of STR7 (session 18) spend what STR6
         * spent at 491, 363, 294, 221 and 140 (themselves the steps at which session 17's
         * rate-distortion choice spent what the dead-zone quantizer did), for 0.02-0.04 dB more
         * (docs/structure.md). */
        { 2, 64, 12, 13, 14, 0.01, 6, 2, 0, 475, 494, SCMC_CORRECTION_RDO_LAMBDA, 0, 0 },
        { 2, 64, 12, 13, 14, 0.0125, 6, 2, 0, 349, 363, SCMC_CORRECTION_RDO_LAMBDA, 0, 0 },
        { 2, 64, 12, 13, 14, 0.015, 6, 2, 0, 285, 296, SCMC_CORRECTION_RDO_LAMBDA, 0, 0 },
        { 2, 64, 8, 13, 14, 0.025, 6, 2, 0, 215, 224, SCMC_CORRECTION_RDO_LAMBDA, 0, 0 },
        { 1, 64, 6, 13, 14, 0.02, 10, 2, 0, 136, 141, SCMC_CORRECTION_RDO_LAMBDA, 0, 0 },
    };
    if (detail < SCMC_STRUCTURE_DETAIL_MIN)
        detail = SCMC_STRUCTURE_DETAIL_MIN;
    if (detail > SCMC_STRUCTURE_DETAIL_MAX)
        detail = SCMC_STRUCTURE_DETAIL_MAX;
    *p = levels[detail - 1];
}

const double *scmc_structure_level_weights(int tune)
{
    /* MS-SSIM gives the finest scale little weight and judges structure more than amplitude, so
     * bits spent on levels 1 and 2 buy less of it than squared error says. The factors were
     * measured on six Kodak pictures, qualities 1-8, against the PSNR tuning (BD-rate by MS-SSIM /
     * by PSNR): level 1 x1.3 -3.1 % / +0.4 %; x1.6 and level 2 x1.2 -5.7 / +0.9; x2.5 and x1.5
     * -9.8 / +3.2 (taken); x4, x2 and level 3 x1.3 -10.9 / +9.3 (docs/structure.md, "Tuning"). */
    static const double ms_ssim[SCMC_CORRECTION_LEVEL_CLASSES] = { 1, 2.5, 1.5, 1, 1, 1 };
    return tune == SCMC_TUNE_MS_SSIM ? ms_ssim : NULL;
}

void scmc_structure_params_for(int detail, int quality, int with_signal, ScmcStructureParams *p)
{
    /* Luma steps of the wavelet correction under a signal layer, per quality 1..8 (chroma 4 %
     * coarser, as in the levels). The learned codec spends more on the low frequencies of smooth
     * pictures than the wavelet does (measured: docs/structure.md), so under it the correction is
     * far finer than the structure level alone uses; the lattice and sample settings are level
     * 3's, the sketch is left empty (below). The map is session 15's (85, 42, 30, 21, 15, 10, 7,
     * 5) times 0.72 (once STR7 made the correction cheaper, finer steps paid: docs/structure.md),
     * for qualities 2-8 times 1.25 (below). */
    static const int16_t step_under_signal[8] = { 61, 38, 28, 19, 14, 9, 6, 5 };
    scmc_structure_params(detail != SCMC_STRUCTURE_DETAIL_AUTO ? detail : SCMC_STRUCTURE_DETAIL_ALONE, p);
    if (detail != SCMC_STRUCTURE_DETAIL_AUTO || !with_signal)
        return;
    const int q = quality < 1 ? 1 : quality > 8 ? 8 : quality;
    p->wavelet_step = step_under_signal[q - 1];
    p->wavelet_chroma_step = (step_under_signal[q - 1] * 26 + 12) / 25;
    /* From quality 2 the correction is fine enough for dependent quantization to pay (at quality
     * 1 it measured even, at the structure levels' coarse steps worse): its steps are 1.25 times
     * those of one quantizer (37.5 -> 38, ...) and its weight 0.17 step^2 (docs/structure.md,
     * "Dependent quantization"). */
    p->wavelet_dq = q >= 2;
    /* Under a correction this fine the sketch's edges and their side samples do not pay for their
     * ~180 bytes: the correction codes the same edges anyway, and a sketch-level base with them
     * measured no better under it (session 21: six Kodak pictures, qualities 1-8, -0.79 % BD-rate
     * without them; docs/structure.md, "Under a signal layer"). The lattice samples remain, so
     * sub-layer 0 is a few dozen bytes. */
    p->edge_density = 0;
    /* Under the signal layer the correction is most of the stream and worth cutting into parts;
     * at the levels' few hundred bytes the parts' container entries would cost more than 1 %. */
    p->wavelet_split = 1;
    p->wavelet_lambda = p->wavelet_dq ? SCMC_CORRECTION_RDO_LAMBDA_DQ : SCMC_CORRECTION_RDO_LAMBDA_UNDER_SIGNAL;
}

static ScmcStructure *structure_new(int width, int height, int scale_log2)
{
    ScmcStructure *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->width = width;
    st->height = height;
    st->scale_log2 = scale_log2;
    st->gw = (width + (1 << scale_log2) - 1) >> scale_log2;
    st->gh = (height + (1 << scale_log2) - 1) >> scale_log2;
    st->edges = calloc((size_t)st->gw * st->gh, 1);
    if (!st->edges) {
        free(st);
        return NULL;
    }
    return st;
}

void scmc_structure_free(ScmcStructure *st)
{
    if (!st)
        return;
    free(st->edges);
    free(st->split);
    free(st->samples);
    free(st);
}

int scmc_structure_grid(const ScmcStructure *st, int *gw, int *gh, const uint8_t **edges)
{
    *gw = st->gw;
    *gh = st->gh;
    *edges = st->edges;
    return SCMC_OK;
}

int scmc_structure_num_samples(const ScmcStructure *st)
{
    return st->nsamples;
}

/* Header fields, in bypass bits. */
#define BITS_SCALE 2
#define BITS_LATTICE 6
#define BITS_SIDE 4
#define BITS_QSTEP 6

/* The split flags of the lattice cells, raster order, one adaptive model per count of split
 * neighbours (left, up): splits cluster in the busy parts of an image. Exactly one of e, d. */
static void code_splits(ScmcStructure *st, ScmcRangeEncoder *e, ScmcRangeDecoder *d)
{
    int nx, ny;
    scmc_structure_lattice_dims(st, &nx, &ny);
    ScmcBitModel m[3];
    for (int i = 0; i < 3; i++)
        scmc_bit_model_init(&m[i]);
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            const int ctx = (i > 0 && st->split[j * nx + i - 1]) + (j > 0 && st->split[(j - 1) * nx + i]);
            if (e)
                scmc_renc_bit(e, &m[ctx], st->split[j * nx + i]);
            else
                st->split[j * nx + i] = (uint8_t)scmc_rdec_bit(d, &m[ctx]);
        }
}

static int code_payload(ScmcStructure *st, ScmcRangeEncoder *e, uint8_t **payload, size_t *size)
{
    scmc_renc_bypass(e, (uint32_t)st->scale_log2, BITS_SCALE);
    scmc_renc_bypass(e, (uint32_t)(st->lattice - 2), BITS_LATTICE);
    scmc_renc_bypass(e, (uint32_t)st->side_spacing, BITS_SIDE);
    scmc_renc_bypass(e, (uint32_t)(st->qstep - 1), BITS_QSTEP);
    scmc_renc_bypass(e, (uint32_t)(st->chroma_qstep - 1), BITS_QSTEP);
    scmc_renc_bypass(e, st->split != NULL, 1);
    scmc_sketch_encode(e, st->edges, st->gw, st->gh);
    if (st->split)
        code_splits(st, e, NULL);
    int r = scmc_structure_code_samples(st, e, NULL);
    if (r)
        return r;
    if (e->error || scmc_renc_finish(e, payload, size))
        return SCMC_ERR_NOMEM;
    return SCMC_OK;
}

int scmc_structure_parse(const uint8_t *payload, size_t size, int width, int height, ScmcStructure **out)
{
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, payload, size);
    const int scale_log2 = (int)scmc_rdec_bypass(&d, BITS_SCALE);
    const int lattice = (int)scmc_rdec_bypass(&d, BITS_LATTICE) + 2;
    const int side = (int)scmc_rdec_bypass(&d, BITS_SIDE);
    const int qstep = (int)scmc_rdec_bypass(&d, BITS_QSTEP) + 1;
    const int chroma_qstep = (int)scmc_rdec_bypass(&d, BITS_QSTEP) + 1;
    const int has_split = (int)scmc_rdec_bypass(&d, 1);
    if (side < 1)
        return SCMC_ERR_CORRUPT;
    ScmcStructure *st = structure_new(width, height, scale_log2);
    if (!st)
        return SCMC_ERR_NOMEM;
    st->lattice = lattice;
    st->side_spacing = side;
    st->qstep = qstep;
    st->chroma_qstep = chroma_qstep;
    int r = scmc_sketch_decode(&d, st->edges, st->gw, st->gh);
    if (!r && scmc_rdec_overrun(&d))
        r = SCMC_ERR_CORRUPT;
    if (!r && has_split) {
        int nx, ny;
        scmc_structure_lattice_dims(st, &nx, &ny);
        if (!(st->split = calloc((size_t)nx * ny, 1)))
            r = SCMC_ERR_NOMEM;
        else
            code_splits(st, NULL, &d);
    }
    if (!r)
        r = scmc_structure_place_samples(st);
    if (!r)
        r = scmc_structure_code_samples(st, NULL, &d);
    if (!r && scmc_rdec_overrun(&d))
        r = SCMC_ERR_CORRUPT;
    if (r) {
        scmc_structure_free(st);
        return r;
    }
    *out = st;
    return SCMC_OK;
}

int scmc_structure_rebuild(const ScmcStructure *st, const ScmcImage *base0, ScmcImage *out)
{
    if (base0->width != st->width || base0->height != st->height)
        return SCMC_ERR_INVALID_ARG;
    int32_t *field = malloc((size_t)st->gw * st->gh * 3 * sizeof(int32_t));
    if (!field)
        return SCMC_ERR_NOMEM;
    int r = scmc_structure_field(st, field);
    if (!r)
        r = scmc_structure_apply(st, field, base0, out);
    free(field);
    return r;
}

/* ---- encoder ---- */

/* Box means over the f x f cells of the grid: luma of img, and the YCoCg difference img - base0
 * (3 planes). */
static void grid_means(const ScmcImage *img, const ScmcImage *base0, const ScmcStructure *st, float *luma, float *res)
{
    const int f = 1 << st->scale_log2;
    const size_t n = (size_t)st->gw * st->gh;
    for (int gy = 0; gy < st->gh; gy++)
        for (int gx = 0; gx < st->gw; gx++) {
            double s[4] = { 0, 0, 0, 0 };
            int cnt = 0;
            for (int y = gy * f; y < (gy + 1) * f && y < img->height; y++)
                for (int x = gx * f; x < (gx + 1) * f && x < img->width; x++) {
                    const size_t o = ((size_t)y * img->width + x) * 3;
                    const int r = img->rgb[o], g = img->rgb[o + 1], b = img->rgb[o + 2];
                    const int dr = r - base0->rgb[o], dg = g - base0->rgb[o + 1], db = b - base0->rgb[o + 2];
                    s[0] += 0.299 * r + 0.587 * g + 0.114 * b;
                    s[1] += (dr + 2 * dg + db) / 4.0;
                    s[2] += (dr - db) / 2.0;
                    s[3] += (2 * dg - dr - db) / 4.0;
                    cnt++;
                }
            const size_t p = (size_t)gy * st->gw + gx;
            luma[p] = (float)(s[0] / cnt);
            for (int c = 0; c < 3; c++)
                res[c * n + p] = (float)(s[c + 1] / cnt);
        }
}

/* The pixels a sample stands for: non-edge pixels within radius rad (Chebyshev) reachable from
 * it by 4-steps that stay off the edges and inside the window. Returns their count in list. */
static int sample_region(const ScmcStructure *st, const ScmcSample *s, int rad, int32_t *list, uint8_t *seen)
{
    const int w = 2 * rad + 1;
    memset(seen, 0, (size_t)w * w);
    int head = 0, tail = 0;
    list[tail++] = s->y * st->gw + s->x;
    seen[rad * w + rad] = 1;
    while (head < tail) {
        const int p = list[head++];
        const int x = p % st->gw, y = p / st->gw;
        static const int d4[4][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 }, { 0, -1 } };
        for (int i = 0; i < 4; i++) {
            const int nx = x + d4[i][0], ny = y + d4[i][1];
            const int lx = nx - s->x + rad, ly = ny - s->y + rad;
            if (nx < 0 || ny < 0 || nx >= st->gw || ny >= st->gh || lx < 0 || ly < 0 || lx >= w || ly >= w)
                continue;
            if (seen[ly * w + lx] || st->edges[(size_t)ny * st->gw + nx])
                continue;
            seen[ly * w + lx] = 1;
            list[tail++] = ny * st->gw + nx;
        }
    }
    return tail;
}

/* Rounding offset of the sample quantizer: magnitudes below 0.9 steps become 0. The dead zone
 * saves 2 % of the structure bytes on Kodak and even adds 0.06 dB, because the fit then settles
 * on smaller corrections that overshoot less between samples (structure_stats, offsets 0.5 to
 * -0.1 tried). Encoder-only: the decoder reads whatever values are coded. */
#define QUANT_ROUNDING 0.1

static int16_t quantize(double v, int qstep)
{
    const int qmax = 255 / qstep + 1; /* what the decoder accepts */
    long q = (long)floor(fabs(v) / qstep + QUANT_ROUNDING);
    q = v < 0 ? -q : q;
    return (int16_t)(q < -qmax ? -qmax : q > qmax ? qmax : q);
}

/* Sample values: the mean correction over each sample's region, then refine_passes rounds of
 * moving each value by the mean error the rebuild leaves in its region (the diffusion spreads
 * a value smoothly, so a point value is not the best value for its neighbourhood). The round
 * whose full-resolution rebuild is closest to img is kept. */
static int fit_values(ScmcStructure *st, const ScmcStructureParams *p, const ScmcImage *img, const ScmcImage *base0,
                      const float *res, int32_t *best_field)
{
    const size_t n = (size_t)st->gw * st->gh;
    /* lattice samples average over a third of their spacing (split cells: of half of it), side
     * samples over their 8 neighbours */
    int nx, ny;
    scmc_structure_lattice_dims(st, &nx, &ny);
    const int lat_rad = st->lattice / 3 > 1 ? st->lattice / 3 : 1;
    const int split_rad = st->lattice / 6 > 1 ? st->lattice / 6 : 1;
#define RADIUS(s) ((s)->kind == SAMPLE_SIDE ? 1 \
                   : scmc_structure_slot_split(st, nx, (s)->slot % (2 * nx), (s)->slot / (2 * nx)) ? split_rad : lat_rad)
    const int ns = st->nsamples;
    int32_t *list = malloc((size_t)(2 * lat_rad + 1) * (2 * lat_rad + 1) * sizeof(int32_t));
    uint8_t *seen = malloc((size_t)(2 * lat_rad + 1) * (2 * lat_rad + 1));
    double *val = malloc((size_t)ns * 3 * sizeof(double));
    int16_t *best = malloc((size_t)ns * 3 * sizeof(int16_t));
    int32_t *field = malloc(n * 3 * sizeof(int32_t));
    ScmcImage rebuilt = { 0 };
    int r = SCMC_ERR_NOMEM;
    if (!list || !seen || !val || !best || !field)
        goto done;
    for (int k = 0; k < ns; k++) {
        ScmcSample *s = &st->samples[k];
        const int cnt = sample_region(st, s, RADIUS(s), list, seen);
        for (int c = 0; c < 3; c++) {
            double m = 0;
            for (int i = 0; i < cnt; i++)
                m += res[c * n + (size_t)list[i]];
            val[k * 3 + c] = m / cnt;
            s->q[c] = quantize(val[k * 3 + c], scmc_structure_step(st, c));
        }
    }
    /* all-zero corrections rebuild base0 itself: the floor the fitted values must beat */
    double best_mse = scmc_mse(img, base0);
    for (int k = 0; k < ns; k++)
        memset(&best[k * 3], 0, sizeof(st->samples[k].q));
    if (best_field) /* the field of all-zero corrections */
        for (size_t i = 0; i < 3 * n; i++)
            best_field[i] = FIELD_BIAS;
    for (int pass = 0;; pass++) {
        r = scmc_structure_field(st, field);
        if (!r)
            r = scmc_structure_apply(st, field, base0, &rebuilt);
        if (r)
            goto done;
        const double mse = scmc_mse(img, &rebuilt);
        scmc_image_free(&rebuilt);
        if (mse < best_mse) {
            best_mse = mse;
            for (int k = 0; k < ns; k++)
                memcpy(&best[k * 3], st->samples[k].q, sizeof(st->samples[k].q));
            if (best_field)
                memcpy(best_field, field, 3 * n * sizeof(int32_t));
        }
        if (pass == p->refine_passes)
            break;
        for (int k = 0; k < ns; k++) {
            ScmcSample *s = &st->samples[k];
            const int cnt = sample_region(st, s, RADIUS(s), list, seen);
            for (int c = 0; c < 3; c++) {
                double err = 0;
                for (int i = 0; i < cnt; i++)
                    err += res[c * n + (size_t)list[i]] -
                           (double)(field[c * n + (size_t)list[i]] - FIELD_BIAS) / (1 << FIELD_FRAC);
                val[k * 3 + c] += err / cnt;
                s->q[c] = quantize(val[k * 3 + c], scmc_structure_step(st, c));
            }
        }
    }
    for (int k = 0; k < ns; k++)
        memcpy(st->samples[k].q, &best[k * 3], sizeof(st->samples[k].q));
#undef RADIUS
    r = SCMC_OK;
done:
    free(list);
    free(seen);
    free(val);
    free(best);
    free(field);
    return r;
}

/* Marks the lattice cells where the fitted correction field (the fit's best) stays further than
 * split_mse (mean squared error per grid pixel, Y + Co + Cg) from the grid means of img - base0:
 * the error more samples can remove (texture inside a grid pixel they cannot). Returns how many
 * (st->split allocated when any). */
static int choose_splits(ScmcStructure *st, const float *res, const int32_t *field, double split_mse, int *count)
{
    int nx, ny;
    scmc_structure_lattice_dims(st, &nx, &ny);
    const size_t n = (size_t)st->gw * st->gh;
    double *sse = calloc((size_t)nx * ny, sizeof(double));
    int *cnt = calloc((size_t)nx * ny, sizeof(int));
    uint8_t *split = calloc((size_t)nx * ny, 1);
    int r = SCMC_ERR_NOMEM;
    *count = 0;
    if (!sse || !cnt || !split)
        goto done;
    r = SCMC_OK;
    for (int y = 0; y < st->gh; y++)
        for (int x = 0; x < st->gw; x++) {
            const size_t p = (size_t)y * st->gw + x, cell = (size_t)(y / st->lattice) * nx + x / st->lattice;
            if (st->edges[p])
                continue;
            for (int c = 0; c < 3; c++) {
                const double d = res[c * n + p] - (double)(field[c * n + p] - FIELD_BIAS) / (1 << FIELD_FRAC);
                sse[cell] += d * d;
            }
            cnt[cell]++;
        }
    for (int i = 0; i < nx * ny; i++)
        if (cnt[i] && sse[i] > split_mse * cnt[i]) {
            split[i] = 1;
            ++*count;
        }
    if (*count) {
        st->split = split;
        split = NULL;
    }
done:
    free(sse);
    free(cnt);
    free(split);
    return r;
}

static int check_params(const ScmcStructureParams *p)
{
    if (p->scale_log2 < 0 || p->scale_log2 > 3 || p->lattice < 2 || p->lattice > 65 || p->side_spacing < 1 ||
        p->side_spacing > 15 || p->qstep < 1 || p->qstep > 64 || p->chroma_qstep < 1 || p->chroma_qstep > 64 || p->edge_density < 0 || p->edge_density > 1 ||
        p->refine_passes < 0 || !(p->split_mse >= 0) || p->wavelet_step < 1 || p->wavelet_step > SCMC_CORRECTION_MAX_STEP ||
        p->wavelet_chroma_step < 1 || p->wavelet_chroma_step > SCMC_CORRECTION_MAX_STEP)
        return SCMC_ERR_INVALID_ARG;
    return SCMC_OK;
}

int scmc_structure_encode(const ScmcImage *img, const ScmcImage *base0, const ScmcStructureParams *p,
                          uint8_t **payload, size_t *size)
{
    if (check_params(p) || img->width != base0->width || img->height != base0->height)
        return SCMC_ERR_INVALID_ARG;
    ScmcStructure *st = structure_new(img->width, img->height, p->scale_log2);
    if (!st)
        return SCMC_ERR_NOMEM;
    st->lattice = p->lattice;
    st->side_spacing = p->side_spacing;
    st->qstep = p->qstep;
    st->chroma_qstep = p->chroma_qstep;
    const size_t n = (size_t)st->gw * st->gh;
    float *luma = malloc(n * sizeof(float)), *res = malloc(n * 3 * sizeof(float));
    int32_t *field = p->split_mse > 0 ? malloc(n * 3 * sizeof(int32_t)) : NULL;
    int r = SCMC_ERR_NOMEM;
    if (!luma || !res || (p->split_mse > 0 && !field))
        goto done;
    grid_means(img, base0, st, luma, res);
    r = scmc_sketch_extract(luma, st->gw, st->gh, p->edge_density, p->min_fragment, st->edges);
    if (!r)
        r = scmc_structure_place_samples(st);
    if (!r)
        r = fit_values(st, p, img, base0, res, field);
    if (!r && p->split_mse > 0) { /* a second fit, with the badly served cells split */
        int nsplit;
        r = choose_splits(st, res, field, p->split_mse, &nsplit);
        if (!r && nsplit) {
            r = scmc_structure_place_samples(st);
            if (!r)
                r = fit_values(st, p, img, base0, res, NULL);
        }
    }
    if (!r) {
        ScmcRangeEncoder e;
        scmc_renc_init(&e);
        r = code_payload(st, &e, payload, size);
        scmc_renc_free(&e);
    }
done:
    free(luma);
    free(res);
    free(field);
    scmc_structure_free(st);
    return r;
}
