#!/bin/bash
# Semantic layer on Kodak: mean payload bytes, PSNR and MS-SSIM of the semantic-only decode, the
# flat mean-colour baseline, and the text's size under zlib -9 and a character Huffman code.
#   bash benches/semantic_kodak.sh [BUILD_DIR] [KODAK_DIR] [extra encode options...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
kodak=${2:-../shared/data/kodak}
shift $(($# > 2 ? 2 : $#))
[ -d "$kodak" ] || { echo "no Kodak images in $kodak" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$kodak"/kodim*.png; do
    "$build/scmc" encode "$f" -o "$tmp/s.scmc" -q --layers semantic "$@"
    "$build/scmc" decode "$tmp/s.scmc" -o "$tmp/s.png" -q
    info=$("$build/scmc" info "$tmp/s.scmc" --json)
    cmp=$("$build/scmc" compare "$f" "$tmp/s.png" --json)
    echo "{\"file\": \"$f\", \"info\": $info, \"compare\": $cmp}"
done > "$tmp/rows.jsonl"
/usr/bin/python3 - "$tmp/rows.jsonl" <<'PY'
import collections, heapq, json, sys, zlib
rows = [json.loads(l) for l in open(sys.argv[1])]
def huffman_bits(text):
    c = collections.Counter(text.encode())
    if len(c) == 1:
        return len(text)
    h = list(c.values()); heapq.heapify(h); total = 0
    while len(h) > 1:
        a, b = heapq.heappop(h), heapq.heappop(h); total += a + b; heapq.heappush(h, a + b)
    return total
n = len(rows)
sem = sum(r["info"]["layers"][0]["bytes"] for r in rows) / n
total = sum(r["info"]["bytes"] for r in rows) / n
bpp = sum(r["info"]["bpp"] for r in rows) / n
psnr = sum(r["compare"]["psnr"] for r in rows) / n
ms = sum(r["compare"]["msssim"] for r in rows) / n
z = sum(len(zlib.compress(r["info"]["text"].encode(), 9)) for r in rows) / n
hf = sum(huffman_bits(r["info"]["text"]) / 8 for r in rows) / n
print(f"images {n}: semantic payload {sem:.2f} bytes, stream {total:.1f} bytes ({bpp:.5f} bpp), "
      f"PSNR {psnr:.2f} dB, MS-SSIM {ms:.4f}")
try:  # the flat mean-colour image, the baseline a text must beat (needs python3-pil, python3-numpy)
    import numpy as np
    from PIL import Image
    flat = []
    for r in rows:
        a = np.asarray(Image.open(r["file"]).convert("RGB")).astype(np.float64)
        mse = ((a - np.round(a.reshape(-1, 3).mean(0))) ** 2).mean()
        flat.append(10 * np.log10(255 ** 2 / mse))
    print(f"flat mean-colour image: PSNR {sum(flat) / n:.2f} dB")
except ImportError:
    print("flat mean-colour baseline skipped (python3-pil and python3-numpy not installed)")
print(f"text: zlib -9 {z:.1f} bytes ({z / sem:.2f}x), character Huffman {hf:.1f} bytes ({hf / sem:.2f}x)")
PY
