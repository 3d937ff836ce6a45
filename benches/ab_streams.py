#!/usr/bin/python3
"""A/B of two scmc binaries (or two option sets) on whole streams: every image at every quality is
encoded, decoded and compared by each side, and the BD-rate (PSNR over RGB) of B against A is
printed per image and as a mean. For encoder changes and weight files measured before a full
harness run (scmc_bench.py).

  /usr/bin/python3 benches/ab_streams.py SCMC_A SCMC_B IMG... [--quality 1,2,...,8]
        [--a-args "..."] [--b-args "..."] [--jobs 2] [--work DIR] [--metric psnr|msssim|both]
        [--a-cache FILE]

--a-args / --b-args are extra `scmc encode` options of one side (e.g. --b-args "--layers signal"
with the same binary twice). Bits per pixel are whole files, headers included. --metric msssim
measures the BD-rate on MS-SSIM (its plain values, as scmc_bench.py does) instead of PSNR, --metric
both on each from the same streams.
--a-cache FILE keeps side A's points (by image, quality and options) in a JSON file and
reuses them, so a series of candidates against one reference codes the reference once; the file
is the caller's to delete when A's binary changes.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bdrate import bd_rate  # noqa: E402


def point(scmc, extra, img, quality, work, tag):
    """(bpp, {"psnr": PSNR, "msssim": MS-SSIM}) of img coded by scmc at quality."""
    stem = f"{tag}-{os.path.splitext(os.path.basename(img))[0]}-q{quality}"
    stream, decoded = os.path.join(work, stem + ".scmc"), os.path.join(work, stem + ".png")
    subprocess.run([scmc, "encode", "-q", "--quality", str(quality)] + extra + [img, "-o", stream], check=True)
    subprocess.run([scmc, "decode", "-q", stream, "-o", decoded], check=True)
    out = subprocess.run([scmc, "compare", img, decoded, "--json"], check=True, capture_output=True, text=True)
    values = json.loads(out.stdout)
    info = json.loads(subprocess.run([scmc, "info", stream, "--json"], check=True, capture_output=True,
                                     text=True).stdout)
    scores = {m: values[m] if values[m] is not None else 99.0 for m in ("psnr", "msssim")}
    return info["bytes"] * 8 / (info["width"] * info["height"]), scores


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scmc_a")
    ap.add_argument("scmc_b")
    ap.add_argument("images", nargs="+")
    ap.add_argument("--quality", default="1,2,3,4,5,6,7,8")
    ap.add_argument("--a-args", default="")
    ap.add_argument("--b-args", default="")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", default=None, help="where the streams and decodes go (default: a temporary folder)")
    ap.add_argument("--metric", choices=("psnr", "msssim", "both"), default="psnr")
    ap.add_argument("--a-cache", default=None, help="a JSON file of side A's points, read and extended")
    args = ap.parse_args()
    qualities = [int(q) for q in args.quality.split(",")]
    sides = {"A": (args.scmc_a, shlex.split(args.a_args)), "B": (args.scmc_b, shlex.split(args.b_args))}
    cache = {}
    if args.a_cache and os.path.exists(args.a_cache):
        with open(args.a_cache) as f:
            cache = json.load(f)
    key = lambda img, q: f"{os.path.abspath(img)}|{q}|{args.a_args}"  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            jobs = {(tag, img, q): ex.submit(point, scmc, extra, img, q, work, tag)
                    for img in args.images for q in qualities for tag, (scmc, extra) in sides.items()
                    if not (tag == "A" and key(img, q) in cache)}
            res = {k: f.result() for k, f in jobs.items()}
    for (tag, img, q), value in res.items():
        if tag == "A":
            cache[key(img, q)] = value
    for img in args.images:
        for q in qualities:
            res[("A", img, q)] = cache[key(img, q)]
    if args.a_cache:
        with open(args.a_cache + ".tmp", "w") as f:
            json.dump(cache, f)
        os.replace(args.a_cache + ".tmp", args.a_cache)
    for metric in ("psnr", "msssim") if args.metric == "both" else (args.metric,):
        report(args.images, qualities, res, metric)


def report(images, qualities, res, metric):
    """Prints each image's points and BD-rate of B against A by metric, and their mean."""
    bds = []
    fmt = ".2f" if metric == "psnr" else ".4f"
    for img in images:
        a = [(res[("A", img, q)][0], res[("A", img, q)][1][metric]) for q in qualities]
        b = [(res[("B", img, q)][0], res[("B", img, q)][1][metric]) for q in qualities]
        bd = bd_rate(a, b)
        bds.append(bd)
        cells = " ".join(f"q{q} {pa[0]:.4f}/{pa[1]:{fmt}}->{pb[0]:.4f}/{pb[1]:{fmt}}" for q, pa, pb in zip(qualities, a, b))
        print(f"{os.path.basename(img)} {cells} BD " + ("n/a (needs 4 qualities over a shared range)" if bd is None else f"{bd:+.2f} %"), flush=True)
    valid = [b for b in bds if b is not None]
    if valid:
        print(f"mean BD-rate ({metric}) of B against A: {sum(valid) / len(valid):+.2f} % over {len(valid)} images")


if __name__ == "__main__":
    main()
