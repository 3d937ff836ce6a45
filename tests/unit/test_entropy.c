/* Range coder: round trips of every coding primitive, edge cases and measured efficiency. */
#include <math.h>
#include <string.h>

#include "entropy/mixer.h"
#include "entropy/range_coder.h"
#include "test_util.h"

static void random_cdf(uint64_t *seed, int n, uint32_t *cdf)
{
    uint32_t counts[512];
    for (int i = 0; i < n; i++)
        counts[i] = test_rand_below(seed, 4) == 0 ? 0 : test_rand_below(seed, 1000);
    scmc_cdf_from_counts(counts, n, cdf);
}

START_TEST(cdf_is_valid)
{
    uint64_t seed = 1;
    uint32_t cdf[513];
    for (int iter = 0; iter < 200; iter++) {
        const int n = 1 + (int)test_rand_below(&seed, 512);
        random_cdf(&seed, n, cdf);
        ck_assert_uint_eq(cdf[0], 0);
        ck_assert_uint_eq(cdf[n], SCMC_CDF_TOTAL);
        for (int i = 0; i < n; i++)
            ck_assert_uint_gt(cdf[i + 1], cdf[i]);
    }
    /* all-zero counts still give a valid, near-uniform table */
    uint32_t zero[7] = { 0 };
    scmc_cdf_from_counts(zero, 7, cdf);
    ck_assert_uint_eq(cdf[7], SCMC_CDF_TOTAL);
    for (int i = 0; i < 7; i++)
        ck_assert_uint_ge(cdf[i + 1] - cdf[i], SCMC_CDF_TOTAL / 7 - 1);
}
END_TEST

/* Mixed stream of every primitive, decoded back in the same order. */
START_TEST(mixed_round_trip)
{
    for (uint64_t run = 1; run <= 40; run++) {
        uint64_t seed = run * 7919, replay;
        const int n = 1 + (int)test_rand_below(&seed, 300);
        uint32_t cdf[65];
        const int nsym = 2 + (int)test_rand_below(&seed, 63);
        random_cdf(&seed, nsym, cdf);
        ScmcBitModel em[4], dm[4];
        for (int i = 0; i < 4; i++) {
            scmc_bit_model_init(&em[i]);
            scmc_bit_model_init(&dm[i]);
        }
        ScmcRangeEncoder e;
        scmc_renc_init(&e);
        replay = seed;
        for (int i = 0; i < n; i++) {
            switch (test_rand_below(&seed, 5)) {
            case 0: scmc_renc_symbol(&e, cdf, (int)test_rand_below(&seed, (uint32_t)nsym)); break;
            case 1: scmc_renc_bit(&e, &em[i & 3], test_rand_below(&seed, 10) < 2); break;
            case 2: { const int nb = (int)test_rand_below(&seed, 33); scmc_renc_bypass(&e, (uint32_t)test_rand(&seed) & (nb == 32 ? 0xFFFFFFFFu : (1u << nb) - 1), nb); break; }
            case 3: scmc_renc_expgolomb(&e, (uint32_t)(test_rand(&seed) >> (32 + test_rand_below(&seed, 32)))); break;
            default: scmc_renc_escaped(&e, cdf, nsym, test_rand_below(&seed, 2 * (uint32_t)nsym)); break;
            }
        }
        uint8_t *buf;
        size_t size;
        ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
        ScmcRangeDecoder d;
        scmc_rdec_init(&d, buf, size);
        seed = replay;
        for (int i = 0; i < n; i++) {
            switch (test_rand_below(&seed, 5)) {
            case 0: ck_assert_int_eq(scmc_rdec_symbol(&d, cdf, nsym), (int)test_rand_below(&seed, (uint32_t)nsym)); break;
            case 1: ck_assert_int_eq(scmc_rdec_bit(&d, &dm[i & 3]), test_rand_below(&seed, 10) < 2); break;
            case 2: { const int nb = (int)test_rand_below(&seed, 33); const uint32_t v = (uint32_t)test_rand(&seed) & (nb == 32 ? 0xFFFFFFFFu : (1u << nb) - 1); ck_assert_uint_eq(scmc_rdec_bypass(&d, nb), v); break; }
            case 3: { const uint32_t v = (uint32_t)(test_rand(&seed) >> (32 + test_rand_below(&seed, 32))); ck_assert_uint_eq(scmc_rdec_expgolomb(&d), v); break; }
            default: ck_assert_uint_eq(scmc_rdec_escaped(&d, cdf, nsym), test_rand_below(&seed, 2 * (uint32_t)nsym)); break;
            }
        }
        ck_assert(!scmc_rdec_overrun(&d));
        free(buf);
    }
}
END_TEST

START_TEST(empty_and_single)
{
    ScmcRangeEncoder e;
    uint8_t *buf;
    size_t size;
    scmc_renc_init(&e);
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ck_assert_uint_eq(size, 0); /* nothing coded: nothing written */
    free(buf);

    /* a one-symbol alphabet costs nothing */
    const uint32_t one[2] = { 0, SCMC_CDF_TOTAL };
    scmc_renc_init(&e);
    for (int i = 0; i < 1000; i++)
        scmc_renc_symbol(&e, one, 0);
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ck_assert_uint_le(size, 1);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(scmc_rdec_symbol(&d, one, 1), 0);
    free(buf);
}
END_TEST

/* Symbols of frequency 1/65536 next to one that takes all the rest. */
START_TEST(extreme_cdf)
{
    uint32_t cdf[5] = { 0, 1, 2, SCMC_CDF_TOTAL - 1, SCMC_CDF_TOTAL };
    const int seq[] = { 0, 1, 2, 3, 2, 2, 0, 3, 1, 2 };
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    for (int rep = 0; rep < 50; rep++)
        for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
            scmc_renc_symbol(&e, cdf, seq[i]);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    for (int rep = 0; rep < 50; rep++)
        for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
            ck_assert_int_eq(scmc_rdec_symbol(&d, cdf, 4), seq[i]);
    ck_assert(!scmc_rdec_overrun(&d));
    free(buf);
}
END_TEST

/* On a large i.i.d. source coded with its own (quantized) distribution, the output stays within
 * 1% of the empirical entropy of the symbols. */
START_TEST(efficiency_multi_symbol)
{
    enum { N = 1000000, K = 24 };
    uint64_t seed = 42;
    uint32_t weights[K], cdf[K + 1];
    for (int i = 0; i < K; i++)
        weights[i] = (uint32_t)(1000.0 * exp(-0.35 * i)) + 1;
    scmc_cdf_from_counts(weights, K, cdf);
    int *sym = malloc(sizeof(int) * N);
    uint64_t hist[K] = { 0 };
    for (int i = 0; i < N; i++) {
        const uint32_t v = test_rand_below(&seed, SCMC_CDF_TOTAL);
        int s = 0;
        while (cdf[s + 1] <= v)
            s++;
        sym[i] = s;
        hist[s]++;
    }
    double entropy_bits = 0;
    for (int i = 0; i < K; i++)
        if (hist[i])
            entropy_bits -= (double)hist[i] * log2((double)hist[i] / N);
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    for (int i = 0; i < N; i++)
        scmc_renc_symbol(&e, cdf, sym[i]);
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    const double ratio = size * 8.0 / entropy_bits;
    ck_assert_msg(ratio < 1.01, "coded %.0f bits for %.0f bits of entropy (%.4f)", size * 8.0, entropy_bits, ratio);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(scmc_rdec_symbol(&d, cdf, K), sym[i]);
    free(buf);
    free(sym);
}
END_TEST

/* The adaptive binary model learns a skewed stationary source to within 3% of its entropy. */
START_TEST(efficiency_adaptive_bits)
{
    enum { N = 400000 };
    uint64_t seed = 9;
    ScmcBitModel m;
    scmc_bit_model_init(&m);
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    uint64_t ones = 0;
    for (int i = 0; i < N; i++) {
        const int bit = test_rand_below(&seed, 1000) < 50;
        ones += (uint64_t)bit;
        scmc_renc_bit(&e, &m, bit);
    }
    const double p = (double)ones / N;
    const double entropy_bits = -N * (p * log2(p) + (1 - p) * log2(1 - p));
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ck_assert_msg(size * 8.0 < entropy_bits * 1.03, "%.0f bits for %.0f", size * 8.0, entropy_bits);
    free(buf);
}
END_TEST


/* The logistic tables: squash rises from 1 to 4095 through 2048 at 0, and stretch is its inverse
 * (the least argument that reaches each probability). */
START_TEST(mixer_tables)
{
    static ScmcMixTables t;
    scmc_mix_tables_init(&t);
    for (int p = 1; p < 4096; p++)
        ck_assert_int_ge(t.stretch[p], t.stretch[p - 1]);
    ck_assert_int_eq(t.stretch[0], -2047);
    ck_assert_int_le(abs(t.stretch[2048]), 1);
    /* Symmetry of the logistic: stretch(p) and stretch(4096 - p) balance to within the table's
     * rounding. */
    for (int p = 64; p <= 4032; p += 64)
        ck_assert_int_le(abs(t.stretch[p] + t.stretch[4096 - p]), 8);
    /* A context that has only seen ones predicts a one strongly; one that only saw zeros, a zero. */
    ScmcMixContext c;
    ScmcMixWeights w;
    ScmcMix m;
    scmc_mix_context_init(&c);
    scmc_mix_weights_init(&w);
    for (int i = 0; i < 200; i++) {
        scmc_mix_begin(&m, &w);
        scmc_mix_add(&m, &c);
        scmc_mix_predict(&t, &m);
        scmc_mix_update(&m, 1);
    }
    scmc_mix_begin(&m, &w);
    scmc_mix_add(&m, &c);
    ck_assert_uint_lt(scmc_mix_predict(&t, &m), SCMC_CDF_TOTAL / 20); /* P(0) < 5 % */
}
END_TEST

/* A source whose probability of a one is logistic in the sum of two independent features. */
static int two_feature_bit(uint64_t *seed, int *a, int *b, double *p)
{
    static const double alpha[4] = { -2.5, -0.8, 0.6, 2.2 }, beta[4] = { -1.7, -0.2, 0.9, 2.0 };
    *a = (int)test_rand_below(seed, 4);
    *b = (int)test_rand_below(seed, 4);
    *p = 1 / (1 + exp(-(alpha[*a] + beta[*b])));
    return test_rand_below(seed, 1000000) < (uint32_t)(*p * 1000000);
}

/* n bits of that source with their features; returns the bits' information (their entropy). */
static double two_feature_source(int n, uint64_t seed, uint8_t *bits, uint8_t *fa, uint8_t *fb)
{
    double entropy = 0;
    for (int i = 0; i < n; i++) {
        int a, b;
        double p;
        bits[i] = (uint8_t)two_feature_bit(&seed, &a, &b, &p);
        fa[i] = (uint8_t)a;
        fb[i] = (uint8_t)b;
        entropy -= log2(bits[i] ? p : 1 - p);
    }
    return entropy;
}

/* Mixed bits round-trip through the range coder bit for bit, the two sides' states stay
 * identical, and mixing two contexts that each know half of the source codes it in fewer bits
 * than either context alone, within 4 % of the source's entropy. */
START_TEST(mixer_round_trip_and_gain)
{
    enum { N = 200000 };
    static ScmcMixTables t;
    scmc_mix_tables_init(&t);
    ScmcMixContext ca[2][4], cb[2][4];
    ScmcMixWeights w[2];
    ScmcBitModel only_a[4], only_b[4];
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 4; i++) {
            scmc_mix_context_init(&ca[s][i]);
            scmc_mix_context_init(&cb[s][i]);
        }
        scmc_mix_weights_init(&w[s]);
    }
    for (int i = 0; i < 4; i++) {
        scmc_bit_model_init(&only_a[i]);
        scmc_bit_model_init(&only_b[i]);
    }
    uint8_t *bits = malloc(N), *fa = malloc(N), *fb = malloc(N);
    ck_assert(bits && fa && fb);
    const double entropy = two_feature_source(N, 17, bits, fa, fb);
    ScmcRangeEncoder e, ea, eb;
    scmc_renc_init(&e);
    scmc_renc_init(&ea);
    scmc_renc_init(&eb);
    for (int i = 0; i < N; i++) {
        const int a = fa[i], b = fb[i];
        ScmcMix m;
        scmc_mix_begin(&m, &w[0]);
        scmc_mix_add(&m, &ca[0][a]);
        scmc_mix_add(&m, &cb[0][b]);
        scmc_renc_bit_p(&e, scmc_mix_predict(&t, &m), bits[i]);
        scmc_mix_update(&m, bits[i]);
        scmc_renc_bit(&ea, &only_a[a], bits[i]);
        scmc_renc_bit(&eb, &only_b[b], bits[i]);
    }
    uint8_t *buf, *buf_a, *buf_b;
    size_t size, size_a, size_b;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ck_assert_int_eq(scmc_renc_finish(&ea, &buf_a, &size_a), 0);
    ck_assert_int_eq(scmc_renc_finish(&eb, &buf_b, &size_b), 0);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    for (int i = 0; i < N; i++) {
        ScmcMix m;
        scmc_mix_begin(&m, &w[1]);
        scmc_mix_add(&m, &ca[1][fa[i]]);
        scmc_mix_add(&m, &cb[1][fb[i]]);
        const int bit = scmc_rdec_bit_p(&d, scmc_mix_predict(&t, &m));
        ck_assert_int_eq(bit, bits[i]);
        scmc_mix_update(&m, bit);
    }
    ck_assert(!scmc_rdec_overrun(&d));
    ck_assert_mem_eq(&w[0], &w[1], sizeof(w[0]));
    ck_assert_mem_eq(ca[0], ca[1], sizeof(ca[0]));
    ck_assert_mem_eq(cb[0], cb[1], sizeof(cb[0]));
    ck_assert_msg(size < size_a && size < size_b, "mixed %zu bytes, context a alone %zu, b alone %zu", size, size_a,
                  size_b);
    ck_assert_msg(size * 8.0 < entropy * 1.04, "%.0f bits for an entropy of %.0f", size * 8.0, entropy);
    free(buf);
    free(buf_a);
    free(buf_b);
    free(bits);
    free(fa);
    free(fb);
}
END_TEST

/* A direct input: bits whose probability is logistic in a continuous estimate the coder is given
 * (logit x uniform in -4..4, with a feature that shifts it) are coded within 3 % of their entropy
 * when the mixer reads x directly beside the feature's context, and in fewer bytes than with x
 * cut into eight classes of contexts (what a coder without direct inputs can do); the decoder's
 * weights end identical to the encoder's; an input out of range is clamped. */
START_TEST(mixer_direct_input)
{
    enum { N = 200000 };
    static ScmcMixTables t;
    scmc_mix_tables_init(&t);
    ScmcMix clamp;
    ScmcMixWeights cw;
    scmc_mix_weights_init(&cw);
    scmc_mix_begin(&clamp, &cw);
    scmc_mix_direct(&clamp, 5000);
    ck_assert_int_eq(clamp.direct, SCMC_MIX_STRETCH_MAX);
    scmc_mix_direct(&clamp, -5000);
    ck_assert_int_eq(clamp.direct, -SCMC_MIX_STRETCH_MAX);

    uint8_t *bits = malloc(N), *feat = malloc(N);
    int16_t *x = malloc(N * sizeof(int16_t));
    ck_assert(bits && feat && x);
    uint64_t seed = 29;
    double entropy = 0;
    for (int i = 0; i < N; i++) {
        x[i] = (int16_t)((int)test_rand_below(&seed, 2049) - 1024); /* stretch units: -4..4 */
        feat[i] = (uint8_t)test_rand_below(&seed, 2);
        const double p = 1 / (1 + exp(-(x[i] / 256.0 + (feat[i] ? 0.7 : -0.7))));
        bits[i] = test_rand_below(&seed, 1000000) < (uint32_t)(p * 1000000);
        entropy -= log2(bits[i] ? p : 1 - p);
    }
    /* s = 0 encodes, 1 decodes with the direct input; s = 2 encodes with classes of x instead */
    ScmcMixContext cf[3][2], cx[8];
    ScmcMixWeights w[3];
    for (int s = 0; s < 3; s++) {
        scmc_mix_context_init(&cf[s][0]);
        scmc_mix_context_init(&cf[s][1]);
        scmc_mix_weights_init(&w[s]);
    }
    for (int k = 0; k < 8; k++)
        scmc_mix_context_init(&cx[k]);
    ScmcRangeEncoder e, ec;
    scmc_renc_init(&e);
    scmc_renc_init(&ec);
    for (int i = 0; i < N; i++) {
        ScmcMix m;
        scmc_mix_begin(&m, &w[0]);
        scmc_mix_add(&m, &cf[0][feat[i]]);
        scmc_mix_direct(&m, x[i]);
        scmc_renc_bit_p(&e, scmc_mix_predict(&t, &m), bits[i]);
        scmc_mix_update(&m, bits[i]);
        scmc_mix_begin(&m, &w[2]);
        scmc_mix_add(&m, &cf[2][feat[i]]);
        scmc_mix_add(&m, &cx[(x[i] + 1024) * 8 / 2049]);
        scmc_renc_bit_p(&ec, scmc_mix_predict(&t, &m), bits[i]);
        scmc_mix_update(&m, bits[i]);
    }
    uint8_t *buf, *buf_c;
    size_t size, size_c;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ck_assert_int_eq(scmc_renc_finish(&ec, &buf_c, &size_c), 0);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    for (int i = 0; i < N; i++) {
        ScmcMix m;
        scmc_mix_begin(&m, &w[1]);
        scmc_mix_add(&m, &cf[1][feat[i]]);
        scmc_mix_direct(&m, x[i]);
        const int bit = scmc_rdec_bit_p(&d, scmc_mix_predict(&t, &m));
        ck_assert_int_eq(bit, bits[i]);
        scmc_mix_update(&m, bit);
    }
    ck_assert(!scmc_rdec_overrun(&d));
    ck_assert_mem_eq(&w[0], &w[1], sizeof(w[0]));
    ck_assert_mem_eq(cf[0], cf[1], sizeof(cf[0]));
    ck_assert_msg(size < size_c, "direct input %zu bytes, classes %zu", size, size_c);
    ck_assert_msg(size * 8.0 < entropy * 1.03, "%.0f bits for an entropy of %.0f", size * 8.0, entropy);
    free(buf);
    free(buf_c);
    free(bits);
    free(feat);
    free(x);
}
END_TEST

/* A second weight set and an adaptive probability map: a fresh map leaves the mixed probability
 * as it is but for rounding; bits whose probability also depends on a feature the contexts do
 * not see are coded in fewer bytes when a second weight set and a map are picked by it (each
 * learns what that feature adds), within 5 % of the source's entropy; the decoder's states follow
 * the encoder's exactly. */
START_TEST(mixer_second_weights_and_map)
{
    enum { N = 200000 };
    static ScmcMixTables t;
    scmc_mix_tables_init(&t);
    /* Identity: contexts across the whole range of probabilities, with and without a new map. */
    for (int k = 0; k <= 64; k++) {
        ScmcMixContext c = { (uint16_t)(k * 1023 + 16), (uint16_t)(k * 1023 + 16), 1 };
        ScmcMixWeights w;
        scmc_mix_weights_init(&w);
        w.w[0] = w.w[1] = 65536 / 2;
        ScmcMixApm a;
        scmc_mix_apm_init(&a, 1);
        ScmcMix m;
        scmc_mix_begin(&m, &w);
        scmc_mix_add(&m, &c);
        const int32_t plain = (int32_t)scmc_mix_predict(&t, &m);
        scmc_mix_begin(&m, &w);
        scmc_mix_add(&m, &c);
        scmc_mix_refine(&m, &a);
        const int32_t mapped = (int32_t)scmc_mix_predict(&t, &m);
        ck_assert_msg(abs(mapped - plain) <= 16 + plain / 128 + (65536 - plain) / 128, "p0 %d with a new map, %d without",
                      mapped, plain);
    }
    /* Two sides (s = 0 encodes, 1 decodes) and a plain mixer that sees only the contexts. */
    ScmcMixContext ca[3][4];
    ScmcMixWeights w[3][4], w2[2][4];
    ScmcMixApm apm[2][4];
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < 4; i++) {
            scmc_mix_context_init(&ca[s][i]);
            scmc_mix_weights_init(&w[s][i]);
            if (s < 2)
                scmc_mix_weights_init(&w2[s][i]);
        }
    scmc_mix_apm_init(&apm[0][0], 2 * 4);
    uint8_t *bits = malloc(N), *fa = malloc(N), *fb = malloc(N);
    ck_assert(bits && fa && fb);
    const double entropy = two_feature_source(N, 23, bits, fa, fb);
    ScmcRangeEncoder e, ep;
    scmc_renc_init(&e);
    scmc_renc_init(&ep);
    for (int i = 0; i < N; i++) {
        const int a = fa[i], b = fb[i];
        ScmcMix m;
        scmc_mix_begin(&m, &w[0][a]);
        scmc_mix_second_weights(&m, &w2[0][b]);
        scmc_mix_refine(&m, &apm[0][b]);
        scmc_mix_add(&m, &ca[0][a]);
        scmc_renc_bit_p(&e, scmc_mix_predict(&t, &m), bits[i]);
        scmc_mix_update(&m, bits[i]);
        scmc_mix_begin(&m, &w[2][a]);
        scmc_mix_add(&m, &ca[2][a]);
        scmc_renc_bit_p(&ep, scmc_mix_predict(&t, &m), bits[i]);
        scmc_mix_update(&m, bits[i]);
    }
    uint8_t *buf, *buf_plain;
    size_t size, size_plain;
    ck_assert_int_eq(scmc_renc_finish(&e, &buf, &size), 0);
    ck_assert_int_eq(scmc_renc_finish(&ep, &buf_plain, &size_plain), 0);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, buf, size);
    for (int i = 0; i < N; i++) {
        ScmcMix m;
        scmc_mix_begin(&m, &w[1][fa[i]]);
        scmc_mix_second_weights(&m, &w2[1][fb[i]]);
        scmc_mix_refine(&m, &apm[1][fb[i]]);
        scmc_mix_add(&m, &ca[1][fa[i]]);
        const int bit = scmc_rdec_bit_p(&d, scmc_mix_predict(&t, &m));
        ck_assert_int_eq(bit, bits[i]);
        scmc_mix_update(&m, bit);
    }
    ck_assert(!scmc_rdec_overrun(&d));
    ck_assert_mem_eq(w[0], w[1], sizeof(w[0]));
    ck_assert_mem_eq(w2[0], w2[1], sizeof(w2[0]));
    ck_assert_mem_eq(apm[0], apm[1], sizeof(apm[0]));
    ck_assert_mem_eq(ca[0], ca[1], sizeof(ca[0]));
    ck_assert_msg(size * 100 < size_plain * 95, "%zu bytes with the second set and map, %zu without", size, size_plain);
    ck_assert_msg(size * 8.0 < entropy * 1.05, "%.0f bits for an entropy of %.0f", size * 8.0, entropy);
    free(buf);
    free(buf_plain);
    free(bits);
    free(fa);
    free(fb);
}
END_TEST

/* Garbage input: decoding never reads out of bounds, and a long-enough parse is flagged. */
START_TEST(garbage_input)
{
    uint64_t seed = 5;
    uint8_t junk[16];
    for (int i = 0; i < 16; i++)
        junk[i] = (uint8_t)test_rand(&seed);
    uint32_t cdf[257], counts[256];
    for (int i = 0; i < 256; i++)
        counts[i] = 1;
    scmc_cdf_from_counts(counts, 256, cdf);
    ScmcRangeDecoder d;
    scmc_rdec_init(&d, junk, sizeof(junk));
    for (int i = 0; i < 100; i++)
        scmc_rdec_symbol(&d, cdf, 256);
    ck_assert(scmc_rdec_overrun(&d));
    scmc_rdec_init(&d, junk, sizeof(junk));
    for (int i = 0; i < 40; i++) /* no crash, and a bounded result */
        ck_assert_uint_le(scmc_rdec_expgolomb(&d), UINT32_MAX);
}
END_TEST

static Suite *entropy_suite(void)
{
    Suite *s = suite_create("entropy");
    TCase *tc = tcase_create("range_coder");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cdf_is_valid);
    tcase_add_test(tc, mixed_round_trip);
    tcase_add_test(tc, empty_and_single);
    tcase_add_test(tc, extreme_cdf);
    tcase_add_test(tc, efficiency_multi_symbol);
    tcase_add_test(tc, efficiency_adaptive_bits);
    tcase_add_test(tc, garbage_input);
    tcase_add_test(tc, mixer_tables);
    tcase_add_test(tc, mixer_round_trip_and_gain);
    tcase_add_test(tc, mixer_second_weights_and_map);
    tcase_add_test(tc, mixer_direct_input);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(entropy_suite)
