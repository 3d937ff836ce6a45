#!/usr/bin/python3
"""Tests of the training tools that need no torch: the base1 folders per quality (bases.py) and
make_bases.sh, which writes them with the C encoder.

  /usr/bin/python3 tests/train/test_train_tools.py PATH/TO/scmc
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "..", "..", "layers", "signal", "train")
sys.path.insert(0, TRAIN)
from bases import distinct, quality_dirs  # noqa: E402

SCMC = None


class QualityDirs(unittest.TestCase):
    def test_one_folder_serves_every_quality(self):
        self.assertEqual(quality_dirs("some/bases", 8), {q: "some/bases" for q in range(8)})

    def test_pattern_takes_the_nearest_quality(self):
        with tempfile.TemporaryDirectory() as tmp:
            for q in (1, 4, 8):
                os.mkdir(os.path.join(tmp, f"b-q{q}"))
            dirs = quality_dirs(os.path.join(tmp, "b-q{q}"), 8)
            got = [os.path.basename(dirs[q]) for q in range(8)]
            # quality 6 is as near to 4 as to 8: the lower one
            self.assertEqual(got, ["b-q1", "b-q1", "b-q4", "b-q4", "b-q4", "b-q4", "b-q8", "b-q8"])
            self.assertEqual([os.path.basename(d) for d in distinct(dirs)], ["b-q1", "b-q4", "b-q8"])

    def test_pattern_without_any_folder_stops(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(SystemExit):
                quality_dirs(os.path.join(tmp, "none-q{q}"), 8)


def synthetic(path, w=192, h=128, seed=3):
    """A picture with smooth shading, edges and fine texture, so that every layer has work."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([80 + 100 * x / w, 60 + 120 * y / h, 140 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0)], 2)
    img[30:90, 40:110] = (200, 40, 50)
    img += rng.normal(0, 12, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2))


class MakeBases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.images = os.path.join(self.tmp.name, "images")
        os.mkdir(self.images)
        self.img = synthetic(os.path.join(self.images, "pic.png"))

    def tearDown(self):
        self.tmp.cleanup()

    def make(self, out, *quality, scmc=None):
        return subprocess.run(["bash", os.path.join(TRAIN, "make_bases.sh"), scmc or SCMC, out, self.images, *quality],
                              capture_output=True, text=True, env=dict(os.environ, JOBS="1"))

    def layers(self, stream):
        info = subprocess.run([SCMC, "info", stream, "--json"], capture_output=True, text=True, check=True)
        return [layer["name"] for layer in json.loads(info.stdout)["layers"]]

    def test_quality_bases_follow_the_wavelet_step(self):
        out = {}
        for q in ("1", "8"):
            out[q] = os.path.join(self.tmp.name, f"bases-q{q}")
            r = self.make(out[q], q)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(self.layers(os.path.join(out[q], "pic.scmc")), ["semantic", "structure"])
        base = {q: np.asarray(Image.open(os.path.join(d, "pic.png")).convert("RGB"), dtype=np.float64)
                for q, d in out.items()}
        self.assertEqual(base["1"].shape, self.img.shape)
        # quality 8's structure layer codes its wavelet correction with a far finer step
        self.assertGreater(psnr(self.img, base["8"]), psnr(self.img, base["1"]) + 3.0)
        self.assertGreater(os.path.getsize(os.path.join(out["8"], "pic.scmc")),
                           os.path.getsize(os.path.join(out["1"], "pic.scmc")))

    def test_without_quality_the_structure_layer_alone(self):
        out = os.path.join(self.tmp.name, "bases")
        r = self.make(out)
        self.assertEqual(r.returncode, 0, r.stderr)
        stream = os.path.join(out, "pic.scmc")
        self.assertEqual(self.layers(stream), ["semantic", "structure"])
        own = os.path.join(self.tmp.name, "own.scmc")
        subprocess.run([SCMC, "encode", os.path.join(self.images, "pic.png"), "-o", own,
                        "--layers", "semantic,structure", "-q"], check=True)
        with open(stream, "rb") as a, open(own, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_done_images_are_skipped(self):
        out = os.path.join(self.tmp.name, "bases-q2")
        self.assertEqual(self.make(out, "2").returncode, 0)
        with open(os.path.join(out, "pic.scmc"), "wb") as f:
            f.write(b"left alone")  # a finished image is not coded again
        self.assertEqual(self.make(out, "2").returncode, 0)
        with open(os.path.join(out, "pic.scmc"), "rb") as f:
            self.assertEqual(f.read(), b"left alone")

    def test_a_failing_encoder_leaves_no_base(self):
        out = os.path.join(self.tmp.name, "bases-q3")
        r = self.make(out, "3", scmc="/bin/false")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("rerun to retry", r.stderr)
        self.assertEqual(os.listdir(out), [])

    def test_bad_quality_is_refused(self):
        r = self.make(os.path.join(self.tmp.name, "bad"), "9")
        self.assertEqual(r.returncode, 2)
        self.assertIn("QUALITY must be 1 to 8", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "bad")))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    SCMC = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
