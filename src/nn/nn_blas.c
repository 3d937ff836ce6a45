/* OpenBLAS backend: convolutions as im2col + SGEMM, transposed convolutions as SGEMM + col2im,
 * GDN as an SGEMM over the squared activations. Work is done in bands of rows so the column
 * buffer stays small (BAND_FLOATS) whatever the image size: peak memory is the activations plus
 * one band. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "scmc/scmc.h"
#include "nn_ops.h"

/* Column buffer per band: 4 Mi floats (16 MiB). */
#define BAND_FLOATS ((size_t)4 << 20)

static int rows_per_band(size_t floats_per_row, int rows)
{
    size_t r = BAND_FLOATS / (floats_per_row ? floats_per_row : 1);
    return r < 1 ? 1 : r > (size_t)rows ? rows : (int)r;
}

static int blas_conv2d(const ScmcTensor *in, const float *weight, const float *bias, int cout, int k, int stride,
                       int pad, ScmcTensor *out)
{
    const int ho = (in->h + 2 * pad - k) / stride + 1, wo = (in->w + 2 * pad - k) / stride + 1;
    int r = scmc_tensor_alloc(out, cout, ho, wo);
    if (r)
        return r;
    scmc_nn_fill_bias(out, bias);
    const int kk = in->c * k * k;
    const int band = rows_per_band((size_t)kk * wo, ho);
    float *cols = malloc(sizeof(float) * (size_t)kk * band * wo);
    if (!cols) {
        scmc_tensor_free(out);
        return SCMC_ERR_NOMEM;
    }
    for (int y0 = 0; y0 < ho; y0 += band) {
        const int rows = ho - y0 < band ? ho - y0 : band, n = rows * wo;
        /* cols[(ci, ky, kx)][(y, x)] = in[ci][y * stride - pad + ky][x * stride - pad + kx] */
        for (int ci = 0; ci < in->c; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    float *c = cols + (size_t)((ci * k + ky) * k + kx) * n;
                    for (int y = 0; y < rows; y++) {
                        const int iy = (y0 + y) * stride - pad + ky;
                        float *crow = c + (size_t)y * wo;
                        if (iy < 0 || iy >= in->h) {
                            memset(crow, 0, sizeof(float) * wo);
                            continue;
                        }
                        const float *src = in->data + ((size_t)ci * in->h + iy) * in->w;
                        for (int x = 0; x < wo; x++) {
                            const int ix = x * stride - pad + kx;
                            crow[x] = ix >= 0 && ix < in->w ? src[ix] : 0.0f;
                        }
                    }
                }
        /* out band (cout x n, row stride ho*wo) = weight (cout x kk) * cols (kk x n) */
        float *o = out->data + (size_t)y0 * wo;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, n, kk, 1.0f, weight, kk, cols, n, 1.0f, o, ho * wo);
    }
    free(cols);
    return SCMC_OK;
}

static int blas_conv_transpose2d(const ScmcTensor *in, const float *weight, const float *bias, int cout, int k,
                                 int stride, int pad, int out_pad, ScmcTensor *out)
{
    const int ho = (in->h - 1) * stride - 2 * pad + k + out_pad, wo = (in->w - 1) * stride - 2 * pad + k + out_pad;
    int r = scmc_tensor_alloc(out, cout, ho, wo);
    if (r)
        return r;
    scmc_nn_fill_bias(out, bias);
    const int kk = cout * k * k;
    const int band = rows_per_band((size_t)kk * in->w, in->h);
    float *cols = malloc(sizeof(float) * (size_t)kk * band * in->w);
    const int mw = (wo + stride - 1) / stride; /* slots per phase row */
    float *phase = malloc(sizeof(float) * (size_t)stride * mw);
    if (!cols || !phase) {
        free(cols);
        free(phase);
        scmc_tensor_free(out);
        return SCMC_ERR_NOMEM;
    }
    for (int y0 = 0; y0 < in->h; y0 += band) {
        const int rows = in->h - y0 < band ? in->h - y0 : band, n = rows * in->w;
        /* cols (kk x n) = weight^T (kk x cin) * in band (cin x n, row stride h*w) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kk, n, in->c, 1.0f, weight, kk,
                    in->data + (size_t)y0 * in->w, in->h * in->w, 0.0f, cols, n);
        /* col2im: out[co][iy * stride - pad + ky][ix * stride - pad + kx] += cols[(co, ky, kx)][(iy, ix)].
         * Written straight, every add is a strided scatter; instead each output row is gathered
         * in `stride` phase rows (output column ox = m * stride + px goes to phase px, slot m),
         * where every (ky, kx) is one contiguous add of a cols row, then interleaved once. */
        for (int co = 0; co < cout; co++) {
            int oy_lo = y0 * stride - pad, oy_hi = (y0 + rows - 1) * stride - pad + k; /* [lo, hi) */
            oy_lo = oy_lo < 0 ? 0 : oy_lo;
            oy_hi = oy_hi > ho ? ho : oy_hi;
            for (int oy = oy_lo; oy < oy_hi; oy++) {
                int touched = 0;
                for (int ky = 0; ky < k; ky++) {
                    const int t = oy + pad - ky; /* = iy * stride */
                    if (t < 0 || t % stride)
                        continue;
                    const int iy = t / stride;
                    if (iy < y0 || iy >= y0 + rows)
                        continue;
                    if (!touched) {
                        memset(phase, 0, sizeof(float) * (size_t)stride * mw);
                        touched = 1;
                    }
                    for (int kx = 0; kx < k; kx++) {
                        const int d = kx - pad, px = ((d % stride) + stride) % stride, off = (d - px) / stride;
                        const int mmax = (wo - px + stride - 1) / stride; /* slots of phase px */
                        const int lo = off < 0 ? -off : 0, hi = in->w < mmax - off ? in->w : mmax - off;
                        const float *crow = cols + (size_t)((co * k + ky) * k + kx) * n + (size_t)(iy - y0) * in->w;
                        float *prow = phase + (size_t)px * mw;
                        for (int ix = lo; ix < hi; ix++)
                            prow[ix + off] += crow[ix];
                    }
                }
                if (!touched)
                    continue;
                float *orow = out->data + ((size_t)co * ho + oy) * wo;
                for (int px = 0; px < stride; px++) {
                    const float *prow = phase + (size_t)px * mw;
                    for (int m = 0, ox = px; ox < wo; m++, ox += stride)
                        orow[ox] += prow[m];
                }
            }
        }
    }
    free(phase);
    free(cols);
    return SCMC_OK;
}

static int blas_gdn(ScmcTensor *x, const float *beta, const float *gamma, int inverse)
{
    const int c = x->c;
    const size_t plane = (size_t)x->h * x->w;
    const int band = rows_per_band((size_t)2 * c * x->w, x->h);
    const size_t n = (size_t)band * x->w;
    float *sq = malloc(sizeof(float) * (size_t)c * n * 2), *norm = sq + (size_t)c * n;
    if (!sq)
        return SCMC_ERR_NOMEM;
    for (int y0 = 0; y0 < x->h; y0 += band) {
        const int rows = x->h - y0 < band ? x->h - y0 : band;
        const size_t m = (size_t)rows * x->w;
        for (int j = 0; j < c; j++) {
            const float *xj = x->data + (size_t)j * plane + (size_t)y0 * x->w;
            for (size_t p = 0; p < m; p++) {
                sq[(size_t)j * m + p] = xj[p] * xj[p];
                norm[(size_t)j * m + p] = beta[j];
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c, (int)m, c, 1.0f, gamma, c, sq, (int)m, 1.0f, norm, (int)m);
        for (int i = 0; i < c; i++) {
            float *xi = x->data + (size_t)i * plane + (size_t)y0 * x->w;
            const float *ni = norm + (size_t)i * m;
            for (size_t p = 0; p < m; p++)
                xi[p] = inverse ? xi[p] * sqrtf(ni[p]) : xi[p] / sqrtf(ni[p]);
        }
    }
    free(sq);
    return SCMC_OK;
}

static void blas_set_threads(int threads)
{
    openblas_set_num_threads(threads);
}

const ScmcNnOps scmc_nn_blas_ops = {
    .name = "blas",
    .conv2d = blas_conv2d,
    .conv_transpose2d = blas_conv_transpose2d,
    .gdn = blas_gdn,
    .set_threads = blas_set_threads,
};
