#!/usr/bin/python3
"""Tests of train_correction_states, the trainer of the wavelet correction's starting states
(layers/structure/tools/train_correction_states.c) on synthetic pictures: the table it writes has
the shape correction_states.h declares, each set learns only from the corrections that select it,
the result does not depend on the number of workers, and bad input fails without a table.

  /usr/bin/python3 tests/train/test_correction_states.py PATH/TO/train_correction_states
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "..", "..", "layers", "structure", "correction_states.h")
MIXER_HEADER = os.path.join(HERE, "..", "..", "src", "entropy", "mixer.h")
TRAINER = None


def header_value(name, header=HEADER):
    with open(header) as f:
        return int(re.search(r"#define %s (\d+)" % name, f.read()).group(1))


SETS = header_value("SCMC_CORRECTION_START_SETS")
PROBS = header_value("SCMC_CORRECTION_START_PROBS")
WEIGHTS = header_value("SCMC_CORRECTION_START_WEIGHTS")
# SCMC_MIX_INPUTS: two per context, the constant and the direct input (13 until structure STRJ)
INPUTS = 2 * header_value("SCMC_MIX_MAX_CONTEXTS", MIXER_HEADER) + 2
UNTRAINED_WEIGHT = 65536 // 5


def parse_table(path):
    """(probability codes [set][entry], weights [set][weight set][input]) of a written table."""
    with open(path) as f:
        text = f.read()
    probs_text, weights_text = text.split("scmc_correction_start_weights")
    probs_body = probs_text.split("= {", 1)[1]
    probs = [[int(v) for v in re.findall(r"-?\d+", block)] for block in re.findall(r"\{([^{}]*)\}", probs_body)]
    weights_body = weights_text.split("= {", 1)[1]
    weights = []
    for block in re.findall(r"\{((?:\s*\{[^{}]*\},?)+)\s*\}", weights_body):
        weights.append([[int(v) for v in re.findall(r"-?\d+", row)] for row in re.findall(r"\{([^{}]*)\}", block)])
    return probs, weights


def synthetic(path, seed, w=96, h=64):
    """A gradient with a few rectangles and noise: texture for the correction at every step."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h)], axis=2)
    for _ in range(4):
        x0, y0 = rng.integers(0, w - 16), rng.integers(0, h - 16)
        img[y0:y0 + 16, x0:x0 + 16] = rng.integers(0, 256, 3)
    img += rng.normal(0, 12, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)


class Trainer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.images = []
        for k in range(3):
            p = os.path.join(cls.tmp.name, f"pic{k}.ppm")
            synthetic(p, k)
            cls.images.append(p)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def train(self, out, *args, images=None):
        return subprocess.run([TRAINER, *args, "-o", out] + (self.images if images is None else images),
                              capture_output=True, text=True)

    def test_sets_learn_from_their_own_corrections_and_workers_do_not_matter(self):
        one, two = (os.path.join(self.tmp.name, n) for n in ("one.c", "two.c"))
        # quality 1 (one quantizer, step 61: set 1), quality 4 (dependent quantization, step 19:
        # set 3) and structure level 3 (step 285: set 0); nothing selects sets 2 and 4
        for out, jobs in ((one, "1"), (two, "2")):
            r = self.train(out, "--jobs", jobs, "--qualities", "1,4", "--levels", "3")
            self.assertEqual(r.returncode, 0, r.stderr)
        with open(one) as a, open(two) as b:
            self.assertEqual(a.read(), b.read())
        probs, weights = parse_table(one)
        self.assertEqual([len(p) for p in probs], [PROBS] * SETS)
        self.assertEqual([len(w) for w in weights], [WEIGHTS] * SETS)
        self.assertTrue(all(len(row) == INPUTS for w in weights for row in w))
        for s in range(SETS):
            trained = sum(c != 0 for c in probs[s])
            moved = sum(row != [UNTRAINED_WEIGHT] * INPUTS for row in weights[s])
            if s in (0, 1, 3):
                self.assertGreater(trained, 50, f"set {s}")
                self.assertGreater(moved, 5, f"set {s}")
                self.assertTrue(all(-127 <= c <= 127 for c in probs[s]))
            else:
                self.assertEqual((trained, moved), (0, 0), f"set {s}")

    def test_no_pictures_give_the_untrained_table(self):
        out = os.path.join(self.tmp.name, "none.c")
        r = self.train(out, images=[])
        self.assertEqual(r.returncode, 0, r.stderr)
        probs, weights = parse_table(out)
        self.assertEqual(probs, [[0] * PROBS] * SETS)
        self.assertEqual(weights, [[[UNTRAINED_WEIGHT] * INPUTS] * WEIGHTS] * SETS)

    def test_bad_input_writes_no_table(self):
        out = os.path.join(self.tmp.name, "bad.c")
        r = self.train(out, images=[os.path.join(self.tmp.name, "missing.ppm")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.ppm", r.stderr)
        self.assertFalse(os.path.exists(out))
        for args in (["--qualities", "9"], ["--jobs", "0"], ["--levels", "1,x"], ["--min-updates", "0"]):
            r = self.train(out, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("bad option", r.stderr)
            self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    TRAINER = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
