#!/usr/bin/python3
"""Tests of the benchmark harness: BD-rate against known answers, and a tiny end-to-end run on two
synthetic images (scmc and JPEG) that must produce every output.

  /usr/bin/python3 tests/bench/test_bench.py PATH/TO/scmc
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHES = os.path.join(HERE, "..", "..", "benches")
sys.path.insert(0, BENCHES)
from bdrate import bd_rate  # noqa: E402
from md_block import replace_block  # noqa: E402

SCMC = None
CURVE = [(0.1, 26.0), (0.25, 28.9), (0.5, 31.7), (1.0, 34.8), (2.0, 38.1)]


class BdRate(unittest.TestCase):
    def test_self_is_zero(self):
        self.assertAlmostEqual(bd_rate(CURVE, CURVE), 0.0, places=9)

    def test_scaled_rates(self):
        for f in (0.9, 0.5, 1.25):
            test = [(r * f, q) for r, q in CURVE]
            self.assertAlmostEqual(bd_rate(CURVE, test), (f - 1) * 100, places=6)

    def test_quality_shift_is_a_rate_saving(self):
        better = [(r, q + 1.0) for r, q in CURVE]
        self.assertLess(bd_rate(CURVE, better), -5)

    def test_no_overlap_or_too_few_points(self):
        self.assertIsNone(bd_rate(CURVE, [(r, q + 50) for r, q in CURVE]))
        self.assertIsNone(bd_rate(CURVE, CURVE[:3]))


class PerImage(unittest.TestCase):
    def test_each_image_against_its_own_anchor_curve(self):
        import scmc_bench
        rows = []
        for image, factor in (("a.png", 0.9), ("b.png", 1.2)):
            for k, (r, q) in enumerate(CURVE):
                rows.append({"image": image, "codec": "jp2", "setting": str(k), "bpp": r, "psnr": q,
                             "msssim": 0.9, "enc_s": "", "dec_s": ""})
                rows.append({"image": image, "codec": "x", "setting": str(k), "bpp": r * factor, "psnr": q,
                             "msssim": 0.9, "enc_s": "", "dec_s": ""})
        per_image = scmc_bench.summarize(rows, "jp2")["bd_rate_percent_per_image"]
        self.assertEqual(set(per_image), {"x"})
        self.assertAlmostEqual(per_image["x"]["a.png"], -10.0, places=6)
        self.assertAlmostEqual(per_image["x"]["b.png"], 20.0, places=6)


class PeakMemory(unittest.TestCase):
    def test_peak_is_the_commands_own(self):
        # A process forked from Python would report Python's resident size (tens of MiB, with
        # numpy and PIL loaded) as its peak; `true` itself needs a few MiB at most.
        import numpy  # noqa: F401  (makes this process large, as in the harness)
        import scmc_bench
        seconds, kib = scmc_bench.run(["true"])
        self.assertLess(kib, 8 * 1024)
        self.assertGreater(kib, 0)
        # and a command that allocates 64 MiB is seen doing so
        _, big = scmc_bench.run([sys.executable, "-c", "b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096])"])
        self.assertGreater(big, kib + 60 * 1024)
        with self.assertRaises(RuntimeError):
            scmc_bench.run(["false"])


class MarkdownBlock(unittest.TestCase):
    PAGE = "# Page\nprose\n<!-- t:begin -->\nold 1\nold 2\n<!-- t:end -->\nmore prose\n"

    def test_replaces_only_the_block(self):
        new = replace_block(self.PAGE, "t", "| a |\n| b |\n")
        self.assertEqual(new, "# Page\nprose\n<!-- t:begin -->\n| a |\n| b |\n<!-- t:end -->\nmore prose\n")
        self.assertEqual(replace_block(new, "t", "old 1\nold 2"), self.PAGE)

    def test_missing_markers_fail(self):
        with self.assertRaises(ValueError):
            replace_block(self.PAGE, "other", "x")
        with self.assertRaises(ValueError):
            replace_block("<!-- t:begin -->\nno end\n", "t", "x")


class ScalabilityCost(unittest.TestCase):
    def test_sublayers_cost_a_little(self):
        """benches/scalability_cost on a synthetic image: the progressive stream is larger than
        the same symbols in one payload, by the container entries of the extra sub-layers."""
        from PIL import Image
        tool = os.path.join(os.path.dirname(SCMC), "scalability_cost")
        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "g.png")
            w, h = 160, 112
            im = Image.new("RGB", (w, h))
            im.putdata([(int(128 + 90 * math.sin(x / 7)), int(255 * y / h), (x * y) % 200) for y in range(h) for x in range(w)])
            im.save(png)
            out = subprocess.run([tool, png, "--quality", "3"], check=True, capture_output=True, text=True).stdout
            line = out.splitlines()[0]  # "PATH: progressive P bytes, one payload S bytes (+X%)"
            prog = int(line.split("progressive ")[1].split()[0])
            single = int(line.split("one payload ")[1].split()[0])
            self.assertGreater(prog, single)
            self.assertLess(prog, single + 200)


class EndToEnd(unittest.TestCase):
    def test_tiny_run(self):
        from PIL import Image
        with tempfile.TemporaryDirectory() as tmp:
            imgs = os.path.join(tmp, "imgs")
            os.mkdir(imgs)
            for k, (w, h) in enumerate([(96, 64), (70, 90)]):
                im = Image.new("RGB", (w, h))
                im.putdata([(int(128 + 100 * math.sin(x / (5 + k))), int(255 * y / h), 90 if (x - w // 2) ** 2 + (y - h // 2) ** 2 < 300 else 200)
                            for y in range(h) for x in range(w)])
                im.save(os.path.join(imgs, f"s{k}.png"))
            out = os.path.join(tmp, "out")
            cmd = [sys.executable, os.path.join(BENCHES, "scmc_bench.py"), "--images", imgs, "--out", out, "--scmc", SCMC,
                   "--codecs", "scmc,jpeg", "--anchor", "jpeg", "--jobs", "2", "--markdown", os.path.join(tmp, "r.md")]
            subprocess.run(cmd, check=True, capture_output=True)
            for f in ("rows.csv", "summary.json", "rd_psnr.png", "rd_msssim.png", "report.html", "cache.json"):
                self.assertTrue(os.path.getsize(os.path.join(out, f)) > 0, f)
            md = open(os.path.join(tmp, "r.md")).read()
            self.assertIn("## BD-rate against JPEG", md)
            self.assertTrue(os.path.exists(os.path.join(tmp, "bench_rd_psnr.png")))
            # a progressive strip per strip image: the original and one frame per sub-layer
            from PIL import Image
            with open(os.path.join(out, "rows.csv")) as f:
                nsteps = sum(r["codec"] == "scmc-steps-q8" and r["image"] == "s0.png" for r in csv.DictReader(f))
            sheet = Image.open(os.path.join(tmp, "bench_progressive_s0.png"))
            self.assertEqual(sheet.width, min(6, nsteps + 1) * 192)
            self.assertIn("](bench_progressive_s1.png)", md)
            s = json.load(open(os.path.join(out, "summary.json")))
            self.assertEqual(len(s["curves"]["jpeg"]), 8)
            self.assertEqual(len(s["curves"]["scmc"]), 8)
            self.assertAlmostEqual(s["bd_rate_percent"]["jpeg"]["psnr"], 0.0, places=6)
            for p in s["curves"]["scmc"] + s["curves"]["jpeg"]:
                self.assertEqual(p["images"], 2)
                self.assertTrue(0 < p["bpp"] < 30 and 5 < p["psnr"] < 100 and 0 < p["msssim"] <= 1)
            steps = s["curves"]["scmc-steps-q8"]
            self.assertGreaterEqual(len(steps), 2)  # semantic, then the signal sub-layers
            # a rerun is served from the cache
            r = subprocess.run(cmd, check=True, capture_output=True, text=True)
            self.assertIn("cached", r.stderr)


if __name__ == "__main__":
    SCMC = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
