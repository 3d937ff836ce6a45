#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "cli.h"
#include "image/atomic_file.h"
#include "image/image.h"

/* Parses --structure-detail: "auto" (0) or a level 1..5. */
static int parse_structure_detail(const char *arg, int *detail)
{
    if (!strcmp(arg, "auto")) {
        *detail = 0;
        return 0;
    }
    char *end;
    const long v = strtol(arg, &end, 10);
    if (end == arg || *end || v < 1 || v > 5) {
        cli_error("Invalid argument \"%s\" for option --structure-detail; should be auto or an integer 1..5", arg);
        return -1;
    }
    *detail = (int)v;
    return 0;
}

/* Parses "CxR" (e.g. 8x6) for --semantic-detail. */
static int parse_detail(const char *arg, int *cols, int *rows)
{
    int c, r, n = 0;
    if (sscanf(arg, "%dx%d%n", &c, &r, &n) != 2 || arg[n] || c < 2 || c > 16 || r < 2 || r > 12) {
        cli_error("Invalid argument \"%s\" for option --semantic-detail; should be COLSxROWS, 2x2..16x12", arg);
        return -1;
    }
    *cols = c;
    *rows = r;
    return 0;
}

static int parse_layers(const char *arg, unsigned *mask)
{
    char buf[128];
    if (strlen(arg) >= sizeof(buf)) {
        cli_error("Invalid argument for option --layers; should be a list of semantic,structure,signal");
        return -1;
    }
    strcpy(buf, arg);
    *mask = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const int t = cli_layer_type(tok);
        if (t < 0) {
            cli_error("Invalid argument \"%s\" for option --layers; should be a list of semantic,structure,signal", arg);
            return -1;
        }
        *mask |= 1u << t;
    }
    if (!*mask) {
        cli_error("Invalid argument \"%s\" for option --layers; should name at least one layer", arg);
        return -1;
    }
    return 0;
}

int cli_encode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, 0, 'o' }, { "quality", required_argument, 0, 'Q' },
        { "layers", required_argument, 0, 'L' }, { "caption", required_argument, 0, 'C' },
        { "semantic-detail", required_argument, 0, 'D' }, { "threads", required_argument, 0, 'T' },
        { "structure-detail", required_argument, 0, 'S' },
        { "backend", required_argument, 0, 'K' }, { "keep-layers", no_argument, 0, 'P' },
        { "tune", required_argument, 0, 'U' },
        { "quiet", no_argument, 0, 'q' }, { "verbose", no_argument, 0, 'v' }, { 0, 0, 0, 0 },
    };
    ScmcEncoderSettings s;
    scmc_encoder_default_settings(&s);
    const char *out_path = NULL;
    int quiet = 0, verbose = 0, c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qv", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'Q': if (cli_parse_int("--quality", optarg, 1, 8, &v)) return EXIT_USAGE; s.quality = (int)v; break;
        case 'L': if (parse_layers(optarg, &s.layers)) return EXIT_USAGE; break;
        case 'C': s.caption = optarg; break;
        case 'D': if (parse_detail(optarg, &s.semantic_cols, &s.semantic_rows)) return EXIT_USAGE; break;
        case 'S': if (parse_structure_detail(optarg, &s.structure_detail)) return EXIT_USAGE; break;
        case 'T': if (cli_parse_int("--threads", optarg, 1, 256, &v)) return EXIT_USAGE; s.threads = (int)v; break;
        case 'K': if ((s.backend = cli_parse_backend(optarg)) < 0) return EXIT_USAGE; break;
        case 'P': s.keep_layers = 1; break;
        case 'U':
            if (!strcmp(optarg, "psnr"))
                s.tune = SCMC_TUNE_PSNR;
            else if (!strcmp(optarg, "ms-ssim"))
                s.tune = SCMC_TUNE_MS_SSIM;
            else {
                cli_error("Invalid argument \"%s\" for option --tune; should be psnr or ms-ssim", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        default: return cli_usage_error("encode");
        }
    }
    if (optind != argc - 1 || !out_path) {
        cli_error("encode needs one input image and -o OUTPUT");
        return cli_usage_error("encode");
    }
    const char *in_path = argv[optind];
    if (s.caption) {
        const size_t n = strlen(s.caption);
        if (n > SCMC_MAX_CAPTION) {
            cli_error("--caption is %zu bytes; at most %d are allowed", n, SCMC_MAX_CAPTION);
            return EXIT_USAGE;
        }
    }
    ScmcEncoder *enc;
    int r = scmc_encoder_open(&enc, &s);
    if (r == SCMC_ERR_UNSUPPORTED) {
        ScmcEncoderSettings d;
        scmc_encoder_default_settings(&d);
        for (int t = SCMC_LAYER_SEMANTIC; t <= SCMC_LAYER_SIGNAL; t++)
            if ((s.layers & (1u << t)) && !(d.layers & (1u << t)))
                cli_error("--layers: the %s layer is not available in this version of scmc", scmc_layer_name(t));
        return EXIT_USAGE;
    }
    if (r == SCMC_ERR_INVALID_ARG && s.caption) {
        cli_error("--caption is not valid UTF-8 text");
        return EXIT_USAGE;
    }
    if (r) {
        cli_error("%s", scmc_strerror(r));
        return EXIT_USAGE;
    }
    ScmcImage img;
    ScmcReadNotes notes;
    char err[512];
    r = scmc_image_read(in_path, &img, &notes, err, sizeof(err));
    if (r) {
        cli_error("%s", err);
        scmc_encoder_close(&enc);
        return EXIT_INPUT;
    }
    if (notes.alpha_dropped && !quiet)
        cli_warning("%s: alpha channel dropped (SCMC codes RGB)", in_path);
    uint8_t *stream;
    size_t size;
    r = scmc_encode(enc, img.rgb, img.width, img.height, (size_t)img.width * 3, &stream, &size);
    scmc_encoder_close(&enc);
    if (r) {
        cli_error("encoding %s failed: %s", in_path, scmc_strerror(r));
        scmc_image_free(&img);
        return EXIT_INPUT;
    }
    r = scmc_write_file(out_path, stream, size, err, sizeof(err));
    if (r) {
        cli_error("%s", err);
        scmc_free(stream);
        scmc_image_free(&img);
        return EXIT_INPUT;
    }
    if (!quiet) {
        ScmcStreamInfo info;
        if (!scmc_stream_info(stream, size, &info)) {
            fprintf(stderr, "%s %dx%d -> %s: %zu bytes, %.5f bpp (header %zu B", in_path, img.width, img.height,
                    out_path, size, size * 8.0 / ((double)img.width * img.height), info.header_bytes);
            for (int l = 0; l < info.num_layers; l++) {
                size_t b = 0;
                for (int k = 0; k < info.layers[l].num_sublayers; k++)
                    b += info.layers[l].sublayers[k].bytes;
                fprintf(stderr, ", %s %zu B", scmc_layer_name(info.layers[l].type), b);
            }
            fprintf(stderr, ")\n");
            int has_signal = 0;
            for (int l = 0; l < info.num_layers; l++)
                has_signal |= info.layers[l].type == SCMC_LAYER_SIGNAL;
            if ((s.layers & SCMC_LAYERS_SIGNAL) && !has_signal)
                fprintf(stderr, "%s: the signal layer was left out: it refines the structure level by less than its "
                                "bytes are worth at this quality (--keep-layers writes it)\n", out_path);
            if (verbose && info.text)
                fprintf(stderr, "%s\n", info.text);
            scmc_stream_info_free(&info);
        }
    }
    scmc_free(stream);
    scmc_image_free(&img);
    return 0;
}
