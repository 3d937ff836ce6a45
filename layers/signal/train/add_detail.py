#!/usr/bin/python3
"""Give a trained checkpoint DETAIL linear detail channels, started from what it gets wrong.

  /usr/bin/python3 layers/signal/train/add_detail.py IN.pt OUT.pt --base-dir DIR [--detail 128]
        [--data DIR] [--images 60]

IN keeps its M latent channels (nonlinear ones, then any detail channels it already has); OUT
has M + DETAIL, the new ones appended as groups of the same size (the last sub-layers) and
counted as detail channels after IN's own. Their transforms (model.py:
d_a, a 16x16 stride-16 convolution of the residual, and d_s, its transposed counterpart added to
g_s's output) start from a reduced-rank linear regression fitted on training residuals (base1
from DIR, as train.py --base-dir): with X the 16x16x3 blocks of the residual and E those of
IN's remaining error at the top quality,
  B = argmin |E - B X|  (ridge least squares, 768 x 768),
  U = the DETAIL leading principal directions of B X,
  d_a = U^T B,  d_s = U,
so d_s(d_a(x)) is the best rank-DETAIL linear prediction of the error from the input, with
orthonormal coefficients. Their gains are the high-rate optimum for a uniform quantizer under
L = lambda * 255^2 * MSE + bpp: 1 / step = sqrt(lambda * 255^2 * ln 2 / 18) per quality. The
hyper-analysis reads them with weights at zero (z starts unchanged), their predicted means start
at zero and their scales at the coefficient's standard deviation at the middle quality.

Why (docs/signal.md, "Detail channels"): session 6 widened the nonlinear latent from 128 to 256
channels and the new ones collapsed to zero before the synthesis learnt to read them; these start
with a measured use. Session 7 added the first 128 detail channels to a model without any,
session 10 128 more to a model with 128 (what limited the top qualities: "A wider detail
transform"). The output has no optimizer state; train.py resumes with fresh Adam moments.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from latent_width import carry_latents, start_from  # noqa: E402
from model import DETAIL_BLOCK, LAMBDAS, NUM_QUALITIES, SignalCodec  # noqa: E402

DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "../../../../shared/data/train/bsds500"))
BLOCK = 3 * DETAIL_BLOCK * DETAIL_BLOCK


def blocks(t):
    """(3, H, W) array, H and W multiples of DETAIL_BLOCK -> (n, 768) rows in conv-weight order."""
    c, h, w = t.shape
    b = DETAIL_BLOCK
    return t.reshape(c, h // b, b, w // b, b).transpose(1, 3, 0, 2, 4).reshape(-1, c * b * b)


@torch.no_grad()
def residual_and_error(model, files, base_dir):
    """Blocks of the residual x and of the model's error at the top quality (rounded latents)."""
    q = NUM_QUALITIES - 1
    xs, es = [], []
    for f in files:
        stem = os.path.splitext(os.path.basename(f))[0]
        img = np.asarray(Image.open(f).convert("RGB"), np.float32)
        base = np.asarray(Image.open(os.path.join(base_dir, stem + ".png")).convert("RGB"), np.float32)
        h, w = img.shape[0] // 64 * 64, img.shape[1] // 64 * 64
        x = torch.from_numpy(((img - base) / 255.0)[:h, :w].transpose(2, 0, 1)[None].copy())
        _, y_hat, _, _, _ = model.code_nearest(x, q)
        x_hat = model.synthesis(y_hat * model.inv_gain[q][None, :, None, None])
        xs.append(blocks(x[0].numpy()))
        es.append(blocks((x - x_hat)[0].numpy()))
    return np.concatenate(xs).astype(np.float64), np.concatenate(es).astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--base-dir", required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--detail", type=int, default=128)
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    state = torch.load(args.src)
    cfg = dict(state["config"])
    M, per, D0 = cfg["M"], cfg["M"] // cfg["groups"], cfg.get("detail", 0)
    K = args.detail
    if K < per or K % per or K > BLOCK:
        sys.exit(f"add_detail.py: --detail must be a multiple of the group size {per}, at most {BLOCK}")
    old = SignalCodec(**cfg)
    old.load_state_dict(state["model"])
    old.eval()

    files = sorted(glob.glob(os.path.join(args.data, "*.jpg")) + glob.glob(os.path.join(args.data, "*.png")))
    random.Random(args.seed).shuffle(files)
    X, E = residual_and_error(old, files[: args.images], args.base_dir)
    B = np.linalg.solve(X.T @ X + 1e-6 * len(X) * np.eye(BLOCK), X.T @ E).T
    P = X @ B.T
    var, U = np.linalg.eigh(P.T @ P / len(P))
    U = U[:, ::-1][:, :K]
    coef_std = np.sqrt(np.maximum(var[::-1][:K], 0.0))
    before = 10 * math.log10(1.0 / np.mean(E ** 2))
    after = 10 * math.log10(1.0 / np.mean((E - (X @ (U.T @ B).T) @ U.T) ** 2))
    print(f"{len(X)} blocks from {args.images} images: error at q{NUM_QUALITIES} {before:.2f} dB, "
          f"with the rank-{K} prediction unquantized {after:.2f} dB")

    torch.manual_seed(args.seed)
    new_cfg = {"N": cfg["N"], "M": M + K, "groups": (M + K) // per, "detail": D0 + K}
    model, sd = start_from(state["model"], new_cfg)
    M2 = M + K
    carry_latents(state["model"], sd, M, M2)
    step = np.sqrt(18.0 / (np.array(LAMBDAS) * 255.0 ** 2 * math.log(2.0)))  # per quality
    b = DETAIL_BLOCK
    with torch.no_grad():
        new_a = torch.from_numpy((U.T @ B).reshape(K, 3, b, b)).float()
        new_s = torch.from_numpy(U.T.reshape(K, 3, b, b).copy()).float()
        if D0:  # the trained detail channels stay in front of the new ones
            new_a = torch.cat([state["model"]["d_a.weight"], new_a])
            new_s = torch.cat([state["model"]["d_s.weight"], new_s])
        sd["d_a.weight"], sd["d_s.weight"] = new_a, new_s
        sd["h_s.4.weight"][M:M2], sd["h_s.4.bias"][M:M2] = 0, 0  # new means: zero
        sd["h_s.4.weight"][M2 + M:] = 0                          # new scales: a constant each
        sd["h_s.4.bias"][M2 + M:] = torch.from_numpy(coef_std / step[NUM_QUALITIES // 2]).float()
        sd["gain"][:, M:] = torch.from_numpy(1.0 / step).float()[:, None]
        sd["inv_gain"][:, M:] = torch.from_numpy(step).float()[:, None]
    model.load_state_dict(sd)
    torch.save({"config": new_cfg, "model": model.state_dict(), "step": state["step"], "log": state["log"],
                "resized": state.get("resized", []) + [(state["step"], M, M2, "detail")]}, args.dst)
    print(f"{args.src} (M {M}) -> {args.dst} (M {M2}: {M - D0} nonlinear + {D0 + K} detail, {new_cfg['groups']} groups) "
          f"at step {state['step']}")


if __name__ == "__main__":
    main()
