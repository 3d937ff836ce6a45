/* Float feature maps (channels x height x width, batch 1) for the neural layers' pixel paths. */
#ifndef SCMC_TENSOR_H
#define SCMC_TENSOR_H
#include <stddef.h>

typedef struct ScmcTensor {
    int c, h, w;
    float *data;      /* c*h*w floats, channel-major; owned by the tensor */
} ScmcTensor;

int scmc_tensor_alloc(ScmcTensor *t, int c, int h, int w);
void scmc_tensor_free(ScmcTensor *t);
static inline size_t scmc_tensor_size(const ScmcTensor *t)
{
    return (size_t)t->c * t->h * t->w;
}
#endif
