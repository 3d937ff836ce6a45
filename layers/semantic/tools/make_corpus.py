#!/usr/bin/python3
"""Writes corpus/describer.txt: `scmc describe` of every training image at several grid sizes.

  /usr/bin/python3 layers/semantic/tools/make_corpus.py BUILD/scmc [TRAIN_DIR] > layers/semantic/corpus/describer.txt

Texts are separated by a form-feed line, as build_text_model.py reads them. The default grid
(8x6) is listed twice so the model weighs the texts it codes most.
"""
import glob
import os
import subprocess
import sys
import tempfile

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
GRIDS = ["8x6", "8x6", "4x3", "6x4", "12x9", "16x12"]


def main():
    scmc = sys.argv[1]
    train = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "../../../../shared/data/train/bsds500")
    files = sorted(glob.glob(os.path.join(train, "*.jpg")))
    if not files:
        sys.exit("make_corpus.py: no images in " + train)
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "img.ppm")
        for f in files:
            Image.open(f).convert("RGB").save(ppm)
            for g in GRIDS:
                text = subprocess.run([scmc, "describe", ppm, "--semantic-detail", g], check=True,
                                      capture_output=True, text=True).stdout
                sys.stdout.write(text.rstrip("\n") + "\n\f\n")


if __name__ == "__main__":
    main()
