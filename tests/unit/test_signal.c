/* Signal layer: weight files, the fixed-point hyper-synthesis, round trips at every quality, and
 * bit-exact parsing across thread counts and backends (DESIGN.md sync rules). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scmc/scmc.h"
#include "container/container.h"
#include "container/crc32.h"
#include "layers/signal/enhance.h"
#include "layers/signal/signal_codec.h"
#include "metrics/metrics.h"
#include "test_util.h"

extern const uint8_t scmc_signal_default_weights[];
extern const uint8_t scmc_signal_default_weights_end[];

static void scene(ScmcImage *img, int w, int h)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            /* smooth shading, a gradient and a disc with a sharp edge */
            p[0] = (uint8_t)(128 + 60 * sin(x * 0.08) * cos(y * 0.06));
            p[1] = (uint8_t)(60 + 120 * y / h);
            p[2] = (uint8_t)((x - 60) * (x - 60) + (y - 30) * (y - 30) < 200 ? 180 : 70);
        }
}

START_TEST(weights_file)
{
    const size_t size = (size_t)(scmc_signal_default_weights_end - scmc_signal_default_weights);
    const ScmcSignalModel *m = scmc_signal_default_model();
    ck_assert_ptr_nonnull(m);
    uint32_t crc = scmc_crc32(0, scmc_signal_default_weights, size - 4);
    ck_assert_uint_eq(m->id, crc ? crc : 1);
    ck_assert_int_eq(m->M % m->groups, 0);
    uint8_t *copy = malloc(size);
    memcpy(copy, scmc_signal_default_weights, size);
    ScmcSignalModel other;
    char err[256];
    copy[size / 2] ^= 1; /* any damage is caught by the CRC */
    ck_assert_int_eq(scmc_signal_model_load(copy, size, &other, err, sizeof(err)), SCMC_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "CRC"));
    copy[size / 2] ^= 1;
    ck_assert_int_eq(scmc_signal_model_load(copy, size / 3, &other, err, sizeof(err)), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_signal_model_load((const uint8_t *)"SCMWxxxxxxxxxxxxxxxx", 20, &other, err, sizeof(err)), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_signal_model_load(copy, size, &other, err, sizeof(err)), SCMC_OK);
    ck_assert_uint_eq(other.id, m->id);
    scmc_signal_model_free(&other);
    free(copy);
}
END_TEST

/* The integer network agrees with the same network evaluated in double precision. */
/* The fixed-point hyper-synthesis is deterministic and stays within 0.02 of a double-precision
 * evaluation of the same weights, also at 1-pixel-wide z where every tap but the centre falls
 * outside (the loops' bounds are hoisted). */
static void check_hyper_synthesis(int zh, int zw, uint64_t seed)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    const int N = m->N, M = m->M;
    int32_t *z = malloc(sizeof(int32_t) * N * zh * zw);
    for (int i = 0; i < N * zh * zw; i++)
        z[i] = (int32_t)test_rand_below(&seed, 9) - 4;
    int32_t *mean = malloc(sizeof(int32_t) * M * 16 * zh * zw), *mean2 = malloc(sizeof(int32_t) * M * 16 * zh * zw);
    uint8_t *idx = malloc((size_t)M * 16 * zh * zw), *idx2 = malloc((size_t)M * 16 * zh * zw);
    ck_assert_int_eq(scmc_signal_hyper_synthesis(m, z, zh, zw, mean, idx), SCMC_OK);
    ck_assert_int_eq(scmc_signal_hyper_synthesis(m, z, zh, zw, mean2, idx2), SCMC_OK);
    ck_assert_mem_eq(mean, mean2, sizeof(int32_t) * M * 16 * zh * zw);
    ck_assert_mem_eq(idx, idx2, (size_t)M * 16 * zh * zw);
    /* double-precision evaluation of the same weights */
    const double ws = 1.0 / (1 << m->weight_bits), bs = 1.0 / ((double)(1 << m->weight_bits) * (1 << m->act_bits));
    int h = zh, w = zw;
    double *a = malloc(sizeof(double) * N * h * w);
    for (int i = 0; i < N * h * w; i++)
        a[i] = z[i];
    for (int l = 0; l < 2; l++) {
        const ScmcIntConvLayer *L = &m->h_s[l];
        double *o = calloc((size_t)N * 4 * h * w, sizeof(double));
        for (int co = 0; co < N; co++)
            for (int y = 0; y < 2 * h; y++)
                for (int x = 0; x < 2 * w; x++) {
                    double acc = L->bias[co] * bs;
                    for (int ci = 0; ci < N; ci++)
                        for (int iy = 0; iy < h; iy++)
                            for (int ix = 0; ix < w; ix++) {
                                const int ky = y + 2 - 2 * iy, kx = x + 2 - 2 * ix;
                                if (ky >= 0 && ky < 5 && kx >= 0 && kx < 5)
                                    acc += L->weight[((ci * N + co) * 5 + ky) * 5 + kx] * ws * a[(ci * h + iy) * w + ix];
                            }
                    o[(co * 2 * h + y) * 2 * w + x] = acc > 0 ? acc : 0;
                }
        free(a);
        a = o;
        h *= 2;
        w *= 2;
    }
    double max_err = 0;
    for (int co = 0; co < M; co++) /* the means only: the first M outputs of the last layer */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const ScmcIntConvLayer *L = &m->h_s[2];
                double acc = L->bias[co] * bs;
                for (int ci = 0; ci < N; ci++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            const int iy = y - 1 + ky, ix = x - 1 + kx;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                acc += L->weight[((co * N + ci) * 3 + ky) * 3 + kx] * ws * a[(ci * h + iy) * w + ix];
                        }
                const double err = fabs(acc - mean[(co * h + y) * w + x] / (double)(1 << m->act_bits));
                max_err = err > max_err ? err : max_err;
            }
    ck_assert_msg(max_err < 0.02, "%dx%d: fixed point differs from double by %g", zw, zh, max_err);
    free(a);
    free(z);
    free(mean);
    free(mean2);
    free(idx);
    free(idx2);
}

START_TEST(hyper_synthesis_fixed_point)
{
    check_hyper_synthesis(2, 3, 8);
    check_hyper_synthesis(1, 1, 9);
    check_hyper_synthesis(1, 2, 10);
    check_hyper_synthesis(3, 1, 11);
}
END_TEST

static void encode_signal(const ScmcImage *img, int quality, unsigned layers, uint8_t **out, size_t *size)
{
    ScmcEncoderSettings s;
    scmc_encoder_default_settings(&s);
    s.quality = quality;
    s.layers = layers;
    ScmcEncoder *e;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_OK);
    ck_assert_int_eq(scmc_encode(e, img->rgb, img->width, img->height, (size_t)img->width * 3, out, size), SCMC_OK);
    scmc_encoder_close(&e);
}

static double decode_psnr(const ScmcImage *img, const uint8_t *data, size_t size, int steps)
{
    ScmcDecoderSettings ds;
    scmc_decoder_default_settings(&ds);
    ScmcDecoder *d;
    ck_assert_int_eq(scmc_decoder_open(&d, &ds), SCMC_OK);
    ScmcDecodeResult res;
    ck_assert_int_eq(scmc_decode(d, data, size, steps, NULL, NULL, &res), SCMC_OK);
    scmc_decoder_close(&d);
    const ScmcImage out = { res.width, res.height, res.rgb };
    const double p = scmc_psnr(img, &out);
    scmc_free(res.rgb);
    return p;
}

/* Every quality round-trips; a higher quality spends more bytes; the full stream beats the
 * semantic layer alone. */
START_TEST(every_quality)
{
    ScmcImage img;
    scene(&img, 100, 70);
    size_t last = 0;
    double psnr1 = 0, psnr8 = 0;
    for (int q = 1; q <= 8; q++) {
        uint8_t *buf;
        size_t size;
        encode_signal(&img, q, SCMC_LAYERS_SEMANTIC | SCMC_LAYERS_SIGNAL, &buf, &size);
        ck_assert_msg(size > last, "quality %d: %zu bytes after %zu", q, size, last);
        last = size;
        const double p = decode_psnr(&img, buf, size, 0), p_sem = decode_psnr(&img, buf, size, 1);
        ck_assert_msg(p > p_sem, "quality %d: %.2f dB, semantic alone %.2f dB", q, p, p_sem);
        if (q == 1)
            psnr1 = p;
        if (q == 8)
            psnr8 = p;
        free(buf);
    }
    ck_assert_msg(psnr8 > psnr1 + 1, "quality 8 %.2f dB, quality 1 %.2f dB", psnr8, psnr1);
    scmc_image_free(&img);
}
END_TEST

/* Decodes one signal-only stream of img with every backend of this build (the default one at 1 and
 * 2 threads): parsed symbols, means and scale indices must be identical, pixels within 1. */
static void check_backends_agree(const ScmcImage *img, int quality)
{
    const int w = img->width, h = img->height;
    ScmcImage grey;
    ck_assert_int_eq(scmc_image_alloc(&grey, w, h), SCMC_OK);
    scmc_image_fill(&grey, 128, 128, 128);
    uint8_t *buf;
    size_t size;
    encode_signal(img, quality, SCMC_LAYERS_SIGNAL, &buf, &size);
    ScmcContainer c;
    ck_assert_int_eq(scmc_container_parse(buf, size, &c), SCMC_OK);
    ck_assert_int_eq(c.num_layers, 1);
    const ScmcSignalModel *m = scmc_signal_default_model();
    const struct { const ScmcNnOps *ops; int threads; } runs[] = {
        { scmc_nn_default_ops(), 1 }, { scmc_nn_default_ops(), 2 }, { &scmc_nn_ref_ops, 1 },
        { scmc_nn_ops_for(SCMC_BACKEND_BLAS), 2 }, { scmc_nn_ops_for(SCMC_BACKEND_TORCH), 2 },
    };
    ScmcSignalDecoder d[5];
    ScmcImage out[5];
    int max_diff = 0;
    for (int k = 0; k < 5; k++) {
        if (!runs[k].ops)
            continue;
        runs[k].ops->set_threads(runs[k].threads);
        ck_assert_int_eq(scmc_signal_decoder_init(&d[k], m, runs[k].ops, w, h), SCMC_OK);
        for (int s = 0; s < c.layers[0].num_sublayers; s++)
            ck_assert_int_eq(scmc_signal_decode_sublayer(&d[k], s, buf + c.layers[0].sub[s].offset, c.layers[0].sub[s].length), SCMC_OK);
        ck_assert_int_eq(scmc_signal_render(&d[k], &grey, &out[k]), SCMC_OK);
        runs[k].ops->set_threads(1);
        if (k == 0)
            continue;
        const size_t yn = (size_t)m->M * d[0].yh * d[0].yw, zn = (size_t)m->N * d[0].zh * d[0].zw;
        ck_assert_mem_eq(d[k].z, d[0].z, sizeof(int32_t) * zn);
        ck_assert_mem_eq(d[k].y, d[0].y, sizeof(int32_t) * yn);
        ck_assert_mem_eq(d[k].mean_q, d[0].mean_q, sizeof(int32_t) * yn);
        ck_assert_mem_eq(d[k].scale_idx, d[0].scale_idx, yn);
        for (size_t i = 0; i < (size_t)w * h * 3; i++) {
            const int diff = abs((int)out[k].rgb[i] - (int)out[0].rgb[i]);
            max_diff = diff > max_diff ? diff : max_diff;
        }
        scmc_signal_decoder_free(&d[k]);
        scmc_image_free(&out[k]);
    }
    scmc_signal_decoder_free(&d[0]);
    scmc_image_free(&out[0]);
    ck_assert_msg(max_diff <= 1, "quality %d: backends differ by %d in 8-bit value", quality, max_diff);
    free(buf);
    scmc_image_free(&grey);
}

/* The encoder's rate-distortion rounding only ever moves a latent one step towards zero, leaves
 * z alone, and saves bytes at the lowest quality without costing much picture. */
START_TEST(rd_rounding_moves_towards_zero)
{
    ScmcImage img, grey;
    scene(&img, 130, 66);
    ck_assert_int_eq(scmc_image_alloc(&grey, 130, 66), SCMC_OK);
    scmc_image_fill(&grey, 128, 128, 128);
    const ScmcSignalModel *m = scmc_signal_default_model();
    const ScmcNnOps *ops = scmc_nn_default_ops();
    ScmcSignalDecoder d[2];
    ScmcImage out[2];
    size_t bytes[2] = { 0, 0 };
    const double mu[2] = { 0, SCMC_SIGNAL_RDOQ_MU };
    for (int k = 0; k < 2; k++) {
        ScmcPayloads p = { 0 };
        const ScmcSignalEncodeParams par = { 1, mu[k], 1 };
        ck_assert_int_eq(scmc_signal_encode(m, ops, &img, &grey, &par, &p), SCMC_OK);
        ck_assert_int_eq(scmc_signal_decoder_init(&d[k], m, ops, 130, 66), SCMC_OK);
        for (int s = 0; s < p.count; s++) {
            ck_assert_int_eq(scmc_signal_decode_sublayer(&d[k], s, p.data[s], p.size[s]), SCMC_OK);
            bytes[k] += p.size[s];
        }
        ck_assert_int_eq(scmc_signal_render(&d[k], &grey, &out[k]), SCMC_OK);
        scmc_payloads_free(&p);
    }
    const size_t yn = (size_t)m->M * d[0].yh * d[0].yw;
    ck_assert_mem_eq(d[1].z, d[0].z, sizeof(int32_t) * (size_t)m->N * d[0].zh * d[0].zw);
    size_t moved = 0;
    for (size_t i = 0; i < yn; i++) {
        const int32_t a = d[0].y[i], b = d[1].y[i];
        ck_assert(b == a || (a > 0 && b == a - 1) || (a < 0 && b == a + 1));
        moved += b != a;
    }
    ck_assert_uint_gt(moved, 0);
    ck_assert_uint_lt(bytes[1], bytes[0]);
    ck_assert_double_gt(scmc_psnr(&img, &out[1]), scmc_psnr(&img, &out[0]) - 1.5);
    for (int k = 0; k < 2; k++) {
        scmc_signal_decoder_free(&d[k]);
        scmc_image_free(&out[k]);
    }
    scmc_image_free(&img);
    scmc_image_free(&grey);
}
END_TEST

/* Parsing is identical for every thread count and backend, at every quality. */
START_TEST(bit_exact_parse)
{
    ScmcImage img;
    scene(&img, 130, 66);
    for (int q = 1; q <= 8; q++)
        check_backends_agree(&img, q);
    scmc_image_free(&img);
}
END_TEST

/* The same on a real photograph, when ../shared/data is beside the checkout. */
START_TEST(bit_exact_parse_kodak)
{
    const char *path = getenv("SCMC_KODAK_IMAGE");
    ScmcImage img;
    char err[256];
    if (getenv("SCMC_SKIP_SLOW_TESTS")) { /* the sanitizer run: the C backend there takes minutes */
        fprintf(stderr, "bit_exact_parse_kodak: skipped (SCMC_SKIP_SLOW_TESTS)\n");
        return;
    }
    if (!path || scmc_image_read(path, &img, NULL, err, sizeof(err)) != SCMC_OK) {
        fprintf(stderr, "bit_exact_parse_kodak: skipped (no Kodak image: %s)\n", path ? path : "SCMC_KODAK_IMAGE unset");
        return;
    }
    check_backends_agree(&img, 2);
    check_backends_agree(&img, 7);
    scmc_image_free(&img);
}
END_TEST

/* Sub-layer 0 never makes the picture worse than its base, and the stream refuses a decoder
 * whose signal model differs. */
START_TEST(progressive_and_model_id)
{
    ScmcImage img;
    scene(&img, 64, 64);
    uint8_t *buf;
    size_t size;
    encode_signal(&img, 4, SCMC_LAYERS_SEMANTIC | SCMC_LAYERS_SIGNAL, &buf, &size);
    const double p1 = decode_psnr(&img, buf, size, 1), p2 = decode_psnr(&img, buf, size, 2);
    ck_assert_msg(p2 >= p1, "z sub-layer %.3f dB below semantic %.3f dB", p2, p1);
    ScmcContainer c;
    ck_assert_int_eq(scmc_container_parse(buf, size, &c), SCMC_OK);
    ck_assert_int_eq(c.layers[1].type, SCMC_LAYER_SIGNAL);
    const ScmcSignalModel *m = scmc_signal_default_model();
    const int per = m->M / m->groups;
    ck_assert_int_ge(c.layers[1].num_sublayers, 1 + (m->M - m->detail + per - 1) / per);
    ck_assert_int_le(c.layers[1].num_sublayers, 1 + m->groups);
    const uint8_t *p[SCMC_MAX_SUBLAYERS + 1];
    size_t len[SCMC_MAX_SUBLAYERS + 1];
    int n = 0;
    for (int l = 0; l < c.num_layers; l++)
        for (int s = 0; s < c.layers[l].num_sublayers; s++, n++) {
            p[n] = buf + c.layers[l].sub[s].offset;
            len[n] = c.layers[l].sub[s].length;
        }
    c.layers[1].model_id ^= 0x100;
    uint8_t *forged;
    size_t fsize;
    ck_assert_int_eq(scmc_container_write(&c, p, len, &forged, &fsize), SCMC_OK);
    ScmcDecoderSettings ds;
    scmc_decoder_default_settings(&ds);
    ScmcDecoder *d;
    ck_assert_int_eq(scmc_decoder_open(&d, &ds), SCMC_OK);
    ScmcDecodeResult res;
    ck_assert_int_eq(scmc_decode(d, forged, fsize, 0, NULL, NULL, &res), SCMC_ERR_MODEL);
    scmc_decoder_close(&d);
    free(forged);
    free(buf);
    scmc_image_free(&img);
}
END_TEST

/* A detail latent paints its d_s block (16x16, 255 * value * inverse gain * weights) at its own
 * position and nothing else: the C synthesis lays blocks out as the training graph does. */
START_TEST(detail_channel_paints_its_block)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    ck_assert_ptr_nonnull(m);
    if (!m->detail) {
        printf("detail_channel_paints_its_block: the default model has no detail channels, nothing to check\n");
        return;
    }
    const int W = 80, H = 72, b = SCMC_SIGNAL_DETAIL_BLOCK, q = 8, by = 2, bx = 3;
    ScmcImage base, plain, painted;
    ck_assert_int_eq(scmc_image_alloc(&base, W, H), SCMC_OK);
    memset(base.rgb, 128, (size_t)W * H * 3);
    ScmcSignalDecoder d;
    ck_assert_int_eq(scmc_signal_decoder_init(&d, m, scmc_nn_default_ops(), W, H), SCMC_OK);
    const size_t yn = (size_t)m->M * d.yh * d.yw;
    memset(d.mean_q, 0, sizeof(int32_t) * yn);
    d.quality = q;
    d.latents = 1;
    d.groups_parsed = m->groups;
    ck_assert_int_eq(scmc_signal_render(&d, &base, &plain), SCMC_OK);
    const int c = m->M - m->detail; /* the first detail channel: the strongest component */
    const float ig = m->inv_gain[(size_t)(q - 1) * m->M + c];
    float peak = 0;
    for (int i = 0; i < 3 * b * b; i++)
        peak = fmaxf(peak, fabsf(m->d_s.weight[i]));
    const int v = (int)lroundf(40.0f / (255.0f * ig * peak)); /* at most 40 levels either way */
    ck_assert_int_ge(v, 1);
    d.y[((size_t)c * d.yh + by) * d.yw + bx] = v;
    ck_assert_int_eq(scmc_signal_render(&d, &base, &painted), SCMC_OK);
    int changed = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int ch = 0; ch < 3; ch++) {
                const size_t p = ((size_t)y * W + x) * 3 + ch;
                const int diff = (int)painted.rgb[p] - (int)plain.rgb[p];
                const int inside = y / b == by && x / b == bx;
                const float want = inside ? 255.0f * v * ig * m->d_s.weight[((size_t)ch * b + y % b) * b + x % b] : 0.0f;
                ck_assert_msg(fabsf((float)diff - want) <= 1.01f, "(%d,%d,%d): %d, expected %.2f", x, y, ch, diff, want);
                changed += diff != 0;
            }
    ck_assert_int_gt(changed, b * b / 2);
    scmc_image_free(&painted);
    scmc_image_free(&plain);
    scmc_image_free(&base);
    scmc_signal_decoder_free(&d);
}
END_TEST

/* Squared error over base of the picture decoded from the first count payloads of p; *groups_parsed
 * (when not NULL) gets the number of latent groups the decoder took. */
static double prefix_sse(const ScmcSignalModel *m, const ScmcImage *img, const ScmcImage *base,
                         const ScmcPayloads *p, int count, int *groups_parsed)
{
    ScmcSignalDecoder d;
    ScmcImage out;
    ck_assert_int_eq(scmc_signal_decoder_init(&d, m, scmc_nn_default_ops(), img->width, img->height), SCMC_OK);
    for (int s = 0; s < count; s++)
        ck_assert_int_eq(scmc_signal_decode_sublayer(&d, s, p->data[s], p->size[s]), SCMC_OK);
    ck_assert_int_eq(scmc_signal_render(&d, base, &out), SCMC_OK);
    double sse = 0;
    for (size_t i = 0; i < (size_t)img->width * img->height * 3; i++)
        sse += ((double)out.rgb[i] - img->rgb[i]) * ((double)out.rgb[i] - img->rgb[i]);
    if (groups_parsed)
        *groups_parsed = d.groups_parsed;
    scmc_image_free(&out);
    scmc_signal_decoder_free(&d);
    return sse;
}

/* Training objective of a signal payload set decoded over base: lambda * SSE / 3 + the bits of the
 * payloads and of their layer-table entries. */
static double stream_cost(const ScmcSignalModel *m, const ScmcImage *img, const ScmcImage *base, int quality,
                          const ScmcPayloads *p, int *groups_parsed)
{
    double bits = 0;
    for (int s = 1; s < p->count; s++)
        bits += 8.0 * (double)(p->size[s] + scmc_container_sublayer_entry_bytes(p->size[s]));
    return scmc_signal_lambda(quality) * prefix_sse(m, img, base, p, p->count, groups_parsed) / 3.0 + bits;
}

/* Encodes img over base at quality with the given group and detail choices; asserts success. */
static void encode_payloads(const ScmcSignalModel *m, const ScmcImage *img, const ScmcImage *base, int quality,
                            int all_groups, int detail_rdo, ScmcPayloads *p)
{
    const ScmcSignalEncodeParams par = { quality, SCMC_SIGNAL_RDOQ_MU, all_groups, detail_rdo };
    ck_assert_int_eq(scmc_signal_encode(m, scmc_nn_default_ops(), img, base, &par, p), SCMC_OK);
}

/* The scene with the pattern of the strongest detail channel added in every 16x16 block, with
 * alternating signs: a picture whose detail groups are worth something at high qualities. */
static void detail_scene(const ScmcSignalModel *m, ScmcImage *img, int W, int H)
{
    scene(img, W, H);
    const int b = SCMC_SIGNAL_DETAIL_BLOCK;
    const float *kern = m->d_s.weight;
    float peak = 0;
    for (int i = 0; i < 3 * b * b; i++)
        peak = fmaxf(peak, fabsf(kern[i]));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                uint8_t *p = &img->rgb[((size_t)y * W + x) * 3 + c];
                const float sign = (x / b + y / b) % 2 ? 1.0f : -1.0f;
                const float v = (float)*p + sign * 30.0f * kern[((size_t)c * b + y % b) * b + x % b] / peak;
                *p = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
}

/* The encoder's choice of how many latent groups to write: the written groups are a prefix of the
 * all-groups stream (same bytes), every group with a nonlinear channel is kept, the decoded cost
 * by the training objective is no higher than with every group, and the choice is not fixed:
 * the same picture drops detail groups at quality 1 and keeps some at quality 8. */
START_TEST(group_choice_by_rate_distortion)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    if (!m->detail) {
        printf("group_choice_by_rate_distortion: the default model has no detail channels, every group is sent\n");
        return;
    }
    const int W = 128, H = 96, per = m->M / m->groups, first = (m->M - m->detail + per - 1) / per;
    ScmcImage img, grey;
    detail_scene(m, &img, W, H);
    ck_assert_int_eq(scmc_image_alloc(&grey, W, H), SCMC_OK);
    scmc_image_fill(&grey, 128, 128, 128);
    const int quality[2] = { 1, 8 };
    int kept[2];
    for (int k = 0; k < 2; k++) {
        ScmcPayloads all = { 0 }, chosen = { 0 };
        encode_payloads(m, &img, &grey, quality[k], 1, 1, &all);
        encode_payloads(m, &img, &grey, quality[k], 0, 1, &chosen);
        ck_assert_int_eq(all.count, 1 + m->groups);
        ck_assert_int_ge(chosen.count, 1 + first);
        ck_assert_int_le(chosen.count, all.count);
        for (int s = 0; s < chosen.count; s++) {
            ck_assert_uint_eq(chosen.size[s], all.size[s]);
            ck_assert_mem_eq(chosen.data[s], all.data[s], all.size[s]);
        }
        int parsed_all, parsed_chosen;
        const double cost_all = stream_cost(m, &img, &grey, quality[k], &all, &parsed_all);
        const double cost_chosen = stream_cost(m, &img, &grey, quality[k], &chosen, &parsed_chosen);
        ck_assert_int_eq(parsed_chosen, chosen.count - 1);
        /* the encoder prices with its own float sums: allow a hair for the decoder's order */
        ck_assert_msg(cost_chosen <= cost_all * 1.0001 + 1, "case %d: %d groups cost %.1f, all %.1f", k,
                      chosen.count - 1, cost_chosen, cost_all);
        kept[k] = chosen.count - 1;
        scmc_payloads_free(&all);
        scmc_payloads_free(&chosen);
    }
    ck_assert_msg(kept[0] < m->groups, "quality 1: all %d groups kept", kept[0]);
    ck_assert_msg(kept[1] > first, "quality 8: no detail group kept");
    scmc_image_free(&img);
    scmc_image_free(&grey);
}
END_TEST

/* The encoder's rate-distortion fit of the detail symbols (optimise_detail): with every group
 * written, the stream it makes decodes (the contexts the decoder derives match the ones it coded
 * with) to a lower training objective than the stream of d_a's rounded coefficients, at the
 * qualities where detail matters, on a picture that is not 16-aligned (blocks cut by the edge)
 * and on a 16-aligned one; and its picture never gets worse from one sub-layer to the next. The
 * fit is made for all groups together; the guard after it (guard_prefixes) drops a group from a
 * block where it would undo the groups before it. Without the guard, weights 91d501d5 made the
 * 12th sub-layer of the 120x90 picture at quality 5 0.03 % worse than the 11th. */
START_TEST(detail_symbols_by_rate_distortion)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    if (!m->detail) {
        printf("detail_symbols_by_rate_distortion: the default model has no detail channels\n");
        return;
    }
    const int size[2][2] = { { 128, 96 }, { 120, 90 } }, quality[2] = { 5, 8 };
    for (int s = 0; s < 2; s++) {
        const int W = size[s][0], H = size[s][1];
        ScmcImage img, grey;
        detail_scene(m, &img, W, H);
        ck_assert_int_eq(scmc_image_alloc(&grey, W, H), SCMC_OK);
        scmc_image_fill(&grey, 128, 128, 128);
        for (int k = 0; k < 2; k++) {
            ScmcPayloads plain = { 0 }, fitted = { 0 };
            encode_payloads(m, &img, &grey, quality[k], 1, 0, &plain);
            encode_payloads(m, &img, &grey, quality[k], 1, 1, &fitted);
            ck_assert_int_eq(fitted.count, 1 + m->groups);
            int parsed_plain, parsed_fitted;
            const double cost_plain = stream_cost(m, &img, &grey, quality[k], &plain, &parsed_plain);
            const double cost_fitted = stream_cost(m, &img, &grey, quality[k], &fitted, &parsed_fitted);
            ck_assert_int_eq(parsed_fitted, m->groups);
            ck_assert_msg(cost_fitted < cost_plain, "%dx%d quality %d: fitted %.1f, plain %.1f", W, H, quality[k],
                          cost_fitted, cost_plain);
            double before = prefix_sse(m, &img, &grey, &fitted, 1, NULL);
            for (int n = 2; n <= fitted.count; n++) {
                const double sse = prefix_sse(m, &img, &grey, &fitted, n, NULL);
                ck_assert_msg(sse <= before, "%dx%d quality %d: %d sub-layers SSE %.0f, %d: %.0f", W, H,
                              quality[k], n, sse, n - 1, before);
                before = sse;
            }
            scmc_payloads_free(&plain);
            scmc_payloads_free(&fitted);
        }
        scmc_image_free(&img);
        scmc_image_free(&grey);
    }
}
END_TEST

/* A tensor to add to a weight file (int32, one or two dimensions). */
typedef struct ExtraTensor {
    const char *name;
    int ndim;
    uint32_t dims[2];
    const int32_t *data;
} ExtraTensor;

/* The default weight file rewritten without the tensors named in drop (NULL-terminated) and with
 * the extra ones appended, its CRC recomputed; *size gets its length. */
static uint8_t *rewrite_weights(const char *const *drop, const ExtraTensor *extra, int n_extra, size_t *size)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    size_t cap = m->w.count * 96 + (size_t)(scmc_signal_default_weights_end - scmc_signal_default_weights) + 8192;
    for (int x = 0; x < n_extra; x++)
        cap += 96 + 4 * (size_t)extra[x].dims[0] * (extra[x].ndim > 1 ? extra[x].dims[1] : 1);
    uint8_t *out = malloc(cap), *p = out + 12;
    uint32_t count = 0;
    memcpy(out, "SCMW", 4);
    for (int t = 0; t < m->w.count + n_extra; t++) {
        const ScmcWeightTensor *w = t < m->w.count ? &m->w.tensors[t] : NULL;
        const ExtraTensor *x = w ? NULL : &extra[t - m->w.count];
        int dropped = 0;
        for (int k = 0; w && drop[k]; k++) { /* a name ending in '*' drops every tensor it starts */
            const size_t len = strlen(drop[k]);
            dropped |= len && drop[k][len - 1] == '*' ? !strncmp(w->name, drop[k], len - 1) : !strcmp(w->name, drop[k]);
        }
        if (dropped)
            continue;
        const char *name = w ? w->name : x->name;
        const uint16_t len = (uint16_t)strlen(name);
        const uint8_t dtype = w ? (uint8_t)w->dtype : SCMC_DTYPE_I32, ndim = w ? (uint8_t)w->ndim : (uint8_t)x->ndim;
        const size_t n = w ? w->count : (size_t)x->dims[0] * (x->ndim > 1 ? x->dims[1] : 1);
        memcpy(p, &len, 2), p += 2; /* the test machines are little-endian, like the format */
        memcpy(p, name, len), p += len;
        *p++ = dtype;
        *p++ = ndim;
        memcpy(p, w ? w->dims : x->dims, 4 * (size_t)ndim), p += 4 * (size_t)ndim;
        memcpy(p, w ? w->data : (const void *)x->data, 4 * n), p += 4 * n;
        count++;
    }
    const uint32_t version = 1;
    memcpy(out + 4, &version, 4);
    memcpy(out + 8, &count, 4);
    const uint32_t crc = scmc_crc32(0, out, (size_t)(p - out));
    memcpy(p, &crc, 4), p += 4;
    *size = (size_t)(p - out);
    ck_assert_uint_le(*size, cap);
    return out;
}

/* The default weight file with the scale-context table replaced by table. */
static uint8_t *weights_with_table(const int32_t *table, size_t *size)
{
    static const char *const drop[] = { "y_ctx_delta", NULL };
    const ExtraTensor t = { "y_ctx_delta", 2, { SCMC_SIGNAL_NUM_CTX, SCMC_SIGNAL_NUM_SCALES }, table };
    return rewrite_weights(drop, &t, 1, size);
}

/* The scale-context table: loaded from the weight file (out-of-range values refused), used alike
 * by encoder and decoder (a table that moves the scales where the neighbours are zero codes the
 * same symbols in other bytes, and they parse back identically), all zeros = no table. Whether a
 * given table saves bytes depends on the weights (the export fits the real one), so the test asks
 * only that the table is applied on both sides. */
START_TEST(scale_context_table)
{
    int32_t table[SCMC_SIGNAL_NUM_CTX * SCMC_SIGNAL_NUM_SCALES];
    for (int x = 0; x < SCMC_SIGNAL_NUM_CTX; x++)
        for (int k = 0; k < SCMC_SIGNAL_NUM_SCALES; k++) /* scales narrower where nothing is around */
            table[x * SCMC_SIGNAL_NUM_SCALES + k] = x / SCMC_SIGNAL_CTX_PREV == 0 && k >= 4 ? -4 : 0;
    ScmcSignalModel with[2];
    char err[256];
    for (int t = 0; t < 2; t++) {
        size_t size;
        int32_t zeros[SCMC_SIGNAL_NUM_CTX * SCMC_SIGNAL_NUM_SCALES] = { 0 };
        uint8_t *file = weights_with_table(t ? table : zeros, &size);
        ck_assert_int_eq(scmc_signal_model_load(file, size, &with[t], err, sizeof(err)), SCMC_OK);
        free(file);
    }
    ck_assert_int_eq(with[1].ctx_delta[0][30], -4);
    ck_assert_int_eq(with[1].ctx_delta[5][30], 0);
    table[5] = 64;
    size_t size;
    uint8_t *bad = weights_with_table(table, &size);
    ScmcSignalModel other;
    ck_assert_int_eq(scmc_signal_model_load(bad, size, &other, err, sizeof(err)), SCMC_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "scale-context"));
    free(bad);

    const int W = 130, H = 66;
    ScmcImage img, grey, out[2];
    scene(&img, W, H);
    ck_assert_int_eq(scmc_image_alloc(&grey, W, H), SCMC_OK);
    scmc_image_fill(&grey, 128, 128, 128);
    const ScmcNnOps *ops = scmc_nn_default_ops();
    size_t bytes[2] = { 0, 0 };
    ScmcSignalDecoder d[2];
    for (int t = 0; t < 2; t++) {
        ScmcPayloads p = { 0 };
        const ScmcSignalEncodeParams par = { 2, 0, 1 }; /* round to nearest: the same symbols either way */
        ck_assert_int_eq(scmc_signal_encode(&with[t], ops, &img, &grey, &par, &p), SCMC_OK);
        ck_assert_int_eq(scmc_signal_decoder_init(&d[t], &with[t], ops, W, H), SCMC_OK);
        for (int s = 0; s < p.count; s++) {
            ck_assert_int_eq(scmc_signal_decode_sublayer(&d[t], s, p.data[s], p.size[s]), SCMC_OK);
            bytes[t] += p.size[s];
        }
        ck_assert_int_eq(scmc_signal_render(&d[t], &grey, &out[t]), SCMC_OK);
        scmc_payloads_free(&p);
    }
    const size_t yn = (size_t)with[0].M * d[0].yh * d[0].yw;
    ck_assert_mem_eq(d[1].y, d[0].y, sizeof(int32_t) * yn);
    ck_assert_mem_eq(out[1].rgb, out[0].rgb, (size_t)W * H * 3);
    ck_assert_msg(bytes[1] != bytes[0], "table %zu bytes, none %zu", bytes[1], bytes[0]);
    for (int t = 0; t < 2; t++) {
        scmc_signal_decoder_free(&d[t]);
        scmc_image_free(&out[t]);
        scmc_signal_model_free(&with[t]);
    }
    scmc_image_free(&img);
    scmc_image_free(&grey);
}
END_TEST

/* Per-quality z tables: without them every quality codes z with the shared tables; with them the
 * stream's quality picks the table, alike in encoder and decoder (the same z and picture parse
 * back, in fewer or more bytes as the table fits); invalid or incomplete sets are refused. */
START_TEST(per_quality_z_tables)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    static const char *const drop[] = { "z_q_cdf_offset", "z_q_cdf_length", "z_q_cdf", NULL };
    const ScmcWeightTensor *zo = scmc_weights_get(&m->w, "z_cdf_offset", SCMC_DTYPE_I32, (size_t)m->N);
    const ScmcWeightTensor *zl = scmc_weights_get(&m->w, "z_cdf_length", SCMC_DTYPE_I32, (size_t)m->N);
    const ScmcWeightTensor *zc = scmc_weights_get(&m->w, "z_cdf", SCMC_DTYPE_I32, 0);
    ck_assert(zo && zl && zc);
    /* quality q uses the shared table of each channel, except quality 2: a flat CDF over the same
     * symbols (valid, and a poor fit) */
    const size_t nq = (size_t)m->num_qualities * m->N;
    int32_t *off = malloc(sizeof(int32_t) * nq), *len = malloc(sizeof(int32_t) * nq);
    int32_t *cdf = malloc(sizeof(int32_t) * zc->count * m->num_qualities);
    size_t n = 0;
    for (int q = 1; q <= m->num_qualities; q++) {
        size_t pos = 0;
        for (int c = 0; c < m->N; c++) {
            const int l = ((const int32_t *)zl->data)[c];
            off[(q - 1) * m->N + c] = ((const int32_t *)zo->data)[c];
            len[(q - 1) * m->N + c] = l;
            for (int i = 0; i <= l; i++)
                cdf[n++] = q == 2 ? (int32_t)((int64_t)SCMC_CDF_TOTAL * i / l) : ((const int32_t *)zc->data)[pos + i];
            pos += (size_t)l + 1;
        }
    }
    const ExtraTensor tables[3] = { { "z_q_cdf_offset", 2, { (uint32_t)m->num_qualities, (uint32_t)m->N }, off },
                                    { "z_q_cdf_length", 2, { (uint32_t)m->num_qualities, (uint32_t)m->N }, len },
                                    { "z_q_cdf", 1, { (uint32_t)n, 0 }, cdf } };
    ScmcSignalModel with[2];
    char err[256];
    for (int t = 0; t < 2; t++) {
        size_t size;
        uint8_t *file = rewrite_weights(drop, tables, t ? 3 : 0, &size);
        ck_assert_int_eq(scmc_signal_model_load(file, size, &with[t], err, sizeof(err)), SCMC_OK);
        free(file);
    }
    ck_assert_ptr_eq(with[0].z_cdf[0], with[0].z_cdf[m->N]); /* shared: one table for every quality */
    ck_assert_ptr_ne(with[1].z_cdf[0], with[1].z_cdf[m->N]);
    /* refused: a CDF that falls, and a set without its CDFs */
    {
        size_t size;
        ScmcSignalModel other;
        cdf[1] = SCMC_CDF_TOTAL;
        uint8_t *bad = rewrite_weights(drop, tables, 3, &size);
        ck_assert_int_eq(scmc_signal_model_load(bad, size, &other, err, sizeof(err)), SCMC_ERR_CORRUPT);
        ck_assert_ptr_nonnull(strstr(err, "per-quality z table"));
        free(bad);
        bad = rewrite_weights(drop, tables, 2, &size);
        ck_assert_int_eq(scmc_signal_model_load(bad, size, &other, err, sizeof(err)), SCMC_ERR_CORRUPT);
        ck_assert_ptr_nonnull(strstr(err, "incomplete per-quality z tables"));
        free(bad);
    }
    const int W = 130, H = 66, quality[2] = { 1, 2 };
    ScmcImage img, grey;
    scene(&img, W, H);
    ck_assert_int_eq(scmc_image_alloc(&grey, W, H), SCMC_OK);
    scmc_image_fill(&grey, 128, 128, 128);
    const ScmcNnOps *ops = scmc_nn_default_ops();
    for (int k = 0; k < 2; k++) {
        ScmcSignalDecoder d[2];
        ScmcImage out[2];
        size_t z_bytes[2];
        for (int t = 0; t < 2; t++) {
            ScmcPayloads p = { 0 };
            const ScmcSignalEncodeParams par = { quality[k], SCMC_SIGNAL_RDOQ_MU, 1, 1 };
            ck_assert_int_eq(scmc_signal_encode(&with[t], ops, &img, &grey, &par, &p), SCMC_OK);
            ck_assert_int_eq(scmc_signal_decoder_init(&d[t], &with[t], ops, W, H), SCMC_OK);
            for (int s = 0; s < p.count; s++)
                ck_assert_int_eq(scmc_signal_decode_sublayer(&d[t], s, p.data[s], p.size[s]), SCMC_OK);
            ck_assert_int_eq(scmc_signal_render(&d[t], &grey, &out[t]), SCMC_OK);
            z_bytes[t] = p.size[0];
            scmc_payloads_free(&p);
        }
        ck_assert_mem_eq(d[1].z, d[0].z, sizeof(int32_t) * m->N * d[0].zh * d[0].zw);
        ck_assert_mem_eq(out[1].rgb, out[0].rgb, (size_t)W * H * 3);
        if (quality[k] == 2)
            ck_assert_msg(z_bytes[1] > z_bytes[0], "flat table %zu bytes, shared %zu", z_bytes[1], z_bytes[0]);
        else
            ck_assert_uint_eq(z_bytes[1], z_bytes[0]);
        for (int t = 0; t < 2; t++) {
            scmc_signal_decoder_free(&d[t]);
            scmc_image_free(&out[t]);
        }
    }
    for (int t = 0; t < 2; t++)
        scmc_signal_model_free(&with[t]);
    free(off);
    free(len);
    free(cdf);
    scmc_image_free(&img);
    scmc_image_free(&grey);
}
END_TEST

/* The correction of a picture and of its crop from row `top` (a multiple of 4: the grid of the
 * network's coarsest resolution) agree wherever the crop's bands see every row the network
 * reads; the correction is not trivially zero. */
static void check_bands_agree(const ScmcEnhancer *e)
{
    const int W = 61, H = 301, top = 44, reach = 2 * scmc_enhance_margin(e);
    ScmcImage img, crop;
    scene(&img, W, H);
    ck_assert_int_eq(scmc_image_alloc(&crop, W, H - top), SCMC_OK);
    memcpy(crop.rgb, img.rgb + (size_t)top * W * 3, (size_t)W * (H - top) * 3);
    float *a, *b;
    const ScmcNnOps *ops = scmc_nn_default_ops();
    ck_assert_int_eq(scmc_enhance_correction(e, ops, &img, 3, &a), SCMC_OK);
    ck_assert_int_eq(scmc_enhance_correction(e, ops, &crop, 3, &b), SCMC_OK);
    double worst = 0, size = 0;
    for (int c = 0; c < 3; c++)
        for (int y = top + reach; y < H; y++)
            for (int x = 0; x < W; x++) {
                const float u = a[((size_t)c * H + y) * W + x], v = b[((size_t)c * (H - top) + y - top) * W + x];
                worst = fmax(worst, fabs(u - v));
                size = fmax(size, fabs(u));
            }
    ck_assert_msg(worst < 1e-3, "correction differs by %g between the picture and its crop", worst);
    ck_assert_msg(size > 0.05, "the network corrects nothing (largest %g)", size);
    free(a);
    free(b);
    ck_assert_int_eq(scmc_enhance_correction(e, ops, &img, 9, &a), SCMC_ERR_INVALID_ARG);
    ck_assert_ptr_null(a);
    scmc_image_free(&img);
    scmc_image_free(&crop);
}

/* A random layer of a synthetic network, weights drawn from the test's own generator. */
static void random_conv(ScmcConvLayer *l, float *store, int cin, int cout, int k, float scale, uint32_t *seed)
{
    *l = (ScmcConvLayer){ store, store + (size_t)cin * cout * k * k, cin, cout, k };
    for (size_t i = 0; i < (size_t)cin * cout * k * k + cout; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        store[i] = scale * ((float)(*seed >> 8) / 16777216.0f - 0.5f);
    }
}

/* The restoration network runs in bands of rows with margins: the committed network, and a
 * synthetic one with a quarter-resolution branch (its margin is wider), correct a picture and its
 * crop alike where both see the rows the network reads (bands fall at other rows in each), and
 * odd sizes like their even extension. */
START_TEST(restoration_bands_agree)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    ck_assert_int_gt(m->enhancer.channels, 0);
    check_bands_agree(&m->enhancer);
    enum { C = 8 };
    static float store[6 + 3 + 2][(4 * C) * C * 9 + 4 * C];
    ScmcEnhancer e = { .channels = C, .blocks = 3, .views = 1, .branch_at = 1, .branch_depth = 2 };
    uint32_t seed = 7;
    random_conv(&e.head, store[0], 13, C, 3, 0.6f, &seed);
    for (int l = 0; l < e.blocks; l++)
        random_conv(&e.body[l], store[1 + l], C, C, 3, 0.5f, &seed);
    random_conv(&e.tail, store[4], C, 12, 3, 0.5f, &seed);
    random_conv(&e.down, store[5], C, C, 3, 0.5f, &seed);
    for (int l = 0; l < e.branch_depth; l++)
        random_conv(&e.mid[l], store[6 + l], C, C, 3, 0.5f, &seed);
    random_conv(&e.up, store[8], C, 4 * C, 1, 0.8f, &seed);
    ck_assert_int_gt(scmc_enhance_margin(&e), e.blocks + 2);
    check_bands_agree(&e);
}
END_TEST

/* The encoder restores base at the strength closest to the picture; with a weight that no latent
 * can pay for, the layer is sub-layer 0 alone and decodes to the restored base, never further from
 * the picture than base; a stream claiming latents it does not have, or groups after the
 * restoration alone, is refused; the render follows a new base. */
START_TEST(restoration_alone)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    const int W = 96, H = 70;
    ScmcImage img, base, out, plain;
    scene(&img, W, H);
    ck_assert_int_eq(scmc_image_copy(&base, &img), SCMC_OK);
    for (size_t i = 0; i < (size_t)W * H * 3; i += 3 * 5) /* a base that misses the detail */
        base.rgb[i] = (uint8_t)(base.rgb[i] / 16 * 16);
    const ScmcNnOps *ops = scmc_nn_default_ops();
    ScmcPayloads p = { 0 }, all = { 0 };
    const ScmcSignalEncodeParams par = { 1, SCMC_SIGNAL_RDOQ_MU, 0, 1, 1e12 }, keep = { 1, SCMC_SIGNAL_RDOQ_MU, 0, 1, 0 };
    ck_assert_int_eq(scmc_signal_encode(m, ops, &img, &base, &par, &p), SCMC_OK);
    ck_assert_int_eq(scmc_signal_encode(m, ops, &img, &base, &keep, &all), SCMC_OK);
    ck_assert_int_eq(p.count, 1);
    ck_assert_int_gt(all.count, 1);
    ck_assert_uint_le(p.size[0], 2);
    ScmcSignalDecoder d;
    ck_assert_int_eq(scmc_signal_decoder_init(&d, m, ops, W, H), SCMC_OK);
    ck_assert_int_eq(scmc_signal_decode_sublayer(&d, 0, p.data[0], p.size[0]), SCMC_OK);
    ck_assert_int_eq(d.latents, 0);
    /* groups after the restoration alone: refused */
    ck_assert_int_eq(scmc_signal_decode_sublayer(&d, 1, all.data[1], all.size[1]), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_signal_render(&d, &base, &out), SCMC_OK);
    ck_assert_double_le(scmc_mse(&img, &out), scmc_mse(&img, &base));
    float *corr;
    ck_assert_int_eq(scmc_enhance_correction(&m->enhancer, ops, &base, 1, &corr), SCMC_OK);
    ck_assert_int_eq(scmc_enhance_apply(&base, corr, d.strength, &plain), SCMC_OK);
    ck_assert_mem_eq(out.rgb, plain.rgb, (size_t)W * H * 3);
    for (int s = 0; s < SCMC_ENHANCE_NUM_STRENGTHS; s++) { /* the chosen strength is the closest */
        ScmcImage t;
        ck_assert_int_eq(scmc_enhance_apply(&base, corr, s, &t), SCMC_OK);
        ck_assert_double_le(scmc_mse(&img, &out), scmc_mse(&img, &t));
        scmc_image_free(&t);
    }
    free(corr);
    scmc_image_free(&out);
    scmc_image_free(&plain);
    /* another base: restored afresh, not the one cached */
    ScmcImage grey;
    ck_assert_int_eq(scmc_image_alloc(&grey, W, H), SCMC_OK);
    scmc_image_fill(&grey, 90, 90, 90);
    ck_assert_int_eq(scmc_signal_render(&d, &grey, &out), SCMC_OK);
    ck_assert_int_eq(scmc_enhance_correction(&m->enhancer, ops, &grey, 1, &corr), SCMC_OK);
    ck_assert_int_eq(scmc_enhance_apply(&grey, corr, d.strength, &plain), SCMC_OK);
    ck_assert_mem_eq(out.rgb, plain.rgb, (size_t)W * H * 3);
    free(corr);
    scmc_signal_decoder_free(&d);
    /* show_mean without latents: refused */
    ScmcRangeEncoder e;
    uint8_t *bad;
    size_t bad_size;
    scmc_renc_init(&e);
    scmc_renc_bypass(&e, 0, 3);
    scmc_renc_bypass(&e, 1, 1);
    scmc_renc_bypass(&e, 2, 2);
    scmc_renc_bypass(&e, 0, 1);
    ck_assert_int_eq(scmc_renc_finish(&e, &bad, &bad_size), 0);
    ck_assert_int_eq(scmc_signal_decoder_init(&d, m, ops, W, H), SCMC_OK);
    ck_assert_int_eq(scmc_signal_decode_sublayer(&d, 0, bad, bad_size), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(d.quality, 0);
    scmc_signal_decoder_free(&d);
    free(bad);
    scmc_payloads_free(&p);
    scmc_payloads_free(&all);
    scmc_image_free(&out);
    scmc_image_free(&plain);
    scmc_image_free(&grey);
    scmc_image_free(&img);
    scmc_image_free(&base);
}
END_TEST

/* Where the encoder judges the latents, the reconstruction it hands to the library (in place of
 * decoding its payloads again) is what the decoder renders, whether the latents stay or not. */
START_TEST(encoder_reconstruction_is_the_decoders)
{
    const ScmcSignalModel *m = scmc_signal_default_model();
    const int W = 80, H = 72;
    ScmcImage img, base[2];
    scene(&img, W, H);
    ck_assert_int_eq(scmc_image_copy(&base[0], &img), SCMC_OK);
    for (size_t i = 0; i < (size_t)W * H * 3; i += 3 * 3) /* detail the latents code */
        base[0].rgb[i] = (uint8_t)(base[0].rgb[i] / 24 * 24);
    ck_assert_int_eq(scmc_image_copy(&base[1], &img), SCMC_OK);
    for (int y = 1; y + 1 < H; y++) /* a soft base, as a coarse correction leaves it: the network restores it */
        for (int x = 1; x + 1 < W; x++)
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                        sum += img.rgb[((size_t)(y + dy) * W + x + dx) * 3 + c];
                base[1].rgb[((size_t)y * W + x) * 3 + c] = (uint8_t)((sum + 4) / 9);
            }
    const ScmcNnOps *ops = scmc_nn_default_ops();
    const double lambdas[2] = { 1e-9, 1e12 }; /* the latents stay / are dropped */
    for (int k = 0; k < 2; k++) {
        ScmcPayloads p = { 0 };
        ScmcImage recon = { 0 }, shown;
        const ScmcSignalEncodeParams par = { 2, SCMC_SIGNAL_RDOQ_MU, 0, 1, lambdas[k] };
        ck_assert_int_eq(scmc_signal_encode_rec(m, ops, &img, &base[k], &par, &p, &recon), SCMC_OK);
        ck_assert_ptr_nonnull(recon.rgb);
        ScmcSignalDecoder d;
        ck_assert_int_eq(scmc_signal_decoder_init(&d, m, ops, W, H), SCMC_OK);
        for (int i = 0; i < p.count; i++)
            ck_assert_int_eq(scmc_signal_decode_sublayer(&d, i, p.data[i], p.size[i]), SCMC_OK);
        ck_assert_int_eq(d.latents, k == 0);
        ck_assert_int_eq(scmc_signal_render(&d, &base[k], &shown), SCMC_OK);
        ck_assert_int_eq(memcmp(shown.rgb, recon.rgb, (size_t)W * H * 3), 0);
        ck_assert_double_lt(scmc_mse(&img, &shown), scmc_mse(&img, &base[k])); /* something was painted */
        scmc_signal_decoder_free(&d);
        scmc_image_free(&shown);
        scmc_image_free(&recon);
        scmc_payloads_free(&p);
    }
    ScmcPayloads p = { 0 };
    ScmcImage recon = { 0 };
    const ScmcSignalEncodeParams unjudged = { 2, SCMC_SIGNAL_RDOQ_MU, 0, 1, 0 };
    ck_assert_int_eq(scmc_signal_encode_rec(m, ops, &img, &base[0], &unjudged, &p, &recon), SCMC_OK);
    ck_assert_ptr_null(recon.rgb); /* nothing rendered: the library decodes the payloads */
    scmc_payloads_free(&p);
    scmc_image_free(&img);
    scmc_image_free(&base[0]);
    scmc_image_free(&base[1]);
}
END_TEST

/* A network with 4 views corrects each pixel by the mean of the corrections of the picture and of its
 * three mirror images (left-right, top-bottom, both), each mirrored back; the view count is part of
 * the weight file, so it is another model. */
START_TEST(restoration_views)
{
    static const char *const only_cfg[] = { "enh.config", NULL };
    const ScmcSignalModel *m = scmc_signal_default_model();
    const int32_t cfg[3] = { m->enhancer.channels, m->enhancer.blocks, 4 };
    const ExtraTensor t = { "enh.config", 1, { 3, 0 }, cfg }, t1 = { "enh.config", 1, { 2, 0 }, cfg };
    size_t size;
    uint8_t *file = rewrite_weights(only_cfg, &t, 1, &size);
    ScmcSignalModel four, single;
    char err[256];
    ck_assert_int_eq(scmc_signal_model_load(file, size, &four, err, sizeof(err)), SCMC_OK);
    free(file);
    file = rewrite_weights(only_cfg, &t1, 1, &size); /* two values: one view */
    ck_assert_int_eq(scmc_signal_model_load(file, size, &single, err, sizeof(err)), SCMC_OK);
    free(file);
    ck_assert_int_eq(four.enhancer.views, 4);
    ck_assert_int_eq(single.enhancer.views, 1);
    ck_assert_uint_ne(four.id, single.id);
    const int W = 37, H = 29; /* odd: each mirror image is extended at its own far edges */
    ScmcImage img, flip[4];
    scene(&img, W, H);
    const ScmcNnOps *ops = scmc_nn_default_ops();
    float *mean, *one[4];
    ck_assert_int_eq(scmc_enhance_correction(&four.enhancer, ops, &img, 2, &mean), SCMC_OK);
    for (int f = 0; f < 4; f++) {
        ck_assert_int_eq(scmc_image_alloc(&flip[f], W, H), SCMC_OK);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                memcpy(flip[f].rgb + ((size_t)y * W + x) * 3,
                       img.rgb + ((size_t)(f & 2 ? H - 1 - y : y) * W + (f & 1 ? W - 1 - x : x)) * 3, 3);
        ck_assert_int_eq(scmc_enhance_correction(&single.enhancer, ops, &flip[f], 2, &one[f]), SCMC_OK);
    }
    double worst = 0, apart = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double sum = 0;
                for (int f = 0; f < 4; f++)
                    sum += one[f][((size_t)c * H + (f & 2 ? H - 1 - y : y)) * W + (f & 1 ? W - 1 - x : x)];
                const size_t i = ((size_t)c * H + y) * W + x;
                worst = fmax(worst, fabs(mean[i] - sum / 4));
                apart = fmax(apart, fabs(mean[i] - one[0][i]));
            }
    ck_assert_msg(worst < 1e-4, "the 4-view correction is not the mean of the views (%g)", worst);
    ck_assert_msg(apart > 1e-3, "the views agree everywhere: nothing was averaged");
    free(mean);
    for (int f = 0; f < 4; f++) {
        free(one[f]);
        scmc_image_free(&flip[f]);
    }
    scmc_image_free(&img);
    scmc_signal_model_free(&four);
    scmc_signal_model_free(&single);
}
END_TEST

/* A weight file without the network (enh.* dropped) codes sub-layer 0 without the strength and
 * latents fields, as before the network, and is another model; a network of a bad shape is refused. */
START_TEST(restoration_optional_in_the_weights)
{
    static const char *const drop[] = { "enh.*", NULL };
    const ScmcSignalModel *m = scmc_signal_default_model();
    size_t size;
    uint8_t *file = rewrite_weights(drop, NULL, 0, &size);
    ScmcSignalModel plain;
    char err[256];
    ck_assert_int_eq(scmc_signal_model_load(file, size, &plain, err, sizeof(err)), SCMC_OK);
    free(file);
    ck_assert_int_eq(plain.enhancer.channels, 0);
    ck_assert_uint_ne(plain.id, m->id);
    const int W = 64, H = 64;
    ScmcImage img, grey, out;
    scene(&img, W, H);
    ck_assert_int_eq(scmc_image_alloc(&grey, W, H), SCMC_OK);
    scmc_image_fill(&grey, 128, 128, 128);
    const ScmcNnOps *ops = scmc_nn_default_ops();
    ScmcPayloads p[2] = { { 0 }, { 0 } };
    const ScmcSignalEncodeParams par = { 5, SCMC_SIGNAL_RDOQ_MU, 1, 1, 0 };
    ck_assert_int_eq(scmc_signal_encode(&plain, ops, &img, &grey, &par, &p[0]), SCMC_OK);
    ck_assert_int_eq(scmc_signal_encode(m, ops, &img, &grey, &par, &p[1]), SCMC_OK);
    ScmcSignalDecoder d;
    ck_assert_int_eq(scmc_signal_decoder_init(&d, &plain, ops, W, H), SCMC_OK);
    for (int s = 0; s < p[0].count; s++)
        ck_assert_int_eq(scmc_signal_decode_sublayer(&d, s, p[0].data[s], p[0].size[s]), SCMC_OK);
    ck_assert_int_eq(d.latents, 1);
    ck_assert_int_eq(scmc_signal_render(&d, &grey, &out), SCMC_OK);
    ck_assert_double_lt(scmc_mse(&img, &out), scmc_mse(&img, &grey));
    scmc_signal_decoder_free(&d);
    scmc_signal_model_free(&plain);
    const int32_t bad_cfg[2] = { 0, 4 };
    const ExtraTensor t = { "enh.config", 1, { 2, 0 }, bad_cfg };
    static const char *const only_cfg[] = { "enh.config", NULL };
    file = rewrite_weights(only_cfg, &t, 1, &size);
    ck_assert_int_eq(scmc_signal_model_load(file, size, &plain, err, sizeof(err)), SCMC_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "restoration"));
    free(file);
    /* a third config value names the mirrored views the decoder averages: 1, 2 or 4 */
    const int32_t three_views[3] = { m->enhancer.channels, m->enhancer.blocks, 3 };
    const ExtraTensor t3 = { "enh.config", 1, { 3, 0 }, three_views };
    file = rewrite_weights(only_cfg, &t3, 1, &size);
    ck_assert_int_eq(scmc_signal_model_load(file, size, &plain, err, sizeof(err)), SCMC_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "restoration"));
    free(file);
    /* a quarter-resolution branch joins before a body convolution, with 1 .. 16 of its own, and
     * its convolutions must be in the file */
    static const char *const only_branch[] = { "enh.branch", "enh.down.*", "enh.mid.*", "enh.up.*", NULL };
    const int32_t branches[4][2] = { { m->enhancer.blocks, 1 }, { -1, 1 }, { 0, 0 }, { 0, 17 } };
    for (int k = 0; k < 5; k++) {
        const ExtraTensor tb = { "enh.branch", 1, { k < 4 ? 2 : 3, 0 }, k < 4 ? branches[k] : three_views };
        file = rewrite_weights(only_branch, &tb, 1, &size);
        ck_assert_int_eq(scmc_signal_model_load(file, size, &plain, err, sizeof(err)), SCMC_ERR_CORRUPT);
        ck_assert_ptr_nonnull(strstr(err, "restoration"));
        free(file);
    }
    const int32_t fits[2] = { 0, 1 };
    const ExtraTensor tb = { "enh.branch", 1, { 2, 0 }, fits };
    file = rewrite_weights(only_branch, &tb, 1, &size);
    ck_assert_int_eq(scmc_signal_model_load(file, size, &plain, err, sizeof(err)), SCMC_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "enh.down"));
    free(file);
    for (int k = 0; k < 2; k++)
        scmc_payloads_free(&p[k]);
    scmc_image_free(&out);
    scmc_image_free(&img);
    scmc_image_free(&grey);
}
END_TEST

static Suite *signal_suite(void)
{
    Suite *s = suite_create("signal");
    TCase *tc = tcase_create("signal");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, weights_file);
    tcase_add_test(tc, hyper_synthesis_fixed_point);
    tcase_add_test(tc, every_quality);
    tcase_add_test(tc, bit_exact_parse);
    tcase_add_test(tc, rd_rounding_moves_towards_zero);
    tcase_add_test(tc, bit_exact_parse_kodak);
    tcase_add_test(tc, progressive_and_model_id);
    tcase_add_test(tc, detail_channel_paints_its_block);
    tcase_add_test(tc, group_choice_by_rate_distortion);
    tcase_add_test(tc, detail_symbols_by_rate_distortion);
    tcase_add_test(tc, scale_context_table);
    tcase_add_test(tc, per_quality_z_tables);
    tcase_add_test(tc, restoration_bands_agree);
    tcase_add_test(tc, restoration_alone);
    tcase_add_test(tc, restoration_optional_in_the_weights);
    tcase_add_test(tc, restoration_views);
    tcase_add_test(tc, encoder_reconstruction_is_the_decoders);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(signal_suite)
