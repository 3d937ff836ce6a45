#!/usr/bin/python3
"""How much a checkpoint's top qualities are held back by what its transforms can represent.

  /usr/bin/python3 layers/signal/train/detail_headroom.py CKPT --base-dir KODAK_BASES
        --train-bases BASES [--images 6] [--train-images 40] [--quality 4,6,8] [--extra 64,128,256]

Two measurements on the first N Kodak images (residuals against base1 from KODAK_BASES, as
eval_kodak.py reads them):
1. the PSNR of the residual's reconstruction with the latents not quantized at all, rounded to
   the nearest integer, and unquantized without the detail channels (the transforms' ceiling at
   that quality's gains);
2. what K more linear detail channels would bring: the model's remaining error (nearest rounding)
   in 16x16x3 blocks, projected on its K leading principal directions (fitted on the error of
   training images, base1 from BASES), coefficients quantized with the high-rate step of the
   quality's lambda (add_detail.py) and a dead zone, rate = their empirical entropy per
   coefficient over the test images (a static model: no hyperprior, so a pessimistic rate).
   Printed: the training objective lambda * 255^2 * MSE + bpp before and after, per K.
docs/signal.md, "A wider detail transform", has the figures that led to 256 detail channels.
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
from add_detail import blocks  # noqa: E402
from eval_kodak import DEFAULT_KODAK, load  # noqa: E402
from model import LAMBDAS  # noqa: E402

TRAIN = os.path.normpath(os.path.join(HERE, "../../../../shared/data/train/bsds500"))
DEAD_ZONE = 0.7  # |c| / step below 0.7 codes 0 (0.5 would be plain rounding: measured worse)


@torch.no_grad()
def code(model, img_path, base_path, q):
    """(error blocks after nearest rounding, bits, pixels, MSE, ceiling PSNRs) of one image."""
    img = np.asarray(Image.open(img_path).convert("RGB"), np.float32)
    base = np.asarray(Image.open(base_path).convert("RGB"), np.float32)
    h, w, _ = img.shape
    x = torch.from_numpy(((img - base) / 255.0).transpose(2, 0, 1)[None].copy())
    x = F.pad(x, (0, -w % 64, 0, -h % 64))
    ig = model.inv_gain[q][None, :, None, None]
    y, y_hat, z, mean, scale = model.code_nearest(x, q)
    bits = model.latent_bits(y_hat, z, mean, scale).item()

    def psnr(latent):
        err = (model.synthesis(latent * ig) - x)[0, :, :h, :w]
        return 10 * math.log10(1.0 / float((err ** 2).mean()))

    no_detail = y.clone()
    no_detail[:, model.M - model.detail:] = 0
    ceilings = (psnr(y), psnr(y_hat), psnr(no_detail))
    err = (x - model.synthesis(y_hat * ig))[0]
    h16, w16 = h // 16 * 16, w // 16 * 16
    return blocks(err[:, :h16, :w16].numpy()), bits, h * w, float((err[:, :h, :w] ** 2).mean()), ceilings


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--base-dir", required=True)
    ap.add_argument("--train-bases", required=True)
    ap.add_argument("--kodak", default=DEFAULT_KODAK)
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--train-images", type=int, default=40)
    ap.add_argument("--quality", default="4,6,8")
    ap.add_argument("--extra", default="64,128,256")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, step = load(args.ckpt)
    kodak = sorted(glob.glob(os.path.join(args.kodak, "*.png")))[: args.images]
    train = sorted(glob.glob(os.path.join(args.train_bases, "*.png")))[: args.train_images]
    if not kodak or not train:
        sys.exit("detail_headroom.py: no Kodak images or no training bases")
    print(f"{args.ckpt}: step {step}, M {model.M}, detail {model.detail}; {len(kodak)} Kodak images, "
          f"principal directions from {len(train)} training images")
    for q in [int(v) - 1 for v in args.quality.split(",")]:
        lam = LAMBDAS[q] * 255.0 ** 2
        step_q = math.sqrt(18.0 / (lam * math.log(2.0)))
        errs = []
        for b in train:
            stem = os.path.splitext(os.path.basename(b))[0]
            errs.append(code(model, os.path.join(TRAIN, stem + ".jpg"), b, q)[0])
        E = np.concatenate(errs).astype(np.float64)
        _, U = np.linalg.eigh(E.T @ E / len(E))
        U = U[:, ::-1]
        coded = [code(model, f, os.path.join(args.base_dir, os.path.basename(f)), q) for f in kodak]
        loss0 = np.mean([lam * mse + bits / n for _, bits, n, mse, _ in coded])
        ceil = np.mean([c for *_, c in coded], axis=0)
        print(f"quality {q + 1}: residual PSNR unquantized {ceil[0]:.2f} dB, rounded {ceil[1]:.2f}, "
              f"unquantized without detail channels {ceil[2]:.2f}; objective {loss0:.4f}")
        for K in [int(v) for v in args.extra.split(",")]:
            sym = [np.sign(c) * np.floor(np.abs(c) / step_q + 1 - DEAD_ZONE)
                   for c in (blk @ U[:, :K] for blk, *_ in coded)]
            allsym = np.concatenate(sym)
            entropy = 0.0
            for k in range(K):
                _, cnt = np.unique(allsym[:, k], return_counts=True)
                p = cnt / cnt.sum()
                entropy -= float((p * np.log2(p)).sum())
            losses, psnrs, bpps = [], [], []
            for (blk, bits, n, mse, _), s in zip(coded, sym):
                rest = blk - (s * step_q) @ U[:, :K].T
                mse2 = mse + ((rest ** 2).sum() - (blk ** 2).sum()) / (3 * n)
                bits2 = bits + entropy * len(blk)
                losses.append(lam * mse2 + bits2 / n)
                psnrs.append(10 * math.log10(1.0 / mse2))
                bpps.append(bits2 / n)
            print(f"  +{K} linear channels: objective {np.mean(losses):.4f} ({100 * (np.mean(losses) / loss0 - 1):+.1f} %), "
                  f"{np.mean(bpps):.3f} bpp, {np.mean(psnrs):.2f} dB")


if __name__ == "__main__":
    main()
