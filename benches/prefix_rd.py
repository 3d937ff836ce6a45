#!/usr/bin/python3
"""Would a stream stop earlier at some qualities? From the per-sub-layer rows of a harness run
(scmc_bench.py's rows.csv), compares each quality's full stream with its prefix after K signal
sub-layers (z and K - 1 latent groups), by the training objective lambda_q * 255^2 * MSE + bpp,
and prints the BD-rate against JPEG 2000 of the full streams and of the cheaper of the two per
quality.

  /usr/bin/python3 benches/prefix_rd.py bench-out-s7/rows.csv [--signal-steps 9]

The prefix's bytes are those of the full stream up to that sub-layer (its container header still
lists every sub-layer), so a stream written with fewer sub-layers would be a few bytes smaller.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bdrate import bd_rate  # noqa: E402

LAMBDAS = [0.0018 * (0.14 / 0.0018) ** (i / 7) for i in range(8)]  # layers/signal/train/model.py


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows")
    ap.add_argument("--signal-steps", type=int, default=9, help="signal sub-layers in the prefix (default 9: z + 8 groups)")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.rows)))

    def mean(codec, setting):
        sel = [r for r in rows if r["codec"] == codec and r["setting"] == setting]
        if not sel:
            sys.exit(f"prefix_rd.py: no rows for {codec} {setting}")
        return tuple(sum(float(r[k]) for r in sel) / len(sel) for k in ("bpp", "psnr", "msssim"))

    jp2 = [mean("jp2", s) for s in sorted({r["setting"] for r in rows if r["codec"] == "jp2"})]
    full, chosen = [], []
    print("| quality | full stream bpp / PSNR / MS-SSIM | prefix bpp / PSNR / MS-SSIM | cheaper |")
    print("|---|---|---|---|")
    for q in range(1, 9):
        f = mean("scmc", f"q{q}")
        p = mean(f"scmc-steps-q{q}", f"signal{args.signal_steps}")
        cost = lambda v: LAMBDAS[q - 1] * 255.0 ** 2 * 10 ** (-v[1] / 10) + v[0]  # noqa: E731
        best = p if cost(p) < cost(f) else f
        full.append(f)
        chosen.append(best)
        print(f"| {q} | {f[0]:.4f} / {f[1]:.2f} / {f[2]:.4f} | {p[0]:.4f} / {p[1]:.2f} / {p[2]:.4f} | "
              f"{'prefix' if best is p else 'full'} |")
    for name, curve in (("full streams", full), ("cheaper of the two", chosen)):
        bp = bd_rate([(r, d) for r, d, _ in jp2], [(r, d) for r, d, _ in curve])
        bm = bd_rate([(r, m) for r, _, m in jp2], [(r, m) for r, _, m in curve])
        print(f"BD-rate against JPEG 2000, {name}: PSNR {bp:+.1f} %, MS-SSIM {bm:+.1f} %")


if __name__ == "__main__":
    main()
