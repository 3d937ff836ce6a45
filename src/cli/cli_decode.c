#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scmc/scmc.h"
#include "cli.h"
#include "image/atomic_file.h"
#include "image/image.h"

typedef struct Progressive {
    const char *prefix;
    int prefix_len;   /* the prefix without its image extension, if it had one */
    const char *ext;  /* ".png" unless the prefix ended with another output type */
    int quiet;
    int failed;
} Progressive;

static int on_refinement(void *opaque, const ScmcRefinement *r)
{
    Progressive *p = opaque;
    if (!p->prefix)
        return 0;
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%.*s-%d%s", p->prefix_len, p->prefix, r->step, p->ext);
    const ScmcImage img = { r->width, r->height, (uint8_t *)r->rgb };
    if (scmc_image_write(path, &img, err, sizeof(err))) {
        cli_error("%s", err);
        p->failed = 1;
        return 1;
    }
    if (!p->quiet)
        fprintf(stderr, "%s: step %d, %s sub-layer %d\n", path, r->step, scmc_layer_name(r->layer), r->sublayer + 1);
    return 0;
}

/* Sub-layers up to and including the last layer of type <= up_to. */
static int steps_up_to(const ScmcStreamInfo *info, int up_to)
{
    int n = 0;
    for (int l = 0; l < info->num_layers; l++)
        if (info->layers[l].type <= up_to)
            n += info->layers[l].num_sublayers;
    return n;
}

int cli_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, 0, 'o' }, { "up-to", required_argument, 0, 'U' },
        { "steps", required_argument, 0, 'S' }, { "progressive", required_argument, 0, 'P' },
        { "strict", no_argument, 0, 'X' }, { "threads", required_argument, 0, 'T' },
        { "backend", required_argument, 0, 'K' }, { "raw-layers", no_argument, 0, 'R' },
        { "quiet", no_argument, 0, 'q' }, { "verbose", no_argument, 0, 'v' }, { 0, 0, 0, 0 },
    };
    ScmcDecoderSettings s;
    scmc_decoder_default_settings(&s);
    const char *out_path = NULL;
    Progressive prog = { NULL, 0, ".png", 0, 0 };
    int strict = 0, verbose = 0, up_to = 0, c;
    long steps = 0, v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qv", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'U':
            up_to = cli_layer_type(optarg);
            if (up_to < 0) {
                cli_error("Invalid argument \"%s\" for option --up-to; should be semantic, structure or signal", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'S': if (cli_parse_int("--steps", optarg, 1, 1 << 20, &steps)) return EXIT_USAGE; break;
        case 'P': prog.prefix = optarg; break;
        case 'X': strict = 1; break;
        case 'T': if (cli_parse_int("--threads", optarg, 1, 256, &v)) return EXIT_USAGE; s.threads = (int)v; break;
        case 'K': if ((s.backend = cli_parse_backend(optarg)) < 0) return EXIT_USAGE; break;
        case 'R': s.raw_layers = 1; break;
        case 'q': prog.quiet = 1; break;
        case 'v': verbose = 1; break;
        default: return cli_usage_error("decode");
        }
    }
    if (optind != argc - 1 || (!out_path && !prog.prefix)) {
        cli_error("decode needs one input stream and -o OUTPUT (or --progressive PREFIX)");
        return cli_usage_error("decode");
    }
    if (up_to && steps) {
        cli_error("--up-to and --steps exclude each other");
        return EXIT_USAGE;
    }
    if (out_path && !scmc_image_output_extension(out_path)) { /* refuse an unknown output type before decoding */
        cli_error("%s: unknown output image type (use .png, .webp or .ppm)", out_path);
        return EXIT_USAGE;
    }
    if (prog.prefix) { /* "steps.ppm" writes steps-1.ppm, steps-2.ppm, ...; a bare prefix writes PNG */
        const char *ext = scmc_image_output_extension(prog.prefix);
        prog.prefix_len = (int)(ext ? (size_t)(ext - prog.prefix) : strlen(prog.prefix));
        if (ext)
            prog.ext = ext;
    }
    const char *in_path = argv[optind];
    uint8_t *data;
    size_t size;
    char err[512];
    int r = scmc_read_file(in_path, SCMC_MAX_STREAM_BYTES, &data, &size, err, sizeof(err));
    if (r) {
        cli_error("%s", err);
        return EXIT_INPUT;
    }
    ScmcStreamInfo info;
    r = scmc_stream_info(data, size, &info);
    if (r) {
        cli_error("%s: %s", in_path, scmc_strerror(r));
        free(data);
        return EXIT_INPUT;
    }
    if (up_to)
        steps = steps_up_to(&info, up_to);
    if (verbose && info.text)
        fprintf(stderr, "%s\n", info.text);
    scmc_stream_info_free(&info);
    if (up_to && steps == 0) {
        cli_error("%s has no sub-layer up to the %s layer", in_path, scmc_layer_name(up_to));
        free(data);
        return EXIT_INPUT;
    }
    ScmcDecoder *dec;
    r = scmc_decoder_open(&dec, &s);
    if (r) {
        cli_error("%s", scmc_strerror(r));
        free(data);
        return EXIT_USAGE;
    }
    ScmcDecodeResult res;
    r = scmc_decode(dec, data, size, (int)steps, prog.prefix ? on_refinement : NULL, &prog, &res);
    scmc_decoder_close(&dec);
    free(data);
    if (r) {
        cli_error("%s: %s", in_path, scmc_strerror(r));
        return EXIT_INPUT;
    }
    int status = prog.failed ? EXIT_INPUT : 0;
    if (res.stop == SCMC_STOP_TRUNCATED || res.stop == SCMC_STOP_CRC || res.stop == SCMC_STOP_INVALID) {
        static const char *const why[] = { "", "", "truncated", "damaged (CRC mismatch)", "invalid" };
        if (strict) {
            /* All or nothing: the steps written on the way are taken back too. */
            cli_error("%s: stream %s at %s sub-layer %d (--strict: no output written)", in_path, why[res.stop],
                      scmc_layer_name(res.stop_layer), res.stop_sublayer + 1);
            for (int k = 1; prog.prefix && k <= res.steps; k++) {
                char path[4096];
                snprintf(path, sizeof(path), "%.*s-%d%s", prog.prefix_len, prog.prefix, k, prog.ext);
                remove(path);
            }
            scmc_free(res.rgb);
            return EXIT_INPUT;
        }
        cli_warning("%s: stream %s at %s sub-layer %d; using the %d sub-layer%s before it", in_path, why[res.stop],
                    scmc_layer_name(res.stop_layer), res.stop_sublayer + 1, res.steps, res.steps == 1 ? "" : "s");
    }
    if (out_path && !prog.failed) {
        const ScmcImage img = { res.width, res.height, res.rgb };
        if (scmc_image_write(out_path, &img, err, sizeof(err))) {
            cli_error("%s", err);
            status = EXIT_INPUT;
        } else if (!prog.quiet) {
            fprintf(stderr, "%s: %dx%d after %d sub-layer%s\n", out_path, res.width, res.height, res.steps, res.steps == 1 ? "" : "s");
        }
    }
    scmc_free(res.rgb);
    return status;
}
