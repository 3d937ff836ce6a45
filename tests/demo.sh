#!/bin/bash
# The main job: encode a sample image, show its layers, decode it progressively.
#   bash tests/demo.sh [IMAGE]   (default: ../shared/data/kodak/kodim23.png, else a generated one)
set -euo pipefail
cd "$(dirname "$0")/.."
SCMC=./build/scmc
out=demo-out
mkdir -p "$out"
img=${1:-../shared/data/kodak/kodim23.png}
if [ ! -e "$img" ]; then
    img=$out/sample.ppm
    echo "(no image given and no Kodak set beside the checkout: using a generated test card, $img)"
    python3 - "$img" <<'PY'
import math, sys
w, h = 384, 256
px = bytearray()
for y in range(h):
    for x in range(w):
        sky = y < h * (0.55 + 0.08 * math.sin(x / 40))
        sun = (x - 280) ** 2 + (y - 70) ** 2 < 30 ** 2
        c = (240, 200, 60) if sun else (110 + y // 3, 160 + y // 4, 230) if sky else (50, 100 + y // 5, 40)
        px += bytes(c)
open(sys.argv[1], "wb").write(b"P6\n%d %d\n255\n" % (w, h) + px)
PY
fi
echo "== encode $img"
$SCMC encode "$img" -o "$out/sample.scmc" --caption "SCMC demo"
echo "== layers"
$SCMC info "$out/sample.scmc"
echo "== the same with every layer kept (--keep-layers: the encoder otherwise leaves out a signal layer that does not pay)"
$SCMC encode "$img" -o "$out/sample-all-layers.scmc" --caption "SCMC demo" --keep-layers
$SCMC info "$out/sample-all-layers.scmc" | grep -v "^[a-z]*:$" | sed -n 1,4p
echo "== progressive decode: one PNG per refinement"
$SCMC decode "$out/sample.scmc" --progressive "$out/step" -o "$out/final.png"
$SCMC compare "$img" "$out/final.png"
echo "== outputs in $out/"
ls "$out"
