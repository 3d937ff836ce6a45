#!/bin/bash
# Encode and decode time (wall clock, process start-up included) and peak memory of one image at
# the default quality, for each neural backend of a build at 1 and 2 threads, then the same for
# OpenJPEG and libavif (aom) at about the same rate.
#   bash benches/backend_speed.sh [BUILD_DIR] [IMAGE] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
img=${2:-../shared/data/kodak/kodim23.png}
reps=${3:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-8s %-7s %-12s %-12s %-14s %-14s\n" backend threads "encode s" "decode s" "encode MiB" "decode MiB"
for backend in c blas torch; do
    "$build/scmc" encode "$img" -o "$tmp/probe.scmc" --backend "$backend" -q 2>/dev/null || continue
    for threads in 1 2; do
        best_e=999; best_d=999
        for r in $(seq "$reps"); do
            /usr/bin/time -f "%e %M" -o "$tmp/te" "$build/scmc" encode "$img" -o "$tmp/s.scmc" -q --backend "$backend" --threads "$threads"
            /usr/bin/time -f "%e %M" -o "$tmp/td" "$build/scmc" decode "$tmp/s.scmc" -o "$tmp/s.png" -q --backend "$backend" --threads "$threads"
            read -r e em <"$tmp/te"; read -r d dm <"$tmp/td"
            best_e=$(python3 -c "print(min($best_e, $e))"); best_d=$(python3 -c "print(min($best_d, $d))")
        done
        printf "%-8s %-7s %-12s %-12s %-14s %-14s\n" "$backend" "$threads" "$best_e" "$best_d" $((em / 1024)) $((dm / 1024))
    done
done

# The anchors on the same image at about scmc's default rate (0.73 bpp on Kodak): JPEG 2000 at
# compression ratio 33 (0.73 bpp), AVIF at quantizer 33 (0.68 bpp), each with its own threading.
printf "\n%-14s %-7s %-12s %-12s %-14s %-14s\n" anchor threads "encode s" "decode s" "encode MiB" "decode MiB"
for anchor in jp2 avif; do
    for threads in 1 2; do
        best_e=999; best_d=999
        for r in $(seq "$reps"); do
            if [ "$anchor" = jp2 ]; then
                /usr/bin/time -f "%e %M" -o "$tmp/te" opj_compress -i "$img" -o "$tmp/a.jp2" -r 33 -threads "$threads" >/dev/null 2>&1
                /usr/bin/time -f "%e %M" -o "$tmp/td" opj_decompress -i "$tmp/a.jp2" -o "$tmp/a.ppm" -threads "$threads" >/dev/null 2>&1
            else
                /usr/bin/time -f "%e %M" -o "$tmp/te" avifenc --min 33 --max 33 -s 6 -j "$threads" "$img" "$tmp/a.avif" >/dev/null
                /usr/bin/time -f "%e %M" -o "$tmp/td" avifdec -j "$threads" "$tmp/a.avif" "$tmp/a.png" >/dev/null
            fi
            read -r e em <"$tmp/te"; read -r d dm <"$tmp/td"
            best_e=$(python3 -c "print(min($best_e, $e))"); best_d=$(python3 -c "print(min($best_d, $d))")
        done
        printf "%-14s %-7s %-12s %-12s %-14s %-14s\n" "$anchor" "$threads" "$best_e" "$best_d" $((em / 1024)) $((dm / 1024))
    done
done
