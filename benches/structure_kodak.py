#!/usr/bin/python3
"""Structure-level decode on Kodak against JPEG 2000 and AVIF at the same bytes per image.

    /usr/bin/python3 benches/structure_kodak.py [--scmc build/scmc] [--kodak ../shared/data/kodak]
        [--detail 3] [--limit N] [--images kodim04,...] [--strip kodim04,kodim23 --strip-dir docs]
        [--markdown docs/structure.md [--stats build/structure_stats]]

For each image: `scmc encode --layers semantic,structure` (the whole stream: container header,
semantic and structure payloads), decoded to base1; then OpenJPEG with `-r` set to hit the same
byte count and AVIF (aom, speed 6) at the finest quantizer whose file is not larger. Prints a
Markdown table of bytes, bpp, PSNR and MS-SSIM (measured by `scmc compare`), the edge contrast of
scmc and JPEG 2000 (edge_contrast below) and the means, and
with --strip writes original | semantic | sketch level (structure sub-layer 0) | structure (both
sub-layers) | JPEG 2000 at the same bytes strips (at half size) for the named images.
--markdown puts the table into that page (between `<!-- structure_kodak:begin/end -->`) and, with
--stats, the sketch coder's per-image output of structure_stats (`<!-- structure_stats:... -->`).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import sobel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from md_block import write_block  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit(f"structure_kodak: {' '.join(cmd)} failed: {r.stderr.decode()[:300]}")
    return r.stdout.decode()


def metrics(scmc, ref, img):
    d = json.loads(run([scmc, "compare", ref, img, "--json"]))
    return d["psnr"], d["msssim"]


def edge_contrast(ref, img):
    """How much of the original's edge contrast a decode keeps: the mean gradient magnitude (Sobel,
    luma) of the decode over the 5 % of pixels where the original's gradient is strongest, divided
    by the original's mean there. Blurred or misplaced edges lower it; 1 is the original."""
    def grad(path):
        a = np.asarray(Image.open(path).convert("RGB"), np.float64)
        luma = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
        return np.hypot(sobel(luma, 0), sobel(luma, 1))
    g_ref, g = grad(ref), grad(img)
    mask = g_ref >= np.quantile(g_ref, 0.95)
    return float(g[mask].mean() / g_ref[mask].mean())


def jp2_at(ppm, target, work):
    w, h = Image.open(ppm).size
    comp, dec = os.path.join(work, "a.j2k"), os.path.join(work, "a_dec.ppm")
    ratio = w * h * 3 / target
    # OpenJPEG lands within a few percent of the target; nudge the ratio until it is not over
    for _ in range(8):
        run(["opj_compress", "-i", ppm, "-o", comp, "-r", f"{ratio:.4f}"])
        if os.path.getsize(comp) <= target:
            break
        ratio *= os.path.getsize(comp) / target * 1.01
    run(["opj_decompress", "-i", comp, "-o", dec])
    return os.path.getsize(comp), dec


def avif_at(png, target, work):
    comp, dec = os.path.join(work, "a.avif"), os.path.join(work, "a_dec.png")
    best = None
    lo, hi = 0, 63  # finest quantizer whose file fits
    while lo <= hi:
        q = (lo + hi) // 2
        run(["avifenc", "--min", str(q), "--max", str(q), "-s", "6", "-j", "1", png, comp])
        if os.path.getsize(comp) <= target:
            best, hi = q, q - 1
        else:
            lo = q + 1
    if best is None:  # even the coarsest quantizer is larger: report that one
        best = 63
    run(["avifenc", "--min", str(best), "--max", str(best), "-s", "6", "-j", "1", png, comp])
    run(["avifdec", "-j", "1", comp, dec])
    return os.path.getsize(comp), dec


def strip(paths, labels, out, scale=0.5):
    ims = [Image.open(p).convert("RGB") for p in paths]
    ims = [im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS) for im in ims]
    w, h = ims[0].size
    pad = 22
    canvas = Image.new("RGB", (w * len(ims), h + pad), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (im, label) in enumerate(zip(ims, labels)):
        canvas.paste(im, (i * w, pad))
        draw.text((i * w + 6, 5), label, fill="black")
    canvas.save(out, optimize=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scmc", default="build/scmc")
    ap.add_argument("--kodak", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "kodak"))
    ap.add_argument("--detail", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--images", default="", help="comma-separated names (kodim04,...) instead of all")
    ap.add_argument("--strip", default="")
    ap.add_argument("--strip-dir", default="docs")
    ap.add_argument("--markdown", default="", help="page whose structure_kodak block gets the table")
    ap.add_argument("--stats", default="", help="structure_stats binary: its output goes to --markdown too")
    args = ap.parse_args()
    if not os.path.isdir(args.kodak):
        sys.exit(f"structure_kodak: no Kodak images at {args.kodak}")
    names = sorted(f for f in os.listdir(args.kodak) if f.endswith(".png"))
    if args.images:
        names = [n for n in names if os.path.splitext(n)[0] in args.images.split(",")]
    if args.limit:
        names = names[:args.limit]
    strips = set(filter(None, args.strip.split(",")))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            src = os.path.join(args.kodak, name)
            stem = os.path.splitext(name)[0]
            ppm = os.path.join(work, stem + ".ppm")
            Image.open(src).convert("RGB").save(ppm)
            w, h = Image.open(src).size
            stream, sem_stream = os.path.join(work, "s.scmc"), os.path.join(work, "s0.scmc")
            base0, base1 = os.path.join(work, stem + "_semantic.png"), os.path.join(work, stem + "_structure.png")
            run([args.scmc, "encode", src, "-o", stream, "--layers", "semantic,structure",
                 "--structure-detail", str(args.detail), "-q"])
            run([args.scmc, "decode", stream, "-o", base1, "-q"])
            run([args.scmc, "decode", stream, "-o", base0, "--up-to", "semantic", "-q"])
            run([args.scmc, "truncate", stream, "-o", sem_stream, "--up-to", "semantic"])
            nbytes, sem_bytes = os.path.getsize(stream), os.path.getsize(sem_stream)
            p1, m1 = metrics(args.scmc, src, base1)
            p0, m0 = metrics(args.scmc, src, base0)
            jb, jdec = jp2_at(ppm, nbytes, work)
            pj, mj = metrics(args.scmc, src, jdec)
            ab, adec = avif_at(src, nbytes, work)
            pa, ma = metrics(args.scmc, src, adec)
            rows.append(dict(name=stem, bytes=nbytes, bpp=8 * nbytes / (w * h), psnr0=p0, psnr=p1, ms0=m0, ms=m1,
                             edge=edge_contrast(src, base1), jbytes=jb, jpsnr=pj, jms=mj,
                             jedge=edge_contrast(src, jdec), abytes=ab, apsnr=pa, ams=ma))
            print(f"{stem}: scmc {nbytes} B {p1:.2f} dB | jp2 {jb} B {pj:.2f} dB | avif {ab} B {pa:.2f} dB",
                  file=sys.stderr, flush=True)
            if stem in strips:
                # the sketch level: semantic + the structure layer's first sub-layer
                sk_stream, sk_img = os.path.join(work, "sk.scmc"), os.path.join(work, stem + "_sketch.png")
                run([args.scmc, "truncate", stream, "-o", sk_stream, "--steps", "2"])
                run([args.scmc, "decode", sk_stream, "-o", sk_img, "-q"])
                ps, _ = metrics(args.scmc, src, sk_img)
                out = os.path.join(args.strip_dir, f"structure_strip_{stem}.png")
                strip([src, base0, sk_img, base1, jdec],
                      ["original", f"semantic: {sem_bytes} B, {p0:.2f} dB",
                       f"+ sketch: {os.path.getsize(sk_stream)} B, {ps:.2f} dB",
                       f"+ wavelet, sharpened: {nbytes} B, {p1:.2f} dB", f"JPEG 2000: {jb} B, {pj:.2f} dB"], out)
    n = len(rows)
    mean = {k: sum(r[k] for r in rows) / n for k in rows[0] if k != "name"}
    lines = ["| image | scmc bytes | bpp | semantic PSNR | structure PSNR | MS-SSIM | edge contrast | "
             "JPEG 2000 bytes | PSNR | MS-SSIM | edge contrast | AVIF bytes | PSNR | MS-SSIM |",
             "|---" * 14 + "|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['bytes']} | {r['bpp']:.4f} | {r['psnr0']:.2f} | {r['psnr']:.2f} | "
                     f"{r['ms']:.4f} | {r['edge']:.3f} | {r['jbytes']} | {r['jpsnr']:.2f} | {r['jms']:.4f} | "
                     f"{r['jedge']:.3f} | {r['abytes']} | {r['apsnr']:.2f} | {r['ams']:.4f} |")
    lines.append(f"| **mean of {n}** | {mean['bytes']:.1f} | {mean['bpp']:.4f} | {mean['psnr0']:.2f} | "
                 f"{mean['psnr']:.2f} | {mean['ms']:.4f} | {mean['edge']:.3f} | {mean['jbytes']:.1f} | "
                 f"{mean['jpsnr']:.2f} | {mean['jms']:.4f} | {mean['jedge']:.3f} | {mean['abytes']:.1f} | "
                 f"{mean['apsnr']:.2f} | {mean['ams']:.4f} |")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        write_block(args.markdown, "structure_kodak", table)
        if args.stats:
            out = run([args.stats, "--detail", str(args.detail), *[os.path.join(args.kodak, nm) for nm in names]])
            write_block(args.markdown, "structure_stats", "```\n" + out.rstrip("\n") + "\n```")


if __name__ == "__main__":
    main()
