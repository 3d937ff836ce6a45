#!/usr/bin/python3
"""Rate-distortion benchmark: scmc against JPEG, WebP, JPEG 2000, JPEG XL and AVIF.

  /usr/bin/python3 benches/scmc_bench.py [--images DIR] [--out DIR] [--scmc PATH] [--jobs N]
        [--codecs scmc,jpeg,webp,jp2,jxl,avif] [--anchor jp2] [--limit N] [--fast] [--force CODEC]

Every codec runs through its command-line tools (scmc itself; Debian's cjpeg/djpeg,
cwebp/dwebp, opj_compress/opj_decompress, cjxl/djxl, avifenc/avifdec), one process per encode
and per decode, each timed the same way: wall-clock from spawn to exit (start-up included) and
the process's peak resident memory (GNU time's %M, the command's own high-water mark). Distortion is measured by `scmc compare`
(PSNR over RGB, MS-SSIM) against the original.

scmc rows: every --quality, every sub-layer of each stream (steps, from one progressive decode),
and byte budgets cut from the highest-quality stream with `scmc truncate --bpp`.

Outputs in --out (default bench-out/): rows.csv (every image x setting), summary.json (means per
setting, BD-rates against --anchor), rd_psnr.png and rd_msssim.png, strip_*.png (progressive
decodes) and report.html. Results are cached in cache.json by (codec, setting, image name and content hash; for scmc also the
binary's size and mtime, and --tune when not psnr):
a rerun only does what is missing; --force CODEC redoes one codec.
"""
import argparse
import concurrent.futures
import csv
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bdrate import bd_rate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

JP2_BPP = [0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.2, 2.0]
SETTINGS = {
    "jpeg": [5, 10, 20, 30, 50, 70, 85, 95],
    "webp": [0, 5, 15, 30, 50, 70, 85, 95],
    "jp2": JP2_BPP,
    "jxl": [12.0, 8.0, 5.0, 3.0, 2.0, 1.3, 0.8, 0.5],
    "avif": [60, 55, 50, 45, 40, 33, 25, 18],
    "scmc": [1, 2, 3, 4, 5, 6, 7, 8],
}
BUDGETS = [0.005, 0.01, 0.02, 0.05, 0.1]
STRIP_WIDTH = 192  # pixels per frame of the progressive strips
NAMES = {"scmc": "SCMC", "jpeg": "JPEG (libjpeg-turbo)", "webp": "WebP", "jp2": "JPEG 2000 (OpenJPEG)",
         "jxl": "JPEG XL", "avif": "AVIF (aom)"}


GNU_TIME = "/usr/bin/time"  # Debian package `time`


def run(cmd):
    """Runs cmd; returns (seconds, peak RSS in KiB). Raises on a non-zero exit.

    The peak comes from GNU time, which forks the command itself: a child forked from this
    Python process would report Python's own resident size as its peak (Linux keeps the
    high-water mark across exec), about 50 MiB, whatever the command really used."""
    fd, rss_path = tempfile.mkstemp(prefix="scmc_bench_rss_")
    os.close(fd)
    try:
        t0 = time.perf_counter()
        p = subprocess.run([GNU_TIME, "-f", "%M", "-o", rss_path, "--"] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - t0
        with open(rss_path) as f:
            report = f.read().split()
    finally:
        os.unlink(rss_path)
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace")
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {err.strip()[:300]}")
    return seconds, int(report[-1])


def compare(scmc, a, *b):
    """(PSNR, MS-SSIM) of each image in b against a, from one `scmc compare` process; identical
    images count as 99 dB. One image: one pair."""
    out = subprocess.run([scmc, "compare", a, *b, "--json"], check=True, capture_output=True, text=True).stdout
    res = [((d["psnr"] if d["psnr"] is not None else 99.0), d["msssim"]) for d in map(json.loads, out.splitlines())]
    return res[0] if len(b) == 1 else res


def image_size(ppm, cache):
    """Width and height from the header of a PPM this script wrote (P6, no comments)."""
    if ppm not in cache:
        with open(ppm, "rb") as f:
            head = f.read(64).split()
        cache[ppm] = (int(head[1]), int(head[2]))
    return cache[ppm]


def to_ppm(src, dst):
    from PIL import Image
    Image.open(src).convert("RGB").save(dst)


class Bench:
    def __init__(self, args):
        self.a = args
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="scmc-bench-")
        self.cache_path = os.path.join(self.out, "cache.json")
        self.cache = json.load(open(self.cache_path)) if os.path.exists(self.cache_path) else {}
        if args.force:
            self.cache = {k: v for k, v in self.cache.items() if not k.startswith(args.force + "|")}
        self.lock = threading.Lock()
        self.digests = {}
        self.done = 0
        self.total = 0
        self.t0 = time.time()
        self.sizes = {}

    def progress(self, what):
        with self.lock:
            self.done += 1
            el = time.time() - self.t0
            rem = el / self.done * (self.total - self.done)
            if sys.stderr.isatty():
                sys.stderr.write(f"\r[{self.done:4d}/{self.total}] {what:<40.40s} elapsed {el / 60:5.1f} min, "
                                 f"remaining ~{rem / 60:5.1f} min ")
                sys.stderr.flush()
            elif self.done % 10 == 0 or self.done == self.total:
                sys.stderr.write(f"[{self.done}/{self.total}] {what} elapsed {el:.0f}s remaining ~{rem:.0f}s\n")

    def image_digest(self, img):
        # by content: copies of the same images (new checkouts of ../shared/data) reuse the cache
        with self.lock:
            if img not in self.digests:
                with open(img, "rb") as fh:
                    self.digests[img] = hashlib.sha256(fh.read()).hexdigest()[:20]
            return self.digests[img]

    def key(self, codec, setting, img):
        # "rss2": rows cached before the peaks came from GNU time are measured again
        k = f"{codec}|{setting}|{os.path.basename(img)}|{self.image_digest(img)}|rss2"
        if codec == "scmc":  # a rebuilt scmc (new code or weights) is measured anew
            b = os.stat(self.a.scmc)
            k += f"|{b.st_size}|{int(b.st_mtime)}"
            if self.a.tune != "psnr":
                k += f"|tune-{self.a.tune}"
        return k

    # --- anchors: (encode cmd, decode cmd, compressed file, decoded file) ---
    def anchor_cmds(self, codec, s, ppm, png, tag):
        comp = os.path.join(self.work, tag + {"jpeg": ".jpg", "webp": ".webp", "jp2": ".jp2", "jxl": ".jxl",
                                              "avif": ".avif"}[codec])
        dec = os.path.join(self.work, tag + "_dec" + (".png" if codec == "avif" else ".ppm"))
        if codec == "jpeg":
            return ["cjpeg", "-quality", str(s), "-optimize", "-outfile", comp, ppm], ["djpeg", "-outfile", dec, comp], comp, dec
        if codec == "webp":
            return ["cwebp", "-quiet", "-q", str(s), "-m", "4", png, "-o", comp], ["dwebp", "-quiet", comp, "-ppm", "-o", dec], comp, dec
        if codec == "jp2":
            return (["opj_compress", "-i", ppm, "-o", comp, "-r", f"{24.0 / s:.4f}"],
                    ["opj_decompress", "-i", comp, "-o", dec], comp, dec)
        if codec == "jxl":
            return ["cjxl", png, comp, "-d", str(s), "--quiet"], ["djxl", comp, dec, "--quiet"], comp, dec
        if codec == "avif":
            return (["avifenc", "--min", str(s), "--max", str(s), "-s", "6", "-j", "1", png, comp],
                    ["avifdec", "-j", "1", comp, dec], comp, dec)
        raise ValueError(codec)

    def task_anchor(self, codec, s, img):
        k = self.key(codec, s, img)
        if k in self.cache:
            self.progress(f"{os.path.basename(img)} {codec} {s} (cached)")
            return [self.cache[k]]
        tag = f"{codec}_{s}_{os.path.splitext(os.path.basename(img))[0]}_{threading.get_ident()}"
        ppm = self.ppm(img)
        enc, dec, comp, decoded = self.anchor_cmds(codec, s, ppm, img, tag)
        te, me = run(enc)
        td, md = run(dec)
        psnr, ms = compare(self.a.scmc, img, decoded)
        w, h = image_size(ppm, self.sizes)
        row = {"image": os.path.basename(img), "codec": codec, "setting": str(s), "bytes": os.path.getsize(comp),
               "bpp": os.path.getsize(comp) * 8 / (w * h), "psnr": psnr, "msssim": ms, "enc_s": te, "dec_s": td,
               "enc_kib": me, "dec_kib": md}
        for f in (comp, decoded):
            os.remove(f)
        with self.lock:
            self.cache[k] = row
        self.progress(f"{os.path.basename(img)} {codec} {s}")
        return [row]

    def ppm(self, img):
        name = os.path.join(self.work, os.path.splitext(os.path.basename(img))[0] + ".ppm")
        with self.lock:
            if not os.path.exists(name):
                to_ppm(img, name)
        return name

    def task_scmc(self, q, img):
        k = self.key("scmc", q, img)
        if k in self.cache:
            self.progress(f"{os.path.basename(img)} scmc q{q} (cached)")
            return self.cache[k]
        scmc = self.a.scmc
        stem = os.path.splitext(os.path.basename(img))[0]
        tag = os.path.join(self.work, f"scmc_{q}_{stem}")
        stream = tag + ".scmc"
        te, me = run([scmc, "encode", img, "-o", stream, "--quality", str(q), "--tune", self.a.tune, "--threads", "1", "-q"])
        # to PPM, as the anchors' decoders (but avifdec) write: the timing is the codec's, not zlib's
        td, md = run([scmc, "decode", stream, "-o", tag + ".ppm", "--threads", "1", "-q"])
        info = json.loads(subprocess.run([scmc, "info", stream, "--json"], check=True, capture_output=True, text=True).stdout)
        w, h = info["width"], info["height"]
        psnr, ms = compare(scmc, img, tag + ".ppm")
        rows = [{"image": os.path.basename(img), "codec": "scmc", "setting": f"q{q}", "bytes": info["bytes"],
                 "bpp": info["bpp"], "psnr": psnr, "msssim": ms, "enc_s": te, "dec_s": td, "enc_kib": me, "dec_kib": md}]
        if not self.a.fast:
            # every sub-layer boundary, from one progressive decode
            # (PPM: the steps are read once by compare; PNG's deflate cost a fifth of the decode)
            run([scmc, "decode", stream, "--progressive", tag + "-step.ppm", "--threads", "1", "-q"])
            nbytes = info["header_bytes"]
            step = 0
            nsteps = sum(len(layer["sublayers"]) for layer in info["layers"])
            metrics = compare(scmc, img, *[f"{tag}-step-{k}.ppm" for k in range(1, nsteps + 1)])
            if nsteps == 1:
                metrics = [metrics]
            for layer in info["layers"]:
                for i, sub in enumerate(layer["sublayers"]):
                    step += 1
                    nbytes += sub["bytes"]
                    p, m = metrics[step - 1]
                    rows.append({"image": os.path.basename(img), "codec": f"scmc-steps-q{q}", "setting": f"{layer['name']}{i + 1}",
                                 "bytes": nbytes, "bpp": nbytes * 8 / (w * h), "psnr": p, "msssim": m,
                                 "enc_s": "", "dec_s": "", "enc_kib": "", "dec_kib": ""})
                    if q == 8 and os.path.basename(img) in self.a.strip_images:
                        from PIL import Image
                        Image.open(f"{tag}-step-{step}.ppm").save(os.path.join(self.out, f"strip_{stem}_{step}.png"))
            if q == 8:
                for b in BUDGETS:
                    cut = f"{tag}-{b}.scmc"
                    try:
                        run([scmc, "truncate", stream, "-o", cut, "--bpp", str(b)])
                    except RuntimeError:
                        continue  # the budget is below the first sub-layer
                    run([scmc, "decode", cut, "-o", cut + ".ppm", "-q"])
                    p, m = compare(scmc, img, cut + ".ppm")
                    rows.append({"image": os.path.basename(img), "codec": "scmc-budget", "setting": f"{b}",
                                 "bytes": os.path.getsize(cut), "bpp": os.path.getsize(cut) * 8 / (w * h), "psnr": p,
                                 "msssim": m, "enc_s": "", "dec_s": "", "enc_kib": "", "dec_kib": ""})
        for f in glob.glob(tag + "*"):
            os.remove(f)
        with self.lock:
            self.cache[k] = rows
        self.progress(f"{os.path.basename(img)} scmc q{q}")
        return rows

    def save_cache(self):
        with self.lock:
            with open(self.cache_path + ".tmp", "w") as fh:
                json.dump(self.cache, fh)
            os.replace(self.cache_path + ".tmp", self.cache_path)

    def run_all(self, images):
        tasks = []
        for img in images:
            for codec in self.a.codecs:
                for s in SETTINGS[codec]:
                    tasks.append((codec, s, img))
        self.total = len(tasks)
        rows = []
        ex = concurrent.futures.ThreadPoolExecutor(max_workers=self.a.jobs)
        futs = [ex.submit(self.task_scmc, s, img) if c == "scmc" else ex.submit(self.task_anchor, c, s, img)
                for c, s, img in tasks]
        try:
            for n, f in enumerate(concurrent.futures.as_completed(futs)):
                rows += f.result()
                if n % 20 == 19:  # an interrupted run keeps what it measured
                    self.save_cache()
        except KeyboardInterrupt:
            ex.shutdown(wait=True, cancel_futures=True)
            self.save_cache()
            sys.exit("\nscmc_bench: interrupted; finished results are cached")
        ex.shutdown(wait=True)
        self.save_cache()
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        shutil.rmtree(self.work, ignore_errors=True)
        return rows


def summarize(rows, anchor):
    groups = {}
    for r in rows:
        groups.setdefault((r["codec"], r["setting"]), []).append(r)
    points = {}
    for (codec, setting), rs in groups.items():
        n = len(rs)
        mean = lambda k: sum(float(r[k]) for r in rs) / n  # noqa: E731
        p = {"codec": codec, "setting": setting, "images": n, "bpp": mean("bpp"), "psnr": mean("psnr"),
             "msssim": mean("msssim")}
        if rs[0]["enc_s"] != "":
            p.update(enc_s=mean("enc_s"), dec_s=mean("dec_s"), enc_mib=max(float(r["enc_kib"]) for r in rs) / 1024,
                     dec_mib=max(float(r["dec_kib"]) for r in rs) / 1024)
        points.setdefault(codec, []).append(p)
    for c in points:
        points[c].sort(key=lambda p: p["bpp"])
    bd = {}
    if anchor in points:
        ref = [(p["bpp"], p["psnr"]) for p in points[anchor]]
        ref_ms = [(p["bpp"], p["msssim"]) for p in points[anchor]]
        for c, ps in points.items():
            if c.startswith("scmc-steps"):  # one stream's prefixes: no curve of its own to compare
                continue
            bd[c] = {"psnr": bd_rate(ref, [(p["bpp"], p["psnr"]) for p in ps]),
                     "msssim": bd_rate(ref_ms, [(p["bpp"], p["msssim"]) for p in ps])}
    return {"anchor": anchor, "curves": points, "bd_rate_percent": bd,
            "bd_rate_percent_per_image": per_image_bd(rows, anchor, list(bd))}


def per_image_bd(rows, anchor, codecs):
    """BD-rate (PSNR) of each codec against the anchor on each image alone: the mean curve hides
    which pictures a codec wins and loses."""
    curves = {}
    for r in rows:
        curves.setdefault((r["codec"], r["image"]), []).append((float(r["bpp"]), float(r["psnr"])))
    out = {}
    for c in codecs:
        if c == anchor:
            continue
        out[c] = {img: bd_rate(curves[(anchor, img)], pts) for (codec, img), pts in sorted(curves.items())
                  if codec == c and (anchor, img) in curves}
    return out


def plot(summary, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for metric, label in (("psnr", "PSNR (dB, RGB)"), ("msssim", "MS-SSIM")):
        fig, ax = plt.subplots(figsize=(8, 5.5))
        for codec, ps in sorted(summary["curves"].items()):
            if codec.startswith("scmc-steps") and codec != "scmc-steps-q8":
                continue
            style = "o-" if not codec.startswith("scmc-") else ("x:" if codec == "scmc-budget" else ".--")
            ax.plot([p["bpp"] for p in ps], [p[metric] for p in ps], style, label=NAMES.get(codec, codec), ms=4)
        ax.set_xscale("log")
        ax.set_xlabel("bits per pixel")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f"rd_{metric}.png"), dpi=110)
        plt.close(fig)


def compose_strips(rows, args):
    """One labelled picture per strip image: the original, then the quality-8 stream decoded after
    each sub-layer (semantic, structure, signal groups), scaled to STRIP_WIDTH, each captioned with
    the layer, the stream bytes so far and the PSNR. Returns the written files."""
    from PIL import Image, ImageDraw
    written = []
    for name in sorted(args.strip_images):
        stem = os.path.splitext(name)[0]
        # the stream's order: bytes grow with every sub-layer
        steps = sorted((r for r in rows if r["codec"] == "scmc-steps-q8" and r["image"] == name),
                       key=lambda r: int(r["bytes"]))
        frames = [(os.path.join(args.images, name), "original")]
        for k, r in enumerate(steps, 1):
            f = os.path.join(args.out, f"strip_{stem}_{k}.png")
            frames.append((f, f"{r['setting']}: {int(r['bytes'])} B, {float(r['psnr']):.2f} dB"))
        if len(frames) == 1 or not all(os.path.exists(f) for f, _ in frames):
            continue
        tiles = []
        for f, label in frames:
            im = Image.open(f).convert("RGB")
            im = im.resize((STRIP_WIDTH, max(1, round(im.height * STRIP_WIDTH / im.width))), Image.LANCZOS)
            tile = Image.new("RGB", (im.width, im.height + 16), "white")
            tile.paste(im, (0, 0))
            ImageDraw.Draw(tile).text((3, im.height + 2), label, fill="black")
            tiles.append(tile)
        cols = 6
        th = max(t.height for t in tiles)
        sheet = Image.new("RGB", (cols * STRIP_WIDTH, th * ((len(tiles) + cols - 1) // cols)), "white")
        for i, t in enumerate(tiles):
            sheet.paste(t, ((i % cols) * STRIP_WIDTH, (i // cols) * th))
        path = os.path.join(args.out, f"progressive_{stem}.png")
        sheet.save(path, optimize=True)
        written.append(path)
    return written


def html(summary, out, sheets):
    rows = "".join(f"<tr><td>{NAMES.get(c, c)}</td><td>{_fmt(v['psnr'])}</td><td>{_fmt(v['msssim'])}</td></tr>"
                   for c, v in sorted(summary["bd_rate_percent"].items()))
    pts = "".join(f"<tr><td>{NAMES.get(p['codec'], p['codec'])}</td><td>{p['setting']}</td><td>{p['bpp']:.4f}</td>"
                  f"<td>{p['psnr']:.2f}</td><td>{p['msssim']:.4f}</td><td>{p.get('enc_s', float('nan')):.3f}</td>"
                  f"<td>{p.get('dec_s', float('nan')):.3f}</td></tr>"
                  for c in sorted(summary["curves"]) for p in summary["curves"][c])
    imgs = "".join(f'<p><img src="{os.path.basename(f)}"></p>' for f in sheets)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>SCMC rate-distortion report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}</style>
</head><body><h1>SCMC rate-distortion report</h1>
<p>Means over images (bpp and quality averaged per image). BD-rate against {NAMES.get(summary['anchor'])}:
negative is fewer bits for the same quality.</p>
<img src="rd_psnr.png"> <img src="rd_msssim.png">
<h2>BD-rate (%)</h2><table><tr><th>codec</th><th>PSNR</th><th>MS-SSIM</th></tr>{rows}</table>
<h2>Progressive decodes (quality 8: the original, then the picture after each sub-layer)</h2><div>{imgs}</div>
<h2>All settings</h2><table><tr><th>codec</th><th>setting</th><th>bpp</th><th>PSNR</th><th>MS-SSIM</th><th>enc s</th><th>dec s</th></tr>{pts}</table>
</body></html>"""
    with open(os.path.join(out, "report.html"), "w") as f:
        f.write(page)


def markdown(summary, args, n_images, path, sheets):
    """The summary as a Markdown page (docs/benchmarks-kodak.md is written by this, never by hand),
    with the plots and progressive strips copied beside it."""
    d = os.path.dirname(os.path.abspath(path))
    for p in ("rd_psnr.png", "rd_msssim.png"):
        shutil.copy(os.path.join(args.out, p), os.path.join(d, "bench_" + p))
    for f in sheets:
        shutil.copy(f, os.path.join(d, "bench_" + os.path.basename(f)))
    lines = [f"# Rate-distortion on {os.path.basename(os.path.normpath(args.images))} ({n_images} images)", "",
             "Generated by `/usr/bin/python3 benches/scmc_bench.py " + " ".join(sys.argv[1:]) + "` on "
             + time.strftime("%Y-%m-%d") + "; do not edit by hand. Means over images; PSNR over RGB.", "",
             f"![PSNR](bench_rd_psnr.png) ![MS-SSIM](bench_rd_msssim.png)", "",
             f"## BD-rate against {NAMES.get(summary['anchor'], summary['anchor'])} (negative: fewer bits)", "",
             "| codec | PSNR | MS-SSIM |", "|---|---|---|"]
    for c, v in sorted(summary["bd_rate_percent"].items()):
        lines.append(f"| {NAMES.get(c, c)} | {_fmt(v['psnr'])}% | {_fmt(v['msssim'])}% |")
    per_image = summary.get("bd_rate_percent_per_image", {})
    codecs = sorted(per_image)
    if codecs:
        images = sorted({img for c in codecs for img in per_image[c]})
        lines += ["", f"## BD-rate per image against {NAMES.get(summary['anchor'], summary['anchor'])} (PSNR)", "",
                  "| image | " + " | ".join(NAMES.get(c, c) for c in codecs) + " |", "|---" * (len(codecs) + 1) + "|"]
        for img in images:
            cells = [_fmt(per_image[c].get(img)) + ("%" if per_image[c].get(img) is not None else "") for c in codecs]
            lines.append(f"| {os.path.splitext(img)[0]} | " + " | ".join(cells) + " |")
    if sheets:
        lines += ["", "## Progressive decodes of the quality-8 stream", "",
                  "The original, then the picture after each sub-layer, with the stream bytes so far.", ""]
        lines += [f"![{os.path.basename(f)}](bench_{os.path.basename(f)})" for f in sheets]
    lines += ["", "## Every setting", "", "| codec | setting | bpp | PSNR (dB) | MS-SSIM | encode s | decode s | peak MiB (enc/dec) |",
              "|---|---|---|---|---|---|---|---|"]
    for c in sorted(summary["curves"]):
        for p in summary["curves"][c]:
            t = (f"{p['enc_s']:.3f} | {p['dec_s']:.3f} | {p['enc_mib']:.0f}/{p['dec_mib']:.0f}" if "enc_s" in p else " | | ")
            lines.append(f"| {NAMES.get(c, c)} | {p['setting']} | {p['bpp']:.4f} | {p['psnr']:.2f} | {p['msssim']:.4f} | {t} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def _fmt(v):
    return "n/a" if v is None else f"{v:+.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(ROOT, "..", "shared", "data", "kodak"))
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--scmc", default=os.path.join(ROOT, "build", "scmc"))
    ap.add_argument("--codecs", default="scmc,jpeg,webp,jp2,jxl,avif")
    ap.add_argument("--anchor", default="jp2")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--limit", type=int, default=0, help="use the first N images only")
    ap.add_argument("--fast", action="store_true", help="scmc: qualities only, no sub-layer or budget rows")
    ap.add_argument("--force", default="", help="redo this codec even if cached")
    ap.add_argument("--tune", default="psnr", choices=("psnr", "ms-ssim"), help="scmc encode --tune")
    ap.add_argument("--markdown", default="", help="also write the summary as a Markdown page here")
    args = ap.parse_args()
    args.codecs = [c for c in args.codecs.split(",") if c]
    for c in args.codecs:
        if c not in SETTINGS:
            sys.exit(f"scmc_bench: unknown codec {c!r}; choose from {', '.join(SETTINGS)}")
    images = sorted(glob.glob(os.path.join(args.images, "*.png")))
    if not images:
        sys.exit(f"scmc_bench: no PNG images in {args.images}")
    if args.limit:
        images = images[:args.limit]
    args.strip_images = {os.path.basename(i) for i in images[:2]}
    if not os.access(args.scmc, os.X_OK):
        sys.exit(f"scmc_bench: {args.scmc} is not an executable (build first: ninja -C build)")
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"scmc_bench: {GNU_TIME} is missing (it measures peak memory): apt-get install time")
    bench = Bench(args)
    rows = bench.run_all(images)
    rows.sort(key=lambda r: (r["codec"], r["setting"], r["image"]))
    with open(os.path.join(args.out, "rows.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    summary = summarize(rows, args.anchor)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    plot(summary, args.out)
    sheets = compose_strips(rows, args)
    html(summary, args.out, sheets)
    if args.markdown:
        markdown(summary, args, len(images), args.markdown, sheets)
    print(f"{len(images)} images, {len(rows)} rows -> {args.out}/ (report.html)")
    for c, v in sorted(summary["bd_rate_percent"].items()):
        print(f"  BD-rate vs {args.anchor}: {c:12s} PSNR {_fmt(v['psnr'])}%  MS-SSIM {_fmt(v['msssim'])}%")


if __name__ == "__main__":
    main()
