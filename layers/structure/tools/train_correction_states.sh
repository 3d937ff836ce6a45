#!/bin/bash
# The recipe of the committed starting-state table (layers/structure/correction_states.c):
# every third picture of the bsds500 training set (sorted by name, starting with the first),
# decoded to PPM with djpeg, each coded at qualities 1-8 and as structure-only streams at the five
# structure levels, pooled by train_correction_states. Kodak, the evaluation set, is not used.
#   layers/structure/tools/train_correction_states.sh BUILD_DIR [DATA_DIR] [JOBS]
# BUILD_DIR holds a built train_correction_states; DATA_DIR defaults to ../shared/data.
# The table is normative: a new one is a new structure format (bitstream-spec/structure.md).
set -euo pipefail
build=${1:?usage: train_correction_states.sh BUILD_DIR [DATA_DIR] [JOBS]}
data=${2:-../shared/data}
jobs=${3:-2}
src=$data/train/bsds500
[ -d "$src" ] || { echo "train_correction_states.sh: no training pictures in $src" >&2; exit 2; }
command -v djpeg >/dev/null || { echo "train_correction_states.sh: djpeg missing (apt-get install libjpeg-turbo-progs)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ls "$src"/*.jpg | sort | awk 'NR % 3 == 1' | while read -r f; do
    djpeg -pnm "$f" > "$tmp/$(basename "$f" .jpg).ppm"
done
out=$(dirname "$0")/../correction_states.c
nice "$build/train_correction_states" --jobs "$jobs" -o "$out" "$tmp"/*.ppm
echo "wrote $out"
