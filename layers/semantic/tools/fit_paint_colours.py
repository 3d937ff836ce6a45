#!/usr/bin/python3
"""Fits the colour the renderer paints for each palette name: the mean sRGB of all grid cells the
describer gives that name on the training photographs (default grid 8x6, as the describer cuts it),
shrunk towards the anchor colour by 20 pseudo-cells.
Names are still chosen with the palette's own anchor colours; only the painting changes, which
minimises the squared error of a named cell's colour over the training set.

  /usr/bin/python3 layers/semantic/tools/fit_paint_colours.py [TRAIN_DIR]

Prints the palette initialiser for palette.c (name, anchor, paint)."""
import glob
import math
import os
import re
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PRIOR_CELLS = 20


def palette():
    src = open(os.path.join(HERE, "..", "palette.c")).read()
    return [(n, (int(r), int(g), int(b))) for n, r, g, b in
            re.findall(r'\{ "([^"]+)", \{ (\d+), (\d+), (\d+) \}', src)]


def oklab(rgb):
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929], [0.2119034982, 0.6806995451, 0.1073969566],
                   [0.0883024619, 0.2817188376, 0.6299787005]])
    m2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468], [1.9779984951, -2.4285922050, 0.4505937099],
                   [0.0259040371, 0.7827717662, -0.8086757660]])
    return np.cbrt(lin @ m1.T) @ m2.T


def main():
    train = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../../shared/data/train/bsds500")
    pal = palette()
    anchors = oklab([p[1] for p in pal])
    sums = np.zeros((len(pal), 3))
    counts = np.zeros(len(pal))
    for f in sorted(glob.glob(os.path.join(train, "*.jpg"))):
        img = np.asarray(Image.open(f).convert("RGB"), dtype=np.int64)
        h, w, _ = img.shape
        cols, rows = (8, 6) if w >= h else (6, 8)
        for r in range(rows):
            for c in range(cols):
                cell = img[r * h // rows:(r + 1) * h // rows, c * w // cols:(c + 1) * w // cols].reshape(-1, 3)
                n = len(cell)
                mean = (cell.sum(0) + n // 2) // n  # integer rounding, as describe.c
                k = int(np.argmin(((anchors - oklab(mean)) ** 2).sum(1)))
                sums[k] += mean
                counts[k] += 1
    for k, (name, anchor) in enumerate(pal):
        # shrunk towards the anchor, so a name seen in few cells keeps close to its own colour
        paint = tuple(int(round(v)) for v in (sums[k] + PRIOR_CELLS * np.array(anchor)) / (counts[k] + PRIOR_CELLS))
        print(f'    {{ "{name}", {{ {anchor[0]}, {anchor[1]}, {anchor[2]} }}, {{ {paint[0]}, {paint[1]}, {paint[2]} }} }}, /* {int(counts[k])} cells */')


if __name__ == "__main__":
    main()
