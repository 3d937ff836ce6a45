/* Image I/O: every PNG colour type / depth / interlace, PNM variants, WebP, and bad files. */
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scmc/scmc.h"
#include "image/atomic_file.h"
#include "image/image.h"
#include "test_util.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/scmc_test_image_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes a w x h PNG of colour type ctype / depth with libpng; sample (x, y, c) = pattern. */
static void write_png(const char *path, int w, int h, int ctype, int depth, int interlace)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 10, 20, 30 } };
        png_set_PLTE(png, info, pal, 4);
    }
    png_write_info(png, info);
    const int channels = ctype == PNG_COLOR_TYPE_RGB ? 3 : ctype == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                       : ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    const size_t rowbytes = ((size_t)w * channels * depth + 7) / 8;
    uint8_t *row = calloc(rowbytes, 1);
    const int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < h; y++) {
            memset(row, 0, rowbytes);
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++) {
                    const unsigned v = (unsigned)(x * 37 + y * 11 + c * 50) & 0xFF;
                    if (depth == 16) {
                        row[(x * channels + c) * 2] = (uint8_t)v;
                        row[(x * channels + c) * 2 + 1] = 0x80;
                    } else if (depth == 8) {
                        row[x * channels + c] = (uint8_t)(ctype == PNG_COLOR_TYPE_PALETTE ? v % 4 : v);
                    } else { /* 1, 2, 4-bit grey or palette */
                        const unsigned maxv = (1u << depth) - 1;
                        const unsigned q = ctype == PNG_COLOR_TYPE_PALETTE ? (v % 4) & maxv : v & maxv;
                        const int bit = x * depth;
                        row[bit / 8] |= (uint8_t)(q << (8 - depth - bit % 8));
                    }
                }
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

START_TEST(png_variants)
{
    const struct { int ctype, depth, alpha; } cases[] = {
        { PNG_COLOR_TYPE_RGB, 8, 0 }, { PNG_COLOR_TYPE_RGB, 16, 0 }, { PNG_COLOR_TYPE_GRAY, 8, 0 },
        { PNG_COLOR_TYPE_GRAY, 1, 0 }, { PNG_COLOR_TYPE_GRAY, 4, 0 }, { PNG_COLOR_TYPE_GRAY, 16, 0 },
        { PNG_COLOR_TYPE_PALETTE, 8, 0 }, { PNG_COLOR_TYPE_PALETTE, 2, 0 }, { PNG_COLOR_TYPE_RGB_ALPHA, 8, 1 },
        { PNG_COLOR_TYPE_RGB_ALPHA, 16, 1 }, { PNG_COLOR_TYPE_GRAY_ALPHA, 8, 1 },
    };
    char path[128], err[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (int il = 0; il < 2; il++) {
            snprintf(path, sizeof(path), "%s/t%zu_%d.png", dir, i, il);
            write_png(path, 13, 7, cases[i].ctype, cases[i].depth, il ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE);
            ScmcImage img;
            ScmcReadNotes notes;
            ck_assert_msg(scmc_image_read(path, &img, &notes, err, sizeof(err)) == SCMC_OK, "%s", err);
            ck_assert_int_eq(img.width, 13);
            ck_assert_int_eq(img.height, 7);
            ck_assert_int_eq(notes.alpha_dropped, cases[i].alpha);
            /* pixel (3, 2): the pattern's value for channel 0 */
            const uint8_t *p = img.rgb + (2 * 13 + 3) * 3;
            if (cases[i].ctype == PNG_COLOR_TYPE_RGB && cases[i].depth == 8) {
                ck_assert_uint_eq(p[0], (3 * 37 + 2 * 11) & 0xFF);
                ck_assert_uint_eq(p[2], (3 * 37 + 2 * 11 + 100) & 0xFF);
            }
            if (cases[i].ctype == PNG_COLOR_TYPE_GRAY && cases[i].depth == 8)
                ck_assert(p[0] == p[1] && p[1] == p[2]);
            if (cases[i].ctype == PNG_COLOR_TYPE_RGB && cases[i].depth == 16) {
                /* 16-bit samples are scaled to 8 bits with rounding, not truncated */
                const unsigned v16 = ((3 * 37 + 2 * 11) & 0xFF) * 256 + 0x80;
                ck_assert_uint_eq(p[0], (v16 * 255 + 32767) / 65535);
            }
            scmc_image_free(&img);
        }
}
END_TEST

START_TEST(write_read_round_trip)
{
    ScmcImage img, back;
    char path[128], err[256];
    ck_assert_int_eq(scmc_image_alloc(&img, 31, 17), SCMC_OK);
    for (size_t i = 0; i < 31 * 17 * 3; i++)
        img.rgb[i] = (uint8_t)(i * 7 + i / 3);
    const char *exts[] = { "png", "webp", "ppm" };
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof(path), "%s/rt.%s", dir, exts[k]);
        ck_assert_msg(scmc_image_write(path, &img, err, sizeof(err)) == SCMC_OK, "%s", err);
        ck_assert_msg(scmc_image_read(path, &back, NULL, err, sizeof(err)) == SCMC_OK, "%s", err);
        ck_assert_int_eq(back.width, 31);
        ck_assert_int_eq(back.height, 17);
        ck_assert_mem_eq(back.rgb, img.rgb, 31 * 17 * 3); /* all three are lossless */
        scmc_image_free(&back);
    }
    snprintf(path, sizeof(path), "%s/rt.jpg", dir);
    ck_assert_int_eq(scmc_image_write(path, &img, err, sizeof(err)), SCMC_ERR_INVALID_ARG);
    ck_assert_int_ne(access(path, F_OK), 0);
    scmc_image_free(&img);
}
END_TEST

static int read_bytes(const char *name, const void *data, size_t n, ScmcImage *img, ScmcReadNotes *notes)
{
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    const int r = scmc_image_read(path, img, notes, err, sizeof(err));
    if (r)
        ck_assert(strlen(err) > 0 && !strchr(err, '\n'));
    return r;
}

START_TEST(pnm_variants)
{
    ScmcImage img;
    ScmcReadNotes notes;
    const char pgm[] = "P5\n# comment\n2 1\n255\n\x10\x20";
    ck_assert_int_eq(read_bytes("a.pgm", pgm, sizeof(pgm) - 1, &img, &notes), SCMC_OK);
    ck_assert_uint_eq(img.rgb[3], 0x20);
    ck_assert_uint_eq(img.rgb[5], 0x20);
    scmc_image_free(&img);
    const char ppm16[] = "P6 1 1 65535\n\xff\xff\x00\x00\x80\x00";
    ck_assert_int_eq(read_bytes("b.ppm", ppm16, sizeof(ppm16) - 1, &img, &notes), SCMC_OK);
    ck_assert_uint_eq(img.rgb[0], 255);
    ck_assert_uint_eq(img.rgb[1], 0);
    ck_assert_uint_eq(img.rgb[2], 128);
    scmc_image_free(&img);
    const char pam[] = "P7\nWIDTH 1\nHEIGHT 1\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n\x01\x02\x03\x04";
    ck_assert_int_eq(read_bytes("c.pam", pam, sizeof(pam) - 1, &img, &notes), SCMC_OK);
    ck_assert_int_eq(notes.alpha_dropped, 1);
    ck_assert_uint_eq(img.rgb[2], 3);
    scmc_image_free(&img);
}
END_TEST

START_TEST(bad_files)
{
    ScmcImage img;
    const char trunc_ppm[] = "P6\n4 4\n255\n\x01\x02";
    ck_assert_int_eq(read_bytes("t.ppm", trunc_ppm, sizeof(trunc_ppm) - 1, &img, NULL), SCMC_ERR_CORRUPT);
    const char huge_ppm[] = "P6\n100000 100000\n255\n";
    ck_assert_int_eq(read_bytes("h.ppm", huge_ppm, sizeof(huge_ppm) - 1, &img, NULL), SCMC_ERR_TOO_LARGE);
    const char zero_ppm[] = "P6\n0 5\n255\n";
    ck_assert_int_ne(read_bytes("z.ppm", zero_ppm, sizeof(zero_ppm) - 1, &img, NULL), SCMC_OK);
    const char text[] = "hello world";
    ck_assert_int_eq(read_bytes("x.png", text, sizeof(text) - 1, &img, NULL), SCMC_ERR_CORRUPT);
    ck_assert_int_ne(read_bytes("e.png", "", 0, &img, NULL), SCMC_OK);
    const char webp[] = "RIFF\x10\x00\x00\x00WEBPVP8 \x04\x00\x00\x00junk";
    ck_assert_int_eq(read_bytes("w.webp", webp, sizeof(webp) - 1, &img, NULL), SCMC_ERR_CORRUPT);
    /* a real PNG cut at every length fails cleanly */
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/full.png", dir);
    write_png(path, 40, 30, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    uint8_t *data;
    size_t size;
    ck_assert_int_eq(scmc_read_file(path, 1 << 20, &data, &size, err, sizeof(err)), SCMC_OK);
    for (size_t cut = 0; cut < size; cut += 7)
        ck_assert_int_ne(read_bytes("cut.png", data, cut, &img, NULL), SCMC_OK);
    free(data);
    ck_assert_int_eq(scmc_image_read("/nonexistent/x.png", &img, NULL, err, sizeof(err)), SCMC_ERR_IO);
}
END_TEST

/* Outputs get the permissions any new file gets (0666 less the umask), an existing target keeps its
 * own, and no temporary file is left beside them. */
START_TEST(output_permissions)
{
    char path[128], err[256];
    struct stat st;
    const mode_t old_mask = umask(022);
    snprintf(path, sizeof(path), "%s/new.bin", dir);
    ck_assert_int_eq(scmc_write_file(path, (const uint8_t *)"abc", 3, err, sizeof(err)), SCMC_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_assert_int_eq(scmc_write_file(path, (const uint8_t *)"abcd", 4, err, sizeof(err)), SCMC_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0640);
    ck_assert_int_eq(st.st_size, 4);
    umask(077);
    snprintf(path, sizeof(path), "%s/private.bin", dir);
    ck_assert_int_eq(scmc_write_file(path, (const uint8_t *)"x", 1, err, sizeof(err)), SCMC_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    umask(old_mask);
    /* an aborted file leaves nothing */
    ScmcAtomicFile af;
    snprintf(path, sizeof(path), "%s/aborted.bin", dir);
    ck_assert_int_eq(scmc_atomic_open(&af, path, err, sizeof(err)), SCMC_OK);
    fputs("half", af.f);
    scmc_atomic_abort(&af);
    char cmd[192];
    snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -eq 2", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("io");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, png_variants);
    tcase_add_test(tc, write_read_round_trip);
    tcase_add_test(tc, pnm_variants);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, output_permissions);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(image_suite)
