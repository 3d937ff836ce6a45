#!/bin/bash
# CLI tests of `scmc`: exit codes, outputs and the one-line messages (zstd tests/cli-tests style).
# usage: cli_tests.sh PATH/TO/scmc
set -u
SCMC=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...: runs it, checks the exit code, keeps stdout/stderr.
expect() {
    local code=$1 what=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" -eq "$code" ]; then ok; else bad "$what: exit $got, wanted $code ($(head -c 300 "$T/err"))"; fi
}
# stderr has exactly one line, matching a pattern
err_line() {
    if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$1" "$T/err"; then ok; else bad "stderr should be one line matching '$1': $(cat "$T/err")"; fi
}
has() { if grep -q -- "$2" "$1"; then ok; else bad "$1 should contain '$2'"; fi; }

# A synthetic 160x96 test image as binary PPM (no external files needed).
python3 - "$T/in.ppm" <<'PY'
import sys, math
w, h = 160, 96
px = bytearray()
for y in range(h):
    for x in range(w):
        px += bytes([int(127 + 120 * math.sin(x / 9.0)), int(255 * y / h), 60 if (x // 20 + y // 20) % 2 else 190])
open(sys.argv[1], "wb").write(b"P6\n%d %d\n255\n" % (w, h) + px)
PY

expect 0 "version" -- "$SCMC" --version
has "$T/out" "bitstream format"
expect 0 "help" -- "$SCMC" --help
for opt in --quality --layers --caption --semantic-detail --structure-detail --keep-layers --tune --threads --up-to --steps --progressive --strict --raw-layers --bytes --bpp --json; do
    has "$T/out" -- "$opt"
done
expect 1 "no command" -- "$SCMC"
expect 1 "unknown command" -- "$SCMC" frobnicate
err_line "unknown command"

# encode / info / decode
expect 0 "encode" -- "$SCMC" encode "$T/in.ppm" -o "$T/a.scmc" --caption "stripes and a gradient" --keep-layers
has "$T/err" "semantic"
if ! "$SCMC" encode "$T/in.ppm" -o "$T/sig.scmc" --layers signal -q 2>/dev/null ||
    "$SCMC" info "$T/a.scmc" | grep -q "layer signal"; then ok; else bad "--keep-layers should write the signal layer"; fi
# without --keep-layers a signal layer that does not pay is left out, and the encoder says so
expect 0 "encode default layers" -- "$SCMC" encode "$T/in.ppm" -o "$T/dl.scmc" --quality 8
if "$SCMC" info "$T/dl.scmc" | grep -q "layer signal" || grep -q "signal layer was left out" "$T/err"; then ok; else bad "a left-out signal layer should be reported"; fi
expect 0 "info" -- "$SCMC" info "$T/a.scmc"
has "$T/out" "layer semantic"
has "$T/out" "caption: stripes and a gradient"
has "$T/out" "Colour grid, 8 by 6:"
expect 0 "info --json" -- "$SCMC" info "$T/a.scmc" --json
if python3 -c "
import json, sys
d = json.load(open('$T/out'))
assert d['width'] == 160 and d['height'] == 96
assert d['bytes'] > 0 and abs(d['bpp'] - d['bytes'] * 8 / (160 * 96)) < 1e-4
assert d['layers'][0]['name'] == 'semantic' and d['layers'][0]['complete'] is True
assert d['layers'][0]['sublayers'][0]['crc_ok'] is True
assert d['text'].startswith('A ') and d['caption'] == 'stripes and a gradient'
"; then ok; else bad "info --json content"; fi
expect 0 "decode" -- "$SCMC" decode "$T/a.scmc" -o "$T/a.png"
expect 0 "compare" -- "$SCMC" compare "$T/in.ppm" "$T/a.png" --json
if python3 -c "import json; d = json.load(open('$T/out')); assert 5 < d['psnr'] < 60 and 0 < d['msssim'] < 1"; then ok; else bad "compare json"; fi
expect 0 "compare same" -- "$SCMC" compare "$T/in.ppm" "$T/in.ppm"
has "$T/out" "PSNR inf dB"
expect 0 "decode progressive" -- "$SCMC" decode "$T/a.scmc" --progressive "$T/step"
if [ -s "$T/step-1.png" ]; then ok; else bad "progressive output step-1.png"; fi
# a prefix with an image extension picks the steps' type; the last step is the plain decode
expect 0 "decode progressive ppm" -- "$SCMC" decode "$T/a.scmc" --progressive "$T/pstep.ppm" -o "$T/full.ppm" -q
n=$(ls "$T"/pstep-*.ppm 2>/dev/null | wc -l)
if [ "$n" -ge 2 ] && [ ! -e "$T/pstep.ppm-1.png" ] && head -c 2 "$T/pstep-1.ppm" | grep -q P6 &&
    cmp -s "$T/pstep-$n.ppm" "$T/full.ppm"; then ok; else bad "progressive ppm steps ($n files)"; fi
# display filters touch only what is shown: the last layer of this stream has none
expect 0 "decode raw layers" -- "$SCMC" decode "$T/a.scmc" -o "$T/raw.ppm" --raw-layers -q
if cmp -s "$T/raw.ppm" "$T/full.ppm"; then ok; else bad "--raw-layers changed a whole stream's output"; fi
expect 0 "decode webp" -- "$SCMC" decode "$T/a.scmc" -o "$T/a.webp" --up-to semantic -q
if [ -s "$T/a.webp" ] && [ ! -s "$T/err" ]; then ok; else bad "quiet webp decode"; fi
expect 0 "decode ppm steps" -- "$SCMC" decode "$T/a.scmc" -o "$T/a.ppm" --steps 1
expect 0 "describe" -- "$SCMC" describe "$T/in.ppm" --semantic-detail 4x3
has "$T/out" "Colour grid, 4 by 3:"
expect 0 "encode detail" -- "$SCMC" encode "$T/in.ppm" -o "$T/d.scmc" --semantic-detail 16x12 -q

# the structure layer: every detail level; its decode refines the semantic one
expect 0 "encode semantic+structure" -- "$SCMC" encode "$T/in.ppm" -o "$T/st.scmc" --layers semantic,structure -q
expect 0 "info structure" -- "$SCMC" info "$T/st.scmc"
has "$T/out" "layer structure"
expect 0 "decode up to structure" -- "$SCMC" decode "$T/st.scmc" -o "$T/st2.png" -q
expect 0 "decode up to semantic" -- "$SCMC" decode "$T/st.scmc" -o "$T/st1.png" --up-to semantic -q
"$SCMC" compare "$T/in.ppm" "$T/st1.png" --json >"$T/c1"
"$SCMC" compare "$T/in.ppm" "$T/st2.png" --json >"$T/c2"
if python3 -c "import json; a = json.load(open('$T/c1')); b = json.load(open('$T/c2')); assert b['psnr'] > a['psnr'] + 1, (a, b)"; then ok; else bad "the structure layer should improve on the semantic decode"; fi
for d in 1 2 3 4 5 auto; do
    expect 0 "structure detail $d" -- "$SCMC" encode "$T/in.ppm" -o "$T/sd$d.scmc" --layers semantic,structure --structure-detail $d -q
done
if [ "$(stat -c %s "$T/sd5.scmc")" -gt "$(stat -c %s "$T/sd1.scmc")" ]; then ok; else bad "detail 5 should spend more than detail 1"; fi
# without a signal layer, auto is level 3: the same stream
if cmp -s "$T/sd3.scmc" "$T/sdauto.scmc"; then ok; else bad "auto without a signal layer should code level 3"; fi
expect 1 "bad structure detail" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --structure-detail 6
err_line 'option --structure-detail'
if [ ! -e "$T/x.scmc" ]; then ok; else bad "refused encode left an output"; fi

# truncation (a.scmc: every layer; s.scmc: the semantic layer alone)
expect 0 "encode semantic only" -- "$SCMC" encode "$T/in.ppm" -o "$T/s.scmc" --layers semantic -q
ssize=$(stat -c %s "$T/s.scmc")
size=$(stat -c %s "$T/a.scmc")
expect 0 "truncate steps" -- "$SCMC" truncate "$T/a.scmc" -o "$T/t.scmc" --steps 1
expect 0 "truncate bytes" -- "$SCMC" truncate "$T/a.scmc" -o "$T/t.scmc" --bytes "$size"
if [ "$(stat -c %s "$T/t.scmc")" -le "$size" ]; then ok; else bad "truncate --bytes exceeds budget"; fi
expect 0 "truncate up-to" -- "$SCMC" truncate "$T/a.scmc" -o "$T/t.scmc" --up-to semantic
expect 0 "truncate bpp" -- "$SCMC" truncate "$T/a.scmc" -o "$T/t.scmc" --bpp 1
expect 2 "truncate too small" -- "$SCMC" truncate "$T/s.scmc" -o "$T/t2.scmc" --bytes 10
err_line "minimum is $ssize bytes"
"$SCMC" truncate "$T/a.scmc" -o "$T/t1.scmc" --steps 1
t1size=$(stat -c %s "$T/t1.scmc")
expect 0 "truncate to one sub-layer's size" -- "$SCMC" truncate "$T/a.scmc" -o "$T/t3.scmc" --bytes "$t1size"
expect 0 "info truncated" -- "$SCMC" info "$T/t3.scmc" --json
if python3 -c "import json; d = json.load(open('$T/out')); assert [l['name'] for l in d['layers']] == ['semantic']"; then ok; else bad "truncate --bytes to the semantic size keeps the semantic layer only"; fi
if [ ! -e "$T/t2.scmc" ]; then ok; else bad "failed truncate left an output"; fi
expect 1 "truncate two modes" -- "$SCMC" truncate "$T/a.scmc" -o "$T/t.scmc" --bytes 10 --steps 1

# cuts inside the header or the first sub-layer: exit 2 with one line and no output, never a crash
# (tests/unit/test_api.c cuts at every byte in-process)
for cut in 0 1 3 4 5 9 17 $((ssize / 2)) $((ssize - 2)) $((ssize - 1)); do
    head -c "$cut" "$T/s.scmc" >"$T/cut.scmc"
    "$SCMC" decode "$T/cut.scmc" -o "$T/cut.png" -q 2>"$T/err"
    code=$?
    if [ $code -ne 2 ] || [ "$(wc -l <"$T/err")" -ne 1 ]; then bad "cut at $cut: exit $code"; break; fi
    if [ -e "$T/cut.png" ]; then bad "cut at $cut left an output"; break; fi
done
ok
# the full stream cut past its first sub-layer: the refinements before the cut, a warning, exit 0
# (2 with --strict)
first_end=$("$SCMC" info "$T/a.scmc" --json | python3 -c "import json, sys; d = json.load(sys.stdin); print(d['header_bytes'] + d['layers'][0]['bytes'])")
for cut in $((first_end + 5)) $((size / 2)) $((size - 1)); do
    head -c "$cut" "$T/a.scmc" >"$T/cut.scmc"
    expect 0 "cut at $cut" -- "$SCMC" decode "$T/cut.scmc" -o "$T/cut.png" -q
    err_line "stream truncated at"
    rm -f "$T/cut.png" "$T"/cstep-*.png
    expect 2 "cut at $cut, strict" -- "$SCMC" decode "$T/cut.scmc" -o "$T/cut.png" -q --strict --progressive "$T/cstep"
    err_line "no output written"
    if [ ! -e "$T/cut.png" ] && ! ls "$T"/cstep-*.png >/dev/null 2>&1; then ok; else bad "strict decode of a cut stream left output"; fi
done
# damage: in the first sub-layer nothing can be shown (exit 2); later, the last good refinement
cp "$T/s.scmc" "$T/dmg.scmc"
printf '\xff' | dd of="$T/dmg.scmc" bs=1 seek=$((ssize - 2)) conv=notrunc 2>/dev/null
expect 2 "damaged first sub-layer" -- "$SCMC" decode "$T/dmg.scmc" -o "$T/dmg.png"
err_line "not a valid SCMC stream"
expect 0 "info on damaged" -- "$SCMC" info "$T/dmg.scmc"
has "$T/out" "CRC mismatch"
cp "$T/a.scmc" "$T/dmg2.scmc"
printf '\x5a' | dd of="$T/dmg2.scmc" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
expect 0 "damaged last sub-layer" -- "$SCMC" decode "$T/dmg2.scmc" -o "$T/dmg.png"
has "$T/err" "damaged (CRC mismatch)"

# bad options and inputs
expect 1 "bad quality" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --quality 9
err_line 'Invalid argument "9" for option --quality; should be an integer 1..8'
expect 1 "bad threads" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --threads x
err_line 'for option --threads; should be an integer'
expect 1 "bad tune" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --tune ssim
err_line 'Invalid argument "ssim" for option --tune; should be psnr or ms-ssim'
if [ -e "$T/x.scmc" ]; then bad "a refused encode should write nothing"; else ok; fi
# tuned for MS-SSIM the encoder spends less on the finest detail: a smaller stream that decodes
# (at quality 8, where this smooth picture has level-1 detail to give up: 2,679 against 2,926 bytes)
expect 0 "encode tune psnr" -- "$SCMC" encode "$T/in.ppm" -o "$T/tp.scmc" --quality 8 --tune psnr -q
expect 0 "encode tune ms-ssim" -- "$SCMC" encode "$T/in.ppm" -o "$T/tm.scmc" --quality 8 --tune ms-ssim -q
if [ "$(wc -c < "$T/tm.scmc")" -lt "$(wc -c < "$T/tp.scmc")" ]; then ok; else bad "--tune ms-ssim should spend fewer bytes"; fi
expect 0 "decode tuned" -- "$SCMC" decode "$T/tm.scmc" -o "$T/tm.png" -q
expect 1 "bad backend" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --backend gpu
err_line 'option --backend; should be auto, c, blas or torch'
expect 0 "backend c" -- "$SCMC" decode "$T/a.scmc" -o "$T/c.png" --backend c -q
expect 0 "backend auto" -- "$SCMC" decode "$T/a.scmc" -o "$T/auto.png" -q
expect 0 "backends agree" -- "$SCMC" compare "$T/c.png" "$T/auto.png" --json
if python3 -c "import json; d = json.load(open('$T/out')); assert d['psnr'] is None or d['psnr'] > 45"; then ok; else bad "backends differ too much: $(cat "$T/out")"; fi
expect 1 "bad layers" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --layers semantic,colour
err_line 'option --layers'
expect 1 "bad detail" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --semantic-detail 40x2
err_line 'option --semantic-detail'
expect 1 "bad caption utf8" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --caption $'\xff\xfe'
err_line 'not valid UTF-8'
expect 1 "long caption" -- "$SCMC" encode "$T/in.ppm" -o "$T/x.scmc" --caption "$(head -c 1001 /dev/zero | tr '\0' a)"
err_line 'at most 1000'
expect 1 "missing -o" -- "$SCMC" encode "$T/in.ppm"
expect 2 "missing input" -- "$SCMC" encode "$T/nope.png" -o "$T/x.scmc"
err_line "cannot open"
echo "not an image" >"$T/junk.png"
expect 2 "junk input" -- "$SCMC" encode "$T/junk.png" -o "$T/x.scmc"
err_line "not a PNG, WebP or binary PPM/PGM/PAM file"
if [ ! -e "$T/x.scmc" ]; then ok; else bad "failed encode left an output"; fi
printf 'P6\n20000 20000\n255\n' >"$T/huge.ppm"
expect 2 "huge input" -- "$SCMC" encode "$T/huge.ppm" -o "$T/x.scmc"
err_line "too large"
expect 2 "decode junk" -- "$SCMC" decode "$T/junk.png" -o "$T/x.png"
err_line "not a valid SCMC stream"
expect 1 "decode bad output type" -- "$SCMC" decode "$T/a.scmc" -o "$T/x.gif"
expect 2 "unwritable output" -- "$SCMC" decode "$T/a.scmc" -o "/nonexistent-dir/x.png"
err_line "cannot create"
python3 -c "open('$T/small.ppm','wb').write(b'P6\n2 2\n255\n' + bytes(12))"
expect 2 "compare size mismatch" -- "$SCMC" compare "$T/in.ppm" "$T/small.ppm"
err_line "differ in size"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
