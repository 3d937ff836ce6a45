#!/usr/bin/python3
"""Widen a trained checkpoint's latent: M -> M2 channels, the new ones appended as new groups.

  /usr/bin/python3 layers/signal/train/widen.py IN.pt OUT.pt --M 256

Why: with M latent channels per 16x16 block of the residual (768 values), the transforms cannot
reconstruct better than the best M-dimensional projection of such blocks, whatever the rate; at
M = 128 that bound (block PCA on Kodak residuals) is 30.6-35.1 dB, and the trained model's
unquantized reconstruction was 30.2-34.1 dB: the ceiling of the top qualities (docs/signal.md).

The trained channels keep their weights and their order; the new channels come after them in
groups of the same size (so the sub-layer order of the old ones is unchanged and the new groups
are the last refinements). They start from a fresh model's initialisation, with the synthesis
weights that read them scaled down (0.1) and the hyper-analysis weights that read them zero, so
the widened network starts out decoding almost exactly as the old one, while gradients reach
the new channels from the first step. Their gains start at the mean of the old channels' gains
per quality. The output checkpoint has no optimizer state; train.py resumes from it.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import SignalCodec  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--M", type=int, required=True, help="new number of latent channels")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    state = torch.load(args.src)
    cfg = dict(state["config"])
    M, per = cfg["M"], cfg["M"] // cfg["groups"]
    M2 = args.M
    if M2 <= M or M2 % per:
        sys.exit(f"widen.py: --M must exceed {M} and be a multiple of the group size {per}")
    torch.manual_seed(args.seed)
    new_cfg = {"N": cfg["N"], "M": M2, "groups": M2 // per}
    wide = SignalCodec(**new_cfg)
    old = state["model"]
    sd = wide.state_dict()
    for k, v in old.items():
        w = sd[k]
        if w.shape == v.shape:
            sd[k] = v.clone()
    with torch.no_grad():
        # g_a's last conv: outputs 0..M-1 are the old channels
        sd["g_a.6.weight"][:M] = old["g_a.6.weight"]
        sd["g_a.6.bias"][:M] = old["g_a.6.bias"]
        # g_s's first transposed conv (weight: in x out x k x k): new inputs start small
        sd["g_s.0.weight"][:M] = old["g_s.0.weight"]
        sd["g_s.0.weight"][M:] *= 0.1
        sd["g_s.0.bias"].copy_(old["g_s.0.bias"])
        # h_a's first conv reads y: new inputs start at zero, so z is unchanged
        sd["h_a.0.weight"][:, :M] = old["h_a.0.weight"]
        sd["h_a.0.weight"][:, M:] = 0
        sd["h_a.0.bias"].copy_(old["h_a.0.bias"])
        # h_s's last conv: rows 0..M2-1 means, M2..2*M2-1 scales
        ow, ob = old["h_s.4.weight"], old["h_s.4.bias"]
        sd["h_s.4.weight"][:M] = ow[:M]
        sd["h_s.4.bias"][:M] = ob[:M]
        sd["h_s.4.weight"][M2:M2 + M] = ow[M:]
        sd["h_s.4.bias"][M2:M2 + M] = ob[M:]
        for name in ("gain", "inv_gain"):
            sd[name][:, :M] = old[name]
            sd[name][:, M:] = old[name].mean(1, keepdim=True)
    wide.load_state_dict(sd)
    torch.save({"config": new_cfg, "model": wide.state_dict(), "step": state["step"], "log": state["log"],
                "widened": state.get("widened", []) + [(state["step"], M, M2)]}, args.dst)
    print(f"{args.src} (M {M}, {cfg['groups']} groups) -> {args.dst} (M {M2}, {new_cfg['groups']} groups) "
          f"at step {state['step']}")


if __name__ == "__main__":
    main()
