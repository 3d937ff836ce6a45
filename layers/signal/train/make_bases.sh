#!/bin/bash
# Writes base1 (what the decoder has before the signal layer: semantic + structure) for every
# training image, for `train.py --base-dir`. Resumable: images already done are skipped.
#   bash layers/signal/train/make_bases.sh SCMC_BINARY OUT_DIR [TRAIN_DIR]
set -euo pipefail
scmc=$1 out=$2 train=${3:-$(dirname "$0")/../../../../shared/data/train/bsds500}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$train"/*.jpg; do
    s=$(basename "$f" .jpg)
    [ -f "$out/$s.png" ] && continue
    /usr/bin/python3 -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])" "$f" "$tmp/$s.ppm"
    "$scmc" encode "$tmp/$s.ppm" -o "$tmp/$s.scmc" --layers semantic,structure -q
    "$scmc" decode "$tmp/$s.scmc" -o "$out/$s.png" -q
    rm -f "$tmp/$s.ppm" "$tmp/$s.scmc"
done
