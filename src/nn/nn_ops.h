/* The table of neural-network ops the pixel paths run on (DESIGN.md section 5). A backend fills
 * it: the C reference (nn_ref.c) always, ATen (nn_torch.cpp) when built with libtorch. Weights
 * are in PyTorch's layouts: conv (out, in, k, k), transposed conv (in, out, k, k), GDN gamma
 * (out, in). Every op allocates its output; an error leaves it empty. */
#ifndef SCMC_NN_OPS_H
#define SCMC_NN_OPS_H
#include "tensor.h"

typedef struct ScmcNnOps {
    const char *name;
    /* out = conv2d(in) with square kernel k, stride, zero padding pad; bias may be NULL. */
    int (*conv2d)(const ScmcTensor *in, const float *weight, const float *bias, int cout, int k,
                  int stride, int pad, ScmcTensor *out);
    /* Transposed convolution; output size (h - 1) * stride - 2 * pad + k + out_pad. */
    int (*conv_transpose2d)(const ScmcTensor *in, const float *weight, const float *bias, int cout,
                            int k, int stride, int pad, int out_pad, ScmcTensor *out);
    /* In place: x_i / sqrt(beta_i + sum_j gamma_ij x_j^2), or times it when inverse. */
    int (*gdn)(ScmcTensor *x, const float *beta, const float *gamma, int inverse);
    void (*set_threads)(int threads);
} ScmcNnOps;

/* The C reference backend: plain loops, the yardstick every other backend is tested against. */
extern const ScmcNnOps scmc_nn_ref_ops;
#ifdef SCMC_HAVE_BLAS
extern const ScmcNnOps scmc_nn_blas_ops;
#endif
#ifdef SCMC_HAVE_TORCH
extern const ScmcNnOps scmc_nn_torch_ops;
#endif
/* The fastest backend of this build (blas, else torch, else c: measured, docs/benchmarks.md). */
const ScmcNnOps *scmc_nn_default_ops(void);
/* The ops of an ScmcBackend value, or NULL when this build lacks it. */
const ScmcNnOps *scmc_nn_ops_for(int backend);

/* In place, shared by all backends. */
void scmc_nn_relu(ScmcTensor *x);
/* Sets every value of channel c to bias[c] (0 when bias is NULL): where convolutions start. */
void scmc_nn_fill_bias(ScmcTensor *t, const float *bias);
#endif
