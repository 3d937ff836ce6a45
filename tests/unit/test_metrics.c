/* PSNR and MS-SSIM against values computed by hand. */
#include <math.h>

#include "scmc/scmc.h"
#include "metrics/metrics.h"
#include "test_util.h"

static void flat(ScmcImage *img, int w, int h, uint8_t v)
{
    ck_assert_int_eq(scmc_image_alloc(img, w, h), SCMC_OK);
    scmc_image_fill(img, v, v, v);
}

START_TEST(psnr_by_hand)
{
    ScmcImage a, b;
    flat(&a, 4, 4, 100);
    flat(&b, 4, 4, 100);
    ck_assert(isinf(scmc_psnr(&a, &b)));
    /* every sample off by 5: MSE 25, PSNR = 10 log10(65025 / 25) = 34.1514 dB */
    scmc_image_fill(&b, 105, 105, 105);
    ck_assert_double_eq_tol(scmc_psnr(&a, &b), 34.15140352195873, 1e-9);
    /* one sample of 48 off by 48: MSE 48 -> 10 log10(65025 / 48) = 31.3182 dB */
    scmc_image_fill(&b, 100, 100, 100);
    b.rgb[7] = 148;
    ck_assert_double_eq_tol(scmc_mse(&a, &b), 48.0, 1e-12);
    ck_assert_double_eq_tol(scmc_psnr(&a, &b), 10 * log10(65025.0 / 48.0), 1e-9);
    scmc_image_free(&a);
    scmc_image_free(&b);
}
END_TEST

START_TEST(msssim_by_hand)
{
    ScmcImage a, b;
    /* 256 x 256: five scales. Identical images score exactly 1. */
    flat(&a, 256, 256, 90);
    for (size_t i = 0; i < 256 * 256 * 3; i++)
        a.rgb[i] = (uint8_t)((i * 2654435761u) >> 24);
    ck_assert_int_eq(scmc_image_copy(&b, &a), SCMC_OK);
    ck_assert_double_eq_tol(scmc_msssim(&a, &b), 1.0, 1e-12);
    scmc_image_free(&a);
    scmc_image_free(&b);
    /* Two flat images x and y: every contrast-structure term is 1 (no variance), so MS-SSIM is the
     * luminance term at the coarsest scale to the power of its weight:
     * ((2xy + C1) / (x^2 + y^2 + C1)) ^ 0.1333 with C1 = (0.01 * 255)^2. */
    flat(&a, 256, 256, 100);
    flat(&b, 256, 256, 150);
    const double c1 = 6.5025, l = (2 * 100.0 * 150 + c1) / (100.0 * 100 + 150.0 * 150 + c1);
    ck_assert_double_eq_tol(scmc_msssim(&a, &b), pow(l, 0.1333), 1e-9);
    scmc_image_free(&a);
    scmc_image_free(&b);
    /* A small image uses fewer scales, weights renormalised: 40 x 40 has 2 scales. */
    flat(&a, 40, 40, 100);
    flat(&b, 40, 40, 150);
    ck_assert_double_eq_tol(scmc_msssim(&a, &b), pow(l, 0.2856 / (0.0448 + 0.2856)), 1e-9);
    scmc_image_free(&a);
    scmc_image_free(&b);
}
END_TEST

START_TEST(msssim_orders_distortion)
{
    ScmcImage a, b, c;
    flat(&a, 200, 180, 0);
    for (int y = 0; y < 180; y++)
        for (int x = 0; x < 200; x++)
            for (int ch = 0; ch < 3; ch++)
                a.rgb[(y * 200 + x) * 3 + ch] = (uint8_t)(128 + 100 * sin(x * 0.1 + ch) * cos(y * 0.07));
    ck_assert_int_eq(scmc_image_copy(&b, &a), SCMC_OK);
    ck_assert_int_eq(scmc_image_copy(&c, &a), SCMC_OK);
    uint64_t seed = 3;
    for (size_t i = 0; i < 200 * 180 * 3; i++) {
        const int n = (int)test_rand_below(&seed, 9) - 4;
        b.rgb[i] = (uint8_t)(a.rgb[i] + n < 0 ? 0 : a.rgb[i] + n > 255 ? 255 : a.rgb[i] + n);
        c.rgb[i] = (uint8_t)(a.rgb[i] + 4 * n < 0 ? 0 : a.rgb[i] + 4 * n > 255 ? 255 : a.rgb[i] + 4 * n);
    }
    const double sb = scmc_msssim(&a, &b), sc = scmc_msssim(&a, &c);
    ck_assert(sb < 1.0 && sc < sb && sc > 0);
    scmc_image_free(&a);
    scmc_image_free(&b);
    scmc_image_free(&c);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, psnr_by_hand);
    tcase_add_test(tc, msssim_by_hand);
    tcase_add_test(tc, msssim_orders_distortion);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(metrics_suite)
