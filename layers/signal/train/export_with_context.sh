#!/bin/bash
# Exports a training checkpoint to the committed weight file with a freshly fitted scale-context
# table (docs/signal.md, "Scale contexts"): the table depends on the model's scales and on what the
# C encoder codes, so it is fitted with the C encoder of the new weights, on training images. The
# final export also carries per-quality z tables ("Per-quality z tables"), made from the z of all
# training images against their base1 in BASES (default `bases`, written by make_bases.sh; or a
# pattern with {q}, one folder per quality, bases.py).
#   [BASES=DIR] bash layers/signal/train/export_with_context.sh CKPT BUILD_DIR [IMAGES]
# CKPT: a train.py checkpoint; BUILD_DIR: a configured build (signal_context is built there);
# IMAGES: how many training images to fit on (default 24, every 12th from the 6th, about
# 10 minutes at 8 qualities). Writes layers/signal/weights/signal.scmw, ctx_table.txt beside it
# and layers/signal/train/checkpoint/signal-small.pt.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ckpt=$1
build=$2
count=${3:-24}
bases=${BASES:-bases}
[ -d "$bases" ] || [[ "$bases" == *"{q}"* ]] || { echo "export_with_context.sh: no base1 directory $bases (bash layers/signal/train/make_bases.sh BUILD/scmc $bases)" >&2; exit 2; }
weights=layers/signal/weights/signal.scmw
table=layers/signal/weights/ctx_table.txt
small=layers/signal/train/checkpoint/signal-small.pt
fitdir=$(mktemp -d)
trap 'rm -rf "$fitdir"' EXIT

echo "== export without a table, build"
/usr/bin/python3 layers/signal/train/export.py "$ckpt" "$weights" "$small"
ninja -C "$build" >/dev/null

echo "== fit on $count training images (PNG copies in $fitdir)"
/usr/bin/python3 - "$fitdir" "$count" <<'PY'
import glob, os, sys
from PIL import Image
files = sorted(glob.glob("../shared/data/train/bsds500/*.jpg"))[5::12][:int(sys.argv[2])]
if not files:
    sys.exit("no training images in ../shared/data/train/bsds500")
for f in files:
    Image.open(f).convert("RGB").save(os.path.join(sys.argv[1], os.path.basename(f)[:-4] + ".png"))
PY
# measured on Kodak when it is there, else on two other training images
test=$(ls ../shared/data/kodak/kodim0[1-4].png 2>/dev/null || true)
if [ -z "$test" ]; then
    mkdir "$fitdir/test"
    /usr/bin/python3 -c "
import glob, sys
from PIL import Image
for f in sorted(glob.glob('../shared/data/train/bsds500/*.jpg'))[0:2]:
    Image.open(f).convert('RGB').save(sys.argv[1] + '/' + f.rsplit('/', 1)[1][:-4] + '.png')" "$fitdir/test"
    test=$(ls "$fitdir"/test/*.png)
fi
"$build/signal_context" --quality 1,2,3,4,5,6,7,8 --write-table "$table" --fit "$fitdir"/*.png --test $test | tail -2

echo "== export with the table and per-quality z tables, build"
/usr/bin/python3 layers/signal/train/export.py "$ckpt" "$weights" "$small" --ctx-table "$table" --z-tables "$bases"
ninja -C "$build" >/dev/null
