/* Helpers shared by the Check unit tests. */
#ifndef SCMC_TEST_UTIL_H
#define SCMC_TEST_UTIL_H
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

/* xorshift64*: a deterministic generator so every failure reproduces. */
static inline uint64_t test_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static inline uint32_t test_rand_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(test_rand(s) >> 33) % n;
}

#define TEST_MAIN(make_suite)                                    \
    int main(void)                                               \
    {                                                            \
        SRunner *sr = srunner_create(make_suite());              \
        srunner_run_all(sr, CK_NORMAL);                          \
        const int failed = srunner_ntests_failed(sr);            \
        srunner_free(sr);                                        \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;             \
    }
#endif
