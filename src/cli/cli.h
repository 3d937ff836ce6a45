/* Shared pieces of the `scmc` command. Exit codes: 0 success, 1 usage error, 2 invalid input or
 * I/O failure. Messages go to stderr, one line each, prefixed "scmc: ". */
#ifndef SCMC_CLI_H
#define SCMC_CLI_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 1
#define EXIT_INPUT 2

/* Largest stream file read. */
#define SCMC_MAX_STREAM_BYTES ((size_t)1 << 30)

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Integer option in [lo, hi]; prints the standard message and returns -1 when invalid. */
int cli_parse_int(const char *opt, const char *arg, long lo, long hi, long *out);
int cli_parse_double(const char *opt, const char *arg, double lo, double hi, double *out);
/* --backend value to ScmcBackend (checked against this build); -1 after printing the error. */
int cli_parse_backend(const char *arg);
/* Layer name to type, or -1. */
int cli_layer_type(const char *name);
/* Writes s as a JSON string literal. */
void cli_json_string(FILE *f, const char *s);
/* Says what subcommand usage to read after a usage error. */
int cli_usage_error(const char *cmd);

int cli_encode(int argc, char **argv);
int cli_decode(int argc, char **argv);
int cli_truncate(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_compare(int argc, char **argv);
int cli_describe(int argc, char **argv);
#endif
