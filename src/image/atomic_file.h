/* Output files written whole or not at all: data goes to a temporary file beside the target,
 * which is renamed over it on commit and removed on abort. */
#ifndef SCMC_ATOMIC_FILE_H
#define SCMC_ATOMIC_FILE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ScmcAtomicFile {
    FILE *f;
    char *tmp_path;
    char *path;
} ScmcAtomicFile;

int scmc_atomic_open(ScmcAtomicFile *af, const char *path, char *err, size_t errlen);
int scmc_atomic_commit(ScmcAtomicFile *af, char *err, size_t errlen);
void scmc_atomic_abort(ScmcAtomicFile *af);
/* Whole buffer to path, atomically. */
int scmc_write_file(const char *path, const uint8_t *data, size_t size, char *err, size_t errlen);
/* Whole file into a new buffer (free()), at most max_size bytes. */
int scmc_read_file(const char *path, size_t max_size, uint8_t **data, size_t *size, char *err, size_t errlen);
#endif
