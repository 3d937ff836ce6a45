#!/usr/bin/python3
"""Where the structure layer's error lies, against JPEG 2000 at the same bytes: the squared error
of each decode split into spatial-frequency bands (differences of Gaussian blurs of the error).

  /usr/bin/python3 benches/structure_bands.py --bases DIR [--kodak DIR] [IMAGE_STEM ...]

DIR holds, per image, the structure-level decode STEM.png and its stream STEM.scmc (written by
`bash layers/signal/train/make_bases.sh build-notorch/scmc DIR ../shared/data/kodak`). OpenJPEG
(`opj_compress -r`) is searched for the smallest ratio whose file is not larger than the stream.
Bands: finer than 2 px (error minus its blur at sigma 2), 2-4, 4-8, 8-16 px, and coarser than 16
px (the blur at sigma 16); their mean squared errors add up to about the total. Prints one line
per image and the means over all images as a Markdown table.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_KODAK = os.path.normpath(os.path.join(HERE, "../../shared/data/kodak"))
SIGMAS = (2, 4, 8, 16)
NAMES = ("< 2 px", "2-4 px", "4-8 px", "8-16 px", "> 16 px")


def jpeg2000_at(ppm, max_bytes, tmp):
    """Decoded RGB and size of the best OpenJPEG file of at most max_bytes."""
    j2k, out = os.path.join(tmp, "a.j2k"), os.path.join(tmp, "a.ppm")

    def size(ratio):
        subprocess.run(["opj_compress", "-i", ppm, "-o", j2k, "-r", f"{ratio:.4f}"], capture_output=True, check=True)
        return os.path.getsize(j2k)

    lo, hi = 10.0, 5000.0  # ratios: lo gives a larger file than allowed, hi a smaller one
    if size(hi) > max_bytes:
        sys.exit(f"structure_bands.py: OpenJPEG cannot get under {max_bytes} bytes")
    for _ in range(16):
        mid = math.sqrt(lo * hi)
        if size(mid) <= max_bytes:
            hi = mid
        else:
            lo = mid
    n = size(hi)
    subprocess.run(["opj_decompress", "-i", j2k, "-o", out], capture_output=True, check=True)
    return np.asarray(Image.open(out).convert("RGB"), np.float64), n


def band_mse(err):
    out, prev = [], err
    for s in SIGMAS:
        blur = np.stack([gaussian_filter(err[..., c], s) for c in range(3)], -1)
        out.append(float(np.mean((prev - blur) ** 2)))
        prev = blur
    out.append(float(np.mean(prev ** 2)))
    return out


def psnr(a, b):
    return 10 * math.log10(255.0 ** 2 / np.mean((a - b) ** 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stems", nargs="*", help="image names without extension (default: every PNG of --kodak)")
    ap.add_argument("--bases", required=True)
    ap.add_argument("--kodak", default=DEFAULT_KODAK)
    args = ap.parse_args()
    stems = args.stems or sorted(f[:-4] for f in os.listdir(args.kodak) if f.endswith(".png"))
    if not stems:
        sys.exit(f"structure_bands.py: no images in {args.kodak}")
    sums = np.zeros((2, len(NAMES)))
    psnrs = np.zeros(2)
    with tempfile.TemporaryDirectory() as tmp:
        for stem in stems:
            dec, stream = os.path.join(args.bases, stem + ".png"), os.path.join(args.bases, stem + ".scmc")
            if not os.path.exists(dec) or not os.path.exists(stream):
                sys.exit(f"structure_bands.py: {dec} or {stream} missing (see make_bases.sh)")
            src = Image.open(os.path.join(args.kodak, stem + ".png")).convert("RGB")
            ppm = os.path.join(tmp, "in.ppm")
            src.save(ppm)
            img = np.asarray(src, np.float64)
            ours = np.asarray(Image.open(dec).convert("RGB"), np.float64)
            j2k, n = jpeg2000_at(ppm, os.path.getsize(stream), tmp)
            bo, bj = band_mse(img - ours), band_mse(img - j2k)
            sums += [bo, bj]
            psnrs += [psnr(img, ours), psnr(img, j2k)]
            print(f"{stem}: scmc {os.path.getsize(stream)} B {psnr(img, ours):.2f} dB, JPEG 2000 {n} B "
                  f"{psnr(img, j2k):.2f} dB; band MSE scmc {' '.join(f'{v:.1f}' for v in bo)}, "
                  f"JPEG 2000 {' '.join(f'{v:.1f}' for v in bj)}", flush=True)
    k = len(stems)
    print(f"\nMean squared error per band, {k} images (scmc {psnrs[0] / k:.2f} dB, JPEG 2000 {psnrs[1] / k:.2f} dB):\n")
    print("| decode | " + " | ".join(NAMES) + " |")
    print("|---|" + "---|" * len(NAMES))
    for name, row in zip(("scmc structure level", "JPEG 2000, same bytes"), sums / k):
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in row) + " |")


if __name__ == "__main__":
    main()
