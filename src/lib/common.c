#include <stdlib.h>

#include "scmc/scmc.h"

#define STR2(x) #x
#define STR(x) STR2(x)

const char *scmc_version(void)
{
    return STR(SCMC_VERSION_MAJOR) "." STR(SCMC_VERSION_MINOR) "." STR(SCMC_VERSION_PATCH);
}

int scmc_format_version(void)
{
    return SCMC_FORMAT_VERSION;
}

const char *scmc_strerror(int err)
{
    switch (err) {
    case SCMC_OK: return "success";
    case SCMC_ERR_INVALID_ARG: return "invalid argument";
    case SCMC_ERR_NOMEM: return "out of memory";
    case SCMC_ERR_CORRUPT: return "not a valid SCMC stream";
    case SCMC_ERR_TRUNCATED: return "stream truncated inside its header";
    case SCMC_ERR_UNSUPPORTED: return "unsupported format version or feature";
    case SCMC_ERR_MODEL: return "stream needs a model this decoder does not have";
    case SCMC_ERR_TOO_LARGE: return "image dimensions too large";
    case SCMC_ERR_IO: return "input/output error";
    default: return "unknown error";
    }
}

const char *scmc_layer_name(int type)
{
    switch (type) {
    case SCMC_LAYER_SEMANTIC: return "semantic";
    case SCMC_LAYER_STRUCTURE: return "structure";
    case SCMC_LAYER_SIGNAL: return "signal";
    default: return "unknown";
    }
}

void scmc_free(void *p)
{
    free(p);
}
