/* What every layer provides to the library: the encoder/decoder loops in encoder.c and decoder.c
 * are the same for all layers (DESIGN.md section 1). */
#ifndef SCMC_LAYER_H
#define SCMC_LAYER_H
#include <stddef.h>
#include <stdint.h>

#include "scmc/scmc.h"
#include "container/container.h"
#include "image/image.h"
#include "nn/nn_ops.h"

typedef struct ScmcPayloads {
    int count;
    uint8_t *data[SCMC_MAX_SUBLAYERS];   /* each freed with free() */
    size_t size[SCMC_MAX_SUBLAYERS];
} ScmcPayloads;

void scmc_payloads_free(ScmcPayloads *p);
/* The bytes payloads add to a stream: each payload with its entry in the layer table (the
 * layer's own entry not counted). */
double scmc_payloads_stream_bytes(const ScmcPayloads *p);

/* The encoders' rule for what is optional in a stream (the signal layer over the structure level,
 * the latents over the restored base): it stays only if the squared RGB error it removes exceeds
 * lambda times its bits, lambda being the structure correction's rate-distortion weight, the slope
 * of the curve it would otherwise be spent on. An encoder decision only. */
static inline int scmc_pays(double squared_error_removed, double lambda, double bytes)
{
    return squared_error_removed > lambda * 8.0 * bytes;
}

/* How the neural layers run: backend ops and thread count (from the settings). */
typedef struct ScmcRunConfig {
    const ScmcNnOps *ops;
    int threads;
} ScmcRunConfig;

typedef struct ScmcLayerOps {
    ScmcLayerType type;
    /* Identifier of the model the layer codes with (written in the layer table). */
    uint32_t (*model_id)(void);
    /* Codes img as refinements of base (the decoder's reconstruction so far) into sub-layers. A
     * layer that already computed what a decoder makes of them, by the decoder's own code, may hand
     * it over in recon (allocated; left empty otherwise): the library then does not decode the
     * payloads again to learn it (the closed loop, encoder.c). */
    int (*encode)(const ScmcImage *img, const ScmcImage *base, const ScmcEncoderSettings *s,
                  const ScmcRunConfig *run, ScmcPayloads *out, ScmcImage *recon);
    /* Decoder side: a state per stream; one dec_sublayer call per sub-layer, in order, parses it
     * into the state (which it leaves unchanged when it fails); render paints the reconstruction
     * after the sub-layers parsed so far on top of base, the reconstruction before this layer
     * (out is allocated by the layer). Parsing and painting are apart so that a decoder that
     * wants only the last refinement paints once. */
    int (*dec_open)(void **state, int width, int height, const ScmcRunConfig *run);
    int (*dec_sublayer)(void *state, int index, const uint8_t *data, size_t size);
    int (*render)(void *state, const ScmcImage *base, ScmcImage *out);
    /* Optional display filter: applied in place to a copy of render's output when that is what the
     * decoder shows (a refinement handed to the callback, or the output of a stream that ends in
     * this layer). The next layer refines the unfiltered reconstruction, so a filter that suits
     * the eye but not the next layer's model costs that layer nothing. */
    int (*present)(void *state, ScmcImage *img);
    void (*dec_close)(void *state);
} ScmcLayerOps;

/* The layer ops of this build, or NULL for a type it does not have. */
const ScmcLayerOps *scmc_layer_ops(int type);
/* Mask of SCMC_LAYERS_* this build can code. */
unsigned scmc_available_layers(void);

/* The weight (squared RGB error per bit) at which the encoder judges whether a signal layer, or
 * part of it, pays over the structure level: the structure correction's own, when the structure
 * layer is coded at a level of its own choosing and layers are not kept regardless; 0 otherwise
 * (the signal layer then stays whole). */
double scmc_signal_judged_lambda(const ScmcEncoderSettings *s);

/* The grey every stream starts from (the base of a stream without a semantic layer). */
#define SCMC_BASE_GREY 128
#endif
