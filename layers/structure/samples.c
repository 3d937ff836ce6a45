/* Where the structure layer samples its colour corrections, and how it codes them.
 *
 * Two kinds of points: a lattice, which corrects the broad areas base0 got wrong (one point per
 * cell, four in the cells the encoder split), and points beside the edges, on both sides, which
 * give the diffusion the two colours an edge separates. Positions follow from the sketch and the
 * split flags alone (nothing else is sent for them); values are
 * predicted from points already coded and the prediction error is coded with adaptive binary
 * models. */
#include <stdlib.h>
#include <string.h>

#include "scmc/scmc.h"
#include "structure_internal.h"

void scmc_structure_lattice_dims(const ScmcStructure *st, int *nx, int *ny)
{
    *nx = (st->gw + st->lattice - 1) / st->lattice;
    *ny = (st->gh + st->lattice - 1) / st->lattice;
}

/* The lattice is handled on a grid of half cells ("slots", 2nx x 2ny): an unsplit cell's one
 * point (its centre) fills its four slots, a split cell puts one point at each slot's centre.
 * Slot coordinate along one axis, kept inside the grid: */
static int slot_coord(int fi, int spacing, int size, int split)
{
    const int cell = fi / 2;
    const int c = split ? cell * spacing + (fi & 1 ? (3 * spacing) / 4 : spacing / 4) : cell * spacing + spacing / 2;
    return c < size ? c : size - 1;
}

/* The slot of a grid coordinate along one axis. */
static int slot_of(int x, int spacing)
{
    return (2 * x) / spacing;
}

int scmc_structure_place_samples(ScmcStructure *st)
{
    const int gw = st->gw, gh = st->gh;
    const size_t n = (size_t)gw * gh;
    int nx, ny;
    scmc_structure_lattice_dims(st, &nx, &ny);
    /* taken[p]: 0 free, 1 lattice point, 2 + key a side point */
    uint8_t *taken = calloc(n, 1);
    size_t cap = (size_t)4 * nx * ny + 64;
    ScmcSample *s = malloc(cap * sizeof(*s));
    if (!taken || !s) {
        free(taken);
        free(s);
        return SCMC_ERR_NOMEM;
    }
    int count = 0;
    /* lattice points in slot raster order; an unsplit cell's point comes at its first slot */
    for (int fj = 0; fj < 2 * ny; fj++)
        for (int fi = 0; fi < 2 * nx; fi++) {
            const int split = scmc_structure_slot_split(st, nx, fi, fj);
            if (!split && ((fi | fj) & 1))
                continue;
            const int x = slot_coord(fi, st->lattice, gw, split), y = slot_coord(fj, st->lattice, gh, split);
            const size_t p = (size_t)y * gw + x;
            if (st->edges[p] || taken[p])
                continue;
            taken[p] = 1;
            s[count++] = (ScmcSample){ .x = x, .y = y, .kind = SAMPLE_LATTICE, .slot = fj * 2 * nx + fi };
        }
    /* Side points: non-edge pixels touching an edge (4-way), keyed by the first edge neighbour in
     * the order up, down, left, right, so that the two sides of a curve get different keys. A
     * candidate is taken unless a side point of its key is closer than side_spacing (Chebyshev). */
    const int r = st->side_spacing - 1;
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++) {
            const size_t p = (size_t)y * gw + x;
            if (st->edges[p] || taken[p])
                continue;
            int key = -1;
            if (y > 0 && st->edges[p - gw])
                key = 0;
            else if (y < gh - 1 && st->edges[p + gw])
                key = 1;
            else if (x > 0 && st->edges[p - 1])
                key = 2;
            else if (x < gw - 1 && st->edges[p + 1])
                key = 3;
            if (key < 0)
                continue;
            int near = 0;
            for (int dy = -r; dy <= r && !near; dy++) {
                const int yy = y + dy;
                if (yy < 0 || yy >= gh)
                    continue;
                for (int dx = -r; dx <= r; dx++) {
                    const int xx = x + dx;
                    if (xx >= 0 && xx < gw && taken[(size_t)yy * gw + xx] == 2 + key) {
                        near = 1;
                        break;
                    }
                }
            }
            if (near)
                continue;
            if ((size_t)count == cap) {
                cap *= 2;
                ScmcSample *t = realloc(s, cap * sizeof(*s));
                if (!t) {
                    free(taken);
                    free(s);
                    return SCMC_ERR_NOMEM;
                }
                s = t;
            }
            taken[p] = (uint8_t)(2 + key);
            s[count++] = (ScmcSample){ .x = x, .y = y, .kind = SAMPLE_SIDE, .key = (uint8_t)key };
        }
    free(taken);
    free(st->samples);
    st->samples = s;
    st->nsamples = count;
    return SCMC_OK;
}

/* LOCO-I's median edge detector over the lattice neighbours that exist, on the slot grid (sx
 * slots across): left, up and up-left slots, each the point that fills it. */
static int predict_lattice(const ScmcSample *s, const int32_t *lat, int sx, int i, int j, int c)
{
    const int32_t il = i > 0 ? lat[j * sx + i - 1] : -1;
    const int32_t iu = j > 0 ? lat[(j - 1) * sx + i] : -1;
    const int32_t iul = i > 0 && j > 0 ? lat[(j - 1) * sx + i - 1] : -1;
    if (il >= 0 && iu >= 0) {
        const int a = s[il].q[c], b = s[iu].q[c];
        if (iul < 0)
            return (a + b) / 2;
        const int cc = s[iul].q[c];
        const int mx = a > b ? a : b, mn = a < b ? a : b;
        return cc >= mx ? mn : cc <= mn ? mx : a + b - cc;
    }
    if (il >= 0)
        return s[il].q[c];
    if (iu >= 0)
        return s[iu].q[c];
    return 0;
}

/* The side point already coded nearest to sample k with the same key, within a window; else
 * -1. Ties go to the latest coded. */
static int32_t nearest_side(const ScmcStructure *st, const int32_t *side_at, int k)
{
    const ScmcSample *s = &st->samples[k];
    const int r = 2 * st->side_spacing + 1;
    int32_t best = -1;
    int bestd = r + 1;
    for (int dy = -r; dy <= 0; dy++) {
        const int y = s->y + dy;
        if (y < 0)
            continue;
        for (int dx = -r; dx <= r; dx++) {
            const int x = s->x + dx;
            if (x < 0 || x >= st->gw)
                continue;
            const int32_t o = side_at[(size_t)y * st->gw + x];
            if (o < 0 || o >= k || st->samples[o].key != s->key)
                continue;
            const int d = abs(dx) > -dy ? abs(dx) : -dy;
            if (d < bestd || (d == bestd && o > best)) {
                bestd = d;
                best = o;
            }
        }
    }
    return best;
}

/* Adaptive models of the prediction errors: per channel and kind, a zero flag in three contexts
 * (size of the previous error of the same channel and kind), a sign, and a unary magnitude with
 * an Exp-Golomb tail. */
#define UNARY_LEN 14
typedef struct ValueModels {
    ScmcBitModel zero[3][2][3];
    ScmcBitModel sign[3][2];
    ScmcBitModel mag[3][2][UNARY_LEN];
    int last[3][2];
} ValueModels;

static int code_error(ValueModels *m, int c, int kind, int v, ScmcRangeEncoder *e, ScmcRangeDecoder *d)
{
    const int ctx = m->last[c][kind] < 2 ? m->last[c][kind] : 2;
    int a = v < 0 ? -v : v;
    int zero = a == 0;
    if (e)
        scmc_renc_bit(e, &m->zero[c][kind][ctx], zero);
    else
        zero = scmc_rdec_bit(d, &m->zero[c][kind][ctx]);
    if (zero) {
        m->last[c][kind] = 0;
        return 0;
    }
    int neg = v < 0;
    if (e)
        scmc_renc_bit(e, &m->sign[c][kind], neg);
    else
        neg = scmc_rdec_bit(d, &m->sign[c][kind]);
    /* a - 1 in unary over UNARY_LEN adaptive bits, then Exp-Golomb for the rest */
    int i = 0;
    if (e) {
        for (; i < UNARY_LEN; i++) {
            const int more = a - 1 > i;
            scmc_renc_bit(e, &m->mag[c][kind][i], more);
            if (!more)
                break;
        }
        if (i == UNARY_LEN)
            scmc_renc_expgolomb(e, (uint32_t)(a - 1 - UNARY_LEN));
    } else {
        for (; i < UNARY_LEN; i++)
            if (!scmc_rdec_bit(d, &m->mag[c][kind][i]))
                break;
        a = i + 1;
        if (i == UNARY_LEN) {
            const uint32_t t = scmc_rdec_expgolomb(d);
            if (t > 4096)
                return INT32_MIN; /* beyond any correction of an 8-bit image */
            a += (int)t;
        }
    }
    m->last[c][kind] = a;
    return neg ? -a : a;
}

int scmc_structure_code_samples(ScmcStructure *st, ScmcRangeEncoder *e, ScmcRangeDecoder *d)
{
    const size_t n = (size_t)st->gw * st->gh;
    int nx, ny;
    scmc_structure_lattice_dims(st, &nx, &ny);
    const int sx = 2 * nx, sy = 2 * ny;
    int32_t *lat = malloc((size_t)sx * sy * sizeof(*lat)); /* the lattice point filling each slot */
    int32_t *side_at = malloc(n * sizeof(*side_at));
    ValueModels *m = malloc(sizeof(*m));
    int r = SCMC_OK;
    if (!lat || !side_at || !m) {
        r = SCMC_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < (size_t)sx * sy; i++)
        lat[i] = -1;
    for (size_t i = 0; i < n; i++)
        side_at[i] = -1;
    for (int k = 0; k < st->nsamples; k++) {
        const ScmcSample *s = &st->samples[k];
        if (s->kind == SAMPLE_SIDE) {
            side_at[(size_t)s->y * st->gw + s->x] = k;
            continue;
        }
        /* by the slot it was placed for (a clipped point's coordinates may name another) */
        const int fi = s->slot % sx, fj = s->slot / sx;
        if (scmc_structure_slot_split(st, nx, fi, fj)) {
            lat[s->slot] = k;
        } else {
            for (int dj = 0; dj < 2; dj++)
                for (int di = 0; di < 2; di++)
                    lat[(fj + dj) * sx + fi + di] = k;
        }
    }
    memset(m, 0, sizeof(*m));
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 3; i++)
                scmc_bit_model_init(&m->zero[c][k][i]);
            scmc_bit_model_init(&m->sign[c][k]);
            for (int i = 0; i < UNARY_LEN; i++)
                scmc_bit_model_init(&m->mag[c][k][i]);
        }
    /* a correction beyond +-255 in any channel cannot come from an 8-bit image */
    for (int k = 0; k < st->nsamples; k++) {
        ScmcSample *s = &st->samples[k];
        int32_t ref = -1;
        if (s->kind == SAMPLE_SIDE) {
            ref = nearest_side(st, side_at, k);
            if (ref < 0) /* else the lattice point of its slot, when there is one */
                ref = lat[slot_of(s->y, st->lattice) * sx + slot_of(s->x, st->lattice)];
        }
        for (int c = 0; c < 3; c++) {
            int pred;
            if (s->kind == SAMPLE_LATTICE) /* at its slot: every neighbour slot is coded before it */
                pred = predict_lattice(st->samples, lat, sx, s->slot % sx, s->slot / sx, c);
            else
                pred = ref >= 0 ? st->samples[ref].q[c] : 0;
            const int qmax = 255 / scmc_structure_step(st, c) + 1;
            const int v = code_error(m, c, s->kind, e ? s->q[c] - pred : 0, e, d);
            if (d) {
                if (v == INT32_MIN || pred + v < -qmax || pred + v > qmax) {
                    r = SCMC_ERR_CORRUPT;
                    goto done;
                }
                s->q[c] = (int16_t)(pred + v);
            }
        }
    }
done:
    free(lat);
    free(side_at);
    free(m);
    return r;
}
