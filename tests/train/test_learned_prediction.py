#!/usr/bin/python3
"""Tests of layers/structure/tools/learned_prediction.py, the research tool that measures a learned
coarse-scale prediction against the hand-made one: its wavelet, its hand prediction, its levels,
and a tiny train + eval round on synthetic pictures.

  /usr/bin/python3 tests/train/test_learned_prediction.py

Needs python3-torch; without it every test is skipped with the reason.
"""
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "layers", "structure", "tools", "learned_prediction.py")
sys.path.insert(0, os.path.dirname(TOOL))
try:
    import torch
    import learned_prediction as lp
    HAVE_TORCH, WHY = True, ""
except ImportError as e:  # the tool needs torch
    HAVE_TORCH, WHY = False, f"python3-torch is not installed ({e})"


def stripes(path, w, h, seed):
    rng = np.random.default_rng(seed)
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    v = 128 + 90 * np.sign(np.sin(x / 5.0 + y / 9.0)) + rng.normal(0, 6, (h, w))
    Image.fromarray(np.repeat(np.clip(v, 0, 255).astype(np.uint8)[..., None], 3, 2)).save(path)


@unittest.skipUnless(HAVE_TORCH, WHY)
class Wavelet(unittest.TestCase):
    def test_one_level_inverts_and_a_constant_has_no_detail(self):
        torch.manual_seed(0)
        x = torch.randn(2, 1, 32, 48) * 40
        self.assertLess((lp.unbands(*lp.bands(x)) - x).abs().max().item(), 1e-3)
        ll, a, b, c = lp.bands(torch.full((1, 1, 16, 16), 7.0))
        for d in (a, b, c):
            self.assertLess(d.abs().max().item(), 1e-4)
        self.assertAlmostEqual(ll.mean().item(), 14.0, places=3)  # gain 2 per level, as wavelet.c

    def test_numpy_and_torch_lift_alike(self):
        # cdf97.py serves benches/structure_wavelet.py (NumPy) and this tool (PyTorch)
        import cdf97
        x = np.random.default_rng(1).normal(0, 30, (16, 6))
        for a, b in zip(cdf97.lift_forward(x), cdf97.lift_forward(torch.from_numpy(x))):
            self.assertLess(np.abs(a - b.numpy()).max(), 1e-9)
        back = cdf97.lift_inverse(*cdf97.lift_forward(x))
        self.assertEqual(back.shape, x.shape)
        self.assertLess(np.abs(back - x).max(), 1e-9)

    def test_levels_come_coarse_first_with_their_sizes(self):
        y = torch.randn(1, 1, 64, 96) * 30
        lv = lp.levels(y, 20.0)
        self.assertEqual([level for level, _, _ in lv], [5, 4, 3, 2, 1])
        for level, u, details in lv:
            self.assertEqual(tuple(u.shape[-2:]), (64 >> (level - 1), 96 >> (level - 1)))
            self.assertEqual(tuple(details[0].shape[-2:]), (64 >> level, 96 >> level))


@unittest.skipUnless(HAVE_TORCH, WHY)
class HandPrediction(unittest.TestCase):
    def test_a_quarter_of_the_way_to_the_nearer_extreme(self):
        u = torch.tensor([[[[0.0, 0.0, 10.0, 30.0, 40.0, 40.0]]]]).repeat(1, 1, 3, 1)
        p = lp.hand_prediction(u)[0, 0, 1]
        # 10 is nearer 0 (its neighbourhood 0..30): 7.5; 30 nearer 40 (10..40): 32.5
        self.assertAlmostEqual(p[2].item(), 7.5)
        self.assertAlmostEqual(p[3].item(), 32.5)
        self.assertAlmostEqual(p[0].item(), 0.0)


@unittest.skipUnless(HAVE_TORCH, WHY)
class TrainAndEval(unittest.TestCase):
    def test_a_short_training_writes_a_network_that_eval_reads(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            os.mkdir(data)
            for k in range(3):
                stripes(os.path.join(data, f"p{k}.png"), 192, 176, k)
            net = os.path.join(tmp, "net.pt")
            r = subprocess.run([sys.executable, TOOL, "train", net, "--data", data, "--steps", "3", "--channels", "4"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(torch.load(net)["channels"], 4)
            pic = os.path.join(tmp, "p.png")
            stripes(pic, 128, 96, 9)
            r = subprocess.run([sys.executable, TOOL, "eval", net, "--step", "20", pic], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.splitlines()
            self.assertEqual([ln.split()[2] for ln in lines], ["none", "hand", "network"])
            self.assertTrue(lines[0].endswith("+0.00 %"))
            # on sharp stripes the hand prediction knows where the finer coefficients are
            self.assertTrue(lines[1].split()[-2].startswith("-"), lines[1])

    def test_no_pictures_is_one_line_and_exit_1(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([sys.executable, TOOL, "train", os.path.join(tmp, "n.pt"), "--data", tmp],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr.strip().count("\n"), 0)
            self.assertIn("no pictures", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
