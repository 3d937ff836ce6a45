#!/usr/bin/python3
"""Writes every training image enlarged by a factor (Lanczos), as PNG, for `train.py --extra`.

  /usr/bin/python3 layers/signal/train/make_upscaled.py OUT_DIR [--scale 1.6] [--data DIR]

Why: the BSDS500 training photographs are 481x321 crops of scans, the Kodak photographs 768x512
scans of about the same field of view, so Kodak carries about 1.6 times fewer details per pixel.
The enlarged copies add that scale to the training crops; measured, they help the smooth Kodak
pictures a little (docs/signal.md, "Smooth pictures and the crop size": most of what those
pictures lacked was the crop size) and allow crops larger than 320x320. They stay outside the
project (derived from the shared data); write their base1 with make_bases.sh OUT_DIR2 OUT_DIR.
"""
import argparse
import glob
import os

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "../../../../shared/data/train/bsds500"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--scale", type=float, default=1.6)
    ap.add_argument("--data", default=DEFAULT_DATA)
    args = ap.parse_args()
    if not 1.0 <= args.scale <= 4.0:
        ap.error("--scale must be in [1, 4]")
    files = sorted(glob.glob(os.path.join(args.data, "*.jpg")) + glob.glob(os.path.join(args.data, "*.png")))
    if not files:
        ap.error(f"no images in {args.data}")
    os.makedirs(args.out, exist_ok=True)
    for f in files:
        out = os.path.join(args.out, os.path.splitext(os.path.basename(f))[0] + ".png")
        if os.path.exists(out):
            continue
        img = Image.open(f).convert("RGB")
        size = (round(img.width * args.scale), round(img.height * args.scale))
        img.resize(size, Image.LANCZOS).save(out + ".tmp.png")
        os.replace(out + ".tmp.png", out)
    print(f"{len(files)} images x{args.scale} in {args.out}")


if __name__ == "__main__":
    main()
