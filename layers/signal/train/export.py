#!/usr/bin/python3
"""Exports a training checkpoint to the weight file that layers/signal reads (format: docs/weights.md).

  /usr/bin/python3 layers/signal/train/export.py CKPT OUT.scmw [SMALL_CKPT] [--ctx-table TABLE]
        [--z-tables BASE_DIR [--data DIR]]

With SMALL_CKPT, also writes a resumable checkpoint without the optimizer state (a third of the
size: the one committed to the repository; train.py resumes from it with fresh Adam moments).

Float tensors: the analysis/synthesis transforms (effective GDN parameters), the detail
transforms d_a / d_s when the model has them, h_a, the gains.
Integer tensors (everything the entropy model depends on, DESIGN.md sync rules):
  - h_s as a fixed-point network: weights * 2^WEIGHT_BITS, biases * 2^(WEIGHT_BITS + ACT_BITS);
  - the 64 scale thresholds * 2^ACT_BITS;
  - 16-bit CDFs of the factorized prior of z (one per channel) and of the 64 Gaussian scales.
  - with --ctx-table, the scale-context table `y_ctx_delta` (25 x 64 small integers, one line of
    64 per context), fitted with the C encoder by `build/signal_context --write-table TABLE`
    (bitstream-spec/signal.md, "Scale context"): export without it, fit, export again with it.
  - with --z-tables, per-quality CDFs of z (`z_q_cdf*`, 8 x N): the histogram of each channel's z
    at each quality over the training images (DIR, default ../shared/data/train/bsds500, with
    base1 from BASE_DIR, a folder or a {q} pattern, as train.py reads them), smoothed with Z_PRIOR
    pseudo-counts of the learned density. The learned density is one for all qualities and was trained on noisy z; the coded z
    of a low quality are far more concentrated (docs/signal.md, "Per-quality z tables").
The file ends with a CRC-32 of all bytes before it: the model id that streams carry.
"""
import glob
import math
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bases import per_quality, quality_dirs  # noqa: E402
from model import NUM_QUALITIES, SCALE_MAX, SCALE_MIN, SignalCodec  # noqa: E402

ACT_BITS = 10
WEIGHT_BITS = 14
NUM_SCALES = 64
NUM_CTX = 25         # scale contexts: 5 (left/upper neighbours) x 5 (group before)
TAIL = 1e-9          # probability mass left outside each coded range (escape-coded)
CDF_TOTAL = 1 << 16
Z_RANGE = 256        # z symbols are searched in [-Z_RANGE, Z_RANGE]
Z_PRIOR = 32.0       # pseudo-counts of the learned density in the per-quality z tables
PAD = 64             # the C codec pads images to a multiple of 64 with zero residual
DEFAULT_DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "../../../../shared/data/train/bsds500"))

DT_F32, DT_I32 = 1, 2


def quantize_pmf(probs):
    """probs (list, sum <= 1; the rest is the escape) -> CDF (len + 2 entries) with every symbol,
    the escape included, at least 1/65536."""
    probs = list(probs) + [max(0.0, 1.0 - sum(probs))]
    freq = [max(1, int(round(p * CDF_TOTAL))) for p in probs]
    diff = CDF_TOTAL - sum(freq)
    order = sorted(range(len(freq)), key=lambda i: -freq[i])
    i = 0
    while diff != 0:  # take from / give to the largest symbols, never below 1
        k = order[i % len(order)]
        step = 1 if diff > 0 else -1
        if freq[k] + step >= 1:
            freq[k] += step
            diff -= step
        i += 1
    cdf = [0]
    for f in freq:
        cdf.append(cdf[-1] + f)
    assert cdf[-1] == CDF_TOTAL
    return cdf


def scale_table():
    return [math.exp(math.log(SCALE_MIN) + (math.log(SCALE_MAX) - math.log(SCALE_MIN)) * i / (NUM_SCALES - 1))
            for i in range(NUM_SCALES)]


def gaussian_cdfs():
    """Per scale: symbols -T..T then the escape; T covers all but TAIL of the mass."""
    lengths, flat = [], []
    mult = -math.sqrt(2) * torch.erfinv(torch.tensor(TAIL - 1.0, dtype=torch.float64)).item()  # |x| beyond this: TAIL
    for s in scale_table():
        t = max(1, int(math.ceil(mult * s)))
        v = torch.arange(-t, t + 1, dtype=torch.float64)
        phi = lambda x: 0.5 * torch.erfc(-x / math.sqrt(2))  # noqa: E731
        p = (phi((v + 0.5) / s) - phi((v - 0.5) / s)).tolist()
        cdf = quantize_pmf(p)
        lengths.append(len(cdf) - 1)
        flat += cdf
    return lengths, flat


def z_density(model):
    """The learned density of z on the grid -Z_RANGE..Z_RANGE: (N, 2 Z_RANGE + 1) probabilities."""
    with torch.no_grad():
        grid = torch.arange(-Z_RANGE, Z_RANGE + 1, dtype=torch.float32)
        v = grid.view(1, 1, -1).expand(model.N, 1, -1)
        lo = torch.sigmoid(model.density.logits(v - 0.5))[:, 0].double()
        hi = torch.sigmoid(model.density.logits(v + 0.5))[:, 0].double()
        return (hi - lo).clamp(min=0)


def range_cdfs(pmf):
    """Per row of pmf (over -Z_RANGE..Z_RANGE): the symbol range holding all but TAIL of the mass,
    and its CDF with an escape."""
    offsets, lengths, flat = [], [], []
    for p in pmf:
        below = torch.cumsum(p, 0) - p            # mass below each symbol
        above = torch.flip(torch.cumsum(torch.flip(p, [0]), 0), [0]) - p
        first = int((below < TAIL / 2).nonzero().max().item())
        last = int((above < TAIL / 2).nonzero().min().item())
        cdf = quantize_pmf(p[first:last + 1].tolist())
        offsets.append(first - Z_RANGE)
        lengths.append(len(cdf) - 1)
        flat += cdf
    return offsets, lengths, flat


def z_cdfs(model):
    """Per channel of z: the symbol range holding all but TAIL of the learned density, its CDF."""
    return range_cdfs(z_density(model))


def z_quality_cdfs(model, base_dir, data_dir):
    """Per quality and channel of z: the smoothed histogram of the training images' z."""
    files = sorted(glob.glob(os.path.join(data_dir, "*.jpg")) + glob.glob(os.path.join(data_dir, "*.png")))
    if not files:
        sys.exit(f"export.py: no training images in {data_dir}")
    bins = 2 * Z_RANGE + 1
    hist = torch.zeros(NUM_QUALITIES, model.N, bins, dtype=torch.float64)
    dirs = quality_dirs(base_dir, NUM_QUALITIES)
    with torch.no_grad():
        for f in files:
            stem = os.path.splitext(os.path.basename(f))[0]
            img = np.asarray(Image.open(f).convert("RGB"), dtype=np.float32)
            h, w, _ = img.shape

            def analyse(d):  # the residual against that folder's base1, through g_a
                base = np.asarray(Image.open(os.path.join(d, stem + ".png")).convert("RGB"), dtype=np.float32)
                x = torch.from_numpy(((img - base) / 255.0).transpose(2, 0, 1)[None].copy())
                return model.analysis(F.pad(x, (0, -w % PAD, 0, -h % PAD)))

            ys = per_quality(dirs, analyse)
            for q in range(NUM_QUALITIES):
                z = torch.round(model.h_a(ys[q] * model.gain[q][None, :, None, None]))[0]
                idx = (z.clamp(-Z_RANGE, Z_RANGE) + Z_RANGE).long().reshape(model.N, -1)
                hist[q].scatter_add_(1, idx, torch.ones_like(idx, dtype=torch.float64))
    prior = z_density(model)
    pmf = (hist + Z_PRIOR * prior[None]) / (hist.sum(2, keepdim=True) + Z_PRIOR * prior.sum(1)[None, :, None])
    return range_cdfs(pmf.reshape(NUM_QUALITIES * model.N, bins)), len(files)


def read_ctx_table(path):
    rows = [[int(v) for v in line.split()] for line in open(path) if line.strip()]
    if len(rows) != NUM_CTX or any(len(r) != NUM_SCALES or any(abs(v) > 63 for v in r) for r in rows):
        sys.exit(f"{path}: expected {NUM_CTX} lines of {NUM_SCALES} integers in -63..63")
    return rows


def tensors(model, ctx_table=None, z_tables=None):
    out = []
    sd = {k: v.detach() for k, v in model.state_dict().items()}

    def f32(name, t):
        out.append((name, DT_F32, t.float().contiguous()))

    def i32(name, t):
        out.append((name, DT_I32, torch.as_tensor(t, dtype=torch.int64).contiguous()))

    i32("config", [model.N, model.M, model.groups, NUM_QUALITIES, ACT_BITS, WEIGHT_BITS, NUM_SCALES, model.detail])
    for seq in ("g_a", "g_s"):
        for i, layer in enumerate(getattr(model, seq)):
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                f32(f"{seq}.{i}.weight", sd[f"{seq}.{i}.weight"])
                f32(f"{seq}.{i}.bias", sd[f"{seq}.{i}.bias"])
            else:
                beta, gamma = layer.effective()
                f32(f"{seq}.{i}.beta", beta.detach())
                f32(f"{seq}.{i}.gamma", gamma.detach())
    if model.detail:
        f32("d_a.weight", sd["d_a.weight"])
        f32("d_s.weight", sd["d_s.weight"])
    for i in (0, 2, 4):
        f32(f"h_a.{i}.weight", sd[f"h_a.{i}.weight"])
        f32(f"h_a.{i}.bias", sd[f"h_a.{i}.bias"])
    for i in (0, 2, 4):
        w = torch.round(sd[f"h_s.{i}.weight"].double() * (1 << WEIGHT_BITS))
        b = torch.round(sd[f"h_s.{i}.bias"].double() * (1 << (WEIGHT_BITS + ACT_BITS)))
        assert w.abs().max() <= (1 << 20) and b.abs().max() < (1 << 31), "h_s weights out of fixed-point range"
        i32(f"h_s.{i}.weight", w)
        i32(f"h_s.{i}.bias", b)
    f32("gain", sd["gain"])
    f32("inv_gain", sd["inv_gain"])
    i32("scale_table_q", [int(round(s * (1 << ACT_BITS))) for s in scale_table()])
    lengths, flat = gaussian_cdfs()
    i32("gauss_cdf_length", lengths)
    i32("gauss_cdf", flat)
    offsets, lengths, flat = z_cdfs(model)
    i32("z_cdf_offset", offsets)
    i32("z_cdf_length", lengths)
    i32("z_cdf", flat)
    if ctx_table is not None:
        i32("y_ctx_delta", ctx_table)
    if z_tables is not None:
        offsets, lengths, flat = z_tables
        i32("z_q_cdf_offset", torch.tensor(offsets).view(NUM_QUALITIES, model.N))
        i32("z_q_cdf_length", torch.tensor(lengths).view(NUM_QUALITIES, model.N))
        i32("z_q_cdf", flat)
    return out


def record(name, dtype, t):
    """One tensor's bytes in a weight file (docs/weights.md)."""
    nb = name.encode()
    rec = struct.pack("<H", len(nb)) + nb + struct.pack("<BB", dtype, t.dim())
    rec += struct.pack("<%dI" % t.dim(), *t.shape)
    flat = t.flatten().tolist()
    return rec + struct.pack("<%d%s" % (len(flat), "f" if dtype == DT_F32 else "i"), *flat)


def write(path, items):
    body = bytearray(b"SCMW")
    body += struct.pack("<II", 1, len(items))
    for name, dtype, t in items:
        body += record(name, dtype, t)
    crc = zlib.crc32(bytes(body)) & 0xFFFFFFFF
    body += struct.pack("<I", crc)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(body)
    os.replace(tmp, path)
    return crc, len(body)


def option(args, name):
    """Removes `name VALUE` from args and returns VALUE (None when absent)."""
    if name not in args:
        return None
    i = args.index(name)
    if i + 1 >= len(args):
        sys.exit(__doc__)
    value = args[i + 1]
    del args[i:i + 2]
    return value


def main():
    args = sys.argv[1:]
    table_path, z_base, data = option(args, "--ctx-table"), option(args, "--z-tables"), option(args, "--data")
    ctx_table = read_ctx_table(table_path) if table_path else None
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    state = torch.load(args[0])
    model = SignalCodec(**state["config"])
    model.load_state_dict(state["model"])
    model.eval()
    z_tables = None
    if z_base:
        z_tables, count = z_quality_cdfs(model, z_base, data or DEFAULT_DATA)
    crc, size = write(args[1], tensors(model, ctx_table, z_tables))
    print(f"{args[1]}: {size} bytes, model id {crc:08x}, step {state['step']}"
          + (f", scale-context table {table_path}" if ctx_table else "")
          + (f", per-quality z tables from {count} images" if z_tables else ""))
    if len(args) == 3:
        small = {k: state[k] for k in ("config", "model", "step", "log", "resized", "quality_loss") if k in state}
        torch.save(small, args[2] + ".tmp")
        os.replace(args[2] + ".tmp", args[2])
        print(f"{args[2]}: {os.path.getsize(args[2])} bytes (no optimizer state)")


if __name__ == "__main__":
    main()
