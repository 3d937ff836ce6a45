#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "cli.h"
#include "image/atomic_file.h"

/* Whole, CRC-valid sub-layers at the start of the stream. */
static int usable_sublayers(const ScmcStreamInfo *info)
{
    int n = 0;
    for (int l = 0; l < info->num_layers; l++)
        for (int s = 0; s < info->layers[l].num_sublayers; s++) {
            if (!info->layers[l].sublayers[s].crc_ok)
                return n;
            n++;
        }
    return n;
}

int cli_truncate(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, 0, 'o' }, { "bytes", required_argument, 0, 'B' },
        { "bpp", required_argument, 0, 'R' }, { "up-to", required_argument, 0, 'U' },
        { "steps", required_argument, 0, 'S' }, { 0, 0, 0, 0 },
    };
    const char *out_path = NULL;
    long bytes = -1, steps = 0;
    double bpp = -1;
    int up_to = 0, modes = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'B': if (cli_parse_int("--bytes", optarg, 1, 1L << 40, &bytes)) return EXIT_USAGE; modes++; break;
        case 'R': if (cli_parse_double("--bpp", optarg, 1e-9, 1e6, &bpp)) return EXIT_USAGE; modes++; break;
        case 'U':
            up_to = cli_layer_type(optarg);
            if (up_to < 0) {
                cli_error("Invalid argument \"%s\" for option --up-to; should be semantic, structure or signal", optarg);
                return EXIT_USAGE;
            }
            modes++;
            break;
        case 'S': if (cli_parse_int("--steps", optarg, 1, 1 << 20, &steps)) return EXIT_USAGE; modes++; break;
        default: return cli_usage_error("truncate");
        }
    }
    if (optind != argc - 1 || !out_path || modes != 1) {
        cli_error("truncate needs one input stream, -o OUTPUT and one of --bytes, --bpp, --up-to, --steps");
        return cli_usage_error("truncate");
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
    const int usable = usable_sublayers(&info);
    int keep = 0, status = 0;
    if (usable == 0) {
        cli_error("%s: the first sub-layer is missing or damaged", in_path);
        status = EXIT_INPUT;
    } else if (steps) {
        keep = steps < usable ? (int)steps : usable;
    } else if (up_to) {
        for (int l = 0; l < info.num_layers; l++)
            if (info.layers[l].type <= up_to)
                keep += info.layers[l].num_sublayers;
        if (keep == 0) {
            cli_error("%s has no sub-layer up to the %s layer", in_path, scmc_layer_name(up_to));
            status = EXIT_INPUT;
        }
        keep = keep < usable ? keep : usable;
    } else {
        if (bpp > 0)
            bytes = (long)(bpp * info.width * (double)info.height / 8.0);
        uint8_t *tmp;
        size_t tsize;
        for (keep = usable; keep > 0; keep--) {
            if (scmc_truncate(data, size, keep, &tmp, &tsize))
                break;
            scmc_free(tmp);
            if (tsize <= (size_t)bytes)
                break;
            if (keep == 1) {
                cli_error("%ld bytes cannot hold the header and the first sub-layer: the minimum is %zu bytes", bytes, tsize);
                status = EXIT_INPUT;
                keep = 0;
                break;
            }
        }
    }
    scmc_stream_info_free(&info);
    if (!status) {
        uint8_t *out;
        size_t osize;
        r = scmc_truncate(data, size, keep, &out, &osize);
        if (r) {
            cli_error("%s: %s", in_path, scmc_strerror(r));
            status = EXIT_INPUT;
        } else {
            if (scmc_write_file(out_path, out, osize, err, sizeof(err))) {
                cli_error("%s", err);
                status = EXIT_INPUT;
            }
            scmc_free(out);
        }
    }
    free(data);
    return status;
}
