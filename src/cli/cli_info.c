/* scmc info, scmc compare and scmc describe. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "cli.h"
#include "image/atomic_file.h"
#include "image/image.h"
#include "layers/semantic/describe.h"
#include "metrics/metrics.h"

static int json_flag(int argc, char **argv, const char *cmd, int *json)
{
    static const struct option opts[] = { { "json", no_argument, 0, 'j' }, { 0, 0, 0, 0 } };
    int c;
    *json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'j')
            return cli_usage_error(cmd);
        *json = 1;
    }
    return 0;
}

static size_t layer_bytes(const ScmcLayerInfo *l)
{
    size_t b = 0;
    for (int s = 0; s < l->num_sublayers; s++)
        b += l->sublayers[s].bytes;
    return b;
}

static int layer_complete(const ScmcLayerInfo *l)
{
    for (int s = 0; s < l->num_sublayers; s++)
        if (!l->sublayers[s].crc_ok)
            return 0;
    return 1;
}

int cli_info(int argc, char **argv)
{
    int json;
    if (json_flag(argc, argv, "info", &json))
        return EXIT_USAGE;
    if (optind != argc - 1) {
        cli_error("info needs one input stream");
        return cli_usage_error("info");
    }
    const char *path = argv[optind];
    uint8_t *data;
    size_t size;
    char err[512];
    int r = scmc_read_file(path, SCMC_MAX_STREAM_BYTES, &data, &size, err, sizeof(err));
    if (r) {
        cli_error("%s", err);
        return EXIT_INPUT;
    }
    ScmcStreamInfo info;
    r = scmc_stream_info(data, size, &info);
    free(data);
    if (r) {
        cli_error("%s: %s", path, scmc_strerror(r));
        return EXIT_INPUT;
    }
    const double bpp = size * 8.0 / ((double)info.width * info.height);
    if (json) {
        printf("{\"width\": %d, \"height\": %d, \"bytes\": %zu, \"bpp\": %.6f, \"format_version\": %d, "
               "\"header_bytes\": %zu, \"stream_bytes\": %zu, \"layers\": [",
               info.width, info.height, size, bpp, info.format_version, info.header_bytes, info.stream_bytes);
        for (int l = 0; l < info.num_layers; l++) {
            const ScmcLayerInfo *li = &info.layers[l];
            printf("%s{\"name\": \"%s\", \"type\": %d, \"model_id\": \"%08x\", \"bytes\": %zu, \"sublayers\": [",
                   l ? ", " : "", scmc_layer_name(li->type), li->type, li->model_id, layer_bytes(li));
            for (int s = 0; s < li->num_sublayers; s++)
                printf("%s{\"bytes\": %zu, \"present\": %s, \"crc_ok\": %s}", s ? ", " : "", li->sublayers[s].bytes,
                       li->sublayers[s].present ? "true" : "false", li->sublayers[s].crc_ok ? "true" : "false");
            printf("], \"complete\": %s}", layer_complete(li) ? "true" : "false");
        }
        printf("], \"text\": ");
        if (info.text)
            cli_json_string(stdout, info.text);
        else
            printf("null");
        printf(", \"caption\": ");
        if (info.caption)
            cli_json_string(stdout, info.caption);
        else
            printf("null");
        printf("}\n");
    } else {
        printf("%s: %dx%d, %zu bytes, %.5f bpp, format %d, header %zu bytes\n", path, info.width, info.height, size,
               bpp, info.format_version, info.header_bytes);
        for (int l = 0; l < info.num_layers; l++) {
            const ScmcLayerInfo *li = &info.layers[l];
            printf("  layer %-9s model %08x  %zu bytes in %d sub-layer%s:", scmc_layer_name(li->type), li->model_id,
                   layer_bytes(li), li->num_sublayers, li->num_sublayers == 1 ? "" : "s");
            for (int s = 0; s < li->num_sublayers; s++)
                printf(" %zu%s", li->sublayers[s].bytes,
                       li->sublayers[s].crc_ok ? "" : li->sublayers[s].present ? " (CRC mismatch)" : " (missing)");
            printf("\n");
        }
        if (info.stream_bytes > size)
            printf("  truncated: %zu of %zu bytes present\n", size, info.stream_bytes);
        if (info.caption)
            printf("caption: %s\n", info.caption);
        if (info.text)
            printf("text:\n%s\n", info.text);
    }
    scmc_stream_info_free(&info);
    return 0;
}

/* scmc compare A B [B2 ...]: each B against A, one line (or JSON object) per B. */
int cli_compare(int argc, char **argv)
{
    int json;
    if (json_flag(argc, argv, "compare", &json))
        return EXIT_USAGE;
    if (argc - optind < 2) {
        cli_error("compare needs a reference image and at least one image to compare");
        return cli_usage_error("compare");
    }
    ScmcImage a;
    char err[512];
    if (scmc_image_read(argv[optind], &a, NULL, err, sizeof(err))) {
        cli_error("%s", err);
        return EXIT_INPUT;
    }
    int status = 0;
    for (int i = optind + 1; i < argc && !status; i++) {
        ScmcImage b;
        if (scmc_image_read(argv[i], &b, NULL, err, sizeof(err))) {
            cli_error("%s", err);
            status = EXIT_INPUT;
            break;
        }
        if (a.width != b.width || a.height != b.height) {
            cli_error("images differ in size (%dx%d and %dx%d)", a.width, a.height, b.width, b.height);
            status = EXIT_INPUT;
        } else {
            const double psnr = scmc_psnr(&a, &b), ms = scmc_msssim(&a, &b);
            if (json) {
                printf("{\"psnr\": ");
                if (isinf(psnr))
                    printf("null");
                else
                    printf("%.4f", psnr);
                printf(", \"msssim\": %.6f, \"mse\": %.6f}\n", ms, scmc_mse(&a, &b));
            } else if (isinf(psnr)) {
                printf("PSNR inf dB  MS-SSIM %.6f\n", ms);
            } else {
                printf("PSNR %.4f dB  MS-SSIM %.6f\n", psnr, ms);
            }
        }
        scmc_image_free(&b);
    }
    scmc_image_free(&a);
    return status;
}

int cli_describe(int argc, char **argv)
{
    static const struct option opts[] = { { "semantic-detail", required_argument, 0, 'D' }, { 0, 0, 0, 0 } };
    int cols = 8, rows = 6, c, n = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'D')
            return cli_usage_error("describe");
        if (sscanf(optarg, "%dx%d%n", &cols, &rows, &n) != 2 || optarg[n] || cols < 2 || cols > 16 || rows < 2 || rows > 12) {
            cli_error("Invalid argument \"%s\" for option --semantic-detail; should be COLSxROWS, 2x2..16x12", optarg);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("describe needs one input image");
        return cli_usage_error("describe");
    }
    ScmcImage img;
    char err[512], *text;
    if (scmc_image_read(argv[optind], &img, NULL, err, sizeof(err))) {
        cli_error("%s", err);
        return EXIT_INPUT;
    }
    const int r = scmc_describe(&img, cols, rows, &text);
    scmc_image_free(&img);
    if (r) {
        cli_error("%s", scmc_strerror(r));
        return EXIT_INPUT;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}
