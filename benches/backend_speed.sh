#!/bin/bash
# Encode and decode time (wall clock, process start-up included) and peak memory of one image at
# the default quality, for each neural backend of a build at 1 and 2 threads.
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
