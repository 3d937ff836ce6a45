/* The public API end to end: settings, encode, progressive and prefix decoding, damage, info,
 * truncation. Uses only include/scmc/scmc.h (plus the container to forge streams). */
#include <string.h>

#include "scmc/scmc.h"
#include "container/container.h"
#include "container/crc32.h"
#include "test_util.h"

static uint8_t *make_rgb(int w, int h)
{
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / w);
            p[1] = (uint8_t)(y * 255 / h);
            p[2] = (uint8_t)((x + y) % 64 < 32 ? 40 : 200);
        }
    return rgb;
}

static void encode(const char *caption, uint8_t **out, size_t *size)
{
    ScmcEncoderSettings s;
    scmc_encoder_default_settings(&s);
    s.caption = caption;
    ScmcEncoder *e;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_OK);
    uint8_t *rgb = make_rgb(96, 64);
    ck_assert_int_eq(scmc_encode(e, rgb, 96, 64, 96 * 3, out, size), SCMC_OK);
    scmc_encoder_close(&e);
    ck_assert_ptr_null(e);
    free(rgb);
}

START_TEST(settings_validation)
{
    ScmcEncoderSettings s;
    ScmcEncoder *e;
    scmc_encoder_default_settings(&s);
    ck_assert_int_eq(s.quality, 4);
    ck_assert_int_eq(s.semantic_cols, 8);
    ck_assert_uint_ne(s.layers & SCMC_LAYERS_SEMANTIC, 0);
    s.quality = 9;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    ck_assert_ptr_null(e);
    scmc_encoder_default_settings(&s);
    s.threads = 0;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    scmc_encoder_default_settings(&s);
    s.semantic_rows = 13;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    scmc_encoder_default_settings(&s);
    ck_assert_int_eq(s.structure_detail, 0); /* auto */
    s.structure_detail = 6;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    s.structure_detail = -1;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    scmc_encoder_default_settings(&s);
    ck_assert_int_eq(s.keep_layers, 0);
    s.keep_layers = 2;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    scmc_encoder_default_settings(&s);
    ck_assert_int_eq(s.tune, SCMC_TUNE_PSNR);
    s.tune = SCMC_TUNE_MS_SSIM + 1;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    s.tune = -1;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    scmc_encoder_default_settings(&s);
    s.layers = 0;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_UNSUPPORTED);
    scmc_encoder_default_settings(&s);
    s.caption = "\xfe";
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    scmc_encoder_default_settings(&s);
    s.reserved[3] = 1;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_ERR_INVALID_ARG);
    scmc_encoder_default_settings(&s);
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_OK);
    uint8_t *out;
    size_t size;
    uint8_t px[3] = { 1, 2, 3 };
    ck_assert_int_eq(scmc_encode(e, px, 0, 1, 3, &out, &size), SCMC_ERR_INVALID_ARG);
    ck_assert_int_eq(scmc_encode(e, px, 1, 1, 2, &out, &size), SCMC_ERR_INVALID_ARG);
    ck_assert_int_eq(scmc_encode(e, px, 20000, 1, 60000, &out, &size), SCMC_ERR_TOO_LARGE);
    ck_assert_int_eq(scmc_encode(e, px, 1, 1, 3, &out, &size), SCMC_OK); /* one pixel is an image */
    scmc_free(out);
    scmc_encoder_close(&e);
    ScmcDecoderSettings ds;
    ScmcDecoder *d;
    scmc_decoder_default_settings(&ds);
    ds.threads = 300;
    ck_assert_int_eq(scmc_decoder_open(&d, &ds), SCMC_ERR_INVALID_ARG);
    ck_assert_str_eq(scmc_strerror(SCMC_ERR_MODEL), "stream needs a model this decoder does not have");
    ck_assert_str_eq(scmc_layer_name(SCMC_LAYER_SIGNAL), "signal");
    ck_assert_int_eq(scmc_format_version(), SCMC_FORMAT_VERSION);
}
END_TEST

typedef struct Seen {
    int steps;
    int last_step;
} Seen;

static int count_cb(void *opaque, const ScmcRefinement *r)
{
    Seen *s = opaque;
    s->steps++;
    ck_assert_int_eq(r->step, s->last_step + 1);
    s->last_step = r->step;
    ck_assert_int_eq(r->width, 96);
    ck_assert_ptr_nonnull(r->rgb);
    return 0;
}

static int decode(const uint8_t *data, size_t size, int max_steps, ScmcDecodeResult *res, Seen *seen)
{
    ScmcDecoderSettings ds;
    ScmcDecoder *d;
    scmc_decoder_default_settings(&ds);
    ck_assert_int_eq(scmc_decoder_open(&d, &ds), SCMC_OK);
    memset(seen, 0, sizeof(*seen));
    const int r = scmc_decode(d, data, size, max_steps, count_cb, seen, res);
    scmc_decoder_close(&d);
    return r;
}

START_TEST(round_trip_and_info)
{
    uint8_t *buf;
    size_t size;
    encode("a test card", &buf, &size);
    ScmcDecodeResult res;
    Seen seen;
    ck_assert_int_eq(decode(buf, size, 0, &res, &seen), SCMC_OK);
    ck_assert_int_eq(res.width, 96);
    ck_assert_int_eq(res.height, 64);
    ck_assert_int_eq(res.stop, SCMC_STOP_COMPLETE);
    ck_assert_int_eq(res.steps, seen.steps);
    ck_assert_int_ge(res.steps, 1);
    scmc_free(res.rgb);
    ScmcStreamInfo info;
    ck_assert_int_eq(scmc_stream_info(buf, size, &info), SCMC_OK);
    ck_assert_uint_eq(info.stream_bytes, size);
    ck_assert_int_eq(info.layers[0].type, SCMC_LAYER_SEMANTIC);
    ck_assert_str_eq(info.caption, "a test card");
    ck_assert_ptr_nonnull(strstr(info.text, "Colour grid"));
    scmc_stream_info_free(&info);
    free(buf);
}
END_TEST

/* A stream cut at any byte: an error inside the header or the first sub-layer, otherwise the
 * refinements wholly before the cut, reported as truncated. */
START_TEST(every_byte_prefix)
{
    uint8_t *buf;
    size_t size;
    encode(NULL, &buf, &size);
    ScmcContainer c;
    ck_assert_int_eq(scmc_container_parse(buf, size, &c), SCMC_OK);
    const size_t first_end = c.layers[0].sub[0].offset + c.layers[0].sub[0].length;
    /* every byte up to just past the first sub-layer, then a sample (each decode paints) */
    for (size_t cut = 0; cut < size; cut += cut < first_end + 16 ? 1 : 97) {
        ScmcDecodeResult res;
        Seen seen;
        const int r = decode(buf, cut, 0, &res, &seen);
        if (cut < first_end) {
            ck_assert_int_eq(r, SCMC_ERR_TRUNCATED);
        } else {
            ck_assert_int_eq(r, SCMC_OK);
            ck_assert_int_eq(res.stop, SCMC_STOP_TRUNCATED);
            scmc_free(res.rgb);
        }
    }
    free(buf);
}
END_TEST

START_TEST(damage_and_models)
{
    uint8_t *buf;
    size_t size;
    encode(NULL, &buf, &size);
    ScmcContainer c;
    ck_assert_int_eq(scmc_container_parse(buf, size, &c), SCMC_OK);
    ScmcDecodeResult res;
    Seen seen;
    /* damaged first sub-layer: nothing to show, an error */
    buf[c.layers[0].sub[0].offset] ^= 0x55;
    ck_assert_int_eq(decode(buf, size, 0, &res, &seen), SCMC_ERR_CORRUPT);
    buf[c.layers[0].sub[0].offset] ^= 0x55;
    /* an unknown model id is refused up front */
    uint8_t *forged;
    size_t fsize;
    c.layers[0].model_id ^= 1;
    const uint8_t *p[1] = { buf + c.layers[0].sub[0].offset };
    size_t len[1] = { c.layers[0].sub[0].length };
    c.num_layers = 1;
    c.layers[0].num_sublayers = 1;
    ck_assert_int_eq(scmc_container_write(&c, p, len, &forged, &fsize), SCMC_OK);
    ck_assert_int_eq(decode(forged, fsize, 0, &res, &seen), SCMC_ERR_MODEL);
    free(forged);
    /* an unknown layer type after the semantic layer is skipped */
    c.layers[0].model_id ^= 1;
    c.num_layers = 2;
    c.layers[1].type = 77;
    c.layers[1].model_id = 5;
    c.layers[1].num_sublayers = 1;
    const uint8_t *p2[2] = { p[0], (const uint8_t *)"future" };
    size_t len2[2] = { len[0], 6 };
    ck_assert_int_eq(scmc_container_write(&c, p2, len2, &forged, &fsize), SCMC_OK);
    ck_assert_int_eq(decode(forged, fsize, 0, &res, &seen), SCMC_OK);
    ck_assert_int_eq(res.steps, 1);
    ck_assert_int_eq(res.stop, SCMC_STOP_COMPLETE);
    scmc_free(res.rgb);
    free(forged);
    free(buf);
}
END_TEST

START_TEST(truncate_api)
{
    uint8_t *buf, *out;
    size_t size, osize;
    encode("kept through truncation", &buf, &size);
    ck_assert_int_eq(scmc_truncate(buf, size, 1, &out, &osize), SCMC_OK);
    ScmcStreamInfo info;
    ck_assert_int_eq(scmc_stream_info(out, osize, &info), SCMC_OK);
    ck_assert_int_eq(info.num_layers, 1);
    ck_assert_str_eq(info.caption, "kept through truncation");
    scmc_stream_info_free(&info);
    scmc_free(out);
    ck_assert_int_eq(scmc_truncate(buf, size, 0, &out, &osize), SCMC_ERR_INVALID_ARG);
    ck_assert_int_eq(scmc_truncate(buf, size, 1000, &out, &osize), SCMC_ERR_INVALID_ARG);
    ck_assert_int_eq(scmc_truncate(buf, 10, 1, &out, &osize), SCMC_ERR_TRUNCATED);
    free(buf);
}
END_TEST

/* Squares of 12 pixels in six colours: edges everywhere, which the structure level's coarse
 * wavelet correction leaves soft. */
static uint8_t *make_squares(int w, int h)
{
    static const uint8_t pal[6][3] = { { 200, 40, 40 }, { 30, 160, 60 }, { 240, 220, 90 },
                                       { 20, 30, 120 }, { 230, 230, 230 }, { 60, 50, 40 } };
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(rgb + ((size_t)y * w + x) * 3, pal[(x / 12 + 2 * (y / 12)) % 6], 3);
    return rgb;
}

static double sse(const uint8_t *a, const uint8_t *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

/* Keeps a copy of the last refinement a progressive decode showed. */
static int keep_last(void *opaque, const ScmcRefinement *r)
{
    uint8_t **last = opaque;
    const size_t n = (size_t)r->width * r->height * 3;
    free(*last);
    *last = malloc(n);
    ck_assert_ptr_nonnull(*last);
    memcpy(*last, r->rgb, n);
    return 0;
}

/* Decodes with raw_layers = raw; also progressively, which must end on the same picture. */
static void decode_with(const uint8_t *buf, size_t size, int raw, ScmcDecodeResult *res)
{
    ScmcDecoderSettings ds;
    ScmcDecoder *d;
    scmc_decoder_default_settings(&ds);
    ds.raw_layers = raw;
    ck_assert_int_eq(scmc_decoder_open(&d, &ds), SCMC_OK);
    ck_assert_int_eq(scmc_decode(d, buf, size, 0, NULL, NULL, res), SCMC_OK);
    uint8_t *last = NULL;
    ScmcDecodeResult prog;
    ck_assert_int_eq(scmc_decode(d, buf, size, 0, keep_last, &last, &prog), SCMC_OK);
    const size_t n = (size_t)res->width * res->height * 3;
    ck_assert_int_eq(prog.steps, res->steps);
    ck_assert_mem_eq(prog.rgb, res->rgb, n);
    ck_assert_ptr_nonnull(last);
    ck_assert_mem_eq(last, res->rgb, n);
    free(last);
    scmc_free(prog.rgb);
    scmc_decoder_close(&d);
}

/* The structure level is shown through its edge sharpening, which is no further from the image
 * than the raw reconstruction; the signal layer refines the raw one, so a whole stream decodes
 * the same either way; a progressive decode ends on the picture a plain one returns. raw_layers
 * is 0 or 1. */
START_TEST(display_filter_is_for_display)
{
    const int w = 96, h = 72;
    const size_t n = (size_t)w * h * 3;
    uint8_t *rgb = make_squares(w, h);
    ScmcDecoderSettings ds;
    ScmcDecoder *d;
    scmc_decoder_default_settings(&ds);
    ds.raw_layers = 2;
    ck_assert_int_eq(scmc_decoder_open(&d, &ds), SCMC_ERR_INVALID_ARG);
    for (int with_signal = 0; with_signal < 2; with_signal++) {
        ScmcEncoderSettings s;
        scmc_encoder_default_settings(&s);
        if (with_signal && !(s.layers & SCMC_LAYERS_SIGNAL))
            continue;
        s.layers = SCMC_LAYERS_SEMANTIC | SCMC_LAYERS_STRUCTURE | (with_signal ? SCMC_LAYERS_SIGNAL : 0);
        s.quality = 1;
        s.keep_layers = 1;
        ScmcEncoder *e;
        ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_OK);
        uint8_t *buf;
        size_t size;
        ck_assert_int_eq(scmc_encode(e, rgb, w, h, (size_t)w * 3, &buf, &size), SCMC_OK);
        scmc_encoder_close(&e);
        ScmcDecodeResult shown, raw;
        decode_with(buf, size, 0, &shown);
        decode_with(buf, size, 1, &raw);
        ck_assert_int_eq(shown.steps, raw.steps);
        if (with_signal) {
            ck_assert_mem_eq(shown.rgb, raw.rgb, n);
        } else {
            ck_assert_int_ne(memcmp(shown.rgb, raw.rgb, n), 0); /* this picture is sharpened */
            ck_assert_double_le(sse(rgb, shown.rgb, n), sse(rgb, raw.rgb, n));
        }
        scmc_free(shown.rgb);
        scmc_free(raw.rgb);
        free(buf);
    }
    free(rgb);
}
END_TEST

/* Encodes rgb (w x h) with the default layers at `quality` and `detail`, keeping every layer or
 * not; returns the stream and its number of layers, and the decoded picture's squared error. */
static uint8_t *encode_layers(const uint8_t *rgb, int w, int h, int quality, int detail, int keep, size_t *size,
                              int *layers, double *err)
{
    ScmcEncoderSettings s;
    scmc_encoder_default_settings(&s);
    s.quality = quality;
    s.structure_detail = detail;
    s.keep_layers = keep;
    ScmcEncoder *e;
    ck_assert_int_eq(scmc_encoder_open(&e, &s), SCMC_OK);
    uint8_t *buf;
    ck_assert_int_eq(scmc_encode(e, rgb, w, h, (size_t)w * 3, &buf, size), SCMC_OK);
    scmc_encoder_close(&e);
    ScmcStreamInfo info;
    ck_assert_int_eq(scmc_stream_info(buf, *size, &info), SCMC_OK);
    *layers = info.num_layers;
    scmc_stream_info_free(&info);
    ScmcDecodeResult res;
    decode_with(buf, *size, 0, &res);
    ck_assert_int_eq(res.stop, SCMC_STOP_COMPLETE);
    *err = sse(rgb, res.rgb, (size_t)w * h * 3);
    scmc_free(res.rgb);
    return buf;
}

/* Over a structure level that already holds the picture (flat squares at quality 4) the signal
 * layer cannot buy its bytes back: the encoder leaves it out unless asked to keep every layer,
 * and the picture barely differs. Over a fixed structure level the signal layer stays, since it
 * then carries what the quality asks beyond that level. */
START_TEST(signal_layer_only_where_it_pays)
{
    ScmcEncoderSettings d;
    scmc_encoder_default_settings(&d);
    if (!(d.layers & SCMC_LAYERS_SIGNAL))
        return;
    const int w = 96, h = 72;
    uint8_t *flat = make_squares(w, h);
    size_t size[2];
    int layers[2];
    double err[2];
    for (int keep = 0; keep < 2; keep++)
        free(encode_layers(flat, w, h, 4, 0 /* auto */, keep, &size[keep], &layers[keep], &err[keep]));
    ck_assert_int_eq(layers[0], 2);
    ck_assert_int_eq(layers[1], 3);
    ck_assert_uint_lt(size[0], size[1]);
    ck_assert_double_le(err[0], 1.1 * err[1] + 1.0);
    uint8_t *busy = make_rgb(w, h);
    uint32_t seed = 7;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        const int v = busy[i] + (int)(seed >> 27) - 16;
        busy[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    free(encode_layers(busy, w, h, 8, 1, 0, &size[0], &layers[0], &err[0]));
    ck_assert_int_eq(layers[0], 3);
    free(flat);
    free(busy);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, settings_validation);
    tcase_add_test(tc, round_trip_and_info);
    tcase_add_test(tc, every_byte_prefix);
    tcase_add_test(tc, damage_and_models);
    tcase_add_test(tc, truncate_api);
    tcase_add_test(tc, display_filter_is_for_display);
    tcase_add_test(tc, signal_layer_only_where_it_pays);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(api_suite)
