#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "container/crc32.h"
#include "palette.h"
#include "text_coder.h"
#include "text_model.h"

#define MAX_LINE_ITEMS 64

static uint32_t *ctx_cdf;            /* num_ctx x (V + 1) */
static uint32_t byte_cdf[257];
static uint32_t flag_cdf[3][3];
static int num_ctx;
static uint32_t model_id;
static int init_status;
static int sep_index[2];             /* token ids of ", " and "\n" */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    const int v = scmc_text_vocab_size;
    sep_index[0] = sep_index[1] = -1;
    for (int t = 2; t < v; t++) {
        if (!strcmp(scmc_text_vocab[t], ", "))
            sep_index[0] = t;
        if (!strcmp(scmc_text_vocab[t], "\n"))
            sep_index[1] = t;
    }
    num_ctx = 3 * v;
    uint32_t *w = calloc((size_t)num_ctx * v, sizeof(*w));
    ctx_cdf = malloc(sizeof(*ctx_cdf) * (size_t)num_ctx * (v + 1));
    if (!w || !ctx_cdf) {
        free(w);
        free(ctx_cdf);
        ctx_cdf = NULL;
        init_status = SCMC_ERR_NOMEM;
        return;
    }
    /* Weight = 256 * corpus count + unigram backoff: unseen tokens keep a little probability. */
    for (int c = 0; c < num_ctx; c++)
        for (int t = 0; t < v; t++)
            w[(size_t)c * v + t] = scmc_text_unigram[t];
    for (int i = 0; i < scmc_text_num_counts; i++) {
        const ScmcTextCount *e = &scmc_text_counts[i];
        if (e->ctx < num_ctx && e->token < v)
            w[(size_t)e->ctx * v + e->token] += 256u * e->count;
    }
    for (int c = 0; c < num_ctx; c++)
        scmc_cdf_from_counts(w + (size_t)c * v, v, ctx_cdf + (size_t)c * (v + 1));
    free(w);
    uint32_t bc[256];
    for (int b = 0; b < 256; b++)
        bc[b] = scmc_text_byte_counts[b];
    scmc_cdf_from_counts(bc, 256, byte_cdf);
    for (int f = 0; f < 3; f++) {
        uint32_t p = scmc_text_flag_p[f];
        p = p < 64 ? 64 : p > SCMC_CDF_TOTAL - 64 ? SCMC_CDF_TOTAL - 64 : p;
        flag_cdf[f][0] = 0;
        flag_cdf[f][1] = SCMC_CDF_TOTAL - p; /* symbol 0: differs, symbol 1: repeats */
        flag_cdf[f][2] = SCMC_CDF_TOTAL;
    }
    uint32_t id = 0;
    for (int t = 2; t < v; t++)
        id = scmc_crc32(id, (const uint8_t *)scmc_text_vocab[t], strlen(scmc_text_vocab[t]) + 1);
    id = scmc_crc32(id, (const uint8_t *)scmc_text_unigram, sizeof(uint16_t) * (size_t)v);
    id = scmc_crc32(id, (const uint8_t *)scmc_text_counts, sizeof(ScmcTextCount) * (size_t)scmc_text_num_counts);
    id = scmc_crc32(id, (const uint8_t *)scmc_text_flag_p, sizeof(scmc_text_flag_p));
    id = scmc_crc32(id, (const uint8_t *)scmc_text_byte_counts, sizeof(uint16_t) * 256);
    for (int k = 0; k < scmc_palette_size; k++) {
        id = scmc_crc32(id, (const uint8_t *)scmc_palette[k].name, strlen(scmc_palette[k].name) + 1);
        id = scmc_crc32(id, scmc_palette[k].rgb, 3);
        id = scmc_crc32(id, scmc_palette[k].paint, 3);
    }
    model_id = id ? id : 1; /* 0 means "no model" in the layer table */
}

int scmc_text_model_init(void)
{
    pthread_once(&once, build);
    return init_status;
}

uint32_t scmc_text_model_id(void)
{
    scmc_text_model_init();
    return model_id;
}

/* The model state both coders walk through token by token. */
typedef struct ModelState {
    int prev, last_content;
    int line[MAX_LINE_ITEMS], line_len, slot_open;
    int above[MAX_LINE_ITEMS], above_len;
    int last_flag;  /* 0: no flag in this line yet, 1: last slot repeated, 2: it did not */
} ModelState;

static void state_init(ModelState *s)
{
    memset(s, 0, sizeof(*s));
    s->prev = SCMC_TOKEN_END;
    s->last_content = SCMC_TOKEN_END;
    s->slot_open = 1;
}

static int is_sep(int t)
{
    return t == sep_index[0] || t == sep_index[1];
}

static int context_of(const ModelState *s)
{
    const int v = scmc_text_vocab_size;
    if (s->prev == sep_index[0])
        return v + s->last_content;
    if (s->prev == sep_index[1])
        return 2 * v + s->last_content;
    return s->prev;
}

/* Token of the previous line in the current slot, or -1 when no flag is coded here. */
static int above_token(const ModelState *s)
{
    if (!s->slot_open || s->line_len >= s->above_len)
        return -1;
    const int a = s->above[s->line_len];
    return a >= 2 ? a : -1;
}

static void state_push(ModelState *s, int t)
{
    const char *str = t >= 2 ? scmc_text_vocab[t] : "";
    if (is_sep(t)) {
        s->slot_open = 1;
    } else {
        if (s->slot_open && s->line_len < MAX_LINE_ITEMS)
            s->line[s->line_len++] = t;
        s->slot_open = 0;
        s->last_content = t;
    }
    const size_t n = strlen(str);
    if (n && str[n - 1] == '\n') { /* a new line starts: this one becomes "above" */
        memcpy(s->above, s->line, sizeof(int) * (size_t)s->line_len);
        s->above_len = s->line_len;
        s->line_len = 0;
        s->slot_open = 1;
        s->last_flag = 0;
    }
    s->prev = t;
}

/* Longest vocabulary token at text[pos..len), or ESC. */
static int next_token(const char *text, size_t pos, size_t len, size_t *tok_len)
{
    int best = SCMC_TOKEN_ESC;
    size_t best_len = 1;
    for (int t = 2; t < scmc_text_vocab_size; t++) {
        const size_t n = strlen(scmc_text_vocab[t]);
        if (n > best_len - (best == SCMC_TOKEN_ESC) && n <= len - pos && !memcmp(text + pos, scmc_text_vocab[t], n)) {
            best = t;
            best_len = n;
        }
    }
    *tok_len = best_len;
    return best;
}

static void code_token(ScmcRangeEncoder *enc, ModelState *s, int t)
{
    const int a = above_token(s);
    if (a >= 0) {
        const int repeat = t == a;
        scmc_renc_symbol(enc, flag_cdf[s->last_flag], repeat);
        s->last_flag = repeat ? 1 : 2;
        if (repeat)
            return;
    }
    const int v = scmc_text_vocab_size;
    scmc_renc_symbol(enc, ctx_cdf + (size_t)context_of(s) * (v + 1), t);
}

int scmc_text_encode(ScmcRangeEncoder *enc, const char *text, size_t len)
{
    int r = scmc_text_model_init();
    if (r)
        return r;
    if (len > SCMC_TEXT_MAX_BYTES)
        return SCMC_ERR_INVALID_ARG;
    ModelState s;
    state_init(&s);
    size_t pos = 0;
    while (pos < len) {
        size_t n;
        const int t = next_token(text, pos, len, &n);
        code_token(enc, &s, t);
        if (t == SCMC_TOKEN_ESC)
            scmc_renc_symbol(enc, byte_cdf, (uint8_t)text[pos]);
        state_push(&s, t);
        pos += n;
    }
    code_token(enc, &s, SCMC_TOKEN_END);
    return enc->error ? SCMC_ERR_NOMEM : SCMC_OK;
}

int scmc_text_decode(ScmcRangeDecoder *dec, size_t max_len, char **text, size_t *len)
{
    int r = scmc_text_model_init();
    if (r)
        return r;
    if (max_len > SCMC_TEXT_MAX_BYTES)
        max_len = SCMC_TEXT_MAX_BYTES;
    char *out = malloc(max_len + 1);
    if (!out)
        return SCMC_ERR_NOMEM;
    const int v = scmc_text_vocab_size;
    ModelState s;
    state_init(&s);
    size_t n = 0;
    for (;;) {
        int t;
        const int a = above_token(&s);
        int repeat = 0;
        if (a >= 0) {
            repeat = scmc_rdec_symbol(dec, flag_cdf[s.last_flag], 2);
            s.last_flag = repeat ? 1 : 2;
        }
        t = repeat ? a : scmc_rdec_symbol(dec, ctx_cdf + (size_t)context_of(&s) * (v + 1), v);
        if (t == SCMC_TOKEN_END)
            break;
        const char *str;
        char byte[2] = { 0, 0 };
        if (t == SCMC_TOKEN_ESC) {
            byte[0] = (char)scmc_rdec_symbol(dec, byte_cdf, 256);
            str = byte;
        } else {
            str = scmc_text_vocab[t];
        }
        const size_t k = t == SCMC_TOKEN_ESC ? 1 : strlen(str);
        if (n + k > max_len || scmc_rdec_overrun(dec)) {
            free(out);
            return SCMC_ERR_CORRUPT;
        }
        memcpy(out + n, str, k);
        n += k;
        state_push(&s, t);
    }
    if (scmc_rdec_overrun(dec)) {
        free(out);
        return SCMC_ERR_CORRUPT;
    }
    out[n] = 0;
    *text = out;
    *len = n;
    return SCMC_OK;
}
