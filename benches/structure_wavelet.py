#!/usr/bin/python3
"""Would a wavelet correction serve the structure level better than the lattice of samples?

    /usr/bin/python3 benches/structure_wavelet.py [--scmc build/scmc] [--stats build/structure_stats]
        [--kodak ../shared/data/kodak] [--images kodim01,...] [--sketch 0.015,0.03]
        [--chroma 1.2] [--deadzone 0.3] [--no-jpeg2000]

Per image, at the bytes of the default structure-level stream (container + semantic + structure,
`scmc encode --layers semantic,structure`), it compares:
  - the default structure level of the build (session 11 ran it on STR4: sketch, lattice and side
    samples, diffused; since STR5 the default has a wavelet correction of its own);
  - semantic + wavelet: the correction image - base0, in YCoCg, through five levels of the CDF 9/7
    wavelet, quantized with one step (chroma: --chroma times it) and a dead zone, the step chosen
    by bisection as the finest whose bytes still fit;
  - sketch + wavelet, for each --sketch density: the structure layer's sub-layer 0 with the
    sketch at that edge budget and its side samples but no lattice (`structure_stats --lattice 64
    --split 0`), then this script's wavelet correction of what it leaves;
  - JPEG 2000 (OpenJPEG `-r`, the smallest ratio whose file fits).
The wavelet bytes are the adaptive code length of its symbols (Krichevsky-Trofimov estimate per
context: significance by band class and by the significant causal neighbours and parent;
magnitudes by unary bits with a context per bit; signs and Exp-Golomb escapes at one bit each),
the size an adaptive binary arithmetic coder reaches up to a few bytes per context. It is a
measurement of the representation, not a codec: no bitstream is written.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from scipy.special import gammaln

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from structure_bands import jpeg2000_at  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = 5
# The CDF 9/7 lifting (Daubechies and Sweldens' factorisation), shared with the structure tools.
sys.path.insert(0, os.path.join(HERE, "..", "layers", "structure", "tools"))
from cdf97 import lift_forward, lift_inverse  # noqa: E402


def dwt(x):
    """LL band and, coarsest first, the (LH, HL, HH) bands of each level."""
    bands = []
    for _ in range(LEVELS):
        low, high = lift_forward(x)
        ll, lh = lift_forward(low.T)
        hl, hh = lift_forward(high.T)
        bands.append((lh.T, hl.T, hh.T))
        x = ll.T
    return x, bands[::-1]


def idwt(ll, bands):
    x = ll
    for lh, hl, hh in bands:
        x = lift_inverse(lift_inverse(x.T, lh.T).T, lift_inverse(hl.T, hh.T).T)
    return x


def kt_bits(ones, n):
    """Adaptive (Krichevsky-Trofimov) code length of n binary symbols of which `ones` are 1."""
    if n == 0:
        return 0.0
    return float((gammaln(n + 1.0) + 2 * gammaln(0.5) - gammaln(ones + 0.5) - gammaln(n - ones + 0.5)) / math.log(2))


class CodeLength:
    """Counts per binary context, and the bits coded raw."""

    def __init__(self):
        self.counts, self.raw = {}, 0.0

    def add(self, key, bits):
        c = self.counts.setdefault(key, [0, 0])
        c[0] += int(bits.sum())
        c[1] += int(bits.size)

    def bytes(self):
        return (self.raw + sum(kt_bits(o, n) for o, n in self.counts.values())) / 8


def count_band(q, parent_sig, band_class, cl):
    sig = (q != 0).astype(np.int32)
    p = np.pad(sig, 1)
    neighbours = np.minimum(p[1:-1, :-2] + p[:-2, 1:-1] + p[:-2, :-2] + p[:-2, 2:], 2)  # W, N, NW, NE
    ctx = 2 * neighbours + parent_sig
    for c in range(6):
        cl.add((band_class, "sig", c), sig[ctx == c])
    mag = np.abs(q[q != 0])
    for t in range(1, 8):
        cl.add((band_class, "mag", t), (mag[mag >= t] > t).astype(np.int32))
    cl.raw += mag.size  # signs
    big = mag[mag > 8] - 7
    cl.raw += float(np.sum(2 * np.floor(np.log2(big)) + 1))


def quantize(x, step, deadzone):
    return np.sign(x) * np.maximum(np.floor(np.abs(x) / step + 0.5 - deadzone), 0)


def code_correction(corr, step, chroma, deadzone):
    """(reconstructed correction, bytes) of a YCoCg correction image at quantizer step `step`."""
    cl, out = CodeLength(), np.zeros_like(corr)
    for c in range(3):
        s = step * (chroma if c else 1.0)
        ll, bands = dwt(corr[..., c])
        qll = quantize(ll, s, deadzone)
        count_band(qll, np.zeros_like(qll, np.int32), (c > 0, "ll"), cl)
        parent, qbands = (qll != 0).astype(np.int32), []
        for level, triple in enumerate(bands):
            qs = [quantize(b, s, deadzone) for b in triple]
            up = np.repeat(np.repeat(parent, 2, 0), 2, 1) if level else parent
            for q in qs:
                count_band(q, up, (c > 0, min(level, 3)), cl)
            parent = ((qs[0] != 0) | (qs[1] != 0) | (qs[2] != 0)).astype(np.int32)
            qbands.append(qs)
        out[..., c] = idwt(qll * s, [tuple(q * s for q in qs) for qs in qbands])
    return out, cl.bytes()


def to_ycocg(x):
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([(r + 2 * g + b) / 4, (r - b) / 2, (-r + 2 * g - b) / 4], -1)


def to_rgb(y):
    l, co, cg = y[..., 0], y[..., 1], y[..., 2]
    return np.stack([l + co - cg, l + cg, l - co - cg], -1)


def psnr(a, b):
    return 10 * math.log10(255.0 ** 2 / float(np.mean((a - b) ** 2)))


def best_within(img, base, base_bytes, budget, chroma, deadzone):
    """PSNR and bytes of base + the finest wavelet correction with base_bytes + bytes <= budget."""
    corr = to_ycocg(img) - to_ycocg(base)
    lo, hi = 8.0, 4096.0  # steps: lo too fine (assumed), hi fits or nothing does
    best = (psnr(img, base), float(base_bytes))
    for _ in range(14):
        mid = math.sqrt(lo * hi)
        rec, n = code_correction(corr, mid, chroma, deadzone)
        if base_bytes + n <= budget:
            hi, best = mid, (psnr(img, np.clip(np.round(base + to_rgb(rec)), 0, 255)), base_bytes + n)
        else:
            lo = mid
    return best


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit(f"structure_wavelet: {' '.join(cmd)} failed: {r.stderr.decode()[:300]}")
    return r.stdout.decode()


def load(path):
    return np.asarray(Image.open(path).convert("RGB"), np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scmc", default="build/scmc")
    ap.add_argument("--stats", default="build/structure_stats")
    ap.add_argument("--kodak", default=os.path.normpath(os.path.join(HERE, "../../shared/data/kodak")))
    ap.add_argument("--images", default="")
    ap.add_argument("--sketch", default="0.015,0.03", help="edge budgets of the sketch + wavelet rows")
    ap.add_argument("--chroma", type=float, default=1.2)
    ap.add_argument("--deadzone", type=float, default=0.3)
    ap.add_argument("--no-jpeg2000", action="store_true")
    a = ap.parse_args()
    if not os.path.isdir(a.kodak):
        sys.exit(f"structure_wavelet: no images at {a.kodak}")
    names = a.images.split(",") if a.images else sorted(f[:-4] for f in os.listdir(a.kodak) if f.endswith(".png"))
    densities = [float(d) for d in a.sketch.split(",") if d]
    cols = ["default"] + ["semantic+wavelet"] + [f"sketch {d:g}+wavelet" for d in densities]
    if not a.no_jpeg2000:
        cols.append("JPEG 2000")
    sums = np.zeros((len(cols), 2))
    print("| image | bytes | " + " | ".join(f"{c} dB" for c in cols) + " |")
    print("|---" * (len(cols) + 2) + "|")
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            src = os.path.join(a.kodak, name + ".png")
            img = load(src)
            s0, s1, d1 = (os.path.join(work, n) for n in ("s0.scmc", "s1.scmc", "d1.png"))
            run([a.scmc, "encode", src, "-o", s0, "--layers", "semantic", "-q"])
            run([a.scmc, "encode", src, "-o", s1, "--layers", "semantic,structure", "-q"])
            run([a.scmc, "decode", s0, "-o", os.path.join(work, "d0.png"), "-q"])
            run([a.scmc, "decode", s1, "-o", d1, "-q"])
            budget = os.path.getsize(s1)
            base0 = load(os.path.join(work, "d0.png"))
            row = [(psnr(img, load(d1)), budget)]
            row.append(best_within(img, base0, os.path.getsize(s0), budget, a.chroma, a.deadzone))
            # structure_stats reports payload bytes; the container's share is what the stream
            # adds over the semantic and structure payloads of the default.
            run([a.stats, "--base1-dir", work, src])
            sem, st0, st1 = map(int, open(os.path.join(work, name + ".bytes")).read().split())
            overhead = budget - sem - st0 - st1
            for d in densities:
                run([a.stats, "--lattice", "64", "--split", "0", "--density", str(d), "--base1-dir", work, src])
                sem, st0, _ = map(int, open(os.path.join(work, name + ".bytes")).read().split())
                row.append(best_within(img, load(os.path.join(work, name + "-sketch.png")), sem + st0 + overhead,
                                       budget, a.chroma, a.deadzone))
            if not a.no_jpeg2000:
                ppm = os.path.join(work, "j.ppm")
                Image.open(src).convert("RGB").save(ppm)
                dec, n = jpeg2000_at(ppm, budget, work)
                row.append((psnr(img, dec), n))
            sums += np.array(row)
            print(f"| {name} | {budget} | " + " | ".join(f"{p:.2f}" for p, _ in row) + " |", flush=True)
    n = len(names)
    print(f"| **mean of {n}** | {sums[0][1] / n:.1f} | " + " | ".join(f"{p / n:.2f}" for p, _ in sums) + " |")
    print("mean bytes: " + ", ".join(f"{c} {b / n:.1f}" for c, (_, b) in zip(cols, sums)))


if __name__ == "__main__":
    main()
