/* Every op of every backend against a naive loop (checkasm style): random shapes, strides,
 * paddings and odd sizes. */
#include <math.h>
#include <string.h>

#include "scmc/scmc.h"
#include "nn/nn_ops.h"
#include "test_util.h"

static float frand(uint64_t *s)
{
    return (float)((double)(test_rand(s) >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

static void fill(uint64_t *s, float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = frand(s);
}

static float naive_conv_at(const ScmcTensor *in, const float *w, const float *b, int co, int k, int stride, int pad, int y, int x)
{
    double acc = b ? b[co] : 0;
    for (int ci = 0; ci < in->c; ci++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const int iy = y * stride - pad + ky, ix = x * stride - pad + kx;
                if (iy >= 0 && iy < in->h && ix >= 0 && ix < in->w)
                    acc += (double)w[(((size_t)co * in->c + ci) * k + ky) * k + kx] * in->data[((size_t)ci * in->h + iy) * in->w + ix];
            }
    return (float)acc;
}

static float naive_deconv_at(const ScmcTensor *in, const float *w, const float *b, int cout, int co, int k, int stride, int pad, int y, int x)
{
    double acc = b ? b[co] : 0;
    for (int ci = 0; ci < in->c; ci++)
        for (int iy = 0; iy < in->h; iy++)
            for (int ix = 0; ix < in->w; ix++) {
                const int ky = y + pad - iy * stride, kx = x + pad - ix * stride;
                if (ky >= 0 && ky < k && kx >= 0 && kx < k)
                    acc += (double)w[(((size_t)ci * cout + co) * k + ky) * k + kx] * in->data[((size_t)ci * in->h + iy) * in->w + ix];
            }
    return (float)acc;
}

static void check_backend(const ScmcNnOps *ops)
{
    uint64_t seed = 1234;
    for (int iter = 0; iter < 60; iter++) {
        const int cin = 1 + (int)test_rand_below(&seed, 7), cout = 1 + (int)test_rand_below(&seed, 6);
        const int k = 1 + 2 * (int)test_rand_below(&seed, 3), stride = 1 + (int)test_rand_below(&seed, 2);
        const int pad = (int)test_rand_below(&seed, (uint32_t)(k / 2 + 1));
        const int h = k + (int)test_rand_below(&seed, 9), w = k + (int)test_rand_below(&seed, 11);
        const int use_bias = (int)test_rand_below(&seed, 2);
        ScmcTensor in;
        ck_assert_int_eq(scmc_tensor_alloc(&in, cin, h, w), SCMC_OK);
        fill(&seed, in.data, scmc_tensor_size(&in));
        float *wt = malloc(sizeof(float) * (size_t)cin * cout * k * k), bias[8];
        fill(&seed, wt, (size_t)cin * cout * k * k);
        fill(&seed, bias, 8);
        ScmcTensor out;
        ck_assert_int_eq(ops->conv2d(&in, wt, use_bias ? bias : NULL, cout, k, stride, pad, &out), SCMC_OK);
        ck_assert_int_eq(out.h, (h + 2 * pad - k) / stride + 1);
        ck_assert_int_eq(out.w, (w + 2 * pad - k) / stride + 1);
        for (int co = 0; co < cout; co++)
            for (int y = 0; y < out.h; y++)
                for (int x = 0; x < out.w; x++)
                    ck_assert_float_eq_tol(out.data[((size_t)co * out.h + y) * out.w + x],
                                           naive_conv_at(&in, wt, use_bias ? bias : NULL, co, k, stride, pad, y, x), 1e-4);
        scmc_tensor_free(&out);
        const int out_pad = stride > 1 ? (int)test_rand_below(&seed, (uint32_t)stride) : 0;
        ck_assert_int_eq(ops->conv_transpose2d(&in, wt, use_bias ? bias : NULL, cout, k, stride, pad, out_pad, &out), SCMC_OK);
        ck_assert_int_eq(out.h, (h - 1) * stride - 2 * pad + k + out_pad);
        for (int co = 0; co < cout; co++)
            for (int y = 0; y < out.h; y++)
                for (int x = 0; x < out.w; x++)
                    ck_assert_float_eq_tol(out.data[((size_t)co * out.h + y) * out.w + x],
                                           naive_deconv_at(&in, wt, use_bias ? bias : NULL, cout, co, k, stride, pad, y, x), 1e-4);
        scmc_tensor_free(&out);
        /* GDN and IGDN */
        float beta[8], gamma[64];
        for (int i = 0; i < cin; i++)
            beta[i] = 0.5f + fabsf(frand(&seed));
        for (int i = 0; i < cin * cin; i++)
            gamma[i] = fabsf(frand(&seed)) * 0.3f;
        for (int inverse = 0; inverse < 2; inverse++) {
            ScmcTensor x;
            ck_assert_int_eq(scmc_tensor_alloc(&x, cin, h, w), SCMC_OK);
            memcpy(x.data, in.data, sizeof(float) * scmc_tensor_size(&in));
            ck_assert_int_eq(ops->gdn(&x, beta, gamma, inverse), SCMC_OK);
            for (int c = 0; c < cin; c++)
                for (int p = 0; p < h * w; p++) {
                    double n = beta[c];
                    for (int j = 0; j < cin; j++) {
                        const double v = in.data[(size_t)j * h * w + p];
                        n += gamma[c * cin + j] * v * v;
                    }
                    const double v = in.data[(size_t)c * h * w + p];
                    ck_assert_float_eq_tol(x.data[(size_t)c * h * w + p], (float)(inverse ? v * sqrt(n) : v / sqrt(n)), 1e-5);
                }
            scmc_tensor_free(&x);
        }
        free(wt);
        scmc_tensor_free(&in);
    }
}

/* Kernel = stride, no padding: the signal layer's detail transforms (16x16 blocks), also with
 * sizes that leave a partial block at the edge for the forward convolution. */
static void check_block_transforms(const ScmcNnOps *ops)
{
    uint64_t seed = 99;
    for (int iter = 0; iter < 12; iter++) {
        const int k = iter % 3 == 0 ? 16 : 2 + 2 * (int)test_rand_below(&seed, 3);
        const int cin = 1 + (int)test_rand_below(&seed, 4), cout = 1 + (int)test_rand_below(&seed, 5);
        const int h = k * (1 + (int)test_rand_below(&seed, 3)) + (int)test_rand_below(&seed, 2) * (k / 2);
        const int w = k * (1 + (int)test_rand_below(&seed, 3));
        ScmcTensor in, out;
        ck_assert_int_eq(scmc_tensor_alloc(&in, cin, h, w), SCMC_OK);
        fill(&seed, in.data, scmc_tensor_size(&in));
        float *wt = malloc(sizeof(float) * (size_t)cin * cout * k * k);
        fill(&seed, wt, (size_t)cin * cout * k * k);
        ck_assert_int_eq(ops->conv2d(&in, wt, NULL, cout, k, k, 0, &out), SCMC_OK);
        ck_assert_int_eq(out.h, h / k);
        ck_assert_int_eq(out.w, w / k);
        for (int co = 0; co < cout; co++)
            for (int y = 0; y < out.h; y++)
                for (int x = 0; x < out.w; x++)
                    ck_assert_float_eq_tol(out.data[((size_t)co * out.h + y) * out.w + x],
                                           naive_conv_at(&in, wt, NULL, co, k, k, 0, y, x), 1e-4);
        scmc_tensor_free(&out);
        ck_assert_int_eq(ops->conv_transpose2d(&in, wt, NULL, cout, k, k, 0, 0, &out), SCMC_OK);
        ck_assert_int_eq(out.h, h * k);
        ck_assert_int_eq(out.w, w * k);
        for (int co = 0; co < cout; co++)
            for (int y = 0; y < out.h; y++)
                for (int x = 0; x < out.w; x++)
                    ck_assert_float_eq_tol(out.data[((size_t)co * out.h + y) * out.w + x],
                                           naive_deconv_at(&in, wt, NULL, cout, co, k, k, 0, y, x), 1e-4);
        scmc_tensor_free(&out);
        free(wt);
        scmc_tensor_free(&in);
    }
}

START_TEST(reference_backend)
{
    check_backend(&scmc_nn_ref_ops);
    check_block_transforms(&scmc_nn_ref_ops);
}
END_TEST

START_TEST(default_backend)
{
    const ScmcNnOps *ops = scmc_nn_default_ops();
    ops->set_threads(2);
    check_backend(ops);
    check_block_transforms(ops);
    ops->set_threads(1);
}
END_TEST

#ifdef SCMC_HAVE_BLAS
START_TEST(blas_backend)
{
    scmc_nn_blas_ops.set_threads(2);
    check_backend(&scmc_nn_blas_ops);
    check_block_transforms(&scmc_nn_blas_ops);
    scmc_nn_blas_ops.set_threads(1);
}
END_TEST
#endif

static Suite *nn_suite(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reference_backend);
    tcase_add_test(tc, default_backend);
#ifdef SCMC_HAVE_BLAS
    tcase_add_test(tc, blas_backend);
#endif
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(nn_suite)
