#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scmc/scmc.h"
#include "atomic_file.h"

/* Room after the target's name for ".tmp.", a pid, "." and a counter, and the NUL. */
#define TMP_SUFFIX_MAX 40

/* Creates a new file beside path, named path.tmp.PID.K, and returns its descriptor (-1 and errno
 * when it cannot). Not mkstemp(): that makes the file 0600, so every output would end up
 * unreadable by others whatever the umask; open() with 0666 lets the umask decide, as for any
 * file a tool writes. A target that already exists keeps its permissions across the rename. */
static int create_temporary(char *tmp_path, size_t size, const char *path)
{
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp_path, size, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
        const int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            struct stat st;
            if (fd >= 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
                (void)fchmod(fd, st.st_mode & 0777);
            return fd;
        }
    }
    return -1;
}

int scmc_atomic_open(ScmcAtomicFile *af, const char *path, char *err, size_t errlen)
{
    memset(af, 0, sizeof(*af));
    const size_t n = strlen(path);
    af->path = strdup(path);
    af->tmp_path = malloc(n + TMP_SUFFIX_MAX);
    if (!af->path || !af->tmp_path) {
        scmc_atomic_abort(af);
        snprintf(err, errlen, "out of memory");
        return SCMC_ERR_NOMEM;
    }
    const int fd = create_temporary(af->tmp_path, n + TMP_SUFFIX_MAX, path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        free(af->tmp_path);
        af->tmp_path = NULL;
        scmc_atomic_abort(af);
        return SCMC_ERR_IO;
    }
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        close(fd);
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        scmc_atomic_abort(af);
        return SCMC_ERR_IO;
    }
    return SCMC_OK;
}

int scmc_atomic_commit(ScmcAtomicFile *af, char *err, size_t errlen)
{
    const int bad = ferror(af->f) | (fflush(af->f) != 0) | (fsync(fileno(af->f)) != 0 && errno != EINVAL);
    const int bad_close = fclose(af->f) != 0;
    af->f = NULL;
    if (bad || bad_close || rename(af->tmp_path, af->path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", af->path, strerror(errno));
        scmc_atomic_abort(af);
        return SCMC_ERR_IO;
    }
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof(*af));
    return SCMC_OK;
}

void scmc_atomic_abort(ScmcAtomicFile *af)
{
    if (af->f)
        fclose(af->f);
    if (af->tmp_path)
        unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof(*af));
}

int scmc_write_file(const char *path, const uint8_t *data, size_t size, char *err, size_t errlen)
{
    ScmcAtomicFile af;
    const int r = scmc_atomic_open(&af, path, err, errlen);
    if (r)
        return r;
    if (size && fwrite(data, 1, size, af.f) != size) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        scmc_atomic_abort(&af);
        return SCMC_ERR_IO;
    }
    return scmc_atomic_commit(&af, err, errlen);
}

int scmc_read_file(const char *path, size_t max_size, uint8_t **data, size_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return SCMC_ERR_IO;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= max_size) {
                snprintf(err, errlen, "%s: file larger than %zu bytes", path, max_size);
                free(buf);
                fclose(f);
                return SCMC_ERR_TOO_LARGE;
            }
            cap = cap * 2 > max_size ? max_size + 1 : cap * 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    const int rerr = ferror(f);
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return SCMC_ERR_NOMEM;
    }
    if (rerr) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return SCMC_ERR_IO;
    }
    if (n > max_size) {
        free(buf);
        snprintf(err, errlen, "%s: file larger than %zu bytes", path, max_size);
        return SCMC_ERR_TOO_LARGE;
    }
    *data = buf;
    *size = n;
    return SCMC_OK;
}
