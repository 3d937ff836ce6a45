/* scmc: command-line front end of libscmc. */
#include <errno.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "cli.h"

static const char usage_text[] =
    "Usage: scmc COMMAND [OPTIONS]\n"
    "Scalable cross-modality image codec: semantic text, structure sketch, residual signal.\n"
    "\n"
    "Commands:\n"
    "  encode IN.(png|webp|ppm|pgm|pam) -o OUT.scmc   code an image\n"
    "      --quality Q             signal-layer rate, 1..8 (default 4)\n"
    "      --layers LIST           comma-separated subset of semantic,structure,signal\n"
    "                              (default: every layer this build has)\n"
    "      --caption TEXT          a user caption kept in the semantic layer (UTF-8, <= 1000 bytes;\n"
    "                              default none)\n"
    "      --semantic-detail CxR   colour grid of the semantic text, 2x2..16x12 (default 8x6)\n"
    "      --structure-detail N    structure level: sketch resolution and density and wavelet\n"
    "                              step, 1..5, or auto (default: level 3 without a signal layer,\n"
    "                              with one a wavelet correction that follows --quality)\n"
    "      --keep-layers           write every layer of --layers (default: a signal layer that\n"
    "                              refines the structure level by less than its bytes are worth\n"
    "                              at this quality is left out)\n"
    "      --tune M                what the encoder's choices favour: psnr (default) or ms-ssim\n"
    "                              (less of the finest detail: about 10 % fewer bytes at the\n"
    "                              same MS-SSIM, 3 % more at the same PSNR)\n"
    "      --threads N             worker threads, 1..256 (default 1)\n"
    "      --backend B             neural backend: auto, c, blas or torch (default auto: the\n"
    "                              fastest in this build; streams are the same with any)\n"
    "      -q, --quiet             print nothing but errors\n"
    "      -v, --verbose           also print the semantic text\n"
    "  decode IN.scmc -o OUT.(png|webp|ppm)            decode (a possibly truncated) stream\n"
    "      --up-to LAYER           stop after LAYER (semantic, structure or signal)\n"
    "      --steps K               stop after K sub-layers (default: all)\n"
    "      --progressive PREFIX    also write PREFIX-1.png, PREFIX-2.png, ... one per sub-layer\n"
    "                              (PREFIX.ppm or .webp: PREFIX-1.ppm, ... in that type)\n"
    "      --strict                exit 2, writing nothing, when the stream is truncated or\n"
    "                              damaged (default: warn and write the last good refinement)\n"
    "      --threads N             worker threads, 1..256 (default 1)\n"
    "      --backend B             auto, c, blas or torch (default auto)\n"
    "      --raw-layers            show each reconstruction as the next layer refines it, without\n"
    "                              display filters (the structure level's edge sharpening)\n"
    "      -q, --quiet / -v, --verbose\n"
    "  truncate IN.scmc -o OUT.scmc (--bytes N | --bpp X | --up-to LAYER | --steps K)\n"
    "                              keep the longest prefix of whole sub-layers that fits\n"
    "  info IN.scmc [--json]       layers, sub-layers, CRC status and the semantic text\n"
    "  compare A B [B2 ...] [--json]   PSNR (RGB) and MS-SSIM of each B against A (same size),\n"
    "                              one line (or JSON object) per B\n"
    "  describe IN [--semantic-detail CxR]   print the semantic text of an image\n"
    "\n"
    "  scmc --version | --help\n"
    "Exit status: 0 success, 1 usage error, 2 invalid input or I/O failure.\n";

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("scmc: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("scmc: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd)
{
    fprintf(stderr, "Try 'scmc --help' for the options of '%s'.\n", cmd);
    return EXIT_USAGE;
}

int cli_parse_int(const char *opt, const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    const long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        cli_error("Invalid argument \"%s\" for option %s; should be an integer %ld..%ld", arg, opt, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    const double v = strtod(arg, &end);
    if (errno || end == arg || *end || !(v >= lo && v <= hi)) {
        cli_error("Invalid argument \"%s\" for option %s; should be a number %g..%g", arg, opt, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_backend(const char *arg)
{
    static const char *const names[] = { "auto", "c", "blas", "torch" };
    for (int b = 0; b < 4; b++)
        if (!strcmp(arg, names[b])) {
            if (!scmc_backend_available(b)) {
                cli_error("--backend %s is not available in this build of scmc", arg);
                return -1;
            }
            return b;
        }
    cli_error("Invalid argument \"%s\" for option --backend; should be auto, c, blas or torch", arg);
    return -1;
}

int cli_layer_type(const char *name)
{
    for (int t = SCMC_LAYER_SEMANTIC; t <= SCMC_LAYER_SIGNAL; t++)
        if (!strcmp(name, scmc_layer_name(t)))
            return t;
    return -1;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The networks allocate and free tens of MiB per layer. glibc serves such blocks with fresh
 * mmap()s whose pages fault in one by one on every use (a fifth of a decode's time); one process
 * codes one image, so keeping freed memory in the heap for reuse costs no peak memory. */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

int main(int argc, char **argv)
{
    keep_freed_memory();
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("scmc %s (bitstream format %d)\n", scmc_version(), scmc_format_version());
        return 0;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        { "encode", cli_encode }, { "decode", cli_decode }, { "truncate", cli_truncate },
        { "info", cli_info }, { "compare", cli_compare }, { "describe", cli_describe },
    };
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'scmc --help')", cmd);
    return EXIT_USAGE;
}
