#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define WIN 11
#define LEVELS 5

static const double level_weights[LEVELS] = { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333 };

typedef struct Plane {
    int w, h;
    double *v;
} Plane;

static int plane_alloc(Plane *p, int w, int h)
{
    p->w = w;
    p->h = h;
    p->v = malloc(sizeof(double) * (size_t)(w > 0 ? w : 1) * (size_t)(h > 0 ? h : 1));
    return p->v ? 0 : -1;
}

/* Separable Gaussian filter, 'valid' region only: out is (w - WIN + 1) x (h - WIN + 1). */
static void filter_valid(const double *in, int w, int h, const double *g, double *tmp, double *out)
{
    const int ow = w - WIN + 1, oh = h - WIN + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < ow; x++) {
            double s = 0;
            for (int k = 0; k < WIN; k++)
                s += g[k] * in[(size_t)y * w + x + k];
            tmp[(size_t)y * ow + x] = s;
        }
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            double s = 0;
            for (int k = 0; k < WIN; k++)
                s += g[k] * tmp[(size_t)(y + k) * ow + x];
            out[(size_t)y * ow + x] = s;
        }
}

/* Mean SSIM and mean contrast-structure term of two planes. Returns -1 on allocation failure. */
static int ssim_cs(const Plane *a, const Plane *b, double *ssim, double *cs)
{
    const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    const int w = a->w, h = a->h;
    if (w < WIN || h < WIN) { /* one window over the whole (small) image */
        const size_t n = (size_t)w * h;
        double ma = 0, mb = 0, va = 0, vb = 0, cov = 0;
        for (size_t i = 0; i < n; i++) {
            ma += a->v[i];
            mb += b->v[i];
        }
        ma /= (double)n;
        mb /= (double)n;
        for (size_t i = 0; i < n; i++) {
            va += (a->v[i] - ma) * (a->v[i] - ma);
            vb += (b->v[i] - mb) * (b->v[i] - mb);
            cov += (a->v[i] - ma) * (b->v[i] - mb);
        }
        va /= (double)n;
        vb /= (double)n;
        cov /= (double)n;
        *cs = (2 * cov + c2) / (va + vb + c2);
        *ssim = (2 * ma * mb + c1) / (ma * ma + mb * mb + c1) * *cs;
        return 0;
    }
    double g[WIN], gs = 0;
    for (int k = 0; k < WIN; k++) {
        g[k] = exp(-((k - WIN / 2) * (k - WIN / 2)) / (2 * 1.5 * 1.5));
        gs += g[k];
    }
    for (int k = 0; k < WIN; k++)
        g[k] /= gs;
    const int ow = w - WIN + 1, oh = h - WIN + 1;
    const size_t n = (size_t)w * h, on = (size_t)ow * oh;
    double *buf = malloc(sizeof(double) * (n + (size_t)ow * h + 5 * on));
    if (!buf)
        return -1;
    double *prod = buf, *tmp = buf + n, *mu_a = tmp + (size_t)ow * h, *mu_b = mu_a + on;
    double *saa = mu_b + on, *sbb = saa + on, *sab = sbb + on;
    filter_valid(a->v, w, h, g, tmp, mu_a);
    filter_valid(b->v, w, h, g, tmp, mu_b);
    for (size_t i = 0; i < n; i++)
        prod[i] = a->v[i] * a->v[i];
    filter_valid(prod, w, h, g, tmp, saa);
    for (size_t i = 0; i < n; i++)
        prod[i] = b->v[i] * b->v[i];
    filter_valid(prod, w, h, g, tmp, sbb);
    for (size_t i = 0; i < n; i++)
        prod[i] = a->v[i] * b->v[i];
    filter_valid(prod, w, h, g, tmp, sab);
    double s_sum = 0, cs_sum = 0;
    for (size_t i = 0; i < on; i++) {
        const double ma = mu_a[i], mb = mu_b[i];
        const double va = saa[i] - ma * ma, vb = sbb[i] - mb * mb, cov = sab[i] - ma * mb;
        const double csv = (2 * cov + c2) / (va + vb + c2);
        cs_sum += csv;
        s_sum += (2 * ma * mb + c1) / (ma * ma + mb * mb + c1) * csv;
    }
    free(buf);
    *ssim = s_sum / (double)on;
    *cs = cs_sum / (double)on;
    return 0;
}

/* 2x2 average pooling; an odd side is padded by one zero on each side, as avg_pool2d does with
 * padding = side % 2 (count_include_pad). */
static int downsample(const Plane *in, Plane *out)
{
    const int px = in->w % 2, py = in->h % 2;
    const int ow = (in->w + 2 * px - 2) / 2 + 1, oh = (in->h + 2 * py - 2) / 2 + 1;
    if (plane_alloc(out, ow, oh))
        return -1;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            double s = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    const int sx = 2 * x + dx - px, sy = 2 * y + dy - py;
                    if (sx >= 0 && sy >= 0 && sx < in->w && sy < in->h)
                        s += in->v[(size_t)sy * in->w + sx];
                }
            out->v[(size_t)y * ow + x] = s / 4;
        }
    return 0;
}

static double msssim_channel(const ScmcImage *ia, const ScmcImage *ib, int ch, int levels)
{
    Plane a, b;
    if (plane_alloc(&a, ia->width, ia->height) || plane_alloc(&b, ib->width, ib->height)) {
        free(a.v);
        return NAN;
    }
    const size_t n = (size_t)ia->width * ia->height;
    for (size_t i = 0; i < n; i++) {
        a.v[i] = ia->rgb[3 * i + ch];
        b.v[i] = ib->rgb[3 * i + ch];
    }
    /* The standard weights sum to 1.0001 and are used as they are; fewer scales renormalise. */
    double wsum = 0;
    for (int l = 0; l < levels; l++)
        wsum += level_weights[l];
    if (levels == LEVELS)
        wsum = 1.0;
    double result = 1;
    for (int l = 0; l < levels; l++) {
        double ssim, cs;
        if (ssim_cs(&a, &b, &ssim, &cs)) {
            result = NAN;
            break;
        }
        const double wgt = level_weights[l] / wsum;
        if (l == levels - 1) {
            result *= pow(ssim > 0 ? ssim : 0, wgt);
            break;
        }
        result *= pow(cs > 0 ? cs : 0, wgt);
        Plane na, nb;
        if (downsample(&a, &na) || downsample(&b, &nb)) {
            result = NAN;
            break;
        }
        free(a.v);
        free(b.v);
        a = na;
        b = nb;
    }
    free(a.v);
    free(b.v);
    return result;
}

double scmc_msssim(const ScmcImage *a, const ScmcImage *b)
{
    int side = a->width < a->height ? a->width : a->height, levels = 1;
    while (levels < LEVELS) {
        const int next = (side + 2 * (side % 2) - 2) / 2 + 1; /* as downsample() */
        if (next < WIN)
            break;
        side = next;
        levels++;
    }
    double s = 0;
    for (int ch = 0; ch < 3; ch++)
        s += msssim_channel(a, b, ch, levels);
    return s / 3;
}
