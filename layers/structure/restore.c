/* Restoration filter of the wavelet correction: classification, integer filtering, the syntax
 * and the encoder's least-squares fit (bitstream-spec/structure.md, "Restoration filter"). */
#include "restore.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "scmc/scmc.h"

#define RADIUS 3          /* the diamond |dy| + |dx| <= 3 */
#define WINDOW 2          /* the classification sums a 5x5 window of Laplacians */
#define ACT_CLASSES 5
#define DIRECTIONS 5
#define MAX_ACT (2 * (2 * WINDOW + 1) * (2 * WINDOW + 1) * 2040) /* Sh + Sv at most */
#define BITS_FILTERS 5
#define BITS_ORDER 2
#define BITS_CLIP 2

/* The bound of each tap's difference per clip index; 255 leaves every difference as it is. */
static const int16_t clip_bound[SCMC_RESTORE_CLIPS] = { 255, 32, 16, 8 };

/* One tap of each point-symmetric pair: the pixel at (y + dy, x + dx) and its mirror image
 * (y - dy, x - dx) share a weight. */
static const int8_t tap_offset[SCMC_RESTORE_TAPS][2] = {
    { -3, 0 },  { -2, -1 }, { -2, 0 }, { -2, 1 }, { -1, -2 }, { -1, -1 },
    { -1, 0 },  { -1, 1 },  { -1, 2 }, { 0, -3 }, { 0, -2 },  { 0, -1 },
};

/* Reflection about the first and last sample (-1 -> 1, n -> n - 2), repeated for tiny n. */
static int mirror(int i, int n)
{
    if (n == 1)
        return 0;
    while (i < 0 || i >= n)
        i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

/* The same w x h plane with RADIUS mirrored samples on every side, and each tap's offset in it. */
static int16_t *padded_plane(const ScmcImage *img, int ch, int *stride, ptrdiff_t *off)
{
    const int w = img->width, h = img->height, pw = w + 2 * RADIUS;
    int16_t *p = malloc((size_t)pw * (h + 2 * RADIUS) * sizeof(*p));
    if (!p)
        return NULL;
    for (int y = -RADIUS; y < h + RADIUS; y++) {
        const uint8_t *row = img->rgb + (size_t)mirror(y, h) * w * 3;
        int16_t *out = p + (size_t)(y + RADIUS) * pw + RADIUS;
        for (int x = -RADIUS; x < w + RADIUS; x++)
            out[x] = row[3 * mirror(x, w) + ch];
    }
    *stride = pw;
    for (int t = 0; t < SCMC_RESTORE_TAPS; t++)
        off[t] = (ptrdiff_t)tap_offset[t][0] * pw + tap_offset[t][1];
    return p;
}

static inline int32_t bounded(int32_t v, int32_t b)
{
    return v < -b ? -b : v > b ? b : v;
}

static inline int32_t absdiff2(int32_t c, int32_t a, int32_t b)
{
    const int32_t v = 2 * c - a - b;
    return v < 0 ? -v : v;
}

int scmc_restore_classify(const ScmcImage *img, uint8_t *cls)
{
    const int w = img->width, h = img->height;
    const size_t n = (size_t)w * h;
    int32_t *luma = malloc(n * sizeof(int32_t)), *lap = malloc(4 * n * sizeof(int32_t));
    int32_t *sum = malloc(4 * n * sizeof(int32_t)), *act = malloc(n * sizeof(int32_t));
    uint32_t *hist = calloc(MAX_ACT + 1, sizeof(uint32_t));
    int r = SCMC_ERR_NOMEM;
    if (!luma || !lap || !sum || !act || !hist)
        goto done;
    for (size_t i = 0; i < n; i++)
        luma[i] = img->rgb[3 * i] + 2 * img->rgb[3 * i + 1] + img->rgb[3 * i + 2];
    /* Second differences of the luma: horizontal, vertical, and the two diagonals. */
    for (int y = 0; y < h; y++) {
        const int32_t *up = luma + (size_t)mirror(y - 1, h) * w, *row = luma + (size_t)y * w;
        const int32_t *down = luma + (size_t)mirror(y + 1, h) * w;
        for (int x = 0; x < w; x++) {
            const int xl = mirror(x - 1, w), xr = mirror(x + 1, w);
            const size_t i = (size_t)y * w + x;
            const int32_t c = row[x];
            lap[i] = absdiff2(c, row[xl], row[xr]);
            lap[n + i] = absdiff2(c, up[x], down[x]);
            lap[2 * n + i] = absdiff2(c, up[xl], down[xr]);
            lap[3 * n + i] = absdiff2(c, up[xr], down[xl]);
        }
    }
    /* Their sums over the 5x5 window, clipped to the picture: rows first, then columns, each a
     * running sum (add the sample entering the window, take away the one leaving it). */
    for (int k = 0; k < 4; k++) {
        const int32_t *l = lap + k * n;
        int32_t *s = sum + k * n;
        for (int y = 0; y < h; y++) {
            const int32_t *in = l + (size_t)y * w;
            int32_t *out = act + (size_t)y * w, t = 0;
            for (int x = 0; x < WINDOW && x < w; x++)
                t += in[x];
            for (int x = 0; x < w; x++) {
                if (x + WINDOW < w)
                    t += in[x + WINDOW];
                out[x] = t;
                if (x - WINDOW >= 0)
                    t -= in[x - WINDOW];
            }
        }
        memset(s, 0, (size_t)w * sizeof(*s));
        for (int y = 0; y < WINDOW && y < h; y++)
            for (int x = 0; x < w; x++)
                s[x] += act[(size_t)y * w + x];
        for (int y = 0; y < h; y++) {
            int32_t *row = s + (size_t)y * w;
            if (y > 0)
                memcpy(row, row - w, (size_t)w * sizeof(*row));
            if (y + WINDOW < h)
                for (int x = 0; x < w; x++)
                    row[x] += act[(size_t)(y + WINDOW) * w + x];
            if (y - WINDOW - 1 >= 0)
                for (int x = 0; x < w; x++)
                    row[x] -= act[(size_t)(y - WINDOW - 1) * w + x];
        }
    }
    /* Activity classes split the picture's own activity at its quintiles, so that every step
     * of the correction gets classes of about equal size. */
    for (size_t i = 0; i < n; i++) {
        act[i] = sum[i] + sum[n + i];
        hist[act[i]]++;
    }
    int32_t limit[ACT_CLASSES - 1];
    uint64_t seen = 0;
    int next = 0;
    for (int32_t v = 0; v <= MAX_ACT && next < ACT_CLASSES - 1; v++) {
        seen += hist[v];
        while (next < ACT_CLASSES - 1 && seen * ACT_CLASSES >= (uint64_t)(next + 1) * n)
            limit[next++] = v;
    }
    while (next < ACT_CLASSES - 1)
        limit[next++] = MAX_ACT;
    for (size_t i = 0; i < n; i++) {
        int a = 0;
        while (a < ACT_CLASSES - 1 && act[i] > limit[a])
            a++;
        const int64_t sh = sum[i], sv = sum[n + i], sd = sum[2 * n + i], sa = sum[3 * n + i];
        const int64_t hv_hi = sh > sv ? sh : sv, hv_lo = sh > sv ? sv : sh;
        const int64_t dg_hi = sd > sa ? sd : sa, dg_lo = sd > sa ? sa : sd;
        int dir = 0;
        if (hv_hi * dg_lo >= dg_hi * hv_lo) {
            if (hv_hi > 2 * hv_lo)
                dir = sh > sv ? 1 : 2;
        } else if (dg_hi > 2 * dg_lo) {
            dir = sd > sa ? 3 : 4;
        }
        cls[i] = (uint8_t)(a * DIRECTIONS + dir);
    }
    r = SCMC_OK;
done:
    free(luma);
    free(lap);
    free(sum);
    free(act);
    free(hist);
    return r;
}

/* floor(v / 2^SCMC_RESTORE_SHIFT) for any sign. */
static inline int32_t floor_shift(int32_t v)
{
    return v >= 0 ? v >> SCMC_RESTORE_SHIFT : -((-v + (1 << SCMC_RESTORE_SHIFT) - 1) >> SCMC_RESTORE_SHIFT);
}

/* Filters img in place by one pass's filters, cls its classes. */
static int filter_classes(const ScmcRestoreSet *f, const uint8_t *cls, ScmcImage *img)
{
    const int w = img->width, h = img->height;
    int r = SCMC_OK;
    for (int ch = 0; ch < 3 && !r; ch++) {
        int stride;
        ptrdiff_t off[SCMC_RESTORE_TAPS];
        int16_t *p = padded_plane(img, ch, &stride, off);
        if (!p) {
            r = SCMC_ERR_NOMEM;
            break;
        }
        for (int y = 0; y < h; y++) {
            const int16_t *row = p + (size_t)(y + RADIUS) * stride + RADIUS;
            for (int x = 0; x < w; x++) {
                const size_t i = (size_t)y * w + x;
                const int fi = f->map[cls[i]];
                const int16_t *c = f->coef[fi];
                const int32_t x0 = row[x], b = clip_bound[f->clip[fi]];
                int32_t s = 0;
                for (int t = 0; t < SCMC_RESTORE_TAPS; t++)
                    s += c[t] * (bounded(row[x + off[t]] - x0, b) + bounded(row[x - off[t]] - x0, b));
                const int32_t v = x0 + floor_shift(s + (1 << (SCMC_RESTORE_SHIFT - 1)));
                img->rgb[3 * i + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
        free(p);
    }
    return r;
}

static int apply_set(const ScmcRestoreSet *f, ScmcImage *img)
{
    uint8_t *cls = malloc((size_t)img->width * img->height);
    int r = cls ? scmc_restore_classify(img, cls) : SCMC_ERR_NOMEM;
    if (!r)
        r = filter_classes(f, cls, img);
    free(cls);
    return r;
}

static int ceil_log2(int v)
{
    int b = 0;
    while ((1 << b) < v)
        b++;
    return b;
}

/* Bits of |v| in order-k Exp-Golomb plus a sign bit when v is not 0. */
static int coef_bits(int v, int k)
{
    const uint32_t u = (uint32_t)(v < 0 ? -v : v);
    int len = 0;
    while (((u >> k) + 1) >> (len + 1))
        len++;
    return 2 * len + 1 + k + (v != 0);
}

static void write_coef(ScmcRangeEncoder *e, int v, int k)
{
    const uint32_t u = (uint32_t)(v < 0 ? -v : v);
    scmc_renc_expgolomb(e, u >> k);
    if (k)
        scmc_renc_bypass(e, u & ((1u << k) - 1), k);
    if (v)
        scmc_renc_bypass(e, v < 0, 1);
}

int scmc_restore_apply(const ScmcRestore *f, ScmcImage *img)
{
    int r = SCMC_OK;
    for (int k = 0; k < f->passes && !r; k++)
        r = apply_set(&f->set[k], img);
    return r;
}

/* The order of the coefficients' Exp-Golomb code that spends the fewest bits on them. */
static int best_order(const ScmcRestoreSet *f, int *bits)
{
    int best = 0, best_bits = 0;
    for (int k = 0; k < 1 << BITS_ORDER; k++) {
        int b = 0;
        for (int i = 0; i < f->filters; i++)
            for (int t = 0; t < SCMC_RESTORE_TAPS; t++)
                b += coef_bits(f->coef[i][t], k);
        if (k == 0 || b < best_bits) {
            best = k;
            best_bits = b;
        }
    }
    if (bits)
        *bits = best_bits;
    return best;
}

static void write_set(ScmcRangeEncoder *e, const ScmcRestoreSet *f)
{
    scmc_renc_bypass(e, (uint32_t)f->filters, BITS_FILTERS);
    const int map_bits = ceil_log2(f->filters);
    if (map_bits)
        for (int c = 0; c < SCMC_RESTORE_CLASSES; c++)
            scmc_renc_bypass(e, f->map[c], map_bits);
    const int k = best_order(f, NULL);
    scmc_renc_bypass(e, (uint32_t)k, BITS_ORDER);
    for (int i = 0; i < f->filters; i++) {
        scmc_renc_bypass(e, f->clip[i], BITS_CLIP);
        for (int t = 0; t < SCMC_RESTORE_TAPS; t++)
            write_coef(e, f->coef[i][t], k);
    }
}

/* A pass's set after its filter count (1..SCMC_RESTORE_CLASSES). */
static int read_set(ScmcRangeDecoder *d, ScmcRestoreSet *f)
{
    const int map_bits = ceil_log2(f->filters);
    for (int c = 0; c < SCMC_RESTORE_CLASSES; c++) {
        const uint32_t m = map_bits ? scmc_rdec_bypass(d, map_bits) : 0;
        if (m >= (uint32_t)f->filters)
            return SCMC_ERR_CORRUPT;
        f->map[c] = (uint8_t)m;
    }
    const int k = (int)scmc_rdec_bypass(d, BITS_ORDER);
    for (int i = 0; i < f->filters; i++) {
        f->clip[i] = (uint8_t)scmc_rdec_bypass(d, BITS_CLIP);
        for (int t = 0; t < SCMC_RESTORE_TAPS; t++) {
            const uint32_t high = scmc_rdec_expgolomb(d);
            if (high > (uint32_t)(SCMC_RESTORE_MAX_COEF >> k))
                return SCMC_ERR_CORRUPT;
            const uint32_t u = (high << k) | (k ? scmc_rdec_bypass(d, k) : 0);
            if (u > SCMC_RESTORE_MAX_COEF)
                return SCMC_ERR_CORRUPT;
            f->coef[i][t] = (int16_t)(u && scmc_rdec_bypass(d, 1) ? -(int)u : (int)u);
        }
    }
    return SCMC_OK;
}

/* The passes, each a set with at least one filter, then a count of 0 unless all passes are used. */
void scmc_restore_write(ScmcRangeEncoder *e, const ScmcRestore *f)
{
    for (int k = 0; k < f->passes; k++)
        write_set(e, &f->set[k]);
    if (f->passes < SCMC_RESTORE_PASSES)
        scmc_renc_bypass(e, 0, BITS_FILTERS);
}

int scmc_restore_read(ScmcRangeDecoder *d, ScmcRestore *f)
{
    memset(f, 0, sizeof(*f));
    while (f->passes < SCMC_RESTORE_PASSES) {
        ScmcRestoreSet *set = &f->set[f->passes];
        set->filters = (int)scmc_rdec_bypass(d, BITS_FILTERS);
        if (set->filters > SCMC_RESTORE_CLASSES)
            return SCMC_ERR_CORRUPT;
        if (!set->filters)
            break;
        const int r = read_set(d, set);
        if (r)
            return r;
        f->passes++;
    }
    return SCMC_OK;
}

/* ---- encoder ---- */

/* Least-squares statistics of a set of samples: the tap differences' correlations, their
 * correlation with the error the filter should remove (original - reconstruction), its energy
 * and the number of samples. */
typedef struct Stats {
    double r[SCMC_RESTORE_TAPS][SCMC_RESTORE_TAPS], p[SCMC_RESTORE_TAPS], e, n;
} Stats;

static void stats_add(Stats *a, const Stats *b)
{
    for (int i = 0; i < SCMC_RESTORE_TAPS; i++) {
        for (int j = 0; j < SCMC_RESTORE_TAPS; j++)
            a->r[i][j] += b->r[i][j];
        a->p[i] += b->p[i];
    }
    a->e += b->e;
    a->n += b->n;
}

/* Solves r w = p by Gaussian elimination with partial pivoting and a little ridge; w = 0 when
 * the system is degenerate (a flat class). */
static void solve(const Stats *s, double *w)
{
    enum { N = SCMC_RESTORE_TAPS };
    double a[N][N + 1];
    double trace = 0;
    for (int i = 0; i < N; i++)
        trace += s->r[i][i];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++)
            a[i][j] = s->r[i][j] + (i == j ? 1e-6 * trace / N + 1e-9 : 0);
        a[i][N] = s->p[i];
    }
    for (int c = 0; c < N; c++) {
        int piv = c;
        for (int i = c + 1; i < N; i++)
            if (fabs(a[i][c]) > fabs(a[piv][c]))
                piv = i;
        if (fabs(a[piv][c]) < 1e-12) {
            memset(w, 0, N * sizeof(*w));
            return;
        }
        if (piv != c)
            for (int j = 0; j <= N; j++) {
                const double t = a[c][j];
                a[c][j] = a[piv][j];
                a[piv][j] = t;
            }
        for (int i = c + 1; i < N; i++) {
            const double f = a[i][c] / a[c][c];
            for (int j = c; j <= N; j++)
                a[i][j] -= f * a[c][j];
        }
    }
    for (int i = N - 1; i >= 0; i--) {
        double v = a[i][N];
        for (int j = i + 1; j < N; j++)
            v -= a[i][j] * w[j];
        w[i] = v / a[i][i];
    }
}

/* Exp-Golomb order assumed while classes are merged (the writer picks the best one at the end). */
#define MERGE_ORDER 3

/* A group of classes with its statistics (one set per clip index) and the best of its filters
 * and no filter. */
typedef struct Group {
    Stats s[SCMC_RESTORE_CLIPS];
    int16_t coef[SCMC_RESTORE_TAPS];
    int clip;
    double cost; /* squared error + lambda * coefficient bits */
} Group;

static void group_add(Group *a, const Group *b)
{
    for (int k = 0; k < SCMC_RESTORE_CLIPS; k++)
        stats_add(&a->s[k], &b->s[k]);
}

/* Cost of the quantized least-squares filter of s, its weights in q. */
static double filter_cost(const Stats *s, double lambda, int16_t *q)
{
    double w[SCMC_RESTORE_TAPS];
    solve(s, w);
    const double scale = 1 << SCMC_RESTORE_SHIFT;
    double cross = 0, quad = 0;
    int bits = BITS_CLIP;
    for (int t = 0; t < SCMC_RESTORE_TAPS; t++) {
        const double v = fmin(fmax(round(w[t] * scale), -SCMC_RESTORE_MAX_COEF), SCMC_RESTORE_MAX_COEF);
        q[t] = (int16_t)v;
        bits += coef_bits(q[t], MERGE_ORDER);
    }
    for (int i = 0; i < SCMC_RESTORE_TAPS; i++) {
        cross += s->p[i] * q[i];
        for (int j = 0; j < SCMC_RESTORE_TAPS; j++)
            quad += q[i] * s->r[i][j] * q[j];
    }
    /* The filtered value is rounded to an integer: about 1/12 more squared error per sample. */
    return s->e - 2 * cross / scale + quad / (scale * scale) + s->n / 12 + lambda * bits;
}

static void group_fit(Group *g, double lambda)
{
    /* No filter: zero weights, no rounding. */
    g->cost = g->s[0].e + lambda * (BITS_CLIP + SCMC_RESTORE_TAPS * coef_bits(0, MERGE_ORDER));
    g->clip = 0;
    memset(g->coef, 0, sizeof(g->coef));
    for (int k = 0; k < SCMC_RESTORE_CLIPS; k++) {
        int16_t q[SCMC_RESTORE_TAPS];
        const double on = filter_cost(&g->s[k], lambda, q);
        if (on < g->cost) {
            g->cost = on;
            g->clip = k;
            memcpy(g->coef, q, sizeof(q));
        }
    }
}

#define PAIRS (SCMC_RESTORE_TAPS * (SCMC_RESTORE_TAPS + 1) / 2)
/* Integer sums over a run of at most CHUNK samples: a product of two differences is at most
 * 510 * 510, so CHUNK of them stay inside 32 bits. */
#define CHUNK 4096
typedef struct Partial {
    int32_t r[PAIRS], p[SCMC_RESTORE_TAPS], e, n;
} Partial;

static inline void accumulate(Partial *s, const int32_t *d, int32_t e)
{
    int k = 0;
    for (int a = 0; a < SCMC_RESTORE_TAPS; a++) {
        for (int b = a; b < SCMC_RESTORE_TAPS; b++)
            s->r[k++] += d[a] * d[b];
        s->p[a] += d[a] * e;
    }
    s->e += e * e;
    s->n += 1;
}

static void flush(Stats *st, Partial *part, size_t count)
{
    for (size_t c = 0; c < count; c++) {
        Partial *q = &part[c];
        if (!q->n)
            continue;
        Stats *s = &st[c];
        int k = 0;
        for (int a = 0; a < SCMC_RESTORE_TAPS; a++) {
            for (int b = a; b < SCMC_RESTORE_TAPS; b++)
                s->r[a][b] += q->r[k++];
            s->p[a] += q->p[a];
        }
        s->e += q->e;
        s->n += q->n;
        memset(q, 0, sizeof(*q));
    }
}

/* st[k * SCMC_RESTORE_CLASSES + class]: the statistics of each class under clip index k. A sample
 * whose differences all lie within a bound has the same statistics under that bound and every
 * looser one: it is added once, to same[k] for the tightest such bound k, and same[k] is added to
 * the clip indices 0..k at the end. (All sums are of integers: exact.) */
static int collect(const ScmcImage *orig, const ScmcImage *rec, const uint8_t *cls, Stats *st)
{
    const int w = rec->width, h = rec->height;
    const size_t nst = SCMC_RESTORE_CLIPS * SCMC_RESTORE_CLASSES;
    Stats *same = calloc(nst, sizeof(*same));
    Partial *part = calloc(2 * nst, sizeof(*part)); /* same's, then st's */
    if (!same || !part) {
        free(same);
        free(part);
        return SCMC_ERR_NOMEM;
    }
    memset(st, 0, nst * sizeof(*st));
    int r = SCMC_OK;
    for (int ch = 0; ch < 3 && !r; ch++) {
        int stride;
        ptrdiff_t off[SCMC_RESTORE_TAPS];
        int16_t *p = padded_plane(rec, ch, &stride, off);
        if (!p) {
            r = SCMC_ERR_NOMEM;
            break;
        }
        int run = 0;
        for (int y = 0; y < h; y++) {
            const int16_t *row = p + (size_t)(y + RADIUS) * stride + RADIUS;
            for (int x = 0; x < w; x++) {
                const size_t i = (size_t)y * w + x;
                const int32_t e = (int32_t)orig->rgb[3 * i + ch] - row[x];
                int32_t fwd[SCMC_RESTORE_TAPS], back[SCMC_RESTORE_TAPS], d[SCMC_RESTORE_TAPS], m = 0;
                for (int t = 0; t < SCMC_RESTORE_TAPS; t++) {
                    fwd[t] = row[x + off[t]] - row[x];
                    back[t] = row[x - off[t]] - row[x];
                    const int32_t af = fwd[t] < 0 ? -fwd[t] : fwd[t], ab = back[t] < 0 ? -back[t] : back[t];
                    m = af > m ? af : m;
                    m = ab > m ? ab : m;
                    d[t] = fwd[t] + back[t];
                }
                int k = SCMC_RESTORE_CLIPS - 1;
                while (k > 0 && m > clip_bound[k])
                    k--;
                accumulate(&part[k * SCMC_RESTORE_CLASSES + cls[i]], d, e);
                for (int j = k + 1; j < SCMC_RESTORE_CLIPS; j++) {
                    for (int t = 0; t < SCMC_RESTORE_TAPS; t++)
                        d[t] = bounded(fwd[t], clip_bound[j]) + bounded(back[t], clip_bound[j]);
                    accumulate(&part[nst + j * SCMC_RESTORE_CLASSES + cls[i]], d, e);
                }
                if (++run == CHUNK) {
                    flush(same, part, nst);
                    flush(st, part + nst, nst);
                    run = 0;
                }
            }
        }
        free(p);
    }
    flush(same, part, nst);
    flush(st, part + nst, nst);
    for (int k = 0; k < SCMC_RESTORE_CLIPS; k++)
        for (int j = 0; j <= k; j++)
            for (int c = 0; c < SCMC_RESTORE_CLASSES; c++)
                stats_add(&st[j * SCMC_RESTORE_CLASSES + c], &same[k * SCMC_RESTORE_CLASSES + c]);
    free(same);
    free(part);
    for (size_t c = 0; c < nst; c++)
        for (int a = 0; a < SCMC_RESTORE_TAPS; a++)
            for (int b = 0; b < a; b++)
                st[c].r[a][b] = st[c].r[b][a];
    return r;
}

/* Side information of a filter set other than the coefficients. */
static double header_bits(int filters)
{
    return BITS_FILTERS + BITS_ORDER + SCMC_RESTORE_CLASSES * ceil_log2(filters);
}

/* One pass's filters for rec (f->filters 0 when none pays), and when one does, the filtered
 * picture in *out (allocated). */
static int choose_set(const ScmcImage *orig, const ScmcImage *rec, double lambda, ScmcRestoreSet *f,
                      ScmcImage *out)
{
    memset(f, 0, sizeof(*f));
    const size_t n = (size_t)rec->width * rec->height;
    uint8_t *cls = malloc(n);
    Stats *fine = malloc(SCMC_RESTORE_CLIPS * SCMC_RESTORE_CLASSES * sizeof(*fine));
    Group *g = malloc(SCMC_RESTORE_CLASSES * sizeof(*g));
    ScmcImage trial = { 0 };
    int r = cls && fine && g ? scmc_restore_classify(rec, cls) : SCMC_ERR_NOMEM;
    if (!r)
        r = collect(orig, rec, cls, fine);
    if (r)
        goto done;
    /* Greedy merging (classes that hold no pixel take filter 0): start from one group per
     * class, join the two whose union costs least more than they do apart, and keep the count
     * with the lowest total cost. */
    int member[SCMC_RESTORE_CLASSES], groups = 0;
    for (int c = 0; c < SCMC_RESTORE_CLASSES; c++) {
        member[c] = -1;
        if (fine[c].n > 0) {
            for (int k = 0; k < SCMC_RESTORE_CLIPS; k++)
                g[groups].s[k] = fine[k * SCMC_RESTORE_CLASSES + c];
            group_fit(&g[groups], lambda);
            member[c] = groups++;
        }
    }
    if (!groups)
        goto done;
    double total_e = 0;
    for (int c = 0; c < SCMC_RESTORE_CLASSES; c++)
        total_e += fine[c].e;
    double best = total_e + lambda * BITS_FILTERS;
    for (;;) {
        double cost = lambda * header_bits(groups);
        for (int i = 0; i < groups; i++)
            cost += g[i].cost;
        if (cost < best) {
            best = cost;
            f->filters = groups;
            for (int c = 0; c < SCMC_RESTORE_CLASSES; c++)
                f->map[c] = (uint8_t)(member[c] < 0 ? 0 : member[c]);
            for (int i = 0; i < groups; i++) {
                memcpy(f->coef[i], g[i].coef, sizeof(g[i].coef));
                f->clip[i] = (uint8_t)g[i].clip;
            }
        }
        if (groups == 1)
            break;
        int bi = 0, bj = 1;
        double best_delta = INFINITY;
        Group best_union;
        memset(&best_union, 0, sizeof(best_union));
        for (int i = 0; i < groups; i++)
            for (int j = i + 1; j < groups; j++) {
                Group u = g[i];
                group_add(&u, &g[j]);
                group_fit(&u, lambda);
                const double delta = u.cost - g[i].cost - g[j].cost;
                if (delta < best_delta) {
                    best_delta = delta;
                    bi = i;
                    bj = j;
                    best_union = u;
                }
            }
        g[bi] = best_union;
        g[bj] = g[groups - 1];
        for (int c = 0; c < SCMC_RESTORE_CLASSES; c++)
            if (member[c] == bj)
                member[c] = bi;
            else if (member[c] == groups - 1)
                member[c] = bj;
        groups--;
    }
    if (!f->filters)
        goto done;
    /* The model above leaves out clipping and the exact rounding: keep the filters only if the
     * filtered picture really is better by more than they cost. */
    r = scmc_image_copy(&trial, rec);
    if (!r)
        r = filter_classes(f, cls, &trial);
    if (!r) {
        int coef_bits_total;
        best_order(f, &coef_bits_total);
        const double on =
            scmc_mse(orig, &trial) * 3.0 * (double)n + lambda * (header_bits(f->filters) + BITS_CLIP * f->filters + coef_bits_total);
        if (on >= total_e + lambda * BITS_FILTERS) {
            memset(f, 0, sizeof(*f));
        } else {
            *out = trial;
            trial = (ScmcImage){ 0 };
        }
    }
done:
    scmc_image_free(&trial);
    free(cls);
    free(fine);
    free(g);
    return r;
}

int scmc_restore_choose(const ScmcImage *orig, const ScmcImage *rec, double lambda, ScmcRestore *f,
                        ScmcImage *filtered)
{
    memset(f, 0, sizeof(*f));
    ScmcImage cur = { 0 };
    int r = scmc_image_copy(&cur, rec);
    while (!r && f->passes < SCMC_RESTORE_PASSES) {
        ScmcRestoreSet *set = &f->set[f->passes];
        ScmcImage next = { 0 };
        r = choose_set(orig, &cur, lambda, set, &next);
        if (r || !set->filters)
            break;
        scmc_image_free(&cur);
        cur = next;
        f->passes++;
    }
    if (r) {
        memset(f, 0, sizeof(*f));
        scmc_image_free(&cur);
    } else if (filtered) {
        *filtered = cur;
    } else {
        scmc_image_free(&cur);
    }
    return r;
}
