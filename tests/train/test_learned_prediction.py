#!/usr/bin/python3
"""Tests of layers/structure/tools/learned_prediction.py, which trains the structure layer's learned
coarse-scale prediction and exports it for the codec: its wavelet, its hand prediction, its levels,
a tiny train + eval round on synthetic pictures, the export of the committed network, and the
codec's integer network (benches/prediction_net, layers/structure/prediction_net.c) against the
PyTorch one.

  /usr/bin/python3 tests/train/test_learned_prediction.py PATH/TO/prediction_net

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
CHECKPOINT = os.path.join(HERE, "..", "..", "layers", "structure", "tools", "prediction_net.pt")
TABLE = os.path.join(HERE, "..", "..", "layers", "structure", "prediction_net_weights.c")
PREDNET = None  # benches/prediction_net, from the command line
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


@unittest.skipUnless(HAVE_TORCH, WHY)
class CodecNetwork(unittest.TestCase):
    def load(self):
        ck = torch.load(CHECKPOINT)
        net = lp.Predictor(ck["channels"], ck["outputs"])
        net.load_state_dict(ck["state"])
        return net.eval()

    def test_export_reproduces_the_committed_table(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "w.c")
            r = subprocess.run([sys.executable, TOOL, "export", CHECKPOINT, out], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out) as a, open(TABLE) as b:
                self.assertEqual(a.read(), b.read())

    def test_integer_network_gives_the_pytorch_logits(self):
        # a synthesis with edges and texture (a blurred picture, as the coarser levels give) and
        # its hand prediction: the codec's network (integers, rows streamed) against the float one
        net = self.load()
        rng = np.random.default_rng(3)
        h, w, step = 72, 98, 20
        x = np.arange(w)[None, :]
        y = np.arange(h)[:, None]
        pic = 90 * np.sign(np.sin(x / 7.0 + y / 11.0)) + 40 * ((x - 50) ** 2 + (y - 30) ** 2 < 300) + \
            rng.normal(0, 8, (h, w))
        u = torch.nn.functional.avg_pool2d(torch.from_numpy(pic.astype(np.float32))[None, None], 3, 1, 1,
                                           count_include_pad=False)
        u16 = torch.round(u * 16)
        hb = lp.bands(lp.hand_prediction(u16 / 16))[1:]
        bh, bw = h // 2, w // 2
        pred = torch.zeros(1, 1, h, w)
        pred[..., :bh, bw:] = hb[0]
        pred[..., bh:, :bw] = hb[1]
        pred[..., bh:, bw:] = hb[2]
        pred = torch.round(pred * 16)
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = os.path.join(tmp, "in.raw"), os.path.join(tmp, "out.raw")
            with open(src, "wb") as f:
                np.array([w, h, step], np.int32).tofile(f)
                u16[0, 0].numpy().astype(np.int32).tofile(f)
                pred[0, 0].numpy().astype(np.int32).tofile(f)
            r = subprocess.run([PREDNET, src, dst], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = np.fromfile(dst, np.int16).reshape(h, w, 3)  # significance, sign, magnitude
        bands_of = lambda m: np.stack([m[:bh, bw:], m[bh:, :bw], m[bh:, bw:]])  # noqa: E731
        with torch.no_grad():
            logits = net.from_prediction(u16 / 16, torch.from_numpy(bands_of(pred[0, 0].numpy() / 16))[None], step)
        mine = torch.from_numpy(np.concatenate([bands_of(got[..., k]) for k in range(3)]).astype(np.float32))[None] / 1024
        # the logits themselves (the mixer reads them) within rounding of the float network's
        err = (mine - logits).abs()
        self.assertLess(err.mean().item(), 0.005)
        self.assertLess(err.max().item(), 0.05)
        want = [c[0].numpy() for c in lp.logit_classes(logits)]
        have = [c[0].numpy() for c in lp.logit_classes(mine)]
        for name, k in (("significance", 0), ("sign", 1), ("magnitude", 2)):
            self.assertGreaterEqual((have[k] == want[k]).mean(), 0.97, name)
            self.assertGreaterEqual(len(np.unique(have[k])), 3, f"{name}: one class everywhere")
        # the low band's place is left as it was
        self.assertFalse(got[:bh, :bw].any())

    def test_bad_input_is_one_line_and_exit_1(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "in.raw")
            np.array([8, 8, 20], np.int32).tofile(src)  # no samples
            r = subprocess.run([PREDNET, src, os.path.join(tmp, "o.raw")], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr.strip().count("\n"), 0)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    PREDNET = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
