/* Binary Netpbm: P5 (PGM), P6 (PPM), P7 (PAM, depth 1..4); maxval up to 65535. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "image.h"

typedef struct Cursor {
    const uint8_t *p, *end;
} Cursor;

static void skip_space_and_comments(Cursor *c)
{
    while (c->p < c->end) {
        if (*c->p == '#') {
            while (c->p < c->end && *c->p != '\n')
                c->p++;
        } else if (isspace(*c->p)) {
            c->p++;
        } else {
            break;
        }
    }
}

/* A decimal number of at most 9 digits, or -1. */
static long read_number(Cursor *c)
{
    skip_space_and_comments(c);
    long v = 0;
    int digits = 0;
    while (c->p < c->end && isdigit(*c->p) && digits < 10) {
        v = v * 10 + (*c->p++ - '0');
        digits++;
    }
    return digits == 0 || digits > 9 ? -1 : v;
}

static int read_token(Cursor *c, char *tok, size_t n)
{
    skip_space_and_comments(c);
    size_t i = 0;
    while (c->p < c->end && !isspace(*c->p)) {
        if (i + 1 >= n)
            return -1;
        tok[i++] = (char)*c->p++;
    }
    tok[i] = 0;
    return i ? 0 : -1;
}

static int pam_header(Cursor *c, long *w, long *h, long *depth, long *maxval)
{
    char tok[32];
    *w = *h = *depth = *maxval = -1;
    for (int guard = 0; guard < 64; guard++) {
        if (read_token(c, tok, sizeof(tok)))
            return -1;
        if (!strcmp(tok, "ENDHDR")) {
            /* exactly one newline ends the header line */
            while (c->p < c->end && *c->p != '\n')
                c->p++;
            if (c->p >= c->end)
                return -1;
            c->p++;
            return 0;
        }
        if (!strcmp(tok, "WIDTH"))
            *w = read_number(c);
        else if (!strcmp(tok, "HEIGHT"))
            *h = read_number(c);
        else if (!strcmp(tok, "DEPTH"))
            *depth = read_number(c);
        else if (!strcmp(tok, "MAXVAL"))
            *maxval = read_number(c);
        else if (!strcmp(tok, "TUPLTYPE")) {
            while (c->p < c->end && *c->p != '\n')
                c->p++;
        } else
            return -1;
    }
    return -1;
}

int scmc_pnm_read(const uint8_t *data, size_t size, ScmcImage *img, ScmcReadNotes *notes, char *err, size_t errlen)
{
    Cursor c = { data + 2, data + size };
    long w, h, depth, maxval;
    img->rgb = NULL;
    const char kind = (char)data[1];
    if (kind == '7') {
        if (pam_header(&c, &w, &h, &depth, &maxval) || depth < 1 || depth > 4) {
            snprintf(err, errlen, "invalid PAM header");
            return SCMC_ERR_CORRUPT;
        }
    } else {
        depth = kind == '6' ? 3 : 1;
        w = read_number(&c);
        h = read_number(&c);
        maxval = read_number(&c);
        if (c.p >= c.end || !isspace(*c.p)) {
            snprintf(err, errlen, "invalid PNM header");
            return SCMC_ERR_CORRUPT;
        }
        c.p++;
    }
    if (w < 0 || h < 0 || maxval < 1 || maxval > 65535) {
        snprintf(err, errlen, "invalid PNM header");
        return SCMC_ERR_CORRUPT;
    }
    int r = scmc_image_check_size((uint64_t)w, (uint64_t)h, err, errlen);
    if (r)
        return r;
    const size_t bps = maxval > 255 ? 2 : 1;
    const size_t need = (size_t)w * (size_t)h * (size_t)depth * bps;
    if ((size_t)(c.end - c.p) < need) {
        snprintf(err, errlen, "file is truncated (%zu of %zu bytes of pixels)", (size_t)(c.end - c.p), need);
        return SCMC_ERR_CORRUPT;
    }
    r = scmc_image_alloc(img, (int)w, (int)h);
    if (r) {
        snprintf(err, errlen, "out of memory");
        return r;
    }
    const size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) {
        unsigned v[4];
        for (long k = 0; k < depth; k++) {
            unsigned s = bps == 2 ? (unsigned)c.p[0] << 8 | c.p[1] : c.p[0];
            c.p += bps;
            if (s > (unsigned)maxval)
                s = (unsigned)maxval;
            v[k] = (unsigned)((s * 255u + (unsigned)maxval / 2) / (unsigned)maxval);
        }
        const int color = depth >= 3;
        img->rgb[3 * i] = (uint8_t)v[0];
        img->rgb[3 * i + 1] = (uint8_t)v[color ? 1 : 0];
        img->rgb[3 * i + 2] = (uint8_t)v[color ? 2 : 0];
    }
    notes->alpha_dropped = depth == 2 || depth == 4;
    return SCMC_OK;
}

int scmc_pnm_write(FILE *f, const ScmcImage *img, char *err, size_t errlen)
{
    const size_t n = (size_t)img->width * img->height * 3;
    if (fprintf(f, "P6\n%d %d\n255\n", img->width, img->height) < 0 || fwrite(img->rgb, 1, n, f) != n) {
        snprintf(err, errlen, "write failed");
        return SCMC_ERR_IO;
    }
    return SCMC_OK;
}
