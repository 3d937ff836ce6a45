#!/bin/bash
# Writes base1 (what the signal layer refines: semantic + structure, without the structure
# level's display sharpening, hence `decode --raw-layers`) for every image of a folder (.jpg or
# .png; default: the training images), for `train.py --base-dir`, with the semantic + structure
# stream beside it (`eval_kodak.py` counts its bytes). Resumable: images already done are skipped.
#   bash layers/signal/train/make_bases.sh SCMC_BINARY OUT_DIR [IMAGE_DIR [QUALITY]]
# Without QUALITY the stream is `--layers semantic,structure` (the structure layer's own detail,
# as coded without a signal layer). With QUALITY (1-8) the whole stream is encoded at that quality
# and cut after the structure layer, so base1 carries the finer wavelet correction the structure
# layer uses under a signal layer of that quality (docs/structure.md, "Under a signal layer").
# JOBS=N images at a time (default: the number of CPUs).
set -euo pipefail
scmc=$1 out=$2 train=${3:-$(dirname "$0")/../../../../shared/data/train/bsds500} quality=${4:-}
if [ -n "$quality" ] && ! [[ "$quality" =~ ^[1-8]$ ]]; then
    echo "make_bases.sh: QUALITY must be 1 to 8, not '$quality'" >&2
    exit 2
fi
mkdir -p "$out"

one() {  # one image: $1 path; run in its own shell (xargs), which stops at the first error
    set -euo pipefail
    local f=$1 s
    s=$(basename "${f%.*}")
    [ -f "$out/$s.png" ] && [ -f "$out/$s.scmc" ] && return 0
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    /usr/bin/python3 -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])" "$f" "$tmp/$s.ppm"
    if [ -n "$quality" ]; then
        "$scmc" encode "$tmp/$s.ppm" -o "$tmp/all.scmc" --quality "$quality" -q
        "$scmc" truncate "$tmp/all.scmc" -o "$tmp/$s.scmc" --up-to structure
    else
        "$scmc" encode "$tmp/$s.ppm" -o "$tmp/$s.scmc" --layers semantic,structure -q
    fi
    "$scmc" decode "$tmp/$s.scmc" -o "$tmp/$s.png" --raw-layers -q
    mv "$tmp/$s.scmc" "$out/$s.scmc"
    mv "$tmp/$s.png" "$out/$s.png"
}
export -f one
export scmc out quality
find -L "$train" -maxdepth 1 -type f \( -name '*.jpg' -o -name '*.png' \) -print0 | sort -z |
    xargs -0 -r -P "${JOBS:-$(nproc)}" -I{} bash -c 'one "$1"' _ {} ||
    { echo "make_bases.sh: some images of $train failed (above); rerun to retry them" >&2; exit 1; }
