/*
 * SCMC: scalable cross-modality image codec. Public API.
 *
 * An image is coded as a stack of layers (semantic text, structure sketch, residual signal), each
 * made of sub-layers. A decoder may stop after any sub-layer; a stream cut at any byte decodes to
 * the last complete, CRC-valid sub-layer before the cut. See bitstream-spec/container.md.
 *
 * Conventions: functions return 0 (SCMC_OK) or a negative SCMC_ERR_* value; scmc_strerror()
 * names it. Pixels are 8-bit RGB, interleaved, rows `stride` bytes apart.
 */
#ifndef SCMC_SCMC_H
#define SCMC_SCMC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SCMC_BUILDING_LIBRARY) && defined(__GNUC__)
#define SCMC_API __attribute__((visibility("default")))
#else
#define SCMC_API
#endif

#define SCMC_VERSION_MAJOR 0
#define SCMC_VERSION_MINOR 1
#define SCMC_VERSION_PATCH 0
/* Version of the bitstream format written by this library (bitstream-spec/container.md). */
#define SCMC_FORMAT_VERSION 1

/* Largest image accepted by the encoder and by the stream parser. */
#define SCMC_MAX_SIDE 16384
#define SCMC_MAX_PIXELS (1u << 28)

enum {
    SCMC_OK = 0,
    SCMC_ERR_INVALID_ARG = -1,  /* a parameter or setting is out of range */
    SCMC_ERR_NOMEM = -2,        /* allocation failed */
    SCMC_ERR_CORRUPT = -3,      /* the stream is not a valid SCMC stream */
    SCMC_ERR_TRUNCATED = -4,    /* the stream ends inside its header */
    SCMC_ERR_UNSUPPORTED = -5,  /* a format version or feature this library does not have */
    SCMC_ERR_MODEL = -6,        /* the stream needs a model (weights) this library does not have */
    SCMC_ERR_TOO_LARGE = -7,    /* image dimensions over SCMC_MAX_SIDE / SCMC_MAX_PIXELS */
    SCMC_ERR_IO = -8,           /* reading or writing a file failed */
};

/* Layer types, as written in the stream's layer table. */
typedef enum ScmcLayerType {
    SCMC_LAYER_SEMANTIC = 1,
    SCMC_LAYER_STRUCTURE = 2,
    SCMC_LAYER_SIGNAL = 3,
} ScmcLayerType;

/* Bit masks for ScmcEncoderSettings.layers. */
#define SCMC_LAYERS_SEMANTIC (1u << SCMC_LAYER_SEMANTIC)
#define SCMC_LAYERS_STRUCTURE (1u << SCMC_LAYER_STRUCTURE)
#define SCMC_LAYERS_SIGNAL (1u << SCMC_LAYER_SIGNAL)

/* Neural-network backends for the learned layers. Streams, parsed symbols and entropy models are
 * identical across backends; decoded pixels may differ by float rounding (at most 1 in 8 bits). */
typedef enum ScmcBackend {
    SCMC_BACKEND_AUTO = 0,   /* the fastest this build has: blas, else torch, else c */
    SCMC_BACKEND_C = 1,      /* plain C reference loops, always present */
    SCMC_BACKEND_BLAS = 2,   /* im2col + OpenBLAS SGEMM */
    SCMC_BACKEND_TORCH = 3,  /* ATen (libtorch) */
} ScmcBackend;

/* What the encoder's rate-distortion choices minimise besides the rate (ScmcEncoderSettings.tune).
 * Streams of either tuning are the same syntax, decoded alike. */
typedef enum ScmcTune {
    SCMC_TUNE_PSNR = 0,    /* squared error (default) */
    SCMC_TUNE_MS_SSIM = 1, /* multi-scale structural similarity: the finest detail is weighed as
                            * worth less, as MS-SSIM weighs it (docs/structure.md, "Tuning") */
} ScmcTune;

/* Non-zero when this build has the backend. */
SCMC_API int scmc_backend_available(int backend);

/* Longest user caption in bytes (UTF-8). */
#define SCMC_MAX_CAPTION 1000

typedef struct ScmcEncoderSettings {
    int quality;         /* 1..8, default 4: rate of the signal layer */
    unsigned layers;     /* OR of SCMC_LAYERS_*; default: every layer this build can code */
    const char *caption; /* optional user caption, valid UTF-8 <= SCMC_MAX_CAPTION bytes; copied
                          * at scmc_encode(); NULL for none (default) */
    int semantic_cols;   /* colour-layout grid of the semantic text: 2..16 columns, default 8 */
    int semantic_rows;   /* 2..12 rows, default 6 */
    int threads;         /* 1..256 worker threads for the neural layers, default 1 */
    int backend;         /* ScmcBackend, default SCMC_BACKEND_AUTO */
    int structure_detail; /* 0 (default): chosen by the encoder (level 3 without a signal layer;
                           * with one, a wavelet correction that follows `quality`); 1..5: a fixed
                           * level of sketch resolution and density and wavelet step */
    int keep_layers;     /* 0 (default): a signal layer over a structure layer of detail 0 (auto)
                          * is left out of the stream when the squared error it removes is worth
                          * less than its bytes at the rate-distortion weight of the structure
                          * layer's correction; 1: every layer in `layers` is written */
    int tune;            /* ScmcTune, default SCMC_TUNE_PSNR */
    uint8_t reserved[52];
} ScmcEncoderSettings;

typedef struct ScmcDecoderSettings {
    int threads;         /* 1..256, default 1 */
    int backend;         /* ScmcBackend, default SCMC_BACKEND_AUTO */
    int raw_layers;      /* 1: show each reconstruction as the next layer refines it, without the
                          * layers' display filters (the structure layer's edge sharpening);
                          * default 0 */
    uint8_t reserved[60];
} ScmcDecoderSettings;

typedef struct ScmcEncoder ScmcEncoder;
typedef struct ScmcDecoder ScmcDecoder;

/* One refinement of the decoded image: the reconstruction after `step` sub-layers. */
typedef struct ScmcRefinement {
    int step;             /* 1-based count of sub-layers decoded so far */
    ScmcLayerType layer;  /* the layer whose sub-layer produced this refinement */
    int sublayer;         /* 0-based index of that sub-layer within its layer */
    int width, height;
    const uint8_t *rgb;   /* width*height*3 bytes, owned by the decoder, valid during the callback */
} ScmcRefinement;

/* Called once per refinement; return non-zero to stop decoding early (not an error). */
typedef int (*ScmcRefinementCallback)(void *opaque, const ScmcRefinement *r);

/* How a decode ended. */
typedef enum ScmcStopReason {
    SCMC_STOP_COMPLETE = 0,   /* every sub-layer the stream announces was decoded */
    SCMC_STOP_REQUESTED = 1,  /* max_steps reached or the callback asked to stop */
    SCMC_STOP_TRUNCATED = 2,  /* the stream ends inside a sub-layer */
    SCMC_STOP_CRC = 3,        /* a sub-layer's CRC-32 does not match its payload */
    SCMC_STOP_INVALID = 4,    /* a sub-layer passed its CRC but its payload is invalid */
} ScmcStopReason;

typedef struct ScmcDecodeResult {
    int width, height;
    uint8_t *rgb;             /* final reconstruction, width*height*3 bytes; caller frees with
                               * scmc_free() */
    int steps;                /* sub-layers decoded */
    ScmcStopReason stop;
    ScmcLayerType stop_layer; /* for TRUNCATED/CRC/INVALID: where decoding stopped */
    int stop_sublayer;
} ScmcDecodeResult;

SCMC_API const char *scmc_version(void);
SCMC_API int scmc_format_version(void);
SCMC_API const char *scmc_strerror(int err);
/* Name of a layer type ("semantic", "structure", "signal") or "unknown". */
SCMC_API const char *scmc_layer_name(int type);
/* Frees memory the library handed to the caller. */
SCMC_API void scmc_free(void *p);

SCMC_API void scmc_encoder_default_settings(ScmcEncoderSettings *s);
/* Checks every field of *s; on success *out is a new encoder to release with scmc_encoder_close. */
SCMC_API int scmc_encoder_open(ScmcEncoder **out, const ScmcEncoderSettings *s);
/* Encodes width x height RGB pixels. On success *out (caller frees with scmc_free) holds
 * *out_size bytes of stream. */
SCMC_API int scmc_encode(ScmcEncoder *enc, const uint8_t *rgb, int width, int height,
                         size_t stride, uint8_t **out, size_t *out_size);
SCMC_API void scmc_encoder_close(ScmcEncoder **enc);

SCMC_API void scmc_decoder_default_settings(ScmcDecoderSettings *s);
SCMC_API int scmc_decoder_open(ScmcDecoder **out, const ScmcDecoderSettings *s);
/* Decodes up to max_steps sub-layers (<= 0: all) of data[0..size), which may be a truncated or
 * damaged stream. cb (may be NULL) sees every refinement. Returns an error only when not even one
 * refinement can be produced (bad header, first sub-layer unusable); otherwise SCMC_OK with
 * res->stop telling why decoding ended. */
SCMC_API int scmc_decode(ScmcDecoder *dec, const uint8_t *data, size_t size, int max_steps,
                         ScmcRefinementCallback cb, void *opaque, ScmcDecodeResult *res);
SCMC_API void scmc_decoder_close(ScmcDecoder **dec);

/* Stream description without decoding pixels (scmc info). */
typedef struct ScmcSublayerInfo {
    size_t bytes;   /* payload length announced by the layer table */
    int present;    /* the whole payload is inside the data given */
    int crc_ok;     /* present and its CRC-32 matches */
} ScmcSublayerInfo;

typedef struct ScmcLayerInfo {
    int type;                   /* ScmcLayerType or an unknown value (skipped by decoders) */
    uint32_t model_id;          /* identifier of the model the layer was coded with, 0 if none */
    int num_sublayers;
    ScmcSublayerInfo *sublayers;
} ScmcLayerInfo;

typedef struct ScmcStreamInfo {
    int width, height;
    int format_version;
    size_t header_bytes;        /* bytes of container header */
    size_t stream_bytes;        /* header plus every announced sub-layer */
    int num_layers;
    ScmcLayerInfo *layers;
    char *text;                 /* the semantic text (NUL-terminated UTF-8), NULL if absent */
    char *caption;              /* the user caption, NULL if absent */
} ScmcStreamInfo;

/* Parses the header and checks every sub-layer's CRC. On success fills *info; release it with
 * scmc_stream_info_free. */
SCMC_API int scmc_stream_info(const uint8_t *data, size_t size, ScmcStreamInfo *info);
SCMC_API void scmc_stream_info_free(ScmcStreamInfo *info);

/* Truncation: a new stream holding the header and the first `keep_sublayers` sub-layers of
 * data (counted across layers, in stream order), which must have them whole and CRC-valid.
 * *out is freed by the caller with scmc_free. */
SCMC_API int scmc_truncate(const uint8_t *data, size_t size, int keep_sublayers,
                           uint8_t **out, size_t *out_size);

#ifdef __cplusplus
}
#endif
#endif /* SCMC_SCMC_H */
