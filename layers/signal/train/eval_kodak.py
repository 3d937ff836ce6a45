#!/usr/bin/python3
"""Rate-distortion of a signal-model checkpoint on Kodak, in Python, to follow training.

  /usr/bin/python3 layers/signal/train/eval_kodak.py CKPT [CKPT2] --base-dir DIR [--images N | --only kodim03,kodim23]

base1 of each Kodak image is read from DIR/kodimNN.png and the bytes of its semantic + structure
stream from DIR/kodimNN.scmc (write both with `bash layers/signal/train/make_bases.sh
build-notorch/scmc DIR ../shared/data/kodak`); DIR may be a pattern with {q}, one folder per
quality (`make_bases.sh ... ../shared/data/kodak Q`), as the C encoder's base1 follows the quality
(bases.py). For every quality the latents are rounded to the
nearest integer (no rate-distortion rounding, unlike the C encoder) and their rate is the model's
own likelihood (continuous scales, not the 64-entry table), so the figures are close to, not the
same as, what `scmc` measures; they are for comparing checkpoints quickly. With two checkpoints
it prints the BD-rate of the second against the first (whole-stream rate, PSNR over RGB): of the
mean curves, and per image.
"""
import argparse
import glob
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../../../benches"))
from bdrate import bd_rate  # noqa: E402
from bases import per_quality, quality_dirs  # noqa: E402
from model import NUM_QUALITIES, SignalCodec  # noqa: E402

DEFAULT_KODAK = os.path.normpath(os.path.join(HERE, "../../../../shared/data/kodak"))


def load(ckpt):
    state = torch.load(ckpt)
    model = SignalCodec(**state["config"])
    model.load_state_dict(state["model"])
    model.eval()
    return model, state["step"]


@torch.no_grad()
def code(model, img, base, q):
    """Returns (latent bits, reconstruction as uint8 HxWx3) at quality index q."""
    h, w, _ = img.shape
    x = torch.from_numpy(((img.astype(np.float32) - base) / 255.0).transpose(2, 0, 1)[None].copy())
    ph, pw = -h % 64, -w % 64  # the C codec pads with zero residual to a multiple of 64
    x = F.pad(x, (0, pw, 0, ph))
    _, y_hat, z_hat, mean, scale = model.code_nearest(x, q)
    bits = model.latent_bits(y_hat, z_hat, mean, scale)
    x_hat = model.synthesis(y_hat * model.inv_gain[q][None, :, None, None])[0, :, :h, :w]
    rec = np.clip(np.round(base + 255.0 * x_hat.numpy().transpose(1, 2, 0)), 0, 255).astype(np.uint8)
    return bits.item(), rec


def curve(model, images):
    """Returns the mean curve and each image's: lists of (bpp, PSNR) per quality."""
    per_image = [[] for _ in images]
    for q in range(NUM_QUALITIES):
        for i, (img, bases) in enumerate(images):
            base, base_bytes = bases[q]
            bits, rec = code(model, img, base, q)
            npix = img.shape[0] * img.shape[1]
            mse = np.mean((rec.astype(np.float64) - img) ** 2)
            per_image[i].append(((bits + 8 * base_bytes) / npix, 10 * math.log10(255.0 ** 2 / mse)))
    mean = [(float(np.mean([c[q][0] for c in per_image])), float(np.mean([c[q][1] for c in per_image])))
            for q in range(NUM_QUALITIES)]
    return mean, per_image


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", nargs="+")
    ap.add_argument("--base-dir", required=True, metavar="DIR|PATTERN",
                    help="base1 folder, or a pattern with {q} for one folder per quality (bases.py)")
    ap.add_argument("--kodak", default=DEFAULT_KODAK)
    ap.add_argument("--images", type=int, default=24, help="the first N images")
    ap.add_argument("--only", default=None, help="these images (comma-separated stems) instead of the first N")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if len(args.ckpt) > 2:
        sys.exit("eval_kodak.py: one or two checkpoints")
    torch.set_num_threads(args.threads)
    files = sorted(glob.glob(os.path.join(args.kodak, "*.png")))[: args.images]
    if args.only:
        files = [os.path.join(args.kodak, stem + ".png") for stem in args.only.split(",")]
        for f in files:
            if not os.path.exists(f):
                sys.exit(f"eval_kodak.py: {f} missing")
    if not files:
        sys.exit(f"eval_kodak.py: no images in {args.kodak}")
    dirs = quality_dirs(args.base_dir, NUM_QUALITIES)
    images = []  # (image, [(base1, bytes of its semantic + structure stream) per quality])
    for f in files:
        stem = os.path.splitext(os.path.basename(f))[0]

        def read(d):
            base_png, base_stream = os.path.join(d, stem + ".png"), os.path.join(d, stem + ".scmc")
            if not os.path.exists(base_png) or not os.path.exists(base_stream):
                sys.exit(f"eval_kodak.py: {base_png} or {base_stream} missing (see make_bases.sh)")
            return np.asarray(Image.open(base_png).convert("RGB"), dtype=np.float32), os.path.getsize(base_stream)

        img = np.asarray(Image.open(f).convert("RGB"), dtype=np.float64)
        images.append((img, per_quality(dirs, read)))
    curves, per_image = [], []
    for ckpt in args.ckpt:
        model, step = load(ckpt)
        pts, each = curve(model, images)
        curves.append(pts)
        per_image.append(each)
        print(f"{ckpt}: step {step}, M {model.M}, {model.groups} groups, {len(images)} images")
        for q, (bpp, psnr) in enumerate(pts):
            print(f"  q{q + 1}  {bpp:.4f} bpp  {psnr:.2f} dB")
    if len(curves) == 2:
        bd = bd_rate(curves[0], curves[1])
        print("BD-rate of the second against the first: " + ("no overlap" if bd is None else f"{bd:+.1f} %"))
        for f, a, b in zip(files, per_image[0], per_image[1]):
            bd = bd_rate(a, b)
            print(f"  {os.path.basename(f)}: " + ("no overlap" if bd is None else f"{bd:+.2f} %"))


if __name__ == "__main__":
    main()
