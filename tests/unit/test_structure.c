/* Structure layer: sketch coder round trips, deterministic extraction and rebuild, the rebuild
 * improving on base0, edges kept sharp, odd sizes, and damaged payloads refused cleanly; the
 * wavelet correction sub-layer: the integer inverse transform against the forward one, round
 * trips, and damaged payloads; its restoration filter: classes, syntax, fit. */
#include <math.h>
#include <string.h>

#include "scmc/scmc.h"
#include "entropy/mixer.h"
#include "entropy/range_coder.h"
#include "layers/semantic/semantic.h"
#include "layers/structure/correction.h"
#include "layers/structure/prediction_net.h"
#include "layers/structure/restore.h"
#include "layers/structure/sharpen.h"
#include "layers/structure/sketch.h"
#include "layers/structure/structure.h"
#include "layers/structure/structure_internal.h"
#include "layers/structure/wavelet.h"
#include "metrics/metrics.h"
#include "test_util.h"

/* Two flat regions split by a slanted line, a dark disc and a soft gradient: the kind of
 * picture edges and diffusion describe well. */
static void scene(ScmcImage *img, int w, int h)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            const double dx = x - 0.7 * w, dy = y - 0.6 * h;
            if (dx * dx + dy * dy < (0.15 * h) * (0.15 * h)) {
                p[0] = 30, p[1] = 25, p[2] = 90;
            } else if (x < 0.4 * w + 0.2 * y) {
                p[0] = (uint8_t)(200 + 40 * y / h), p[1] = 180, p[2] = 60;
            } else {
                p[0] = 40, p[1] = (uint8_t)(90 + 80 * x / w), p[2] = 120;
            }
        }
}

/* Smooth colour shading, 128 +- 60 times sin(x / kx) sin(y / ky): no edges, only gradations. */
static void shading(ScmcImage *img, int w, int h, double kx, double ky)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *px = img->rgb + ((size_t)y * w + x) * 3;
            const double v = 128 + 60 * sin(x / kx) * sin(y / ky);
            px[0] = (uint8_t)(v + 0.5), px[1] = (uint8_t)(0.8 * v + 20.5), px[2] = (uint8_t)(255.5 - v);
        }
}

static void grey(ScmcImage *img, int w, int h)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    scmc_image_fill(img, 128, 128, 128);
}

static size_t sketch_round_trip(const uint8_t *edges, int w, int h)
{
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    scmc_sketch_encode(&e, edges, w, h);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    uint8_t *back = malloc((size_t)w * h);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    ck_assert_int_eq(scmc_sketch_decode(&d, back, w, h), SCMC_OK);
    ck_assert(!scmc_rdec_overrun(&d));
    ck_assert(!memcmp(back, edges, (size_t)w * h));
    free(back);
    free(buf);
    scmc_renc_free(&e);
    return size;
}

START_TEST(sketch_coder_random)
{
    uint64_t rng = 11;
    const int sizes[][2] = { { 1, 1 }, { 1, 9 }, { 9, 1 }, { 2, 2 }, { 37, 23 }, { 200, 3 }, { 128, 96 } };
    const unsigned per_mille[] = { 0, 5, 100, 500, 1000 };
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (size_t k = 0; k < sizeof(per_mille) / sizeof(per_mille[0]); k++) {
            const int w = sizes[s][0], h = sizes[s][1];
            uint8_t *m = malloc((size_t)w * h);
            for (int i = 0; i < w * h; i++)
                m[i] = test_rand_below(&rng, 1000) < per_mille[k];
            sketch_round_trip(m, w, h);
            free(m);
        }
}
END_TEST

START_TEST(sketch_coder_curves_are_cheap)
{
    /* a real sketch: thin curves cost far less than one bit per edge pixel's worth of raw map */
    ScmcImage img;
    scene(&img, 256, 192);
    float *luma = malloc(256 * 192 * sizeof(float));
    uint8_t *edges = malloc(256 * 192);
    for (int i = 0; i < 256 * 192; i++)
        luma[i] = 0.299f * img.rgb[3 * i] + 0.587f * img.rgb[3 * i + 1] + 0.114f * img.rgb[3 * i + 2];
    ck_assert_int_eq(scmc_sketch_extract(luma, 256, 192, 1.0, 4, edges), SCMC_OK);
    size_t n = 0;
    for (int i = 0; i < 256 * 192; i++)
        n += edges[i];
    ck_assert_uint_gt(n, 256); /* the line, the disc */
    const size_t bytes = sketch_round_trip(edges, 256, 192);
    ck_assert_uint_lt(bytes * 8, n * 3); /* under 3 bits per edge pixel */
    ck_assert_uint_lt(bytes * 8, 256 * 192 / 20);
    free(luma);
    free(edges);
    scmc_image_free(&img);
}
END_TEST

START_TEST(extraction_finds_the_edges_and_is_deterministic)
{
    const int w = 160, h = 120;
    float *luma = malloc((size_t)w * h * sizeof(float));
    uint8_t *a = malloc((size_t)w * h), *b = malloc((size_t)w * h);
    /* a vertical step at x = 80 and a flat rest: edges must hug the step and nothing else */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            luma[y * w + x] = x < 80 ? 60.f : 190.f;
    ck_assert_int_eq(scmc_sketch_extract(luma, w, h, 1.0, 4, a), SCMC_OK);
    ck_assert_int_eq(scmc_sketch_extract(luma, w, h, 1.0, 4, b), SCMC_OK);
    ck_assert(!memcmp(a, b, (size_t)w * h));
    int on_step = 0, off_step = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (a[y * w + x] && x >= 78 && x <= 81)
                on_step++;
            else if (a[y * w + x])
                off_step++;
    ck_assert_int_ge(on_step, h - 8);
    ck_assert_int_le(on_step, h + 4); /* one pixel wide */
    ck_assert_int_eq(off_step, 0);
    /* a flat image has no edges; the budget caps the count */
    for (int i = 0; i < w * h; i++)
        luma[i] = 100.f;
    ck_assert_int_eq(scmc_sketch_extract(luma, w, h, 1.0, 4, a), SCMC_OK);
    for (int i = 0; i < w * h; i++)
        ck_assert_int_eq(a[i], 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            luma[y * w + x] = ((x / 10 + y / 10) & 1) ? 40.f : 220.f;
    ck_assert_int_eq(scmc_sketch_extract(luma, w, h, 0.02, 4, a), SCMC_OK);
    int n = 0;
    for (int i = 0; i < w * h; i++)
        n += a[i];
    ck_assert_int_gt(n, 0);
    ck_assert_int_le(n, (int)(0.02 * w * h));
    free(luma);
    free(a);
    free(b);
}
END_TEST

/* A dense sketch-and-samples setting (what level 4 was before STR5 moved the colour between the
 * edges into the wavelet correction): sub-layer 0 on its own, with a lattice that splits and a
 * sketch budget that covers the edges of small test images. */
static void dense_params(ScmcStructureParams *p)
{
    scmc_structure_params(4, p);
    p->lattice = 8;
    p->side_spacing = 6;
    p->edge_density = 0.07;
    p->split_mse = 100;
}

/* The same bytes, and the same picture: what two runs of a deterministic coder must give. */
static void expect_same_payload(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    ck_assert_uint_eq(na, nb);
    ck_assert(!memcmp(a, b, na));
}

static void expect_same_image(const ScmcImage *a, const ScmcImage *b)
{
    ck_assert(!memcmp(a->rgb, b->rgb, (size_t)a->width * a->height * 3));
}

/* Encodes img over base0 (sub-layer 0), parses, rebuilds; checks the decoder's view is
 * deterministic. */
static void code(const ScmcImage *img, const ScmcImage *base0, const ScmcStructureParams *p, ScmcImage *base1,
                 size_t *bytes)
{
    uint8_t *pay, *pay2;
    size_t size, size2;
    ck_assert_int_eq(scmc_structure_encode(img, base0, p, &pay, &size), SCMC_OK);
    ck_assert_int_eq(scmc_structure_encode(img, base0, p, &pay2, &size2), SCMC_OK);
    expect_same_payload(pay, size, pay2, size2);
    ScmcStructure *st;
    ck_assert_int_eq(scmc_structure_parse(pay, size, img->width, img->height, &st), SCMC_OK);
    ck_assert_int_eq(scmc_structure_rebuild(st, base0, base1), SCMC_OK);
    ScmcImage again;
    ck_assert_int_eq(scmc_structure_rebuild(st, base0, &again), SCMC_OK);
    expect_same_image(&again, base1);
    scmc_image_free(&again);
    scmc_structure_free(st);
    free(pay);
    free(pay2);
    if (bytes)
        *bytes = size;
}

/* Sub-layer 1 over the sketch-level image: encodes twice (same bytes), parses, applies twice
 * (same image). */
static void code_correction(const ScmcImage *img, const ScmcImage *sketch_level, int step, int chroma_step,
                            ScmcImage *base1, size_t *bytes)
{
    ScmcCorrectionPayload pay, pay2;
    ck_assert_int_eq(scmc_correction_encode(img, sketch_level, step, chroma_step, &pay), SCMC_OK);
    ck_assert_int_eq(scmc_correction_encode(img, sketch_level, step, chroma_step, &pay2), SCMC_OK);
    ck_assert_int_eq(pay.count, 1); /* the levels' corrections are not split */
    ck_assert_int_eq(pay2.count, 1);
    expect_same_payload(pay.data[0], pay.size[0], pay2.data[0], pay2.size[0]);
    ScmcCorrection *c;
    ck_assert_int_eq(scmc_correction_parse(&pay, 1, img->width, img->height, &c), SCMC_OK);
    ck_assert(scmc_correction_complete(c));
    ck_assert_int_eq(scmc_correction_apply(c, sketch_level, base1), SCMC_OK);
    ScmcImage again;
    ck_assert_int_eq(scmc_correction_apply(c, sketch_level, &again), SCMC_OK);
    expect_same_image(&again, base1);
    scmc_image_free(&again);
    scmc_correction_free(c);
    if (bytes)
        *bytes = scmc_correction_payload_bytes(&pay);
    scmc_correction_payload_free(&pay);
    scmc_correction_payload_free(&pay2);
}

START_TEST(rebuild_improves_on_base0)
{
    /* every level: the sketch level is no worse than base0 and both sub-layers together gain
     * more than 3 dB */
    ScmcImage img, base0, sketch_level, base1;
    scene(&img, 192, 128);
    uint8_t *sem;
    size_t sem_size;
    ck_assert_int_eq(scmc_semantic_encode(&img, 8, 6, NULL, &sem, &sem_size), SCMC_OK);
    ck_assert_int_eq(scmc_semantic_decode(sem, sem_size, 192, 128, &base0), SCMC_OK);
    size_t prev = 0;
    for (int level = SCMC_STRUCTURE_DETAIL_MIN; level <= SCMC_STRUCTURE_DETAIL_MAX; level++) {
        ScmcStructureParams p;
        scmc_structure_params(level, &p);
        size_t bytes, wbytes;
        code(&img, &base0, &p, &sketch_level, &bytes);
        ck_assert_double_ge(scmc_psnr(&img, &sketch_level), scmc_psnr(&img, &base0));
        code_correction(&img, &sketch_level, p.wavelet_step, p.wavelet_chroma_step, &base1, &wbytes);
        ck_assert_double_gt(scmc_psnr(&img, &base1), scmc_psnr(&img, &base0) + 3.0);
        ck_assert_double_ge(scmc_psnr(&img, &base1), scmc_psnr(&img, &sketch_level));
        ck_assert_double_gt(scmc_msssim(&img, &base1), scmc_msssim(&img, &base0));
        if (level == SCMC_STRUCTURE_DETAIL_MAX)
            ck_assert_uint_gt(bytes + wbytes, prev); /* the finest level spends more than the coarsest */
        if (level == SCMC_STRUCTURE_DETAIL_MIN)
            prev = bytes + wbytes;
        scmc_image_free(&sketch_level);
        scmc_image_free(&base1);
    }
    free(sem);
    scmc_image_free(&img);
    scmc_image_free(&base0);
}
END_TEST

START_TEST(auto_params_follow_the_signal_quality)
{
    /* explicit levels pass through; auto is level 3 without a signal layer; under one, the
     * lattice is level 3's, the sketch is empty (the correction carries the edges) and the wavelet
     * step is finer than any fixed level's and falls with the quality, so the correction spends
     * more and lands closer at quality 8 than at 1 */
    ScmcStructureParams p, level3, level5, q1, q8;
    scmc_structure_params(3, &level3);
    scmc_structure_params(5, &level5);
    scmc_structure_params_for(5, 8, 1, &p);
    ck_assert_mem_eq(&p, &level5, sizeof(p));
    scmc_structure_params_for(SCMC_STRUCTURE_DETAIL_AUTO, 8, 0, &p);
    ck_assert_mem_eq(&p, &level3, sizeof(p));
    int prev = level5.wavelet_step;
    for (int q = 1; q <= 8; q++) {
        scmc_structure_params_for(SCMC_STRUCTURE_DETAIL_AUTO, q, 1, &p);
        ck_assert_int_eq(p.scale_log2, level3.scale_log2);
        ck_assert_int_eq(p.lattice, level3.lattice);
        ck_assert_double_eq(p.edge_density, 0);
        ck_assert_int_le(p.wavelet_step, prev);
        ck_assert_int_lt(p.wavelet_step, level5.wavelet_step);
        ck_assert_int_ge(p.wavelet_chroma_step, p.wavelet_step);
        ck_assert_int_ge(p.wavelet_step, 1);
        prev = p.wavelet_step;
    }
    scmc_structure_params_for(SCMC_STRUCTURE_DETAIL_AUTO, 1, 1, &q1);
    scmc_structure_params_for(SCMC_STRUCTURE_DETAIL_AUTO, 8, 1, &q8);
    ck_assert_int_lt(q8.wavelet_step, q1.wavelet_step);
    ScmcImage img, base0, sketch_level, c1, c8;
    scene(&img, 192, 128);
    grey(&base0, 192, 128);
    /* the scene's edges are in a dense sketch, none in the sketch under a signal layer */
    ScmcStructureParams dense;
    dense_params(&dense);
    for (int k = 0; k < 2; k++) {
        uint8_t *pay;
        size_t size, edges = 0;
        ScmcStructure *st;
        int gw, gh;
        const uint8_t *grid;
        ck_assert_int_eq(scmc_structure_encode(&img, &base0, k ? &q1 : &dense, &pay, &size), SCMC_OK);
        ck_assert_int_eq(scmc_structure_parse(pay, size, img.width, img.height, &st), SCMC_OK);
        scmc_structure_grid(st, &gw, &gh, &grid);
        for (int i = 0; i < gw * gh; i++)
            edges += grid[i];
        if (k)
            ck_assert_uint_eq(edges, 0);
        else
            ck_assert_uint_gt(edges, 20);
        scmc_structure_free(st);
        free(pay);
    }
    code(&img, &base0, &q1, &sketch_level, NULL);
    size_t b1, b8;
    code_correction(&img, &sketch_level, q1.wavelet_step, q1.wavelet_chroma_step, &c1, &b1);
    code_correction(&img, &sketch_level, q8.wavelet_step, q8.wavelet_chroma_step, &c8, &b8);
    ck_assert_uint_gt(b8, b1);
    ck_assert_double_gt(scmc_psnr(&img, &c8), scmc_psnr(&img, &c1));
    scmc_image_free(&img);
    scmc_image_free(&base0);
    scmc_image_free(&sketch_level);
    scmc_image_free(&c1);
    scmc_image_free(&c8);
}
END_TEST

START_TEST(edges_stay_sharp)
{
    /* a vertical split between two flat colours, from a grey base: the rebuild must not smear
     * one colour into the other over more than a grid cell */
    const int w = 128, h = 64;
    ScmcImage img, base0, base1;
    ck_assert_int_eq(scmc_image_alloc(&img, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img.rgb + ((size_t)y * w + x) * 3;
            p[0] = x < 61 ? 220 : 30, p[1] = x < 61 ? 200 : 60, p[2] = x < 61 ? 40 : 160;
        }
    grey(&base0, w, h);
    ScmcStructureParams p;
    dense_params(&p);
    code(&img, &base0, &p, &base1, NULL);
    const int f = 1 << p.scale_log2;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (abs(x - 61) <= f)
                continue;
            for (int c = 0; c < 3; c++)
                ck_assert_int_le(abs(img.rgb[((size_t)y * w + x) * 3 + c] - base1.rgb[((size_t)y * w + x) * 3 + c]),
                                 p.qstep + p.chroma_qstep);
        }
    scmc_image_free(&img);
    scmc_image_free(&base0);
    scmc_image_free(&base1);
}
END_TEST

START_TEST(odd_sizes)
{
    const int sizes[][2] = { { 1, 1 }, { 2, 1 }, { 1, 7 }, { 3, 3 }, { 9, 5 }, { 300, 2 }, { 33, 65 } };
    for (int level = SCMC_STRUCTURE_DETAIL_MIN; level <= SCMC_STRUCTURE_DETAIL_MAX; level++)
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            ScmcImage img, base0, base1;
            scene(&img, sizes[i][0], sizes[i][1]);
            grey(&base0, sizes[i][0], sizes[i][1]);
            ScmcStructureParams p;
            scmc_structure_params(level, &p);
            code(&img, &base0, &p, &base1, NULL);
            ck_assert_double_ge(scmc_psnr(&img, &base1), scmc_psnr(&img, &base0));
            ScmcImage corrected;
            code_correction(&img, &base1, p.wavelet_step / 8, p.wavelet_chroma_step / 8, &corrected, NULL);
            ck_assert_double_ge(scmc_psnr(&img, &corrected), scmc_psnr(&img, &base1));
            scmc_image_free(&img);
            scmc_image_free(&base0);
            scmc_image_free(&base1);
            scmc_image_free(&corrected);
        }
}
END_TEST

START_TEST(damaged_payloads_are_refused)
{
    ScmcImage img, base0;
    scene(&img, 96, 64);
    grey(&base0, 96, 64);
    ScmcStructureParams p;
    dense_params(&p);
    p.scale_log2 = 1;
    uint8_t *pay;
    size_t size;
    ck_assert_int_eq(scmc_structure_encode(&img, &base0, &p, &pay, &size), SCMC_OK);
    ck_assert_uint_gt(size, 40);
    ScmcStructure *st;
    /* every cut well short of the end runs out of bytes */
    for (size_t cut = 0; cut + 8 < size; cut++)
        ck_assert_int_eq(scmc_structure_parse(pay, cut, 96, 64, &st), SCMC_ERR_CORRUPT);
    /* flipped bits: refused, or parsed into something that rebuilds */
    uint64_t rng = 5;
    for (int it = 0; it < 300; it++) {
        uint8_t *bad = malloc(size);
        memcpy(bad, pay, size);
        bad[test_rand_below(&rng, (uint32_t)size)] ^= (uint8_t)(1u << test_rand_below(&rng, 8));
        const int r = scmc_structure_parse(bad, size, 96, 64, &st);
        ck_assert(r == SCMC_OK || r == SCMC_ERR_CORRUPT);
        if (r == SCMC_OK) {
            ScmcImage out;
            ck_assert_int_eq(scmc_structure_rebuild(st, &base0, &out), SCMC_OK);
            scmc_image_free(&out);
            scmc_structure_free(st);
        }
        free(bad);
    }
    /* a side spacing of 0 in the header is invalid */
    const uint8_t zero_side[8] = { 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0 };
    ck_assert_int_eq(scmc_structure_parse(zero_side, sizeof(zero_side), 96, 64, &st), SCMC_ERR_CORRUPT);
    /* a tiny payload announcing a huge grid is refused quickly, not decoded from zeros */
    ck_assert_int_eq(scmc_structure_parse(pay, 6, 16384, 16384, &st), SCMC_ERR_CORRUPT);
    free(pay);
    scmc_image_free(&img);
    scmc_image_free(&base0);
}
END_TEST

START_TEST(samples_follow_the_sketch)
{
    /* positions are a pure function of the sketch and spacings; both sides of a curve get points */
    ScmcStructure st;
    memset(&st, 0, sizeof(st));
    st.gw = 40, st.gh = 30, st.lattice = 8, st.side_spacing = 3;
    st.edges = calloc(40 * 30, 1);
    for (int y = 0; y < 30; y++)
        st.edges[y * 40 + 20] = 1;
    ck_assert_int_eq(scmc_structure_place_samples(&st), SCMC_OK);
    int left = 0, right = 0, lattice = 0;
    for (int k = 0; k < st.nsamples; k++) {
        const ScmcSample *s = &st.samples[k];
        ck_assert(!st.edges[s->y * 40 + s->x]);
        if (s->kind == SAMPLE_LATTICE)
            lattice++;
        else if (s->x == 19)
            left++;
        else if (s->x == 21)
            right++;
        else
            ck_abort_msg("side sample away from the edge");
    }
    ck_assert_int_eq(lattice, 4 * 4); /* the column at x = 20 lies on the edge */
    ck_assert_int_eq(left, 10); /* every third row of 30 */
    ck_assert_int_eq(right, 10);
    free(st.samples);
    free(st.edges);
}
END_TEST

START_TEST(split_cells_take_four_points)
{
    /* 2 x 2 cells of 8 (the right ones clipped to 5 pixels, the bottom ones to 3); the right
     * cells split: four points at the quadrant centres, clipped ones merged, never two at one
     * pixel */
    ScmcStructure st;
    memset(&st, 0, sizeof(st));
    st.gw = 13, st.gh = 11, st.lattice = 8, st.side_spacing = 3;
    st.edges = calloc(13 * 11, 1);
    uint8_t split[4] = { 0, 1, 0, 1 };
    st.split = split;
    ck_assert_int_eq(scmc_structure_place_samples(&st), SCMC_OK);
    int in_cell[4] = { 0, 0, 0, 0 };
    for (int k = 0; k < st.nsamples; k++) {
        const ScmcSample *s = &st.samples[k];
        ck_assert_int_eq(s->kind, SAMPLE_LATTICE);
        in_cell[(s->y / 8) * 2 + s->x / 8]++;
        for (int j = 0; j < k; j++)
            ck_assert(st.samples[j].x != s->x || st.samples[j].y != s->y);
    }
    ck_assert_int_eq(in_cell[0], 1);
    ck_assert_int_eq(in_cell[1], 4); /* x 10 and 12 (14 clipped), y 2 and 6 */
    ck_assert_int_eq(in_cell[2], 1);
    ck_assert_int_eq(in_cell[3], 2); /* y 10 and 14 clipped to 10: one row */
    free(st.samples);
    free(st.edges);
}
END_TEST

START_TEST(split_values_round_trip)
{
    /* values coded over a split lattice come back exactly, clipped border cells included: the
     * predictor must only look at points coded before it */
    for (int seed = 1; seed <= 20; seed++) {
        ScmcStructure st;
        memset(&st, 0, sizeof(st));
        uint32_t r = (uint32_t)seed * 2654435761u;
#define RND() (r = r * 1664525u + 1013904223u, r >> 8)
        st.gw = 20 + (int)(RND() % 40), st.gh = 15 + (int)(RND() % 40);
        st.lattice = 2 + (int)(RND() % 10), st.side_spacing = 1 + (int)(RND() % 6);
        st.qstep = 8, st.chroma_qstep = 12;
        st.edges = calloc((size_t)st.gw * st.gh, 1);
        for (int i = 0; i < st.gw * st.gh; i++)
            st.edges[i] = RND() % 9 == 0;
        const int nx = (st.gw + st.lattice - 1) / st.lattice, ny = (st.gh + st.lattice - 1) / st.lattice;
        st.split = malloc((size_t)nx * ny);
        for (int i = 0; i < nx * ny; i++)
            st.split[i] = RND() % 3 == 0;
        ck_assert_int_eq(scmc_structure_place_samples(&st), SCMC_OK);
        for (int k = 0; k < st.nsamples; k++)
            for (int c = 0; c < 3; c++)
                st.samples[k].q[c] = (int16_t)((int)(RND() % 31) - 15);
        ScmcRangeEncoder e;
        scmc_renc_init(&e);
        ck_assert_int_eq(scmc_structure_code_samples(&st, &e, NULL), SCMC_OK);
        uint8_t *buf;
        size_t size;
        ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
        ScmcStructure back = st;
        back.samples = NULL;
        ck_assert_int_eq(scmc_structure_place_samples(&back), SCMC_OK);
        ck_assert_int_eq(back.nsamples, st.nsamples);
        ScmcRangeDecoder d;
        scmc_rdec_init(&d, buf, size);
        ck_assert_int_eq(scmc_structure_code_samples(&back, NULL, &d), SCMC_OK);
        for (int k = 0; k < st.nsamples; k++)
            ck_assert(!memcmp(back.samples[k].q, st.samples[k].q, sizeof(st.samples[k].q)));
#undef RND
        free(buf);
        scmc_renc_free(&e);
        free(back.samples);
        free(st.samples);
        free(st.split);
        free(st.edges);
    }
}
END_TEST

START_TEST(splitting_spends_samples_where_the_error_is)
{
    /* the same level with and without splits: splitting adds samples, parses back, and brings
     * the rebuild closer to the image. The image is shading with a period (about 56 pixels)
     * close to the lattice spacing (48 pixels), which one point per cell cannot follow and four
     * can. */
    ScmcImage img, base0, with, without;
    shading(&img, 192, 128, 9.0, 11.0);
    grey(&base0, 192, 128);
    ScmcStructureParams p;
    dense_params(&p);
    p.lattice = 12;
    p.split_mse = 5;
    size_t b_with, b_without;
    code(&img, &base0, &p, &with, &b_with);
    p.split_mse = 0;
    code(&img, &base0, &p, &without, &b_without);
    ck_assert_uint_gt(b_with, b_without);
    ck_assert_double_gt(scmc_psnr(&img, &with), scmc_psnr(&img, &without) + 1.0);
    scmc_image_free(&img);
    scmc_image_free(&base0);
    scmc_image_free(&with);
    scmc_image_free(&without);
}
END_TEST

START_TEST(field_has_no_peak_at_an_isolated_sample)
{
    /* One sample of +64 in a lattice of zeros, no edges. The field must pass through the
     * sample (STR2's smoothing pulled it to 42) without a cusp (harmonic interpolation falls
     * away steeply in the first pixels, like log r), then fall steadily to the zeros. */
    ScmcStructure st;
    memset(&st, 0, sizeof(st));
    st.gw = 96, st.gh = 96, st.qstep = 4, st.chroma_qstep = 4;
    st.edges = calloc((size_t)st.gw * st.gh, 1);
    st.samples = calloc(64, sizeof(*st.samples));
    ck_assert_ptr_nonnull(st.edges);
    ck_assert_ptr_nonnull(st.samples);
    for (int y = 8; y < st.gh; y += 16)
        for (int x = 8; x < st.gw; x += 16) {
            ScmcSample *s = &st.samples[st.nsamples++];
            s->x = x, s->y = y;
            s->q[SAMPLE_Y] = (int16_t)(x == 40 && y == 40 ? 16 : 0);
        }
    int32_t *field = malloc((size_t)st.gw * st.gh * 3 * sizeof(int32_t));
    ck_assert_ptr_nonnull(field);
    ck_assert_int_eq(scmc_structure_field(&st, field), SCMC_OK);
#define AT(x, y) ((field[(size_t)(y) * st.gw + (x)] - FIELD_BIAS) / 16.0)
    ck_assert_double_eq_tol(AT(40, 40), 64, 0.5);
    for (int d = -1; d <= 1; d += 2) {
        ck_assert_double_gt(AT(40 + d, 40), 0.85 * 64);
        ck_assert_double_gt(AT(40, 40 + d), 0.85 * 64);
    }
    for (int d = 1; d <= 16; d++) {
        ck_assert_double_le(AT(40 + d, 40), AT(40 + d - 1, 40) + 0.1);
        ck_assert_double_ge(AT(40 + d, 40), -1);
    }
    ck_assert_double_eq_tol(AT(56, 40), 0, 0.5);
#undef AT
    free(field);
    free(st.samples);
    free(st.edges);
}
END_TEST

/* base1 of a hand-made field on a 1/4 grid: a luma correction of +64 left of a wall column
 * (vertical), or above a wall row, 0 beyond it. */
static void soften_case(int vertical, ScmcImage *out)
{
    ScmcStructure st;
    memset(&st, 0, sizeof(st));
    st.scale_log2 = 2;
    st.gw = vertical ? 24 : 10, st.gh = vertical ? 10 : 24;
    const size_t n = (size_t)st.gw * st.gh;
    st.edges = calloc(n, 1);
    int32_t *field = malloc(n * 3 * sizeof(int32_t));
    ck_assert_ptr_nonnull(st.edges);
    ck_assert_ptr_nonnull(field);
    for (int y = 0; y < st.gh; y++)
        for (int x = 0; x < st.gw; x++) {
            const int t = vertical ? x : y;
            st.edges[(size_t)y * st.gw + x] = t == 12;
            field[(size_t)y * st.gw + x] = FIELD_BIAS + (t < 12 ? 64 * 16 : 0);
            field[n + (size_t)y * st.gw + x] = field[2 * n + (size_t)y * st.gw + x] = FIELD_BIAS;
        }
    ScmcImage base0;
    grey(&base0, st.gw * 4, st.gh * 4);
    ck_assert_int_eq(scmc_structure_apply(&st, field, &base0, out), SCMC_OK);
    scmc_image_free(&base0);
    free(field);
    free(st.edges);
}

START_TEST(upsampling_softens_the_step_at_an_edge)
{
    /* The edge-aware upsampling alone puts the whole step inside the wall's 4-pixel cell; the
     * softening (binomial order 8 at this scale) spreads it over a few more pixels, evenly,
     * without touching the flat parts, the same along every row (the borders of the vertical pass
     * included) and the same for the transposed picture. */
    ScmcImage v, h;
    soften_case(1, &v);
    soften_case(0, &h);
    const int w = v.width;
    int ramp = 0;
    for (int x = 0; x < w; x++) {
        const int val = v.rgb[(size_t)x * 3 + 1];
        for (int y = 0; y < v.height; y++)
            for (int c = 0; c < 3; c++) {
                ck_assert_int_eq(v.rgb[((size_t)y * w + x) * 3 + c], val);           /* rows alike */
                ck_assert_int_eq(h.rgb[((size_t)x * h.width + y) * 3 + c], val);     /* transpose */
            }
        if (x < 40)
            ck_assert_int_eq(val, 128 + 64);
        if (x > 56)
            ck_assert_int_eq(val, 128);
        if (x > 0)
            ck_assert_int_le(val, v.rgb[(size_t)(x - 1) * 3 + 1]); /* monotone */
        if (x > 0)
            ck_assert_int_le(v.rgb[(size_t)(x - 1) * 3 + 1] - val, 20); /* no jump */
        ramp += val > 128 && val < 128 + 64;
    }
    ck_assert_int_ge(ramp, 5); /* without the softening: one jump of 64 */
    scmc_image_free(&v);
    scmc_image_free(&h);
}
END_TEST

START_TEST(wavelet_inverse_matches_forward)
{
    /* the encoder's double-precision forward transform against the decoder's integer inverse, on
     * odd and degenerate sizes: back to the plane within the rounding of 1/16-unit coefficients
     * and of the Q14 lifting steps (at most 0.31 grey levels measured on these planes) */
    const int sizes[][2] = { { 1, 1 }, { 2, 1 }, { 1, 7 }, { 3, 3 }, { 9, 5 }, { 300, 2 }, { 33, 65 }, { 96, 64 } };
    uint64_t rng = 11;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const int w = sizes[i][0], h = sizes[i][1];
        const size_t n = (size_t)w * h;
        double *plane = malloc(n * sizeof(double)), *tmp = malloc((size_t)(w > h ? w : h) * sizeof(double));
        double *orig = malloc(n * sizeof(double));
        int32_t *fixed = malloc(n * sizeof(int32_t)), *itmp = malloc((size_t)(w > h ? w : h) * sizeof(int32_t));
        for (size_t k = 0; k < n; k++)
            orig[k] = plane[k] = (double)test_rand_below(&rng, 401) - 200.0;
        scmc_wavelet_forward(plane, w, h, tmp);
        for (size_t k = 0; k < n; k++)
            fixed[k] = (int32_t)lround(plane[k] * (1 << SCMC_WAVELET_FRAC));
        scmc_wavelet_inverse(fixed, w, h, itmp);
        for (size_t k = 0; k < n; k++)
            ck_assert_double_le(fabs(fixed[k] / (double)(1 << SCMC_WAVELET_FRAC) - orig[k]), 0.5);
        free(plane);
        free(tmp);
        free(orig);
        free(fixed);
        free(itmp);
    }
}
END_TEST

START_TEST(wavelet_integer_forward_inverts)
{
    /* the integer forward levels (the coarse-scale prediction's analysis) undone by the normative
     * inverse from any level: back within a few 1/16 units of rounding, and the samples outside
     * the transformed region untouched */
    const int sizes[][2] = { { 1, 1 }, { 2, 1 }, { 1, 7 }, { 3, 3 }, { 9, 5 }, { 300, 2 }, { 33, 65 }, { 96, 64 } };
    uint64_t rng = 5;
    int worst = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        const int w = sizes[i][0], h = sizes[i][1];
        const size_t n = (size_t)w * h;
        int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
        scmc_wavelet_dims(w, dw);
        scmc_wavelet_dims(h, dh);
        int32_t *orig = malloc(n * sizeof(int32_t)), *x = malloc(n * sizeof(int32_t));
        int32_t *tmp = malloc((size_t)(w > h ? w : h) * sizeof(int32_t));
        for (size_t k = 0; k < n; k++)
            orig[k] = (int32_t)test_rand_below(&rng, 6401) - 3200;
        for (int from = 1; from <= 3; from++) {
            memcpy(x, orig, n * sizeof(int32_t));
            for (int l = from; l <= SCMC_WAVELET_LEVELS; l++)
                scmc_wavelet_forward_level_int(x, w, h, l, tmp);
            scmc_wavelet_inverse_to(x, w, h, from, tmp);
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++) {
                    const size_t k = (size_t)y * w + xx;
                    const int d = abs(x[k] - orig[k]);
                    if (xx >= dw[from - 1] || y >= dh[from - 1])
                        ck_assert_int_eq(d, 0);
                    worst = d > worst ? d : worst;
                }
        }
        free(orig);
        free(x);
        free(tmp);
    }
    ck_assert_int_le(worst, 8);
}
END_TEST

/* The Mallat plane of indices of a picture of sharp shapes (a disc, a bar, a diagonal edge; drawn
 * `scale` times their size of a 97 x 63 picture) at step `step`, as nearest rounding gives them. */
static void sharp_shapes_indices(int w, int h, int step, int scale, int32_t *q)
{
    const size_t n = (size_t)w * h;
    double *p = malloc(n * sizeof(double)), *tmp = malloc((size_t)(w > h ? w : h) * sizeof(double));
    ck_assert(p && tmp);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const double sx = (double)x / scale, sy = (double)y / scale, dx = sx - 30.5, dy = sy - 25.5;
            double v = dx * dx + dy * dy < 15 * 15 ? 120 : 0;
            v += sx > 60 && sx < 70 && sy > 6 ? -90 : 0;
            v += sx + sy > 120 ? 60 : 0;
            p[(size_t)y * w + x] = v;
        }
    scmc_wavelet_forward(p, w, h, tmp);
    for (size_t i = 0; i < n; i++)
        q[i] = (int32_t)lround(p[i] / step);
    free(p);
    free(tmp);
}

/* A copy of the w x h plane q with level `level` and the finer ones replaced by other values (the
 * coarser levels and the low band kept): what a prediction of that level must not read. */
static int32_t *finer_levels_scrambled(const int32_t *q, int w, int h, int level)
{
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    int32_t *other = malloc((size_t)w * h * sizeof(int32_t));
    ck_assert(other);
    memcpy(other, q, (size_t)w * h * sizeof(int32_t));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (x >= dw[level] || y >= dh[level])
                other[(size_t)y * w + x] = (x * 7 + y * 3) % 11 - 5;
    return other;
}

START_TEST(coarse_prediction_finds_the_edges_polarity)
{
    /* Sharp edges leave large coefficients of both signs along them; the prediction from the
     * coarser levels alone (a sharpened synthesis, analysed) gives most of their signs, and it
     * does not read the level it predicts or finer ones. */
    const int w = 96, h = 64, step = 3;
    const size_t n = (size_t)w * h;
    int32_t *q = malloc(n * sizeof(int32_t)), *pred = malloc(n * sizeof(int32_t)), *again = malloc(n * sizeof(int32_t));
    ck_assert(q && pred && again);
    sharp_shapes_indices(w, h, step, 1, q);
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    for (int level = 1; level <= 2; level++) {
        ck_assert_int_eq(scmc_correction_coarse_prediction(q, w, h, level, step, pred, NULL), SCMC_OK);
        int agree = 0, total = 0;
        for (int y = 0; y < dh[level - 1]; y++)
            for (int x = 0; x < dw[level - 1]; x++) {
                const size_t i = (size_t)y * w + x;
                if ((x < dw[level] && y < dh[level]) || abs(q[i]) < 2)
                    continue;
                total++;
                agree += (pred[i] > 0 && q[i] > 0) || (pred[i] < 0 && q[i] < 0);
            }
        ck_assert_int_gt(total, 20);
        ck_assert_msg(agree >= 0.7 * total, "level %d: %d of %d signs", level, agree, total);
        /* the level itself and the finer ones changed: the same prediction */
        int32_t *other = finer_levels_scrambled(q, w, h, level);
        ck_assert_int_eq(scmc_correction_coarse_prediction(other, w, h, level, step, again, NULL), SCMC_OK);
        for (int y = 0; y < dh[level - 1]; y++)
            for (int x = 0; x < dw[level - 1]; x++)
                if (x >= dw[level] || y >= dh[level])
                    ck_assert_int_eq(again[(size_t)y * w + x], pred[(size_t)y * w + x]);
        free(other);
    }
    ck_assert_int_eq(scmc_correction_coarse_prediction(q, w, h, 0, step, pred, NULL), SCMC_ERR_INVALID_ARG);
    ck_assert_int_eq(scmc_correction_coarse_prediction(q, w, h, 1, 0, pred, NULL), SCMC_ERR_INVALID_ARG);
    free(q);
    free(pred);
    free(again);
}
END_TEST

START_TEST(learned_prediction_ranks_the_coefficients)
{
    /* The learned prediction's classes (prediction_net.h), of a plane with sharp edges and of odd
     * size (its bands one column or row apart): the coefficients that are non-zero get much higher
     * significance classes than those that are zero, the signs it is sure of are mostly right, and
     * like the hand-made prediction it reads only the coarser levels. The shapes are drawn twice
     * their size so that level 4 has bands to rank, and the step grows with the level (12, 24,
     * 48, 64), as an edge's coefficients do, so that every level has zeros beside its edges. */
    const int w = 193, h = 127;
    const size_t n = (size_t)w * h;
    int32_t *q = malloc(n * sizeof(int32_t)), *pred = malloc(n * sizeof(int32_t));
    ScmcPrednetLogits *cls = calloc(n, sizeof(*cls)), *again = calloc(n, sizeof(*again));
    ck_assert(q && pred && cls && again);
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    for (int level = 1; level <= SCMC_PREDNET_LEVELS; level++) {
        const int step = level < 4 ? 12 << (level - 1) : 64;
        sharp_shapes_indices(w, h, step, 2, q);
        memset(cls, 0, n * sizeof(*cls));
        ck_assert_int_eq(scmc_correction_coarse_prediction(q, w, h, level, step, pred, cls), SCMC_OK);
        double sum[2] = { 0, 0 };
        int count[2] = { 0, 0 }, sure = 0, right = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const size_t i = (size_t)y * w + x;
                const int in_level = x < dw[level - 1] && y < dh[level - 1] && (x >= dw[level] || y >= dh[level]);
                if (!in_level) {
                    ck_assert(!cls[i].sig && !cls[i].sign && !cls[i].mag);
                    continue;
                }
                const int nz = q[i] != 0;
                sum[nz] += scmc_prednet_sig_class(&cls[i]);
                count[nz]++;
                const int sign = scmc_prednet_sign_class(&cls[i]);
                if (abs(q[i]) >= 2 && sign != 2) {
                    sure++;
                    right += (sign > 2) == (q[i] > 0);
                }
            }
        ck_assert_int_gt(count[0], 50);
        ck_assert_int_gt(count[1], 20);
        ck_assert_msg(sum[1] / count[1] > sum[0] / count[0] + 1.0,
                      "level %d: classes %.2f (non-zero) against %.2f", level, sum[1] / count[1], sum[0] / count[0]);
        /* level 4's synthesis is the low band and level 5 only: its signs are surer than chance
         * (20 of 31 here), not as sure as the finer levels' (50 of 53 at level 3) */
        ck_assert_msg(right >= (level < 4 ? 0.7 : 0.6) * sure, "level %d: %d of %d signs", level, right, sure);
        /* the level itself and the finer ones changed: the same logits */
        int32_t *other = finer_levels_scrambled(q, w, h, level);
        memset(again, 0, n * sizeof(*again));
        ck_assert_int_eq(scmc_correction_coarse_prediction(other, w, h, level, step, pred, again), SCMC_OK);
        ck_assert_mem_eq(again, cls, n * sizeof(*cls));
        free(other);
    }
    free(q);
    free(pred);
    free(cls);
    free(again);
}
END_TEST

START_TEST(correction_rate_follows_the_step)
{
    /* shading the semantic grid cannot hold, over a grey base: a finer step spends more bytes and
     * lands closer; both gain on the base */
    ScmcImage img, base, coarse, fine;
    shading(&img, 160, 96, 7.0, 5.0);
    grey(&base, 160, 96);
    size_t b_coarse, b_fine;
    code_correction(&img, &base, 200, 240, &coarse, &b_coarse);
    code_correction(&img, &base, 25, 30, &fine, &b_fine);
    ck_assert_uint_gt(b_fine, b_coarse);
    ck_assert_double_gt(scmc_psnr(&img, &coarse), scmc_psnr(&img, &base) + 3.0);
    ck_assert_double_gt(scmc_psnr(&img, &fine), scmc_psnr(&img, &coarse) + 6.0);
    scmc_image_free(&img);
    scmc_image_free(&base);
    scmc_image_free(&coarse);
    scmc_image_free(&fine);
}
END_TEST

/* Adds uniform noise of 2^(32 - shift) levels centred on 0 (a linear congruential sequence from
 * seed) to every sample, clamped. */
static void add_noise(ScmcImage *img, uint32_t seed, int shift)
{
    const int half = 1 << (31 - shift);
    for (size_t i = 0; i < (size_t)img->width * img->height * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        const int v = img->rgb[i] + (int)(seed >> shift) - half;
        img->rgb[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

START_TEST(correction_values_trade_rate_for_distortion)
{
    /* shading with a fine random texture over a grey base, many small coefficients: the encoder's
     * choice (lambda = SCMC_CORRECTION_RDO_LAMBDA * step^2) spends fewer bits than the nearest
     * values (lambda 0) and costs less in squared error + lambda * bits, by its own measure */
    ScmcImage img, base;
    shading(&img, 192, 128, 9.0, 6.0);
    add_noise(&img, 12345, 28);
    grey(&base, 192, 128);
    const int step = 12, chroma_step = 13;
    const double lambda = SCMC_CORRECTION_RDO_LAMBDA * step * step;
    double cost[2], err[2], bits[2];
    for (int k = 0; k < 2; k++) {
        ScmcCorrectionPayload pay;
        ck_assert_int_eq(scmc_correction_encode_rd(&img, &base, step, chroma_step, k ? SCMC_CORRECTION_RDO_LAMBDA : 0, 0, 1,
                                                   &pay),
                         SCMC_OK);
        const size_t size = scmc_correction_payload_bytes(&pay);
        ScmcCorrection *c;
        ScmcImage out;
        ck_assert_int_eq(scmc_correction_parse(&pay, pay.count, img.width, img.height, &c), SCMC_OK);
        ck_assert_int_eq(scmc_correction_apply(c, &base, &out), SCMC_OK);
        err[k] = scmc_mse(&img, &out) * img.width * img.height * 3; /* squared RGB error: lambda's unit */
        bits[k] = 8.0 * size;
        cost[k] = err[k] + lambda * bits[k];
        scmc_image_free(&out);
        scmc_correction_free(c);
        scmc_correction_payload_free(&pay);
    }
    ck_assert_double_lt(bits[1], 0.9 * bits[0]);
    ck_assert_double_gt(err[1], err[0]);
    ck_assert_double_lt(cost[1], 0.95 * cost[0]);
    ScmcCorrectionPayload pay;
    ck_assert_int_eq(scmc_correction_encode_rd(&img, &base, step, chroma_step, -1, 0, 1, &pay), SCMC_ERR_INVALID_ARG);
    for (int k = 0; k < SCMC_CORRECTION_PARTS; k++)
        ck_assert_ptr_null(pay.data[k]);
    scmc_image_free(&img);
    scmc_image_free(&base);
}
END_TEST


/* count 5 x 5 spots of +-amp at random places (positions and signs from seed) into a w x h plane. */
static void add_spots(double *plane, int w, int h, uint64_t seed, int count, double amp)
{
    for (int i = 0; i < count; i++) {
        const int x0 = (int)test_rand_below(&seed, (uint32_t)(w - 6));
        const int y0 = (int)test_rand_below(&seed, (uint32_t)(h - 6));
        const double a = test_rand_below(&seed, 2) ? amp : -amp;
        for (int y = y0; y < y0 + 5; y++)
            for (int x = x0; x < x0 + 5; x++)
                plane[(size_t)y * w + x] += a;
    }
}

/* An image from Y, Co, Cg planes (the correction's colour space), rounded and clamped. */
static void image_from_ycocg(ScmcImage *img, int w, int h, const double *yp, const double *co, const double *cg)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const double rgb[3] = { yp[i] + co[i] - cg[i], yp[i] + cg[i], yp[i] - co[i] - cg[i] };
        for (int k = 0; k < 3; k++) {
            const long v = lround(rgb[k]);
            img->rgb[3 * i + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

/* A correction of w x h with every step `step`, all values zero, no filter (free with
 * scmc_correction_free). */
static ScmcCorrection *blank_correction(int w, int h, int step, int dq)
{
    ScmcCorrection *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    c->q = calloc((size_t)w * h * 3, sizeof(int32_t));
    ck_assert_ptr_nonnull(c->q);
    c->width = w;
    c->height = h;
    c->step[0] = c->step[1] = c->step[2] = step;
    c->dq = dq;
    return c;
}

START_TEST(dependent_quantization_reconstructs_through_the_states)
{
    /* Values in the finest diagonal band (two 16 x 16 blocks side by side at x 32..63, y 16..31 of
     * a 64 x 32 picture) under dependent quantization at step 8 land where the four-state machine
     * puts them, in half steps: 1 in state 0 -> 2 (then state 2), 1 -> 1 (state 3), 1 -> 1 (state
     * 1), -2 -> -4 (state 2), 3 -> 5; the next block starts again in state 0: 1 -> 2. So they
     * decode as the plain values 2, 1, 1, -4, 5 and 2 at step 4, and not as 1, 1, 1, -2, 3, 1 at
     * step 8. */
    const int w = 64, h = 32;
    static const int32_t dq_values[6] = { 1, 1, 1, -2, 3, 1 }, halves[6] = { 2, 1, 1, -4, 5, 2 };
    static const int xs[6] = { 32, 33, 34, 35, 36, 48 };
    ScmcCorrection *dq = blank_correction(w, h, 8, 1), *plain = blank_correction(w, h, 4, 0),
                   *naive = blank_correction(w, h, 8, 0);
    for (int k = 0; k < 6; k++) {
        const size_t i = (size_t)16 * w + xs[k];
        dq->q[i] = naive->q[i] = dq_values[k];
        plain->q[i] = halves[k];
    }
    ScmcImage base, a, b, c;
    grey(&base, w, h);
    ck_assert_int_eq(scmc_correction_apply(dq, &base, &a), SCMC_OK);
    ck_assert_int_eq(scmc_correction_apply(plain, &base, &b), SCMC_OK);
    ck_assert_int_eq(scmc_correction_apply(naive, &base, &c), SCMC_OK);
    ck_assert_mem_eq(a.rgb, b.rgb, (size_t)w * h * 3);
    ck_assert(memcmp(a.rgb, c.rgb, (size_t)w * h * 3) != 0);
    ck_assert(memcmp(a.rgb, base.rgb, (size_t)w * h * 3) != 0);
    scmc_image_free(&a);
    scmc_image_free(&b);
    scmc_image_free(&c);
    scmc_image_free(&base);
    scmc_correction_free(dq);
    scmc_correction_free(plain);
    scmc_correction_free(naive);
}
END_TEST

START_TEST(reconstruction_offsets_move_values_towards_zero)
{
    /* A level-1 value at step 16 with an offset of 16/64 step stands for 12 grey levels: the same
     * picture as that value at step 12 without one, for either sign; a level-4 value (column 4 of
     * a 64 x 32 picture's level-4 A band) is not moved by the level-1 offset, and under dependent
     * quantization the value of half a step (class 1) takes its own offset. */
    const int w = 64, h = 32;
    const size_t fine = (size_t)16 * w + 40, coarse = 4;
    ScmcImage base, a, b;
    grey(&base, w, h);
    for (int sign = -1; sign <= 1; sign += 2) {
        ScmcCorrection *shrunk = blank_correction(w, h, 16, 0), *plain = blank_correction(w, h, 12, 0);
        shrunk->q[fine] = plain->q[fine] = sign;
        shrunk->shrink[0][0][0] = 16;
        ck_assert_int_eq(scmc_correction_apply(shrunk, &base, &a), SCMC_OK);
        ck_assert_int_eq(scmc_correction_apply(plain, &base, &b), SCMC_OK);
        ck_assert_mem_eq(a.rgb, b.rgb, (size_t)w * h * 3);
        ck_assert(memcmp(a.rgb, base.rgb, (size_t)w * h * 3) != 0);
        scmc_image_free(&a);
        scmc_image_free(&b);
        scmc_correction_free(shrunk);
        scmc_correction_free(plain);
    }
    ScmcCorrection *shrunk = blank_correction(w, h, 16, 0), *plain = blank_correction(w, h, 16, 0);
    shrunk->q[coarse] = plain->q[coarse] = 3;
    shrunk->shrink[0][0][0] = 16;
    ck_assert_int_eq(scmc_correction_apply(shrunk, &base, &a), SCMC_OK);
    ck_assert_int_eq(scmc_correction_apply(plain, &base, &b), SCMC_OK);
    ck_assert_mem_eq(a.rgb, b.rgb, (size_t)w * h * 3);
    scmc_image_free(&a);
    scmc_image_free(&b);
    scmc_correction_free(shrunk);
    scmc_correction_free(plain);
    /* dependent quantization at step 16: a first 1 is a whole step (class 0), the next 1 (state 2)
     * half a step (class 1); offsets of 16/64 step for both make them 12 and 4 grey levels, what
     * plain values 3 and 1 at step 4 give */
    ScmcCorrection *dq = blank_correction(w, h, 16, 1);
    plain = blank_correction(w, h, 4, 0);
    dq->q[fine] = dq->q[fine + 1] = 1;
    dq->shrink[0][0][0] = dq->shrink[0][0][1] = 16;
    plain->q[fine] = 3;
    plain->q[fine + 1] = 1;
    ck_assert_int_eq(scmc_correction_apply(dq, &base, &a), SCMC_OK);
    ck_assert_int_eq(scmc_correction_apply(plain, &base, &b), SCMC_OK);
    ck_assert_mem_eq(a.rgb, b.rgb, (size_t)w * h * 3);
    scmc_image_free(&a);
    scmc_image_free(&b);
    dq->shrink[0][0][1] = 0; /* class 1 on its own */
    ck_assert_int_eq(scmc_correction_apply(dq, &base, &a), SCMC_OK);
    ck_assert_int_eq(scmc_correction_apply(plain, &base, &b), SCMC_OK);
    ck_assert(memcmp(a.rgb, b.rgb, (size_t)w * h * 3) != 0);
    scmc_image_free(&a);
    scmc_image_free(&b);
    scmc_correction_free(dq);
    scmc_correction_free(plain);
    scmc_image_free(&base);
}
END_TEST

/* Grey 128 plus detail drawn in the wavelet domain: every coefficient of levels 1..3 Laplacian
 * with mean magnitude `mean` grey levels (the peaked distribution photographs' fine coefficients
 * have), transformed back with the normative inverse into all three colours alike. */
static void laplacian_detail(ScmcImage *img, int w, int h, uint64_t seed, double mean)
{
    int32_t *x = calloc((size_t)w * h, sizeof(int32_t)), *tmp = malloc((size_t)(w > h ? w : h) * sizeof(int32_t));
    ck_assert(x && tmp);
    int dw[SCMC_WAVELET_LEVELS + 1], dh[SCMC_WAVELET_LEVELS + 1];
    scmc_wavelet_dims(w, dw);
    scmc_wavelet_dims(h, dh);
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) {
            if (i < dw[3] && y < dh[3])
                continue;
            const double u = (test_rand_below(&seed, 65535) + 1) / 65536.0;
            const double v = -mean * log(u) * (1 << SCMC_WAVELET_FRAC);
            x[(size_t)y * w + i] = (int32_t)(test_rand_below(&seed, 2) ? v : -v);
        }
    scmc_wavelet_inverse(x, w, h, tmp);
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const int v = 128 + (x[i] >= 0 ? (x[i] + 8) >> 4 : -((-x[i] + 8) >> 4));
        img->rgb[3 * i] = img->rgb[3 * i + 1] = img->rgb[3 * i + 2] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    free(x);
    free(tmp);
}

START_TEST(reconstruction_offsets_pay_on_texture)
{
    /* Fine detail of Laplacian coefficients coded coarsely (step 8 against a mean magnitude of 4):
     * each value's coefficients lie mostly on its inner side, more than the restoration filter
     * takes back, so the encoder sends offsets towards zero at level 1 and the picture they decode
     * to is nearer the image than the same values without them. A flat picture's correction sends
     * none. An offset of -32 is invalid. */
    ScmcImage img, base;
    laplacian_detail(&img, 192, 128, 777, 4);
    grey(&base, 192, 128);
    ScmcCorrectionPayload pay;
    ck_assert_int_eq(scmc_correction_encode_rd(&img, &base, 8, 9, SCMC_CORRECTION_RDO_LAMBDA_UNDER_SIGNAL, 0, 1, &pay),
                     SCMC_OK);
    ScmcCorrection *c;
    ck_assert_int_eq(scmc_correction_parse(&pay, pay.count, img.width, img.height, &c), SCMC_OK);
    ck_assert_int_gt(c->shrink[0][0][0], 0);
    ScmcImage with, without;
    ck_assert_int_eq(scmc_correction_apply(c, &base, &with), SCMC_OK);
    memset(c->shrink, 0, sizeof(c->shrink));
    ck_assert_int_eq(scmc_correction_apply(c, &base, &without), SCMC_OK);
    ck_assert_msg(scmc_mse(&img, &with) < scmc_mse(&img, &without), "with %.3f, without %.3f", scmc_mse(&img, &with),
                  scmc_mse(&img, &without));
    scmc_image_free(&with);
    scmc_image_free(&without);
    scmc_correction_free(c);
    scmc_correction_payload_free(&pay);
    ScmcImage flat;
    grey(&flat, 64, 64);
    ck_assert_int_eq(scmc_correction_encode_rd(&flat, &flat, 40, 42, SCMC_CORRECTION_RDO_LAMBDA, 0, 0, &pay), SCMC_OK);
    ck_assert_int_eq(scmc_correction_parse(&pay, pay.count, 64, 64, &c), SCMC_OK);
    for (int p = 0; p < 3; p++)
        for (int l = 0; l < SCMC_CORRECTION_SHRINK_LEVELS; l++)
            ck_assert(c->shrink[p][l][0] == 0 && c->shrink[p][l][1] == 0);
    scmc_correction_free(c);
    scmc_correction_payload_free(&pay);
    /* the header of part 0: steps 20 and 20, sharpen 0, dq 0, split 0, offsets present, the first -32 */
    for (int first = 31; first <= 32; first++) {
        ScmcRangeEncoder e;
        scmc_renc_init(&e);
        scmc_renc_bypass(&e, 20, 12);
        scmc_renc_bypass(&e, 20, 12);
        scmc_renc_bypass(&e, 0, 4);
        scmc_renc_bypass(&e, 0, 2);
        scmc_renc_bypass(&e, 1, 1);
        scmc_renc_bypass(&e, (uint32_t)first, 6);
        uint8_t *buf;
        size_t size;
        ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
        c = NULL;
        const int r = scmc_correction_parse_part(&c, 0, buf, size, 64, 64);
        if (first == 32)
            ck_assert_int_eq(r, SCMC_ERR_CORRUPT);
        else
            ck_assert(r == SCMC_OK ? c->shrink[0][0][0] == 31 : r == SCMC_ERR_CORRUPT);
        scmc_correction_free(c);
        free(buf);
        scmc_renc_free(&e);
    }
    scmc_image_free(&flat);
    scmc_image_free(&img);
    scmc_image_free(&base);
}
END_TEST

/* The squared error against img of the picture a correction payload decodes to over base, and
 * (dq not NULL) whether it uses dependent quantization. */
static double decoded_mse(const ScmcCorrectionPayload *pay, const ScmcImage *img, const ScmcImage *base, int *dq)
{
    ScmcCorrection *c;
    ScmcImage out;
    ck_assert_int_eq(scmc_correction_parse(pay, pay->count, img->width, img->height, &c), SCMC_OK);
    ck_assert_int_eq(scmc_correction_apply(c, base, &out), SCMC_OK);
    const double mse = scmc_mse(img, &out);
    if (dq)
        *dq = c->dq;
    scmc_image_free(&out);
    scmc_correction_free(c);
    return mse;
}

START_TEST(level_weights_move_bits_off_the_finest_level)
{
    /* The same picture with level 1's weight four times larger: fewer bytes and a larger error
     * (its values cost more per bit of rate saved), the same syntax (it parses and applies); a
     * weight of 0, below 0, above 64 or NaN is refused. */
    ScmcImage img, base;
    laplacian_detail(&img, 192, 128, 99, 6);
    grey(&base, 192, 128);
    double weights[SCMC_CORRECTION_LEVEL_CLASSES] = { 1, 4, 1, 1, 1, 1 };
    size_t size[2];
    double mse[2];
    for (int k = 0; k < 2; k++) {
        ScmcCorrectionPayload pay;
        ck_assert_int_eq(scmc_correction_encode_levels(&img, &base, 12, 13, SCMC_CORRECTION_RDO_LAMBDA, k ? weights : NULL,
                                                       0, 1, &pay),
                         SCMC_OK);
        size[k] = scmc_correction_payload_bytes(&pay);
        mse[k] = decoded_mse(&pay, &img, &base, NULL);
        scmc_correction_payload_free(&pay);
    }
    ck_assert_msg(size[1] < size[0] * 0.95 && mse[1] > mse[0], "bytes %zu -> %zu, mse %.2f -> %.2f", size[0], size[1],
                  mse[0], mse[1]);
    static const double bad[4] = { 0, -1, 65, NAN };
    for (int k = 0; k < 4; k++) {
        ScmcCorrectionPayload pay;
        weights[2] = bad[k];
        ck_assert_int_eq(scmc_correction_encode_levels(&img, &base, 12, 13, SCMC_CORRECTION_RDO_LAMBDA, weights, 0, 1, &pay),
                         SCMC_ERR_INVALID_ARG);
    }
    scmc_image_free(&img);
    scmc_image_free(&base);
}
END_TEST

START_TEST(dependent_quantization_costs_less_than_one_quantizer)
{
    /* The textured shading of correction_values_trade_rate_for_distortion, finely coded (about
     * 4.6 bits per pixel) at one rate-distortion weight (lambda = 0.2 * 4^2): one quantizer of
     * step 4, and dependent quantization at step 5 (its points lie 2.5 apart) chosen by the
     * trellis. The trellis's values cost less in squared error + lambda * bits (measured: 7 %
     * less), and the round trip goes through the payload and its flag. At coarse steps, where
     * nearly every value is zero, the two come out about even (docs/structure.md). */
    ScmcImage img, base;
    shading(&img, 192, 128, 9.0, 6.0);
    add_noise(&img, 12345, 28);
    grey(&base, 192, 128);
    const double lambda = 0.2 * 4 * 4;
    static const int steps[2] = { 4, 5 };
    double cost[2];
    for (int k = 0; k < 2; k++) {
        ScmcCorrectionPayload pay;
        ck_assert_int_eq(scmc_correction_encode_rd(&img, &base, steps[k], steps[k] + 1,
                                                   lambda / (steps[k] * steps[k]), k, k, &pay),
                         SCMC_OK);
        const size_t size = scmc_correction_payload_bytes(&pay);
        int dq;
        cost[k] = decoded_mse(&pay, &img, &base, &dq) * img.width * img.height * 3 + lambda * 8.0 * size;
        ck_assert_int_eq(dq, k);
        scmc_correction_payload_free(&pay);
    }
    ck_assert_msg(cost[1] < 0.97 * cost[0], "one quantizer %.0f, dependent %.0f", cost[0], cost[1]);
    scmc_image_free(&img);
    scmc_image_free(&base);
}
END_TEST

START_TEST(correction_chroma_reads_the_luma)
{
    /* The same spots in luma and Co cost fewer bytes than spots of the same number and strength
     * in different places: the chroma contexts read the luma coefficients at the same position. */
    const int w = 128, h = 96;
    const size_t n = (size_t)w * h;
    double *yp = calloc(n, sizeof(double)), *co = calloc(n, sizeof(double)), *cg = calloc(n, sizeof(double));
    ck_assert(yp && co && cg);
    size_t bytes[2];
    ScmcImage base;
    grey(&base, w, h);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n; i++)
            yp[i] = 128, co[i] = cg[i] = 0;
        add_spots(yp, w, h, 77, 60, 40);
        add_spots(co, w, h, k ? 78 : 77, 60, 30);
        ScmcImage img, out;
        image_from_ycocg(&img, w, h, yp, co, cg);
        code_correction(&img, &base, 6, 6, &out, &bytes[k]);
        ck_assert_double_gt(scmc_psnr(&img, &out), 35.0);
        scmc_image_free(&img);
        scmc_image_free(&out);
    }
    ck_assert_msg(bytes[0] < 0.93 * bytes[1], "aligned %zu bytes, apart %zu", bytes[0], bytes[1]);
    scmc_image_free(&base);
    free(yp);
    free(co);
    free(cg);
}
END_TEST

START_TEST(correction_large_values_round_trip)
{
    /* Strong noise at step 1: magnitudes far past the unary bits, through the escape's adaptive
     * prefix and bypass suffix, come back exactly (the decoded image is the fine quantization's). */
    ScmcImage img, base, out;
    ck_assert_int_eq(scmc_image_alloc(&img, 70, 50), SCMC_OK);
    uint64_t seed = 99;
    for (size_t i = 0; i < (size_t)70 * 50 * 3; i++)
        img.rgb[i] = (uint8_t)test_rand_below(&seed, 256);
    grey(&base, 70, 50);
    size_t bytes;
    code_correction(&img, &base, 1, 1, &out, &bytes);
    ck_assert_double_gt(scmc_psnr(&img, &out), 45.0);
    scmc_image_free(&img);
    scmc_image_free(&base);
    scmc_image_free(&out);
}
END_TEST

START_TEST(damaged_corrections_are_refused)
{
    ScmcImage img, base;
    scene(&img, 96, 64);
    grey(&base, 96, 64);
    ScmcCorrectionPayload pay;
    ck_assert_int_eq(scmc_correction_encode_rd(&img, &base, 20, 24, SCMC_CORRECTION_RDO_LAMBDA, 0, 1, &pay), SCMC_OK);
    ck_assert_int_eq(pay.count, SCMC_CORRECTION_PARTS);
    ck_assert_uint_gt(pay.size[0], 20);
    ScmcCorrection *c = NULL;
    /* a step of 0 in the header, payloads too short to hold the header, and parts out of order
     * are invalid */
    const uint8_t zero_step[4] = { 0, 0, 0, 0 };
    ck_assert_int_eq(scmc_correction_parse_part(&c, 0, zero_step, sizeof(zero_step), 96, 64), SCMC_ERR_CORRUPT);
    for (size_t cut = 0; cut < 2; cut++)
        ck_assert_int_eq(scmc_correction_parse_part(&c, 0, pay.data[0], cut, 96, 64), SCMC_ERR_CORRUPT);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(scmc_correction_parse_part(&c, 1, pay.data[1], pay.size[1], 96, 64), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_correction_parse_part(&c, 0, pay.data[0], pay.size[0], 96, 64), SCMC_OK);
    ck_assert_int_eq(scmc_correction_parse_part(&c, 2, pay.data[2], pay.size[2], 96, 64), SCMC_ERR_CORRUPT);
    scmc_correction_free(c);
    /* The pictures of the first 1, 2 and 3 intact parts. */
    ScmcImage good[SCMC_CORRECTION_PARTS];
    for (int k = 0; k < SCMC_CORRECTION_PARTS; k++) {
        ck_assert_int_eq(scmc_correction_parse(&pay, k + 1, 96, 64, &c), SCMC_OK);
        ck_assert_int_eq(scmc_correction_apply(c, &base, &good[k]), SCMC_OK);
        scmc_correction_free(c);
    }
    /* cuts and flipped bits in one part: the parts before it decode as they were; the damaged one
     * (or a later one) is refused, and then no later part is taken and the picture is that of the
     * parts before it; or all parse into something that applies */
    uint64_t rng = 3;
    for (int it = 0; it < 300; it++) {
        const int part = (int)test_rand_below(&rng, SCMC_CORRECTION_PARTS);
        const size_t size = pay.size[part];
        uint8_t *bad = malloc(size);
        memcpy(bad, pay.data[part], size);
        size_t len = size;
        if (it % 3 == 0)
            len = test_rand_below(&rng, (uint32_t)size);
        else
            bad[test_rand_below(&rng, (uint32_t)size)] ^= (uint8_t)(1u << test_rand_below(&rng, 8));
        c = NULL;
        int r = SCMC_OK, k = 0;
        for (; k < SCMC_CORRECTION_PARTS && !r; k++)
            r = scmc_correction_parse_part(&c, k, k == part ? bad : pay.data[k], k == part ? len : pay.size[k], 96, 64);
        ck_assert(r == SCMC_OK || r == SCMC_ERR_CORRUPT);
        if (r) {
            const int failed = k - 1; /* the damaged part, or one after it read with models it misled */
            ck_assert_int_ge(failed, part);
            if (failed == 0) {
                ck_assert_ptr_null(c);
            } else {
                ck_assert_int_eq(c->parts, failed);
                ck_assert_int_eq(scmc_correction_parse_part(&c, failed, pay.data[failed], pay.size[failed], 96, 64),
                                 SCMC_ERR_CORRUPT);
                ScmcImage out;
                ck_assert_int_eq(scmc_correction_apply(c, &base, &out), SCMC_OK);
                if (failed == part)
                    expect_same_image(&out, &good[part - 1]);
                scmc_image_free(&out);
            }
        } else {
            ScmcImage out;
            ck_assert_int_eq(scmc_correction_apply(c, &base, &out), SCMC_OK);
            scmc_image_free(&out);
        }
        scmc_correction_free(c);
        free(bad);
    }
    for (int k = 0; k < SCMC_CORRECTION_PARTS; k++)
        scmc_image_free(&good[k]);
    scmc_correction_payload_free(&pay);
    scmc_image_free(&img);
    scmc_image_free(&base);
}
END_TEST

START_TEST(correction_parts_refine_coarse_to_fine)
{
    /* A textured scene at a fine step, split: each part of the correction brings the picture
     * closer, the first (coarse levels) already far closer than the base; each part carries
     * bytes. */
    ScmcImage img, base;
    scene(&img, 192, 128);
    add_noise(&img, 99, 29);
    grey(&base, 192, 128);
    ScmcCorrectionPayload pay;
    ck_assert_int_eq(scmc_correction_encode_rd(&img, &base, 6, 6, SCMC_CORRECTION_RDO_LAMBDA_DQ, 1, 1, &pay), SCMC_OK);
    ck_assert_int_eq(pay.count, SCMC_CORRECTION_PARTS);
    double psnr[SCMC_CORRECTION_PARTS + 1];
    psnr[0] = scmc_psnr(&img, &base);
    for (int k = 0; k < SCMC_CORRECTION_PARTS; k++) {
        ck_assert_uint_gt(pay.size[k], 16);
        ScmcCorrection *c;
        ScmcImage out;
        ck_assert_int_eq(scmc_correction_parse(&pay, k + 1, 192, 128, &c), SCMC_OK);
        ck_assert_int_eq(c->parts, k + 1);
        ck_assert_int_eq(scmc_correction_apply(c, &base, &out), SCMC_OK);
        psnr[k + 1] = scmc_psnr(&img, &out);
        ck_assert_msg(psnr[k + 1] > psnr[k] + 0.5, "part %d: %.2f -> %.2f dB", k, psnr[k], psnr[k + 1]);
        scmc_image_free(&out);
        scmc_correction_free(c);
    }
    /* Unsplit, the same correction is one part, complete at once, about as good for its bytes. */
    ScmcCorrectionPayload one;
    ck_assert_int_eq(scmc_correction_encode_rd(&img, &base, 6, 6, SCMC_CORRECTION_RDO_LAMBDA_DQ, 1, 0, &one), SCMC_OK);
    ck_assert_int_eq(one.count, 1);
    ScmcCorrection *c;
    ScmcImage out;
    ck_assert_int_eq(scmc_correction_parse(&one, 1, 192, 128, &c), SCMC_OK);
    ck_assert(scmc_correction_complete(c));
    ck_assert_int_eq(scmc_correction_parse_part(&c, 1, pay.data[1], pay.size[1], 192, 128), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_correction_apply(c, &base, &out), SCMC_OK);
    ck_assert_double_gt(scmc_psnr(&img, &out), psnr[SCMC_CORRECTION_PARTS] - 0.1);
    const double split_bytes = (double)scmc_correction_payload_bytes(&pay);
    ck_assert_double_lt(fabs((double)one.size[0] - split_bytes), 0.03 * split_bytes);
    scmc_image_free(&out);
    scmc_correction_free(c);
    scmc_correction_payload_free(&one);
    scmc_correction_payload_free(&pay);
    scmc_image_free(&img);
    scmc_image_free(&base);
}
END_TEST

START_TEST(correction_models_start_from_the_trained_tables)
{
    /* One step of each set of starting states (correction_states.h). */
    static const int steps[SCMC_CORRECTION_START_SETS][2] = { { 200, 0 }, { 60, 0 }, { 30, 1 }, { 15, 1 }, { 6, 1 } };
    static const int edges[][3] = { { 100, 0, 0 }, { 99, 0, 1 }, { 4095, 1, 2 }, { 24, 1, 2 }, { 23, 1, 3 },
                                    { 12, 1, 3 }, { 11, 1, 4 }, { 1, 1, 4 } };
    for (size_t k = 0; k < sizeof(edges) / sizeof(edges[0]); k++)
        ck_assert_int_eq(scmc_correction_start_set(edges[k][0], edges[k][1]), edges[k][2]);
    ScmcImage flat, img;
    grey(&flat, 96, 64);
    scene(&img, 96, 64);
    add_noise(&img, 7, 29);
    ScmcCorrectionStates *st = malloc(sizeof(*st));
    ck_assert_ptr_nonnull(st);
    for (int s = 0; s < SCMC_CORRECTION_START_SETS; s++) {
        const int step = steps[s][0], dq = steps[s][1];
        ck_assert_int_eq(scmc_correction_start_set(step, dq), s);
        /* Nothing to correct: only the block flags are coded, so every other model ends where its
         * set's table started it. */
        ScmcCorrectionPayload pay;
        ck_assert_int_eq(scmc_correction_encode_rd(&flat, &flat, step, step, SCMC_CORRECTION_RDO_LAMBDA, dq, 1, &pay),
                         SCMC_OK);
        ck_assert_int_eq(scmc_correction_final_states(&pay, 96, 64, st), SCMC_OK);
        ck_assert_int_eq(st->set, s);
        const int block_models = 2 * 5 * 3 * 7; /* the table's first entries (bitstream-spec/structure.md) */
        for (int i = block_models; i < SCMC_CORRECTION_START_PROBS; i++) {
            const int code = scmc_correction_start_probs[s][i];
            const int p1 = code ? scmc_mix_squash(16 * code) << 4 : 32768;
            ck_assert_msg(st->p1[i] == p1 && st->count[i] == (code != 0), "set %d entry %d: %d/%d, code %d", s, i,
                          st->p1[i], st->count[i], code);
        }
        ck_assert_mem_eq(st->weights, scmc_correction_start_weights[s], sizeof(st->weights));
        scmc_correction_payload_free(&pay);
        /* A real correction decodes from the same set as it was coded with. */
        ck_assert_int_eq(scmc_correction_encode_rd(&img, &flat, step, step, SCMC_CORRECTION_RDO_LAMBDA, dq, 1, &pay),
                         SCMC_OK);
        ScmcCorrection *c;
        ScmcImage out;
        ck_assert_int_eq(scmc_correction_parse(&pay, pay.count, 96, 64, &c), SCMC_OK);
        ck_assert_int_eq(scmc_correction_apply(c, &flat, &out), SCMC_OK);
        ck_assert_double_gt(scmc_psnr(&img, &out), scmc_psnr(&img, &flat) + (step < 100 ? 3 : 0.5));
        /* and its final states are those of the encoder's models */
        ck_assert_int_eq(scmc_correction_final_states(&pay, 96, 64, st), SCMC_OK);
        ck_assert_int_eq(st->set, s);
        scmc_image_free(&out);
        scmc_correction_free(c);
        scmc_correction_payload_free(&pay);
    }
    free(st);
    scmc_image_free(&img);
    scmc_image_free(&flat);
}
END_TEST

/* Flat 40 | a linear ramp over 8 pixels | flat 200 (channel 0; the others follow at other
 * levels), the kind of edge a coarse wavelet correction leaves. */
static void ramp(ScmcImage *img, int w, int h)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int v = x < 28 ? 40 : x >= 36 ? 200 : 40 + (x - 28) * 20;
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)v, p[1] = (uint8_t)(255 - v), p[2] = (uint8_t)(v / 2 + 60);
        }
}

static int max_step(const ScmcImage *img, int y, int c)
{
    int m = 0;
    for (int x = 1; x < img->width; x++) {
        const int d = abs(img->rgb[((size_t)y * img->width + x) * 3 + c] - img->rgb[((size_t)y * img->width + x - 1) * 3 + c]);
        m = d > m ? d : m;
    }
    return m;
}

START_TEST(sharpening_steepens_a_ramp)
{
    const int w = 64, h = 16;
    ScmcImage img, out;
    ramp(&img, w, h);
    ck_assert_int_eq(scmc_image_copy(&out, &img), SCMC_OK);
    ck_assert_int_eq(scmc_sharpen_apply(&out, 0), SCMC_OK);
    expect_same_image(&out, &img);
    ck_assert_int_eq(scmc_sharpen_apply(&out, 12), SCMC_OK);
    for (int c = 0; c < 3; c++)
        ck_assert_int_gt(max_step(&out, h / 2, c), max_step(&img, h / 2, c) + 10);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                const size_t i = ((size_t)y * w + x) * 3 + c;
                /* far from the ramp nothing moves; on it, values stay inside the two flats and
                 * the dark half gets darker, the bright half brighter */
                if (x < 20 || x >= 44)
                    ck_assert_int_eq(out.rgb[i], img.rgb[i]);
                const int lo = img.rgb[((size_t)y * w) * 3 + c], hi = img.rgb[((size_t)y * w + w - 1) * 3 + c];
                ck_assert_int_ge(out.rgb[i], lo < hi ? lo : hi);
                ck_assert_int_le(out.rgb[i], lo < hi ? hi : lo);
                if (c == 0 && x == 29)
                    ck_assert_int_lt(out.rgb[i], img.rgb[i]);
                if (c == 0 && x == 35)
                    ck_assert_int_gt(out.rgb[i], img.rgb[i]);
            }
    ck_assert_int_eq(scmc_sharpen_apply(&out, SCMC_SHARPEN_MAX + 1), SCMC_ERR_INVALID_ARG);
    scmc_image_free(&img);
    scmc_image_free(&out);
}
END_TEST

START_TEST(sharpening_choice_costs_no_psnr)
{
    /* a hard edge seen through a ramp: the encoder sharpens, and the result is no further from
     * the original; an image that is already right keeps its squared error of 0 */
    const int w = 64, h = 16;
    ScmcImage orig, soft, sharp;
    ck_assert_int_eq(scmc_image_alloc(&orig, w, h), SCMC_OK);
    ramp(&soft, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                orig.rgb[((size_t)y * w + x) * 3 + c] = soft.rgb[((size_t)y * w + (x < 32 ? 0 : w - 1)) * 3 + c];
    int s;
    ck_assert_int_eq(scmc_sharpen_choose(&orig, &soft, &s), SCMC_OK);
    ck_assert_int_gt(s, 0);
    ck_assert_int_eq(scmc_image_copy(&sharp, &soft), SCMC_OK);
    ck_assert_int_eq(scmc_sharpen_apply(&sharp, s), SCMC_OK);
    ck_assert_double_lt(scmc_mse(&orig, &sharp), scmc_mse(&orig, &soft));
    scmc_image_free(&sharp);
    ScmcImage shade;
    shading(&shade, 48, 40, 5.0, 7.0);
    ck_assert_int_eq(scmc_sharpen_choose(&shade, &shade, &s), SCMC_OK);
    ck_assert_int_eq(scmc_image_copy(&sharp, &shade), SCMC_OK);
    ck_assert_int_eq(scmc_sharpen_apply(&sharp, s), SCMC_OK);
    expect_same_image(&sharp, &shade);
    scmc_image_free(&sharp);
    scmc_image_free(&shade);
    scmc_image_free(&orig);
    scmc_image_free(&soft);
}
END_TEST

/* Grey 128 on the left half; on the right half a pattern of period 4 (two dark, two bright)
 * along x, along y or along x + y. */
static void stripes(ScmcImage *img, int w, int h, int kind)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int s = kind == 0 ? x : kind == 1 ? y : x + y;
            const uint8_t v = x < w / 2 ? 128 : s % 4 < 2 ? 60 : 190;
            memset(img->rgb + ((size_t)y * w + x) * 3, v, 3);
        }
}

START_TEST(restore_classes_follow_activity_and_direction)
{
    const int w = 64, h = 48;
    /* the direction a pattern varies in: along x 1, along y 2, along x + y 3 */
    static const int expected_dir[3] = { 1, 2, 3 };
    uint8_t *cls = malloc((size_t)w * h);
    for (int kind = 0; kind < 3; kind++) {
        ScmcImage img;
        stripes(&img, w, h, kind);
        ck_assert_int_eq(scmc_restore_classify(&img, cls), SCMC_OK);
        for (int y = 4; y < h - 4; y++) {
            /* flat: no activity, no direction */
            ck_assert_int_eq(cls[(size_t)y * w + 10], 0);
            const int c = cls[(size_t)y * w + 50];
            ck_assert_int_eq(c % 5, expected_dir[kind]);
            ck_assert_int_gt(c / 5, 0);
        }
        scmc_image_free(&img);
    }
    free(cls);
}
END_TEST

/* Finishes e into *buf (free()) and starts d reading it. */
static void read_back(ScmcRangeEncoder *e, uint8_t **buf, ScmcRangeDecoder *d)
{
    size_t size;
    ck_assert_int_eq(scmc_renc_finish(e, buf, &size), 0);
    scmc_renc_free(e);
    scmc_rdec_init(d, *buf, size);
}

START_TEST(restore_syntax_round_trips_and_refuses_bad_values)
{
    uint64_t rng = 11;
    for (int it = 0; it < 50; it++) {
        ScmcRestore f = { 0 }, g;
        f.passes = (int)test_rand_below(&rng, SCMC_RESTORE_PASSES + 1);
        const int range = it % 2 ? SCMC_RESTORE_MAX_COEF : 20;
        for (int k = 0; k < f.passes; k++) {
            ScmcRestoreSet *set = &f.set[k];
            set->filters = 1 + (int)test_rand_below(&rng, SCMC_RESTORE_CLASSES);
            for (int c = 0; c < SCMC_RESTORE_CLASSES; c++)
                set->map[c] = (uint8_t)test_rand_below(&rng, (uint32_t)set->filters);
            for (int i = 0; i < set->filters; i++) {
                set->clip[i] = (uint8_t)test_rand_below(&rng, SCMC_RESTORE_CLIPS);
                for (int t = 0; t < SCMC_RESTORE_TAPS; t++)
                    set->coef[i][t] = (int16_t)((int)test_rand_below(&rng, 2 * range + 1) - range);
            }
        }
        ScmcRangeEncoder e;
        scmc_renc_init(&e);
        scmc_restore_write(&e, &f);
        uint8_t *buf;
        ScmcRangeDecoder d;
        read_back(&e, &buf, &d);
        ck_assert_int_eq(scmc_restore_read(&d, &g), SCMC_OK);
        ck_assert(!scmc_rdec_overrun(&d));
        ck_assert_int_eq(g.passes, f.passes);
        for (int k = 0; k < f.passes; k++) {
            const ScmcRestoreSet *a = &f.set[k], *b = &g.set[k];
            ck_assert_int_eq(b->filters, a->filters);
            ck_assert(!memcmp(b->map, a->map, sizeof(a->map)));
            ck_assert(!memcmp(b->coef, a->coef, (size_t)a->filters * sizeof(a->coef[0])));
            ck_assert(!memcmp(b->clip, a->clip, (size_t)a->filters));
        }
        free(buf);
    }
    /* more filters than classes, and a class mapped past the last filter */
    for (int bad = 0; bad < 2; bad++) {
        ScmcRangeEncoder e;
        scmc_renc_init(&e);
        if (bad == 0) {
            scmc_renc_bypass(&e, SCMC_RESTORE_CLASSES + 1, 5);
        } else {
            scmc_renc_bypass(&e, 3, 5);
            scmc_renc_bypass(&e, 3, 2);
        }
        for (int k = 0; k < 40; k++)
            scmc_renc_bypass(&e, 0, 8);
        uint8_t *buf;
        ScmcRangeDecoder d;
        read_back(&e, &buf, &d);
        ScmcRestore g;
        ck_assert_int_eq(scmc_restore_read(&d, &g), SCMC_ERR_CORRUPT);
        free(buf);
    }
}
END_TEST

/* The scene with fine shading on it, and the same blurred by [1 2 1] / 4 both ways: the
 * softness a coarse correction leaves, which a fitted filter can largely take back. */
/* The scene with fine shading on it (img), and the same blurred by [1 2 1] / 4 both ways (soft):
 * the softness a coarse correction leaves, which a fitted filter can largely take back. */
static void textured_and_soft(ScmcImage *img, ScmcImage *soft, int w, int h)
{
    scene(img, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                uint8_t *p = img->rgb + ((size_t)y * w + x) * 3 + k;
                *p = (uint8_t)(*p * 0.8 + 25 + 20 * sin(x * 0.9 + k) * sin(y * 0.7));
            }
    ck_assert_int_eq(scmc_image_alloc(soft, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                int s = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        const int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                        const int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                        s += (2 - abs(dy)) * (2 - abs(dx)) * img->rgb[((size_t)yy * w + xx) * 3 + k];
                    }
                soft->rgb[((size_t)y * w + x) * 3 + k] = (uint8_t)((s + 8) / 16);
            }
}

START_TEST(restore_fit_undoes_a_blur_and_keeps_flat_areas)
{
    const int w = 96, h = 64;
    ScmcImage img, soft, out;
    textured_and_soft(&img, &soft, w, h);
    ScmcRestore f;
    ck_assert_int_eq(scmc_restore_choose(&img, &soft, 1.0, &f, NULL), SCMC_OK);
    ck_assert_int_gt(f.passes, 0);
    ck_assert_int_eq(scmc_image_copy(&out, &soft), SCMC_OK);
    ck_assert_int_eq(scmc_restore_apply(&f, &out), SCMC_OK);
    const double before = scmc_mse(&img, &soft), after = scmc_mse(&img, &out);
    ck_assert_msg(after < 0.6 * before, "MSE %.2f -> %.2f", before, after);
    scmc_image_free(&out);
    /* filters dearer than anything they could gain are not sent */
    ck_assert_int_eq(scmc_restore_choose(&img, &soft, 1e9, &f, NULL), SCMC_OK);
    ck_assert_int_eq(f.passes, 0);
    /* the weights sum to one: a flat picture stays as it is under any filter */
    ScmcImage flat;
    grey(&flat, w, h);
    ck_assert_int_eq(scmc_restore_choose(&img, &soft, 1.0, &f, NULL), SCMC_OK);
    ck_assert_int_eq(scmc_image_copy(&out, &flat), SCMC_OK);
    ck_assert_int_eq(scmc_restore_apply(&f, &out), SCMC_OK);
    expect_same_image(&out, &flat);
    scmc_image_free(&out);
    scmc_image_free(&flat);
    scmc_image_free(&img);
    scmc_image_free(&soft);
}
END_TEST

/* The filter travels in the correction payload: over a blurred base, with a step so coarse that
 * every coefficient is 0, the decoder's base1 is the base deblurred by the filter the encoder
 * chose. */
START_TEST(correction_payload_carries_the_filter)
{
    const int w = 96, h = 64;
    ScmcImage img, soft, out;
    textured_and_soft(&img, &soft, w, h);
    ScmcCorrectionPayload pay;
    ck_assert_int_eq(scmc_correction_encode_rd(&img, &soft, 4095, 4095, 1e-5, 0, 1, &pay), SCMC_OK);
    ScmcCorrection *c;
    ck_assert_int_eq(scmc_correction_parse(&pay, pay.count, w, h, &c), SCMC_OK);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        ck_assert_int_eq(c->q[i], 0);
    ck_assert_int_gt(c->restore.passes, 0);
    ck_assert_int_eq(scmc_correction_apply(c, &soft, &out), SCMC_OK);
    const double before = scmc_mse(&img, &soft), after = scmc_mse(&img, &out);
    ck_assert_msg(after < 0.6 * before, "MSE %.2f -> %.2f", before, after);
    scmc_image_free(&out);
    scmc_correction_free(c);
    scmc_correction_payload_free(&pay);
    scmc_image_free(&img);
    scmc_image_free(&soft);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("structure");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sketch_coder_random);
    tcase_add_test(tc, sketch_coder_curves_are_cheap);
    tcase_add_test(tc, extraction_finds_the_edges_and_is_deterministic);
    tcase_add_test(tc, rebuild_improves_on_base0);
    tcase_add_test(tc, auto_params_follow_the_signal_quality);
    tcase_add_test(tc, edges_stay_sharp);
    tcase_add_test(tc, odd_sizes);
    tcase_add_test(tc, damaged_payloads_are_refused);
    tcase_add_test(tc, samples_follow_the_sketch);
    tcase_add_test(tc, split_cells_take_four_points);
    tcase_add_test(tc, split_values_round_trip);
    tcase_add_test(tc, splitting_spends_samples_where_the_error_is);
    tcase_add_test(tc, field_has_no_peak_at_an_isolated_sample);
    tcase_add_test(tc, upsampling_softens_the_step_at_an_edge);
    tcase_add_test(tc, wavelet_inverse_matches_forward);
    tcase_add_test(tc, wavelet_integer_forward_inverts);
    tcase_add_test(tc, coarse_prediction_finds_the_edges_polarity);
    tcase_add_test(tc, learned_prediction_ranks_the_coefficients);
    tcase_add_test(tc, correction_rate_follows_the_step);
    tcase_add_test(tc, correction_values_trade_rate_for_distortion);
    tcase_add_test(tc, dependent_quantization_reconstructs_through_the_states);
    tcase_add_test(tc, dependent_quantization_costs_less_than_one_quantizer);
    tcase_add_test(tc, reconstruction_offsets_move_values_towards_zero);
    tcase_add_test(tc, reconstruction_offsets_pay_on_texture);
    tcase_add_test(tc, level_weights_move_bits_off_the_finest_level);
    tcase_add_test(tc, correction_chroma_reads_the_luma);
    tcase_add_test(tc, correction_large_values_round_trip);
    tcase_add_test(tc, damaged_corrections_are_refused);
    tcase_add_test(tc, correction_parts_refine_coarse_to_fine);
    tcase_add_test(tc, sharpening_steepens_a_ramp);
    tcase_add_test(tc, sharpening_choice_costs_no_psnr);
    tcase_add_test(tc, restore_classes_follow_activity_and_direction);
    tcase_add_test(tc, restore_syntax_round_trips_and_refuses_bad_values);
    tcase_add_test(tc, restore_fit_undoes_a_blur_and_keeps_flat_areas);
    tcase_add_test(tc, correction_payload_carries_the_filter);
    tcase_add_test(tc, correction_models_start_from_the_trained_tables);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(suite)
