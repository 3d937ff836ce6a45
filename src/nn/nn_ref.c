/* Reference backend: direct loops, ordered so the innermost loop runs along a contiguous output
 * row (auto-vectorised at -O2/-O3). Slow next to ATen, but dependency-free and obvious. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "nn_ops.h"

int scmc_tensor_alloc(ScmcTensor *t, int c, int h, int w)
{
    t->c = c;
    t->h = h;
    t->w = w;
    t->data = NULL;
    if (c <= 0 || h <= 0 || w <= 0)
        return SCMC_ERR_INVALID_ARG;
    t->data = calloc((size_t)c * h * w, sizeof(float));
    return t->data ? SCMC_OK : SCMC_ERR_NOMEM;
}

void scmc_tensor_free(ScmcTensor *t)
{
    free(t->data);
    t->data = NULL;
}

void scmc_nn_relu(ScmcTensor *x)
{
    const size_t n = scmc_tensor_size(x);
    for (size_t i = 0; i < n; i++)
        x->data[i] = x->data[i] > 0 ? x->data[i] : 0;
}

void scmc_nn_fill_bias(ScmcTensor *t, const float *bias)
{
    const size_t plane = (size_t)t->h * t->w;
    for (int c = 0; c < t->c; c++)
        for (size_t i = 0; i < plane; i++)
            t->data[(size_t)c * plane + i] = bias ? bias[c] : 0.0f;
}

static int ref_conv2d(const ScmcTensor *in, const float *weight, const float *bias, int cout, int k, int stride,
                      int pad, ScmcTensor *out)
{
    const int ho = (in->h + 2 * pad - k) / stride + 1, wo = (in->w + 2 * pad - k) / stride + 1;
    int r = scmc_tensor_alloc(out, cout, ho, wo);
    if (r)
        return r;
    scmc_nn_fill_bias(out, bias);
    for (int co = 0; co < cout; co++) {
        float *o = out->data + (size_t)co * ho * wo;
        for (int ci = 0; ci < in->c; ci++) {
            const float *src = in->data + (size_t)ci * in->h * in->w;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    const float wv = weight[(((size_t)co * in->c + ci) * k + ky) * k + kx];
                    for (int y = 0; y < ho; y++) {
                        const int iy = y * stride - pad + ky;
                        if (iy < 0 || iy >= in->h)
                            continue;
                        const float *srow = src + (size_t)iy * in->w;
                        float *orow = o + (size_t)y * wo;
                        /* x range where ix = x * stride - pad + kx is inside the row */
                        int x0 = 0, x1 = wo;
                        while (x0 < wo && x0 * stride - pad + kx < 0)
                            x0++;
                        while (x1 > x0 && (x1 - 1) * stride - pad + kx >= in->w)
                            x1--;
                        for (int x = x0; x < x1; x++)
                            orow[x] += wv * srow[x * stride - pad + kx];
                    }
                }
        }
    }
    return SCMC_OK;
}

static int ref_conv_transpose2d(const ScmcTensor *in, const float *weight, const float *bias, int cout, int k,
                                int stride, int pad, int out_pad, ScmcTensor *out)
{
    const int ho = (in->h - 1) * stride - 2 * pad + k + out_pad, wo = (in->w - 1) * stride - 2 * pad + k + out_pad;
    int r = scmc_tensor_alloc(out, cout, ho, wo);
    if (r)
        return r;
    scmc_nn_fill_bias(out, bias);
    for (int co = 0; co < cout; co++) {
        float *o = out->data + (size_t)co * ho * wo;
        for (int ci = 0; ci < in->c; ci++) {
            const float *src = in->data + (size_t)ci * in->h * in->w;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    const float wv = weight[(((size_t)ci * cout + co) * k + ky) * k + kx];
                    for (int iy = 0; iy < in->h; iy++) {
                        const int y = iy * stride - pad + ky;
                        if (y < 0 || y >= ho)
                            continue;
                        const float *srow = src + (size_t)iy * in->w;
                        float *orow = o + (size_t)y * wo;
                        for (int ix = 0; ix < in->w; ix++) {
                            const int x = ix * stride - pad + kx;
                            if (x >= 0 && x < wo)
                                orow[x] += wv * srow[ix];
                        }
                    }
                }
        }
    }
    return SCMC_OK;
}

static int ref_gdn(ScmcTensor *x, const float *beta, const float *gamma, int inverse)
{
    const int c = x->c;
    const size_t plane = (size_t)x->h * x->w;
    float *norm = malloc(sizeof(float) * (size_t)c * plane);
    if (!norm)
        return SCMC_ERR_NOMEM;
    for (int i = 0; i < c; i++) {
        float *n = norm + (size_t)i * plane;
        for (size_t p = 0; p < plane; p++)
            n[p] = beta[i];
        for (int j = 0; j < c; j++) {
            const float g = gamma[(size_t)i * c + j];
            const float *xj = x->data + (size_t)j * plane;
            for (size_t p = 0; p < plane; p++)
                n[p] += g * xj[p] * xj[p];
        }
    }
    for (size_t i = 0; i < (size_t)c * plane; i++)
        x->data[i] = inverse ? x->data[i] * sqrtf(norm[i]) : x->data[i] / sqrtf(norm[i]);
    free(norm);
    return SCMC_OK;
}

static void ref_set_threads(int threads)
{
    (void)threads; /* single-threaded */
}

const ScmcNnOps scmc_nn_ref_ops = {
    .name = "c",
    .conv2d = ref_conv2d,
    .conv_transpose2d = ref_conv_transpose2d,
    .gdn = ref_gdn,
    .set_threads = ref_set_threads,
};

const ScmcNnOps *scmc_nn_ops_for(int backend)
{
    switch (backend) {
    case SCMC_BACKEND_AUTO:
#ifdef SCMC_HAVE_BLAS
        return &scmc_nn_blas_ops;
#elif defined(SCMC_HAVE_TORCH)
        return &scmc_nn_torch_ops;
#else
        return &scmc_nn_ref_ops;
#endif
    case SCMC_BACKEND_C:
        return &scmc_nn_ref_ops;
#ifdef SCMC_HAVE_BLAS
    case SCMC_BACKEND_BLAS:
        return &scmc_nn_blas_ops;
#endif
#ifdef SCMC_HAVE_TORCH
    case SCMC_BACKEND_TORCH:
        return &scmc_nn_torch_ops;
#endif
    default:
        return NULL;
    }
}

const ScmcNnOps *scmc_nn_default_ops(void)
{
    return scmc_nn_ops_for(SCMC_BACKEND_AUTO);
}

int scmc_backend_available(int backend)
{
    return scmc_nn_ops_for(backend) != NULL;
}
