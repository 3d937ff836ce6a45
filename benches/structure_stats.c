/* What the structure layer spends and buys, image by image: sketch size against the same sketch
 * as a 1-bit PNG (libpng, level 9), sample count, bytes of both sub-layers and of the wavelet
 * correction alone, and the quality of base0 (semantic), of the sketch-level image (sub-layer 0:
 * psnrS) and of the structure level as a decoder shows it (both sub-layers and the display
 * sharpening: psnr1). Parameters default to a detail level and can be
 * overridden one by one, which is how the levels were tuned. --base1-dir writes, per image,
 * STEM.png (that structure level), STEM-sketch.png (sketch level) and STEM.bytes (semantic, sub-layer 0 and
 * sub-layer 1 payload bytes).
 *   structure_stats [--detail N] [--scale S] [--lattice L] [--side D] [--q Q] [--cq Q] [--density F]
 *                   [--min-fragment N] [--refine N] [--split MSE] [--wstep S] [--wcstep S] [--rdo L]
 *                   [--dq 0|1]
 *                   [--sketch-dir DIR] [--base1-dir DIR] IMAGE... */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "entropy/range_coder.h"
#include "image/image.h"
#include "layers/semantic/semantic.h"
#include "layers/structure/correction.h"
#include "layers/structure/sharpen.h"
#include "layers/structure/sketch.h"
#include "layers/structure/structure.h"
#include "metrics/metrics.h"

typedef struct PngBuf {
    uint8_t *data;
    size_t size, cap;
} PngBuf;

static void png_buf_write(png_structp png, png_bytep data, png_size_t len)
{
    PngBuf *b = png_get_io_ptr(png);
    if (b->size + len > b->cap) {
        b->cap = 2 * (b->size + len);
        b->data = realloc(b->data, b->cap);
        if (!b->data)
            png_error(png, "out of memory");
    }
    memcpy(b->data + b->size, data, len);
    b->size += len;
}

static void png_flush_nop(png_structp png)
{
    (void)png;
}

/* The sketch as a 1-bit greyscale PNG at compression level 9 (best of the five filters); its
 * size, and the file itself when path is not NULL. */
static size_t sketch_png(const uint8_t *edges, int w, int h, const char *path)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    PngBuf b = { 0 };
    uint8_t *row = malloc((size_t)(w + 7) / 8);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(b.data);
        free(row);
        return 0;
    }
    png_set_write_fn(png, &b, png_buf_write, png_flush_nop);
    png_set_compression_level(png, 9);
    png_set_filter(png, 0, PNG_ALL_FILTERS);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        memset(row, 0, (size_t)(w + 7) / 8);
        for (int x = 0; x < w; x++)
            if (!edges[(size_t)y * w + x]) /* white paper, black strokes */
                row[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (path) {
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(b.data, 1, b.size, f);
            fclose(f);
        }
    }
    free(b.data);
    free(row);
    return b.size;
}

static size_t sketch_coded_size(const uint8_t *edges, int w, int h)
{
    ScmcRangeEncoder e;
    scmc_renc_init(&e);
    scmc_sketch_encode(&e, edges, w, h);
    uint8_t *buf;
    size_t size = 0;
    if (!scmc_renc_finish(&e, &buf, &size))
        free(buf);
    scmc_renc_free(&e);
    return size;
}

int main(int argc, char **argv)
{
    ScmcStructureParams p;
    scmc_structure_params(SCMC_STRUCTURE_DETAIL_ALONE, &p);
    ScmcStructureParams over = { -1, -1, -1, -1, -1, -1.0, -1, -1, -1.0, -1, -1, -1.0, -1, -1 };
    const char *sketch_dir = NULL, *base1_dir = NULL;
    double rdo = SCMC_CORRECTION_RDO_LAMBDA; /* --rdo: the correction's lambda / step^2 */
    int n = 0;
    double s_bytes = 0, s_sketch = 0, s_png = 0, s_edges = 0, s_samples = 0, s_bpp = 0;
    double s_psnr0 = 0, s_psnr1 = 0, s_ms0 = 0, s_ms1 = 0, s_sem = 0, s_wav = 0, s_psnrs = 0;
    printf("%-12s %6s %6s %6s %6s %6s %6s %7s %7s %7s %7s %7s %7s\n", "image", "sem B", "str B", "wav B", "sketch",
           "png1b", "edges", "samples", "psnr0", "psnrS", "psnr1", "msss0", "msss1");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && a[0] == '-' && a[1] == '-') {
            const char *v = argv[++i];
            if (!strcmp(a, "--detail"))
                scmc_structure_params(atoi(v), &p);
            else if (!strcmp(a, "--scale"))
                over.scale_log2 = atoi(v);
            else if (!strcmp(a, "--lattice"))
                over.lattice = atoi(v);
            else if (!strcmp(a, "--side"))
                over.side_spacing = atoi(v);
            else if (!strcmp(a, "--q"))
                over.qstep = atoi(v);
            else if (!strcmp(a, "--cq"))
                over.chroma_qstep = atoi(v);
            else if (!strcmp(a, "--density"))
                over.edge_density = atof(v);
            else if (!strcmp(a, "--min-fragment"))
                over.min_fragment = atoi(v);
            else if (!strcmp(a, "--refine"))
                over.refine_passes = atoi(v);
            else if (!strcmp(a, "--split"))
                over.split_mse = atof(v);
            else if (!strcmp(a, "--wstep"))
                over.wavelet_step = atoi(v);
            else if (!strcmp(a, "--wcstep"))
                over.wavelet_chroma_step = atoi(v);
            else if (!strcmp(a, "--dq"))
                over.wavelet_dq = atoi(v);
            else if (!strcmp(a, "--rdo"))
                rdo = atof(v);
            else if (!strcmp(a, "--sketch-dir"))
                sketch_dir = v;
            else if (!strcmp(a, "--base1-dir"))
                base1_dir = v;
            else {
                fprintf(stderr, "structure_stats: unknown option %s\n", a);
                return 2;
            }
            continue;
        }
        ScmcStructureParams q = p;
        if (over.scale_log2 >= 0) q.scale_log2 = over.scale_log2;
        if (over.lattice >= 0) q.lattice = over.lattice;
        if (over.side_spacing >= 0) q.side_spacing = over.side_spacing;
        if (over.qstep >= 0) q.qstep = over.qstep;
        if (over.chroma_qstep >= 0) q.chroma_qstep = over.chroma_qstep;
        if (over.edge_density >= 0) q.edge_density = over.edge_density;
        if (over.min_fragment >= 0) q.min_fragment = over.min_fragment;
        if (over.refine_passes >= 0) q.refine_passes = over.refine_passes;
        if (over.split_mse >= 0) q.split_mse = over.split_mse;
        if (over.wavelet_step >= 0) q.wavelet_step = over.wavelet_step;
        if (over.wavelet_chroma_step >= 0) q.wavelet_chroma_step = over.wavelet_chroma_step;
        if (over.wavelet_dq >= 0) q.wavelet_dq = over.wavelet_dq;

        ScmcImage img, base0, sketch_level, base1;
        char err[256];
        if (scmc_image_read(a, &img, NULL, err, sizeof(err))) {
            fprintf(stderr, "structure_stats: %s\n", err);
            return 2;
        }
        uint8_t *sem, *str;
        size_t sem_size, str_size;
        ScmcCorrectionPayload wav;
        ScmcStructure *st;
        ScmcCorrection *corr;
        if (scmc_semantic_encode(&img, 8, 6, NULL, &sem, &sem_size) ||
            scmc_semantic_decode(sem, sem_size, img.width, img.height, &base0) ||
            scmc_structure_encode(&img, &base0, &q, &str, &str_size) ||
            scmc_structure_parse(str, str_size, img.width, img.height, &st) ||
            scmc_structure_rebuild(st, &base0, &sketch_level) ||
            scmc_correction_encode_rd(&img, &sketch_level, q.wavelet_step, q.wavelet_chroma_step, rdo, q.wavelet_dq, q.wavelet_split, &wav) ||
            scmc_correction_parse(&wav, wav.count, img.width, img.height, &corr) ||
            scmc_correction_apply(corr, &sketch_level, &base1) || scmc_sharpen_apply(&base1, corr->sharpen)) {
            fprintf(stderr, "structure_stats: coding %s failed\n", a);
            return 1;
        }
        const size_t wav_size = scmc_correction_payload_bytes(&wav);
        int gw, gh;
        const uint8_t *edges;
        scmc_structure_grid(st, &gw, &gh, &edges);
        size_t nedges = 0;
        for (size_t k = 0; k < (size_t)gw * gh; k++)
            nedges += edges[k];
        const char *base = strrchr(a, '/') ? strrchr(a, '/') + 1 : a;
        char path[1024], stem[256];
        size_t stem_len = strcspn(base, ".");
        if (stem_len >= sizeof(stem))
            stem_len = sizeof(stem) - 1;
        memcpy(stem, base, stem_len);
        stem[stem_len] = '\0';
        if (base1_dir) {
            snprintf(path, sizeof(path), "%s/%s.png", base1_dir, stem);
            if (scmc_image_write(path, &base1, err, sizeof(err)))
                fprintf(stderr, "structure_stats: %s\n", err);
            snprintf(path, sizeof(path), "%s/%s-sketch.png", base1_dir, stem);
            if (scmc_image_write(path, &sketch_level, err, sizeof(err)))
                fprintf(stderr, "structure_stats: %s\n", err);
            snprintf(path, sizeof(path), "%s/%s.bytes", base1_dir, stem);
            FILE *bf = fopen(path, "w");
            if (bf) {
                fprintf(bf, "%zu %zu %zu\n", sem_size, str_size, wav_size);
                fclose(bf);
            }
        }
        if (sketch_dir)
            snprintf(path, sizeof(path), "%s/%s_sketch.png", sketch_dir, stem);
        const size_t png = sketch_png(edges, gw, gh, sketch_dir ? path : NULL);
        const size_t sk = sketch_coded_size(edges, gw, gh);
        const double psnr0 = scmc_psnr(&img, &base0), psnrs = scmc_psnr(&img, &sketch_level);
        const double psnr1 = scmc_psnr(&img, &base1);
        const double ms0 = scmc_msssim(&img, &base0), ms1 = scmc_msssim(&img, &base1);
        printf("%-12.12s %6zu %6zu %6zu %6zu %6zu %6zu %7d %7.2f %7.2f %7.2f %7.4f %7.4f\n", base, sem_size,
               str_size + wav_size, wav_size, sk, png, nedges, scmc_structure_num_samples(st), psnr0, psnrs, psnr1,
               ms0, ms1);
        n++;
        s_sem += (double)sem_size;
        s_bytes += (double)(str_size + wav_size);
        s_wav += (double)wav_size;
        s_psnrs += psnrs;
        s_sketch += (double)sk;
        s_png += (double)png;
        s_edges += (double)nedges;
        s_samples += scmc_structure_num_samples(st);
        s_bpp += 8.0 * (double)(str_size + wav_size) / ((double)img.width * img.height);
        s_psnr0 += psnr0;
        s_psnr1 += psnr1;
        s_ms0 += ms0;
        s_ms1 += ms1;
        free(sem);
        free(str);
        scmc_correction_payload_free(&wav);
        scmc_structure_free(st);
        scmc_correction_free(corr);
        scmc_image_free(&sketch_level);
        scmc_image_free(&img);
        scmc_image_free(&base0);
        scmc_image_free(&base1);
    }
    if (!n)
        return 0;
    printf("%-12s %6.1f %6.1f %6.1f %6.1f %6.1f %6.0f %7.0f %7.2f %7.2f %7.2f %7.4f %7.4f\n", "mean", s_sem / n,
           s_bytes / n, s_wav / n, s_sketch / n, s_png / n, s_edges / n, s_samples / n, s_psnr0 / n, s_psnrs / n,
           s_psnr1 / n, s_ms0 / n, s_ms1 / n);
    printf("structure layer %.4f bpp; sketch: template coder %.1f B, 1-bit PNG %.1f B (%.2fx larger)\n", s_bpp / n,
           s_sketch / n, s_png / n, s_png / s_sketch);
    return 0;
}
