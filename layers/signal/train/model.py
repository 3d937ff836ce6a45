"""Signal-layer model: a mean-scale hyperprior codec with gain units and ordered latent groups.

The graph here is the one layers/signal/ runs in C; every op used below has a C counterpart in
src/nn (conv, transposed conv, GDN/IGDN, ReLU). Keep the two in step: a new op here needs one there.

 - g_a / g_s: analysis / synthesis transforms (Balle et al. 2018), 4 stride-2 5x5 layers, GDN.
 - h_a / h_s: hyper transforms; h_s outputs a mean and a scale per latent. At export h_s is
   quantized to a fixed-point network that C runs in integers (the sync rule in DESIGN.md).
 - gains: per-quality channel gains on y (and inverse gains before g_s), so one network serves
   every --quality (Cui et al. 2021, "asymmetric gained" variable rate).
 - latent groups: y's channels are split into GROUPS groups coded as separate sub-layers. Nested
   dropout during training (keep a random prefix of groups, replace the rest by their predicted
   mean) orders the information so that every prefix decodes well.
 - detail channels (optional, the last DETAIL of the M latent channels): a linear block transform
   beside g_a / g_s, d_a a 16x16 stride-16 convolution of the input and d_s its transposed
   counterpart added to g_s's output. They raise the ceiling that M - DETAIL nonlinear channels
   put on the top qualities; add_detail.py starts them from a reduced-rank regression of the
   trained model's remaining error, so they carry information from the first step
   (docs/signal.md, "Detail channels").
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SCALE_MIN = 0.11
SCALE_MAX = 256.0
NUM_QUALITIES = 8
DETAIL_BLOCK = 16     # kernel and stride of the detail transforms (the latent grid)
LIKELIHOOD_MIN = 1e-9  # as in CompressAI: bounds the rate term of a single symbol
# lambda per --quality (1..8), log-spaced; L = lambda * 255^2 * MSE + bpp.
LAMBDAS = [0.0018 * (0.14 / 0.0018) ** (i / (NUM_QUALITIES - 1)) for i in range(NUM_QUALITIES)]


def _inv_softplus(v):
    return math.log(math.expm1(v))


class GDN(nn.Module):
    """y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2) (inverse: multiply instead of divide)."""

    def __init__(self, ch, inverse=False):
        super().__init__()
        self.inverse = inverse
        self.beta_raw = nn.Parameter(torch.full((ch,), _inv_softplus(1.0)))
        g = torch.full((ch, ch), _inv_softplus(1e-4))
        g.fill_diagonal_(_inv_softplus(0.1))
        self.gamma_raw = nn.Parameter(g)

    def effective(self):
        return F.softplus(self.beta_raw) + 1e-6, F.softplus(self.gamma_raw)

    def forward(self, x):
        beta, gamma = self.effective()
        c = x.shape[1]
        norm = F.conv2d(x * x, gamma.view(c, c, 1, 1), beta)
        return x * torch.sqrt(norm) if self.inverse else x * torch.rsqrt(norm)


def conv(cin, cout, k=5, s=2):
    return nn.Conv2d(cin, cout, k, s, k // 2)


def deconv(cin, cout, k=5, s=2):
    return nn.ConvTranspose2d(cin, cout, k, s, k // 2, output_padding=s - 1)


class FactorizedDensity(nn.Module):
    """Per-channel learned CDF c(x) = sigmoid(f(x)) for z (Balle et al. 2018, appendix 6.1)."""

    def __init__(self, ch, filters=(3, 3, 3), init_scale=10.0):
        super().__init__()
        dims = (1,) + tuple(filters) + (1,)
        scale = init_scale ** (1.0 / (len(filters) + 1))
        self.mats, self.biases, self.factors = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for i in range(len(filters) + 1):
            init = math.log(math.expm1(1.0 / scale / dims[i + 1]))
            self.mats.append(nn.Parameter(torch.full((ch, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(ch, dims[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(ch, dims[i + 1], 1)))

    def logits(self, x):
        """x: (C, 1, K) -> logits of the CDF, (C, 1, K)."""
        for i, (m, b) in enumerate(zip(self.mats, self.biases)):
            x = torch.matmul(F.softplus(m), x) + b
            if i < len(self.factors):
                x = x + torch.tanh(self.factors[i]) * torch.tanh(x)
        return x

    def likelihood(self, z):
        """z: (B, C, H, W) -> per-element probability of the unit bin around z."""
        b, c, h, w = z.shape
        v = z.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lo, hi = self.logits(v - 0.5), self.logits(v + 0.5)
        sign = -torch.sign(lo + hi).detach()
        p = torch.abs(torch.sigmoid(sign * hi) - torch.sigmoid(sign * lo))
        return p.clamp(min=LIKELIHOOD_MIN).reshape(c, b, h, w).permute(1, 0, 2, 3)


def gaussian_likelihood(v, scale):
    """Probability of the unit bin around v (already centred on the mean) under N(0, scale)."""
    scale = scale.clamp(min=SCALE_MIN)
    v = v.abs()
    # Phi((0.5 - v)/s) - Phi((-0.5 - v)/s), written with erfc for accuracy in the tails.
    upper = 0.5 * torch.erfc(-(0.5 - v) / (scale * math.sqrt(2.0)))
    lower = 0.5 * torch.erfc(-(-0.5 - v) / (scale * math.sqrt(2.0)))
    return (upper - lower).clamp(min=LIKELIHOOD_MIN)


def ste_round(x):
    return (torch.round(x) - x).detach() + x


class SignalCodec(nn.Module):
    def __init__(self, N=64, M=96, groups=6, detail=0):
        super().__init__()
        assert M % groups == 0 and 0 <= detail < M
        self.N, self.M, self.groups, self.detail = N, M, groups, detail
        mg = M - detail  # channels of the nonlinear transforms
        self.g_a = nn.Sequential(conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, N), GDN(N), conv(N, mg))
        self.g_s = nn.Sequential(deconv(mg, N), GDN(N, True), deconv(N, N), GDN(N, True),
                                 deconv(N, N), GDN(N, True), deconv(N, 3))
        if detail:
            self.d_a = nn.Conv2d(3, detail, DETAIL_BLOCK, DETAIL_BLOCK, 0, bias=False)
            self.d_s = nn.ConvTranspose2d(detail, 3, DETAIL_BLOCK, DETAIL_BLOCK, 0, bias=False)
        self.h_a = nn.Sequential(conv(M, N, 3, 1), nn.ReLU(), conv(N, N), nn.ReLU(), conv(N, N))
        self.h_s = nn.Sequential(deconv(N, N), nn.ReLU(), deconv(N, N), nn.ReLU(), conv(N, 2 * M, 3, 1))
        self.density = FactorizedDensity(N)
        self.gain = nn.Parameter(torch.ones(NUM_QUALITIES, M))
        self.inv_gain = nn.Parameter(torch.ones(NUM_QUALITIES, M))
        with torch.no_grad():  # start the gains spread like their lambdas
            for q in range(NUM_QUALITIES):
                f = (LAMBDAS[q] / LAMBDAS[NUM_QUALITIES // 2]) ** 0.5
                self.gain[q].fill_(f)
                self.inv_gain[q].fill_(1.0 / f)

    def analysis(self, x):
        """x (B,3,H,W), H and W multiples of 16 -> y (B,M,H/16,W/16), before the gains."""
        y = self.g_a(x)
        return torch.cat([y, self.d_a(x)], 1) if self.detail else y

    def synthesis(self, y):
        """y (after the inverse gains) -> x_hat."""
        mg = self.M - self.detail
        x = self.g_s(y[:, :mg])
        return x + self.d_s(y[:, mg:]) if self.detail else x

    def hyper_params(self, z_hat):
        out = self.h_s(z_hat)
        mean, scale_raw = out[:, : self.M], out[:, self.M:]
        return mean, scale_raw.abs()  # the C integer network takes |.| too

    def code_nearest(self, x, q):
        """The encoder's path at quality index q for the evaluation scripts: x (B,3,H,W), H and W
        multiples of 64 -> (y, y_hat, z_hat, mean, scale), y_hat rounded to the nearest integer
        around the hyperprior's means (the C encoder may choose otherwise per group), y and y_hat
        after the gains (synthesis wants y_hat * inv_gain[q])."""
        y = self.analysis(x) * self.gain[q][None, :, None, None]
        z_hat = torch.round(self.h_a(y))
        mean, scale = self.hyper_params(z_hat)
        return y, torch.round(y - mean) + mean, z_hat, mean, scale

    def latent_bits(self, y_hat, z_hat, mean, scale):
        """Ideal code length in bits of y_hat (Gaussian) and z_hat (factorized density)."""
        return (-torch.log2(gaussian_likelihood(y_hat - mean, scale)).sum()
                - torch.log2(self.density.likelihood(z_hat)).sum())

    def hyper_rates(self, x, q, hard=False):
        """For training the hyperprior alone (train.py --hyper-only): y from the analysis transforms
        without gradients, then the likelihoods of y (around the predicted means) and of z. With
        additive noise as in forward(), or with hard=True of the rounded values the coder is given
        (gradients through the rounding by straight-through): the rate of the symbols themselves,
        where noise prices a near-certain zero at a few bits instead of its tail."""
        with torch.no_grad():
            y = self.analysis(x) * self.gain[q][:, :, None, None]
        z = self.h_a(y)
        z_q = ste_round(z) if hard else z + torch.empty_like(z).uniform_(-0.5, 0.5)
        z_lik = self.density.likelihood(z_q)
        mean, scale = self.hyper_params(ste_round(z))
        r = ste_round(y - mean) if hard else y + torch.empty_like(y).uniform_(-0.5, 0.5) - mean
        y_lik = gaussian_likelihood(r, scale)
        return y_lik, z_lik

    def forward(self, x, q, keep_groups=None):
        """x: residual in [-1, 1] (B,3,H,W); q: (B,) quality indices; keep_groups: (B,) ints in
        0..groups, the number of latent groups the decoder receives (None: all)."""
        g = self.gain[q][:, :, None, None]
        y = self.analysis(x) * g
        z = self.h_a(y)
        z_noisy = z + torch.empty_like(z).uniform_(-0.5, 0.5)
        z_lik = self.density.likelihood(z_noisy)
        z_hat = ste_round(z)
        mean, scale = self.hyper_params(z_hat)
        y_noisy = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        y_lik = gaussian_likelihood(y_noisy - mean, scale)
        y_hat = ste_round(y - mean) + mean
        if keep_groups is not None:
            per = self.M // self.groups
            ch = torch.arange(self.M, device=x.device)[None, :]
            keep = (ch < (keep_groups[:, None] * per)).float()[:, :, None, None]
            y_hat = keep * y_hat + (1 - keep) * mean
            y_lik = keep * y_lik + (1 - keep)  # dropped groups cost nothing
        x_hat = self.synthesis(y_hat * self.inv_gain[q][:, :, None, None])
        return x_hat, y_lik, z_lik
