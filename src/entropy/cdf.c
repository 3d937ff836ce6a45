/* Integer construction of 16-bit CDFs from counts (deterministic on every machine). */
#include "range_coder.h"

void scmc_cdf_from_counts(const uint32_t *counts, int n, uint32_t *cdf)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += counts[i];
    const uint32_t spare = SCMC_CDF_TOTAL - (uint32_t)n; /* what is left after 1 per symbol */
    uint32_t acc = 0;
    int largest = 0;
    cdf[0] = 0;
    for (int i = 0; i < n; i++) {
        const uint32_t f = 1 + (total ? (uint32_t)((uint64_t)counts[i] * spare / total) : 0);
        if (counts[i] > counts[largest])
            largest = i;
        acc += f;
        cdf[i + 1] = acc;
    }
    /* Rounding left a remainder: give it to the most frequent symbol, where it costs least. */
    const uint32_t rem = SCMC_CDF_TOTAL - acc;
    if (!total) {
        /* no counts at all: spread the remainder evenly */
        for (int i = 0; i < n; i++)
            cdf[i + 1] += (uint32_t)((uint64_t)rem * (uint64_t)(i + 1) / (uint64_t)n);
        return;
    }
    for (int i = largest; i < n; i++)
        cdf[i + 1] += rem;
}
