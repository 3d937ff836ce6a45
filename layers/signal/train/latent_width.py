#!/usr/bin/python3
"""Change a trained checkpoint's number of latent channels M, keeping the trained ones.

  /usr/bin/python3 layers/signal/train/latent_width.py IN.pt OUT.pt --M 256   # widen
  /usr/bin/python3 layers/signal/train/latent_width.py IN.pt OUT.pt --M 128   # narrow

Widening appends channels as new groups of the same size after the trained ones (so the old
sub-layers stay first and the new groups are the last refinements). They start from a fresh
model's initialisation, with the synthesis weights that read them scaled down (0.1) and the
hyper-analysis weights that read them at zero, so the widened network decodes almost exactly as
the old one. Narrowing keeps the first M channels and drops the rest with everything that reads
or predicts them.

Why both exist (docs/signal.md, "The latent width"): with M = 128 the model sits at the
128-component PCA bound of the residual blocks, so session 6 widened it to 256; the new channels
then collapsed to zero (the rate term won before the synthesis learnt to use them), and the model
was narrowed back to its trained 128 channels. The output checkpoint has no optimizer state;
train.py resumes from it with fresh Adam moments.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import SignalCodec  # noqa: E402


def load_plain(path, tool):
    """A checkpoint without detail channels: (state, config, M, group size)."""
    state = torch.load(path)
    cfg = dict(state["config"])
    if cfg.get("detail", 0):
        sys.exit(f"{tool}: the checkpoint has detail channels (add_detail.py); it takes plain models only")
    return state, cfg, cfg["M"], cfg["M"] // cfg["groups"]


def start_from(old, new_cfg):
    """A fresh model of new_cfg and its state dict holding every old tensor whose shape is kept."""
    model = SignalCodec(**new_cfg)
    sd = model.state_dict()
    for k, v in old.items():
        if k in sd and sd[k].shape == v.shape:
            sd[k] = v.clone()
    return model, sd


def carry_latents(old, sd, M, M2):
    """Latent channels M..M2-1 appended to M trained ones: the old channels keep their hyper-analysis
    inputs, predicted means and scales and gains; the hyper-analysis reads the new ones with zero
    weights, so z starts unchanged. What the new channels' own rows hold is up to the caller."""
    with torch.no_grad():
        sd["h_a.0.weight"][:, :M] = old["h_a.0.weight"]
        sd["h_a.0.weight"][:, M:] = 0
        sd["h_a.0.bias"].copy_(old["h_a.0.bias"])
        ow, ob = old["h_s.4.weight"], old["h_s.4.bias"]         # rows 0..M2-1 means, then scales
        sd["h_s.4.weight"][:M], sd["h_s.4.bias"][:M] = ow[:M], ob[:M]
        sd["h_s.4.weight"][M2:M2 + M], sd["h_s.4.bias"][M2:M2 + M] = ow[M:], ob[M:]
        for name in ("gain", "inv_gain"):
            sd[name][:, :M] = old[name]


def widen(old, sd, M, M2):
    carry_latents(old, sd, M, M2)
    with torch.no_grad():
        sd["g_a.6.weight"][:M] = old["g_a.6.weight"]           # outputs 0..M-1: the old channels
        sd["g_a.6.bias"][:M] = old["g_a.6.bias"]
        sd["g_s.0.weight"][:M] = old["g_s.0.weight"]           # transposed conv: in x out x k x k
        sd["g_s.0.weight"][M:] *= 0.1
        sd["g_s.0.bias"].copy_(old["g_s.0.bias"])
        for name in ("gain", "inv_gain"):
            sd[name][:, M:] = old[name].mean(1, keepdim=True)


def narrow(old, sd, M, M2):
    with torch.no_grad():
        sd["g_a.6.weight"].copy_(old["g_a.6.weight"][:M2])
        sd["g_a.6.bias"].copy_(old["g_a.6.bias"][:M2])
        sd["g_s.0.weight"].copy_(old["g_s.0.weight"][:M2])
        sd["g_s.0.bias"].copy_(old["g_s.0.bias"])
        sd["h_a.0.weight"].copy_(old["h_a.0.weight"][:, :M2])
        sd["h_a.0.bias"].copy_(old["h_a.0.bias"])
        ow, ob = old["h_s.4.weight"], old["h_s.4.bias"]
        sd["h_s.4.weight"].copy_(torch.cat([ow[:M2], ow[M:M + M2]]))
        sd["h_s.4.bias"].copy_(torch.cat([ob[:M2], ob[M:M + M2]]))
        for name in ("gain", "inv_gain"):
            sd[name].copy_(old[name][:, :M2])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--M", type=int, required=True, help="new number of latent channels")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    state, cfg, M, per = load_plain(args.src, "latent_width.py")
    M2 = args.M
    if M2 == M or M2 < per or M2 % per:
        sys.exit(f"latent_width.py: --M must differ from {M} and be a positive multiple of the group size {per}")
    torch.manual_seed(args.seed)
    new_cfg = {"N": cfg["N"], "M": M2, "groups": M2 // per}
    old = state["model"]
    model, sd = start_from(old, new_cfg)
    (widen if M2 > M else narrow)(old, sd, M, M2)
    model.load_state_dict(sd)
    torch.save({"config": new_cfg, "model": model.state_dict(), "step": state["step"], "log": state["log"],
                "resized": state.get("resized", []) + [(state["step"], M, M2)]}, args.dst)
    print(f"{args.src} (M {M}, {cfg['groups']} groups) -> {args.dst} (M {M2}, {new_cfg['groups']} groups) "
          f"at step {state['step']}")


if __name__ == "__main__":
    main()
