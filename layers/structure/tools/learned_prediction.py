#!/usr/bin/python3
"""Trains the structure layer's learned coarse-scale prediction and exports it for the codec.

The correction's contexts read a prediction of each level from the coarser ones (STR12,
docs/structure.md "Coarse-scale prediction"): the coded coarser levels synthesised, every sample
moved a quarter of the way to the nearer extreme of its 3 x 3 neighbourhood, analysed one level.
Since STR15 ("Learned prediction") a small network reads the same synthesis and the hand
prediction and gives each coefficient of the luma's levels 1-4 (1-3 until STRG) a significance, a sign and a
magnitude (> 1) logit, whose classes pick contexts and which (since STRJ) the mixed bits also read
directly (layers/structure/prediction_net.c runs it in integers). `train` fits it on the luma of the training pictures (float arithmetic; a dead-zone
quantizer, rounding offset 0.4, not the encoder's choice pass); `export` writes the normative
table layers/structure/prediction_net_weights.c; `eval` counts, over the luma of some pictures,
the bits of significance and sign under simple adaptive contexts (neighbour count and `big` per
band, as session 25's Python model) with no prediction, with the hand prediction's classes and
with the network's (the research measure of session 26).

  /usr/bin/python3 layers/structure/tools/learned_prediction.py train OUT.pt --mag --channels 16 \\
      [--data ../shared/data/train/bsds500] [--steps 6000] [--step-lo 5 --step-hi 130] \\
      [--levels 4] [--init NET.pt --lr 1e-3]
  /usr/bin/python3 layers/structure/tools/learned_prediction.py export NET.pt layers/structure/prediction_net_weights.c
  /usr/bin/python3 layers/structure/tools/learned_prediction.py eval NET.pt --step 50 IMAGES...

The committed network (layers/structure/tools/prediction_net.pt, STRJ): two runs of `train
--mag --channels 32 --step-lo 5 --step-hi 130 --levels 4`, the second continuing the first:
`--steps 8000` (learning rate 3e-3), then `--init THAT.pt --lr 5e-4 --steps 6000`; 14,000 steps
in all, about 65 + 55 minutes on one core beside other work. STRI's 24 channels: `--channels 24
--steps 8000`, then `--init --lr 5e-4 --steps 6000` and `--lr 3e-4 --steps 6000` from that.
STRH's 16 channels: `--channels 16 --steps 6000` on levels 1-3, then `--levels 4 --init --lr
1e-3 --steps 4000` and `--lr 5e-4 --steps 4000`; STRF's 8 channels: 6,000 steps, 20 minutes.
Session 26 (8 channels, 3,000 steps,
steps 10-90, no magnitude output, the hand prediction read as log(1 + 8 |R| / step)):
kodim03/05/13/15/23 at step 50, hand -7.63 %, network -10.46 % of these bits (significance
-4.2 % more, signs about even); at step 15, -4.32 % and -6.47 % (docs/structure.md).
"""
import argparse
import glob
import math
import os
import random
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdf97 import lift_forward, lift_inverse  # noqa: E402


def _rows(f, *xs):
    """f (a lifting along the first axis) applied down the rows of (..., h, w) tensors."""
    out = f(*(x.movedim(-2, 0) for x in xs))
    return tuple(t.movedim(0, -2) for t in out) if isinstance(out, tuple) else out.movedim(0, -2)


def bands(x):
    """One level of (..., h, w), h and w even: LL, A (high across), B (high down), C."""
    lo, hi = _rows(lift_forward, x)
    t = lambda v: v.transpose(-1, -2)  # noqa: E731
    ll, a = _rows(lift_forward, t(lo))
    b, c = _rows(lift_forward, t(hi))
    return t(ll), t(a), t(b), t(c)


def unbands(ll, a, b, c):
    t = lambda v: v.transpose(-1, -2)  # noqa: E731
    return _rows(lift_inverse, t(_rows(lift_inverse, t(ll), t(a))), t(_rows(lift_inverse, t(b), t(c))))


def quantize(c, step):
    return torch.sign(c) * torch.floor(c.abs() / step + 0.4)


def hand_prediction(u, alpha=0.25):
    p = torch.nn.functional.pad(u, (1, 1, 1, 1), mode="replicate").unfold(2, 3, 1).unfold(3, 3, 1)
    lo, hi = p.amin((-1, -2)), p.amax((-1, -2))
    return u + alpha * (torch.where(u - lo > hi - u, hi, lo) - u)


def levels(y, step, count=5):
    """[(level, synthesis of the quantized coarser levels, (A, B, C) unquantized)], coarse first."""
    details, cur = [], y
    for _ in range(count):
        ll, a, b, c = bands(cur)
        details.append((a, b, c))
        cur = ll
    rec, out = quantize(cur, step) * step, []
    for level in range(count, 0, -1):
        a, b, c = details[level - 1]
        zero = torch.zeros_like(a)
        out.append((level, unbands(rec, zero, zero, zero), (a, b, c)))
        rec = unbands(rec, quantize(a, step) * step, quantize(b, step) * step, quantize(c, step) * step)
    return out


STEP_MAX = 128  # the step the network is told is at most this


def compress(r):
    """sign(r) log2(1 + 8 |r|) with log2 linear between powers of two (what the codec computes in
    integers: the exponent plus the mantissa's fraction)."""
    x = 1 + 8 * r.abs()
    e = torch.floor(torch.log2(x))
    return torch.sign(r) * (e + x / torch.exp2(e) - 1)


# The codec's classes of the logits (prediction_net.c), thresholds in 1/1024.
SIG_BOUNDS = (-3584, -2560, -1792, -896, 0)
SIGN_BOUNDS = (-1024, -307, 307, 1024)
MAG_BOUNDS = (-2304, -1408, -896, -256, 384)


def logit_classes(logits):
    """(significance, sign, magnitude) classes of (..., 9, h, w) logits, as the codec packs them."""
    v = logits * 1024
    count = lambda t, bounds: sum((t >= b).long() for b in bounds)  # noqa: E731
    return count(v[..., 0:3, :, :], SIG_BOUNDS), count(v[..., 3:6, :, :], SIGN_BOUNDS), count(v[..., 6:9, :, :], MAG_BOUNDS)


class Predictor(torch.nn.Module):
    """Synthesis (and step) at the resolution the level splits -> 6 maps at the level's: the
    significance logits of A, B, C, then their sign logits (positive: > 0)."""

    def __init__(self, ch=8, outputs=6):
        super().__init__()
        conv = lambda i, o, s=1: torch.nn.Conv2d(i, o, 3, stride=s, padding=1, padding_mode="replicate")  # noqa: E731
        self.a, self.b, self.c = conv(2, ch), conv(ch + 3, ch, 2), conv(ch + 3, ch)
        self.out = torch.nn.Conv2d(ch + 3, outputs, 1)

    def forward(self, u, step):
        return self.from_prediction(u, torch.cat(bands(hand_prediction(u))[1:], 1), step)

    def from_prediction(self, u, pred, step):
        """The logits from the synthesis u and the hand prediction's three bands (grey levels)."""
        r = compress(pred / step)
        x = torch.relu(self.a(torch.cat([u / 64, torch.full_like(u, min(step, STEP_MAX) / 64)], 1)))
        x = torch.relu(self.b(torch.cat([x, torch.nn.functional.interpolate(r, scale_factor=2)], 1)))
        x = torch.relu(self.c(torch.cat([x, r], 1)))
        return self.out(torch.cat([x, r], 1))


def luma(path):
    im = np.asarray(Image.open(path).convert("RGB")).astype(np.float32)
    return torch.from_numpy((im[..., 0] + 2 * im[..., 1] + im[..., 2]) / 4 - 128)


def train(a):
    torch.manual_seed(1)
    random.seed(1)
    files = sorted(glob.glob(os.path.join(a.data, "*.jpg")) + glob.glob(os.path.join(a.data, "*.png")))
    if not files:
        sys.exit(f"learned_prediction.py: no pictures in {a.data}")
    pics = [luma(f) for f in files]
    net = Predictor(a.channels, 9 if a.mag else 6)
    done = 0
    if a.init:  # continue from a trained network (same width and outputs)
        ck = torch.load(a.init)
        if ck["channels"] != a.channels or ck.get("outputs", 6) != (9 if a.mag else 6):
            sys.exit(f"learned_prediction.py: {a.init} has another width or other outputs")
        net.load_state_dict(ck["state"])
        done = ck.get("steps", 0)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.steps)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    run = None
    for it in range(a.steps):
        crops = []
        for _ in range(8):
            p = random.choice(pics)
            y0, x0 = random.randrange(p.shape[0] - 159), random.randrange(p.shape[1] - 159)
            c = p[y0:y0 + 160, x0:x0 + 160]
            crops.append(c.t() if random.random() < 0.5 else c)
        y = torch.stack(crops)[:, None]
        step = math.exp(random.uniform(math.log(a.step_lo), math.log(a.step_hi)))
        with torch.no_grad():
            lv = levels(y, step)
        loss = 0
        for level, u, truth in lv:
            if level > a.levels:
                continue
            o = net(u, step)
            q = quantize(torch.cat(truth, 1), step)
            nz = (q != 0).float()
            loss = loss + bce(o[:, :3], nz, reduction="sum") + (bce(o[:, 3:6], (q > 0).float(), reduction="none") * nz).sum()
            if a.mag:
                loss = loss + (bce(o[:, 6:9], (q.abs() > 1).float(), reduction="none") * nz).sum()
        loss = loss / y.numel()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = loss.item() if run is None else 0.98 * run + 0.02 * loss.item()
        if it % 500 == 0 or it == a.steps - 1:
            print(f"step {it} loss {run:.5f}", flush=True)
            torch.save({"channels": a.channels, "outputs": 9 if a.mag else 6, "steps": done + it + 1,
                        "state": net.state_dict()}, a.out)


def adaptive_bits(keys, bits):
    """Bits of binary decisions under one adaptive (count-based) model per key."""
    _, inv = np.unique(keys, return_inverse=True)
    ones = np.bincount(inv, weights=bits)
    total = np.bincount(inv).astype(float)
    zeros = total - ones
    return float(-(ones * np.log2((ones + 0.5) / (total + 1))).sum() - (zeros * np.log2((zeros + 0.5) / (total + 1))).sum())


def evaluate(a):
    ck = torch.load(a.net)
    net = Predictor(ck["channels"], ck.get("outputs", 6))
    net.load_state_dict(ck["state"])
    net.eval()
    step = a.step
    res = {"none": [0.0, 0.0], "hand": [0.0, 0.0], "network": [0.0, 0.0]}
    for path in a.images:
        with torch.no_grad():
            for level, u, truth in levels(luma(path)[None, None], step):
                o = net(u, step)[0].numpy()
                hb = bands(hand_prediction(u))[1:]
                for k in range(3):
                    q = quantize(truth[k], step)[0, 0].numpy()
                    nz = (q != 0).astype(np.int64)
                    cnt = np.zeros_like(nz)
                    cnt[:, 1:] += nz[:, :-1]
                    cnt[1:] += nz[:-1]
                    cnt[1:, 1:] += nz[:-1, :-1]
                    cnt[1:, :-1] += nz[:-1, 1:]
                    big = np.zeros_like(nz)
                    big[:, 1:] |= np.abs(q[:, :-1]) > 1
                    big[1:] |= np.abs(q[:-1]) > 1
                    sg = np.sign(q).astype(np.int64)
                    left, up = np.zeros_like(sg), np.zeros_like(sg)
                    left[:, 1:], up[1:] = sg[:, :-1], sg[:-1]
                    m = q != 0
                    for name in res:
                        if name == "none":
                            pm, ps, nps = np.zeros_like(nz), np.zeros_like(nz), 3
                        elif name == "hand":
                            r = np.abs(hb[k][0, 0].numpy()) / step
                            pm = np.digitize(r, [0.05, 0.12, 0.25, 0.5, 1.0])
                            ps, nps = (np.sign(hb[k][0, 0].numpy()) * (r > 0.1)).astype(np.int64) + 1, 3
                        else:
                            pm = np.digitize(1 / (1 + np.exp(-o[k])), [0.03, 0.08, 0.16, 0.3, 0.5])
                            ps, nps = np.digitize(o[3 + k], [-1.0, -0.3, 0.3, 1.0]), 5
                        key = (((level * 3 + k) * 10 + cnt) * 2 + big) * 6 + pm
                        res[name][0] += adaptive_bits(key.ravel(), nz.ravel())
                        key = ((((level * 3 + k) * 3 + left + 1) * 3 + up + 1) * nps + ps) * 6 + pm
                        res[name][1] += adaptive_bits(key[m], (sg[m] > 0).astype(float))
    base = sum(res["none"])
    for name, (sig, sign) in res.items():
        print(f"step {step:g} {name:8s} significance {sig:9.0f} sign {sign:9.0f} bits, "
              f"{(sig + sign) / base * 100 - 100:+.2f} %")


def export(a):
    """Writes the network as layers/structure/prediction_net_weights.c: weights in 1/4096 (int16),
    biases in 1/2^22 (the products of 1/1024 activations and 1/4096 weights), prediction_net.h's
    layout. The table is normative (a new one is a new structure format)."""
    ck = torch.load(a.net)
    st, ch = ck["state"], ck["channels"]
    if ck.get("outputs", 6) != 9:
        sys.exit("learned_prediction.py: the codec's network has 9 outputs (train with --mag)")
    lines = [f"/* Generated by layers/structure/tools/learned_prediction.py export; do not edit.",
             f" * {os.path.basename(a.net)}: {ch} channels, {ck.get('steps', '?')} training steps.",
             " * The learned coarse-scale prediction's parameters (prediction_net.h). */",
             '#include "prediction_net.h"', "",
             f"#if SCMC_PREDNET_CHANNELS != {ch}",
             f'#error "prediction_net.h must say {ch} channels"',
             "#endif", ""]

    def table(name, t, scale, ctype, limit):
        v = np.round(t.detach().numpy().astype(np.float64) * scale).astype(np.int64)
        if np.abs(v).max() > limit:
            sys.exit(f"learned_prediction.py: {name} does not fit {ctype} ({np.abs(v).max()})")
        dims = "".join(f"[{d}]" for d in v.shape)
        dims = {"scmc_prednet_a_w": "[SCMC_PREDNET_CHANNELS][2][3][3]",
                "scmc_prednet_b_w": "[SCMC_PREDNET_CHANNELS][SCMC_PREDNET_IN_BC][3][3]",
                "scmc_prednet_c_w": "[SCMC_PREDNET_CHANNELS][SCMC_PREDNET_IN_BC][3][3]",
                "scmc_prednet_o_w": "[SCMC_PREDNET_OUTPUTS][SCMC_PREDNET_IN_BC]"}.get(name, dims)
        def nest(x, depth):
            if x.ndim == 1:
                return "{ " + ", ".join(str(int(e)) for e in x) + " }"
            sep = ",\n" + " " * (4 * depth + 4) if x.ndim >= 2 and depth == 0 else ", "
            return "{ " + sep.join(nest(e, depth + 1) for e in x) + " }"
        lines.append(f"const {ctype} {name}{dims} = {nest(v, 0)};")
    for key, name in (("a", "a"), ("b", "b"), ("c", "c"), ("out", "o")):
        w = st[f"{key}.weight"]
        if key == "out":
            w = w[:, :, 0, 0]
        table(f"scmc_prednet_{name}_w", w, 4096, "int16_t", 32767)
        table(f"scmc_prednet_{name}_b", st[f"{key}.bias"], 1 << 22, "int32_t", 2 ** 31 - 1)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("out")
    t.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data",
                                                  "train", "bsds500"))
    t.add_argument("--channels", type=int, default=8)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--mag", action="store_true", help="also a logit of |value| > 1 for each band")
    t.add_argument("--step-lo", type=float, default=10)
    t.add_argument("--step-hi", type=float, default=90)
    t.add_argument("--levels", type=int, default=3, help="the finest levels trained on (the codec's SCMC_PREDNET_LEVELS)")
    t.add_argument("--init", help="a checkpoint to continue from (its step count carries on)")
    t.add_argument("--lr", type=float, default=3e-3, help="the starting learning rate (cosine to 0)")
    e = sub.add_parser("eval")
    e.add_argument("net")
    e.add_argument("--step", type=float, default=50)
    e.add_argument("images", nargs="+")
    x = sub.add_parser("export")
    x.add_argument("net")
    x.add_argument("out")
    a = ap.parse_args()
    torch.set_num_threads(1)
    {"train": train, "eval": evaluate, "export": export}[a.cmd](a)


if __name__ == "__main__":
    main()
