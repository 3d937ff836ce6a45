// ATen backend of the ops table: the only C++ in SCMC. Each op wraps the C buffers in tensors
// without copying, runs ATen (with its own intra-op threads) and copies the result out.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <exception>

extern "C" {
#include "scmc/scmc.h"
#include "nn_ops.h"
}

namespace {

at::Tensor wrap(const ScmcTensor *t)
{
    return at::from_blob(t->data, {1, t->c, t->h, t->w}, at::kFloat);
}

int copy_out(const at::Tensor &y, ScmcTensor *out)
{
    const at::Tensor c = y.contiguous();
    const int r = scmc_tensor_alloc(out, (int)c.size(1), (int)c.size(2), (int)c.size(3));
    if (r)
        return r;
    std::memcpy(out->data, c.data_ptr<float>(), sizeof(float) * scmc_tensor_size(out));
    return SCMC_OK;
}

int torch_conv2d(const ScmcTensor *in, const float *weight, const float *bias, int cout, int k, int stride, int pad,
                 ScmcTensor *out)
{
    try {
        at::NoGradGuard no_grad;
        const at::Tensor w = at::from_blob(const_cast<float *>(weight), {cout, in->c, k, k}, at::kFloat);
        c10::optional<at::Tensor> b;
        if (bias)
            b = at::from_blob(const_cast<float *>(bias), {cout}, at::kFloat);
        return copy_out(at::conv2d(wrap(in), w, b, stride, pad), out);
    } catch (const std::exception &) {
        return SCMC_ERR_NOMEM;
    }
}

int torch_conv_transpose2d(const ScmcTensor *in, const float *weight, const float *bias, int cout, int k, int stride,
                           int pad, int out_pad, ScmcTensor *out)
{
    try {
        at::NoGradGuard no_grad;
        const at::Tensor w = at::from_blob(const_cast<float *>(weight), {in->c, cout, k, k}, at::kFloat);
        c10::optional<at::Tensor> b;
        if (bias)
            b = at::from_blob(const_cast<float *>(bias), {cout}, at::kFloat);
        return copy_out(at::conv_transpose2d(wrap(in), w, b, stride, pad, out_pad), out);
    } catch (const std::exception &) {
        return SCMC_ERR_NOMEM;
    }
}

int torch_gdn(ScmcTensor *x, const float *beta, const float *gamma, int inverse)
{
    try {
        at::NoGradGuard no_grad;
        const at::Tensor t = wrap(x);
        const at::Tensor g = at::from_blob(const_cast<float *>(gamma), {x->c, x->c, 1, 1}, at::kFloat);
        const at::Tensor b = at::from_blob(const_cast<float *>(beta), {x->c}, at::kFloat);
        const at::Tensor norm = at::conv2d(t * t, g, b);
        t.mul_(inverse ? at::sqrt(norm) : at::rsqrt(norm));
        return SCMC_OK;
    } catch (const std::exception &) {
        return SCMC_ERR_NOMEM;
    }
}

void torch_set_threads(int threads)
{
    at::set_num_threads(threads);
}

} // namespace

extern "C" const ScmcNnOps scmc_nn_torch_ops = {
    "torch", torch_conv2d, torch_conv_transpose2d, torch_gdn, torch_set_threads,
};
