#!/bin/bash
# Writes base1 (what the signal layer refines: semantic + structure, without the structure
# level's display sharpening, hence `decode --raw-layers`) for every
# image of a folder (.jpg or .png; default: the training images), for `train.py --base-dir`, with
# the semantic + structure stream beside it (`eval_kodak.py` counts its bytes). Resumable:
# images already done are skipped.
#   bash layers/signal/train/make_bases.sh SCMC_BINARY OUT_DIR [IMAGE_DIR]
set -euo pipefail
shopt -s nullglob
scmc=$1 out=$2 train=${3:-$(dirname "$0")/../../../../shared/data/train/bsds500}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$train"/*.jpg "$train"/*.png; do
    s=$(basename "${f%.*}")
    [ -f "$out/$s.png" ] && [ -f "$out/$s.scmc" ] && continue
    /usr/bin/python3 -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])" "$f" "$tmp/$s.ppm"
    "$scmc" encode "$tmp/$s.ppm" -o "$tmp/$s.scmc" --layers semantic,structure -q
    "$scmc" decode "$tmp/$s.scmc" -o "$tmp/$s.png" --raw-layers -q
    mv "$tmp/$s.scmc" "$out/$s.scmc"
    mv "$tmp/$s.png" "$out/$s.png"
    rm -f "$tmp/$s.ppm"
done
