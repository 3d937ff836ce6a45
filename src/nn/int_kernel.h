/* INT_KERNEL marks a function of integer-exact arithmetic (the hyper-synthesis, the structure
 * layer's learned prediction) to be built twice on x86-64: for AVX2 and for the baseline, the
 * loader picking one where the CPU has it. 32-bit integer products vectorize only from SSE4.1
 * on, and in integers both builds compute the same sums, so the choice never changes a stream. */
#ifndef SCMC_NN_INT_KERNEL_H
#define SCMC_NN_INT_KERNEL_H

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define INT_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define INT_KERNEL
#endif

#endif
