#!/usr/bin/python3
"""Prints a checkpoint's training log as the Markdown table of the model card (docs/signal.md):
means of the 50-step log entries per block of steps.

  /usr/bin/python3 layers/signal/train/loss_table.py CKPT [--block 1000]

Loss, bpp and PSNR are those of the training batches (all qualities mixed; PSNR over the samples
that kept every latent group), so they compare stretches of one run, not models on Kodak. Stretches
of `train.py --hyper-only` (the rate alone) are left out and counted below the table.
"""
import argparse

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--block", type=int, default=1000)
    a = ap.parse_args()
    ck = torch.load(a.ckpt, map_location="cpu")
    blocks, hyper = {}, []
    for step, loss, bpp, psnr, *tag in ck["log"]:
        if tag:  # train.py --hyper-only: the loss is the rate alone, no PSNR
            hyper.append(step)
            continue
        blocks.setdefault((step - 1) // a.block, []).append((loss, bpp, psnr))
    print("| steps | loss | bpp | PSNR (dB) |")
    print("|---|---|---|---|")
    for b in sorted(blocks):
        v = blocks[b]
        mean = [sum(x[i] for x in v) / len(v) for i in range(3)]
        print(f"| {b * a.block + 1}-{(b + 1) * a.block} | {mean[0]:.2f} | {mean[1]:.3f} | {mean[2]:.2f} |")
    if hyper:
        runs = [[hyper[0], hyper[0]]]
        for st in hyper[1:]:
            if st - runs[-1][1] <= 50:
                runs[-1][1] = st
            else:
                runs.append([st, st])
        print("\nleft out, the hyperprior alone (--hyper-only; log entries every 50 steps): "
              + ", ".join(f"{a_}-{b_}" for a_, b_ in runs))
    print(f"\n{ck['step']} steps, config {ck['config']}")


if __name__ == "__main__":
    main()
