/* Container: write/parse round trip, every-byte truncation, CRC damage, header validation. */
#include <string.h>

#include "scmc/scmc.h"
#include "container/bytes.h"
#include "container/container.h"
#include "container/crc32.h"
#include "test_util.h"

/* Three layers with 1, 3 and 2 sub-layers of random payloads; one layer of an unknown type. */
static void make_stream(uint8_t **out, size_t *size, ScmcContainer *c)
{
    static uint8_t pay[6][300];
    const uint8_t *p[6];
    size_t len[6];
    uint64_t seed = 77;
    memset(c, 0, sizeof(*c));
    c->version = SCMC_FORMAT_VERSION;
    c->width = 640;
    c->height = 480;
    c->num_layers = 3;
    const uint32_t types[3] = { 1, 200, 3 };
    const int subs[3] = { 1, 3, 2 };
    int k = 0;
    for (int l = 0; l < 3; l++) {
        c->layers[l].type = types[l];
        c->layers[l].model_id = 0x1000 + (uint32_t)l;
        c->layers[l].num_sublayers = subs[l];
        for (int s = 0; s < subs[l]; s++, k++) {
            len[k] = 1 + test_rand_below(&seed, 299);
            for (size_t i = 0; i < len[k]; i++)
                pay[k][i] = (uint8_t)test_rand(&seed);
            p[k] = pay[k];
        }
    }
    ck_assert_int_eq(scmc_container_write(c, p, len, out, size), SCMC_OK);
}

START_TEST(round_trip)
{
    uint8_t *buf;
    size_t size;
    ScmcContainer w, r;
    make_stream(&buf, &size, &w);
    ck_assert_int_eq(scmc_container_parse(buf, size, &r), SCMC_OK);
    ck_assert_int_eq(r.width, 640);
    ck_assert_int_eq(r.height, 480);
    ck_assert_int_eq(r.num_layers, 3);
    ck_assert_uint_eq(r.total_size, size);
    ck_assert_uint_eq(r.header_size, w.header_size);
    ck_assert_int_eq(scmc_container_count_sublayers(&r), 6);
    for (int l = 0; l < 3; l++) {
        ck_assert_uint_eq(r.layers[l].type, w.layers[l].type);
        ck_assert_uint_eq(r.layers[l].model_id, w.layers[l].model_id);
        for (int s = 0; s < r.layers[l].num_sublayers; s++) {
            ck_assert_uint_eq(r.layers[l].sub[s].length, w.layers[l].sub[s].length);
            ck_assert_int_eq(scmc_container_check(&r, buf, size, l, s), SCMC_SUBLAYER_OK);
        }
    }
    free(buf);
}
END_TEST

/* Cut at every byte: inside the header the parser says TRUNCATED; after it, exactly the
 * sub-layers wholly before the cut check out. */
START_TEST(every_byte_cut)
{
    uint8_t *buf;
    size_t size;
    ScmcContainer w, r;
    make_stream(&buf, &size, &w);
    for (size_t cut = 0; cut <= size; cut++) {
        const int ret = scmc_container_parse(buf, cut, &r);
        if (cut < w.header_size) {
            ck_assert_int_eq(ret, SCMC_ERR_TRUNCATED);
            continue;
        }
        ck_assert_int_eq(ret, SCMC_OK);
        for (int l = 0; l < r.num_layers; l++)
            for (int s = 0; s < r.layers[l].num_sublayers; s++) {
                const ScmcSublayerEntry *e = &r.layers[l].sub[s];
                const int whole = e->offset + e->length <= cut;
                ck_assert_int_eq(scmc_container_check(&r, buf, cut, l, s), whole ? SCMC_SUBLAYER_OK : SCMC_SUBLAYER_MISSING);
            }
    }
    free(buf);
}
END_TEST

START_TEST(damage_detected)
{
    uint8_t *buf;
    size_t size;
    ScmcContainer w, r;
    make_stream(&buf, &size, &w);
    /* any flipped header bit breaks the header CRC (or the magic) */
    for (size_t i = 0; i < w.header_size; i++) {
        buf[i] ^= 0x10;
        const int ret = scmc_container_parse(buf, size, &r);
        ck_assert_int_ne(ret, SCMC_OK);
        buf[i] ^= 0x10;
    }
    /* a flipped payload bit is caught by that sub-layer's CRC only */
    const size_t off = w.layers[1].sub[1].offset + 3;
    buf[off] ^= 1;
    ck_assert_int_eq(scmc_container_parse(buf, size, &r), SCMC_OK);
    ck_assert_int_eq(scmc_container_check(&r, buf, size, 1, 0), SCMC_SUBLAYER_OK);
    ck_assert_int_eq(scmc_container_check(&r, buf, size, 1, 1), SCMC_SUBLAYER_BAD_CRC);
    ck_assert_int_eq(scmc_container_check(&r, buf, size, 1, 2), SCMC_SUBLAYER_OK);
    free(buf);
}
END_TEST

/* Builds a header by hand with the given fields and a valid CRC. */
static size_t hand_header(uint8_t *out, int version, uint32_t w, uint32_t h, int nl, int ns, uint32_t len)
{
    ScmcByteWriter bw;
    scmc_bw_init(&bw);
    scmc_bw_bytes(&bw, (const uint8_t *)"SCMC", 4);
    scmc_bw_u8(&bw, (uint32_t)version);
    scmc_bw_varint(&bw, w);
    scmc_bw_varint(&bw, h);
    scmc_bw_u8(&bw, (uint32_t)nl);
    for (int l = 0; l < nl; l++) {
        scmc_bw_u8(&bw, 1);
        scmc_bw_u32(&bw, 0);
        scmc_bw_u8(&bw, (uint32_t)ns);
        for (int s = 0; s < ns; s++) {
            scmc_bw_varint(&bw, len);
            scmc_bw_u32(&bw, 0);
        }
    }
    scmc_bw_u32(&bw, scmc_crc32(0, bw.buf, bw.size));
    const size_t n = bw.size;
    memcpy(out, bw.buf, n);
    scmc_bw_free(&bw);
    return n;
}

START_TEST(header_validation)
{
    uint8_t h[4096];
    ScmcContainer c;
    size_t n = hand_header(h, 1, 100, 100, 1, 1, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_OK);
    n = hand_header(h, 2, 100, 100, 1, 1, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_UNSUPPORTED);
    n = hand_header(h, 0, 100, 100, 1, 1, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_CORRUPT);
    n = hand_header(h, 1, 16385, 10, 1, 1, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_TOO_LARGE);
    n = hand_header(h, 1, 16384, 16384, 1, 1, 10); /* 2^28 pixels: the cap itself is allowed */
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_OK);
    n = hand_header(h, 1, 16384, 16385, 1, 1, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_TOO_LARGE);
    n = hand_header(h, 1, 0, 10, 1, 1, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_CORRUPT);
    n = hand_header(h, 1, 10, 10, 17, 1, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_CORRUPT);
    n = hand_header(h, 1, 10, 10, 1, 0, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_CORRUPT);
    n = hand_header(h, 1, 10, 10, 1, 65, 10);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_CORRUPT);
    n = hand_header(h, 1, 10, 10, 1, 1, (1u << 30) + 1);
    ck_assert_int_eq(scmc_container_parse(h, n, &c), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_container_parse((const uint8_t *)"GIF89a", 6, &c), SCMC_ERR_CORRUPT);
    ck_assert_int_eq(scmc_container_parse((const uint8_t *)"SC", 2, &c), SCMC_ERR_TRUNCATED);
    ck_assert_int_eq(scmc_container_parse(NULL, 0, &c), SCMC_ERR_TRUNCATED);
}
END_TEST

START_TEST(keep_prefix)
{
    uint8_t *buf;
    size_t size;
    ScmcContainer w;
    make_stream(&buf, &size, &w);
    ScmcContainer k = w;
    scmc_container_keep(&k, 2);
    ck_assert_int_eq(k.num_layers, 2);
    ck_assert_int_eq(k.layers[0].num_sublayers, 1);
    ck_assert_int_eq(k.layers[1].num_sublayers, 1);
    k = w;
    scmc_container_keep(&k, 4);
    ck_assert_int_eq(k.num_layers, 2);
    ck_assert_int_eq(k.layers[1].num_sublayers, 3);
    k = w;
    scmc_container_keep(&k, 5);
    ck_assert_int_eq(k.num_layers, 3);
    ck_assert_int_eq(k.layers[2].num_sublayers, 1);
    free(buf);
}
END_TEST

/* What one more sub-layer adds to the header is what scmc_container_sublayer_entry_bytes says,
 * across the varint length boundaries (the signal encoder prices its sub-layers with it). */
START_TEST(sublayer_entry_bytes)
{
    static uint8_t pay[20000];
    const size_t lengths[] = { 0, 1, 127, 128, 16383, 16384, 20000 };
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        ScmcContainer c;
        memset(&c, 0, sizeof(c));
        c.version = SCMC_FORMAT_VERSION;
        c.width = 16;
        c.height = 16;
        c.num_layers = 1;
        c.layers[0].type = 3;
        c.layers[0].num_sublayers = 1;
        const uint8_t *p[2] = { pay, pay };
        size_t len[2] = { 5, lengths[i] };
        uint8_t *one, *two;
        size_t one_size, two_size;
        ck_assert_int_eq(scmc_container_write(&c, p, len, &one, &one_size), SCMC_OK);
        c.layers[0].num_sublayers = 2;
        ck_assert_int_eq(scmc_container_write(&c, p, len, &two, &two_size), SCMC_OK);
        ck_assert_uint_eq(two_size - one_size, lengths[i] + scmc_container_sublayer_entry_bytes(lengths[i]));
        free(one);
        free(two);
    }
}
END_TEST

START_TEST(varints_and_crc)
{
    const uint32_t vals[] = { 0, 1, 127, 128, 16383, 16384, 0xFFFFFFFFu };
    ScmcByteWriter w;
    scmc_bw_init(&w);
    for (size_t i = 0; i < 7; i++)
        scmc_bw_varint(&w, vals[i]);
    ScmcByteReader r;
    scmc_br_init(&r, w.buf, w.size);
    for (size_t i = 0; i < 7; i++)
        ck_assert_uint_eq(scmc_br_varint(&r), vals[i]);
    ck_assert(!r.error);
    scmc_br_varint(&r);
    ck_assert(r.error); /* reading past the end is sticky */
    scmc_bw_free(&w);
    const uint8_t over[6] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    scmc_br_init(&r, over, 6);
    scmc_br_varint(&r);
    ck_assert(r.error);
    /* the standard check value of CRC-32 */
    ck_assert_uint_eq(scmc_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
}
END_TEST

static Suite *container_suite(void)
{
    Suite *s = suite_create("container");
    TCase *tc = tcase_create("container");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, every_byte_cut);
    tcase_add_test(tc, damage_detected);
    tcase_add_test(tc, header_validation);
    tcase_add_test(tc, keep_prefix);
    tcase_add_test(tc, varints_and_crc);
    tcase_add_test(tc, sublayer_entry_bytes);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(container_suite)
