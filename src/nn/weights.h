/* Weight files (docs/weights.md): named float32 / int32 tensors and a trailing CRC-32 that is the
 * model id streams carry. */
#ifndef SCMC_WEIGHTS_H
#define SCMC_WEIGHTS_H
#include <stddef.h>
#include <stdint.h>

enum { SCMC_DTYPE_F32 = 1, SCMC_DTYPE_I32 = 2 };

typedef struct ScmcWeightTensor {
    char name[64];
    int dtype;
    int ndim;
    uint32_t dims[4];
    size_t count;
    const void *data;    /* points into the file's buffer (4-byte aligned copy) */
} ScmcWeightTensor;

typedef struct ScmcWeights {
    uint32_t id;         /* CRC-32 of the file before its last 4 bytes */
    int count;
    ScmcWeightTensor *tensors;
    uint8_t *buffer;     /* owned copy of the file */
} ScmcWeights;

/* Parses a weight file held in memory (copied). Returns SCMC_OK or SCMC_ERR_CORRUPT with a reason
 * in err. */
int scmc_weights_parse(const uint8_t *data, size_t size, ScmcWeights *w, char *err, size_t errlen);
void scmc_weights_free(ScmcWeights *w);
/* The tensor called name with that dtype and element count (0: any), or NULL. */
const ScmcWeightTensor *scmc_weights_get(const ScmcWeights *w, const char *name, int dtype, size_t count);
#endif
