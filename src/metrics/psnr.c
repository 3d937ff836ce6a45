#include <math.h>

#include "metrics.h"

double scmc_mse(const ScmcImage *a, const ScmcImage *b)
{
    const size_t n = (size_t)a->width * a->height * 3;
    uint64_t sse = 0;
    for (size_t i = 0; i < n; i++) {
        const int d = (int)a->rgb[i] - (int)b->rgb[i];
        sse += (uint64_t)(d * d);
    }
    return (double)sse / (double)n;
}

double scmc_psnr(const ScmcImage *a, const ScmcImage *b)
{
    const double mse = scmc_mse(a, b);
    return mse == 0 ? INFINITY : 10.0 * log10(255.0 * 255.0 / mse);
}
