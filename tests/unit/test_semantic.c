/* Semantic layer: colour naming, describer determinism, text coder round trips, renderer. */
#include <string.h>

#include "scmc/scmc.h"
#include "layers/semantic/describe.h"
#include "layers/semantic/palette.h"
#include "layers/semantic/semantic.h"
#include "layers/semantic/text_coder.h"
#include "metrics/metrics.h"
#include "test_util.h"

/* A synthetic scene: sky gradient, green hill with a sine edge, a red disc. */
static void scene(ScmcImage *img, int w, int h)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            const double hill = h * (0.55 + 0.1 * __builtin_sin(x * 6.28 / w));
            const double dx = x - 0.7 * w, dy = y - 0.3 * h;
            if (dx * dx + dy * dy < (0.08 * w) * (0.08 * w)) {
                p[0] = 200, p[1] = 30, p[2] = 35;
            } else if (y > hill) {
                p[0] = 60, p[1] = (uint8_t)(110 + 40 * y / h), p[2] = 45;
            } else {
                p[0] = (uint8_t)(110 + 60 * y / h), p[1] = (uint8_t)(160 + 40 * y / h), p[2] = 230;
            }
        }
}

START_TEST(colour_names)
{
    const struct { int r, g, b; const char *name; } cases[] = {
        { 0, 0, 0, "black" }, { 255, 255, 255, "white" }, { 200, 30, 30, "red" }, { 128, 128, 128, "grey" },
        { 120, 170, 225, "sky blue" }, { 40, 90, 40, "forest green" }, { 240, 215, 50, "yellow" },
        { 230, 120, 30, "orange" }, { 20, 30, 90, "navy" }, { 110, 60, 140, "purple" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_str_eq(scmc_palette[scmc_palette_nearest(cases[i].r, cases[i].g, cases[i].b)].name, cases[i].name);
    /* every palette colour names itself */
    for (int k = 0; k < scmc_palette_size; k++)
        ck_assert_int_eq(scmc_palette_nearest(scmc_palette[k].rgb[0], scmc_palette[k].rgb[1], scmc_palette[k].rgb[2]), k);
    ck_assert_int_eq(scmc_palette_lookup("light grey, x", 13), scmc_palette_nearest(205, 205, 205));
    ck_assert_int_eq(scmc_palette_lookup("nonsense", 8), -1);
}
END_TEST

START_TEST(describer)
{
    ScmcImage img;
    scene(&img, 240, 160);
    char *t1, *t2;
    ck_assert_int_eq(scmc_describe(&img, 8, 6, &t1), SCMC_OK);
    ck_assert_int_eq(scmc_describe(&img, 8, 6, &t2), SCMC_OK);
    ck_assert_str_eq(t1, t2); /* deterministic */
    ck_assert_ptr_nonnull(strstr(t1, "Colour grid, 8 by 6:\n"));
    ck_assert_ptr_nonnull(strstr(t1, "mostly sky blue"));
    ck_assert_ptr_nonnull(strstr(t1, "red"));   /* the disc */
    ck_assert_ptr_nonnull(strstr(t1, "green")); /* the hill */
    ck_assert(scmc_utf8_valid(t1, strlen(t1)));
    free(t1);
    free(t2);
    ck_assert_int_eq(scmc_describe(&img, 1, 6, &t1), SCMC_ERR_INVALID_ARG);
    ck_assert_int_eq(scmc_describe(&img, 17, 6, &t1), SCMC_ERR_INVALID_ARG);
    scmc_image_free(&img);
    /* portrait: the grid turns with the image */
    scene(&img, 100, 300);
    ck_assert_int_eq(scmc_describe(&img, 8, 6, &t1), SCMC_OK);
    ck_assert_ptr_nonnull(strstr(t1, "Colour grid, 6 by 8:\n"));
    free(t1);
    scmc_image_free(&img);
    /* an image smaller than the grid still gets one pixel per cell */
    scene(&img, 3, 2);
    ck_assert_int_eq(scmc_describe(&img, 8, 6, &t1), SCMC_OK);
    ck_assert_ptr_nonnull(strstr(t1, "Colour grid, 3 by 2:\n"));
    ScmcImage r;
    ck_assert_int_eq(scmc_render(t1, 3, 2, &r), SCMC_OK);
    free(t1);
    scmc_image_free(&r);
    scmc_image_free(&img);
}
END_TEST

static void text_round_trip(const char *text, size_t len)
{
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    ck_assert_int_eq(scmc_text_encode(&e, text, len), SCMC_OK);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    char *back;
    size_t blen;
    ck_assert_int_eq(scmc_text_decode(&d, SCMC_TEXT_MAX_BYTES, &back, &blen), SCMC_OK);
    ck_assert_uint_eq(blen, len);
    ck_assert_mem_eq(back, text, len);
    free(back);
    free(buf);
}

START_TEST(text_coder_round_trips)
{
    uint64_t seed = 11;
    char buf[2048];
    text_round_trip("", 0);
    text_round_trip("a", 1);
    text_round_trip("A red bird on a branch", 22);
    text_round_trip("Colour grid, 2 by 2:\nred, red\nred, blue", 40);
    text_round_trip("\n\n, , ,\n, ", 10);
    text_round_trip("Ünïcødé 日本語 🙂", strlen("Ünïcødé 日本語 🙂"));
    for (int iter = 0; iter < 300; iter++) { /* arbitrary bytes, NUL included */
        const size_t n = test_rand_below(&seed, sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)test_rand(&seed);
        text_round_trip(buf, n);
    }
    for (int iter = 0; iter < 200; iter++) { /* random words of the vocabulary and palette */
        size_t n = 0;
        while (n < 1500) {
            const char *w = test_rand_below(&seed, 3) ? scmc_palette[test_rand_below(&seed, (uint32_t)scmc_palette_size)].name
                                                      : (const char *[]){ ", ", "\n", " at the ", "Colour grid, ", "x" }[test_rand_below(&seed, 5)];
            memcpy(buf + n, w, strlen(w));
            n += strlen(w);
        }
        text_round_trip(buf, n);
    }
}
END_TEST

/* The model compresses describer texts well: far below a byte per character. */
START_TEST(text_coder_efficiency)
{
    ScmcImage img;
    scene(&img, 240, 160);
    uint8_t *payload;
    size_t size;
    ck_assert_int_eq(scmc_semantic_encode(&img, 8, 6, NULL, &payload, &size), SCMC_OK);
    char *text;
    ck_assert_int_eq(scmc_describe(&img, 8, 6, &text), SCMC_OK);
    ck_assert_msg(size * 8 < strlen(text), "%zu bytes for %zu characters", size, strlen(text));
    free(text);
    free(payload);
    scmc_image_free(&img);
}
END_TEST

START_TEST(caption_and_parse)
{
    ScmcImage img;
    scene(&img, 64, 48);
    uint8_t *payload;
    size_t size;
    const char *cap = "Un oiseau rouge — a red bird";
    ck_assert_int_eq(scmc_semantic_encode(&img, 4, 3, cap, &payload, &size), SCMC_OK);
    char *text, *caption;
    ck_assert_int_eq(scmc_semantic_parse(payload, size, &text, &caption), SCMC_OK);
    ck_assert_str_eq(caption, cap);
    ck_assert_ptr_nonnull(strstr(text, "Colour grid, 4 by 3:"));
    free(text);
    free(caption);
    /* cutting the payload short is detected, never a crash */
    for (size_t cut = 0; cut + 4 < size; cut++) {
        if (scmc_semantic_parse(payload, cut, &text, &caption) == SCMC_OK) {
            free(text);
            free(caption);
        }
    }
    free(payload);
    ck_assert_int_eq(scmc_semantic_encode(&img, 4, 3, "bad \xff utf8", &payload, &size), SCMC_ERR_INVALID_ARG);
    char long_cap[1100];
    memset(long_cap, 'a', sizeof(long_cap) - 1);
    long_cap[sizeof(long_cap) - 1] = 0;
    ck_assert_int_eq(scmc_semantic_encode(&img, 4, 3, long_cap, &payload, &size), SCMC_ERR_INVALID_ARG);
    scmc_image_free(&img);
    ck_assert(!scmc_utf8_valid("\xc0\x80", 2));     /* overlong NUL */
    ck_assert(!scmc_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    ck_assert(scmc_utf8_valid("\xf0\x9f\x99\x82", 4));
}
END_TEST

/* More grid cells describe the scene better: PSNR of the rendering grows with detail. */
START_TEST(renderer_monotone_in_detail)
{
    ScmcImage img;
    scene(&img, 320, 240);
    const int grids[][2] = { { 2, 2 }, { 4, 3 }, { 8, 6 }, { 16, 12 } };
    double last = 0;
    for (int g = 0; g < 4; g++) {
        uint8_t *payload;
        size_t size;
        ck_assert_int_eq(scmc_semantic_encode(&img, grids[g][0], grids[g][1], NULL, &payload, &size), SCMC_OK);
        ScmcImage out;
        ck_assert_int_eq(scmc_semantic_decode(payload, size, 320, 240, &out), SCMC_OK);
        ck_assert_int_eq(out.width, 320);
        ck_assert_int_eq(out.height, 240);
        const double psnr = scmc_psnr(&img, &out);
        ck_assert_msg(psnr > last, "grid %dx%d: %.2f dB after %.2f dB", grids[g][0], grids[g][1], psnr, last);
        last = psnr;
        scmc_image_free(&out);
        free(payload);
    }
    scmc_image_free(&img);
}
END_TEST

START_TEST(renderer_rejects_bad_text)
{
    ScmcImage out;
    ck_assert_int_eq(scmc_render("no grid here", 10, 10, &out), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_render("Colour grid, 2 by 2:\nred, red\nred", 10, 10, &out), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_render("Colour grid, 2 by 1:\nred, mauve", 10, 10, &out), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_render("Colour grid, 99 by 1:\nred", 10, 10, &out), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_render("Colour grid, 2 by 1:\nred, blue", 10, 10, &out), SCMC_OK);
    /* left half red, right half blue, smoothly joined */
    ck_assert_uint_gt(out.rgb[0], 150);
    ck_assert_uint_gt(out.rgb[(9) * 3 + 2], 150);
    scmc_image_free(&out);
}
END_TEST

static Suite *semantic_suite(void)
{
    Suite *s = suite_create("semantic");
    TCase *tc = tcase_create("semantic");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, colour_names);
    tcase_add_test(tc, describer);
    tcase_add_test(tc, text_coder_round_trips);
    tcase_add_test(tc, text_coder_efficiency);
    tcase_add_test(tc, caption_and_parse);
    tcase_add_test(tc, renderer_monotone_in_detail);
    tcase_add_test(tc, renderer_rejects_bad_text);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(semantic_suite)
