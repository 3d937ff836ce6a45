#!/usr/bin/python3
"""Tests of the restoration network's tools (layers/signal/train): train_enhance.py trains, resumes
and refuses bad options; add_enhancer.py reproduces the committed weight file from the committed
checkpoint; the C network (benches/signal_restore, the decoder's code) restores a picture as the PyTorch one does.

  /usr/bin/python3 tests/train/test_enhance_tools.py PATH/TO/signal_restore

Needs python3-torch; without it every test is skipped with the reason.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TRAIN = os.path.join(ROOT, "layers", "signal", "train")
WEIGHTS = os.path.join(ROOT, "layers", "signal", "weights", "signal.scmw")
CKPT = os.path.join(TRAIN, "checkpoint", "enhance.pt")
sys.path.insert(0, TRAIN)
try:
    import torch
    from add_enhancer import read_tensors
    from enhance_model import BRANCH_PREFIXES, Enhancer
    from train_enhance import STRENGTHS, batch, enhance_picture
    HAVE_TORCH = True
except ImportError as e:  # pragma: no cover - depends on the machine
    HAVE_TORCH, WHY = False, f"python3-torch is not installed ({e})"

RESTORE = None


def synthetic(path, w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([90 + 80 * x / w, 70 + 110 * y / h, 128 + 60 * np.sin(x / 5.0) * np.cos(y / 4.0)], 2)
    img[h // 4:h // 2, w // 3:w // 2] = (210, 30, 60)
    img += rng.normal(0, 8, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path)
    return img


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True)


@unittest.skipUnless(HAVE_TORCH, "" if HAVE_TORCH else WHY)
class TrainEnhance(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        t = self.tmp.name
        self.data = os.path.join(t, "pictures")
        os.mkdir(self.data)
        for q in (1, 3):
            os.mkdir(os.path.join(t, f"b-q{q}"))
        for i, (w, h) in enumerate(((64, 48), (51, 37))):
            img = synthetic(os.path.join(self.data, f"p{i}.png"), w, h, i)
            for q, levels in ((1, 32), (3, 8)):  # a coarser base at the lower quality
                Image.fromarray((img // levels * levels).astype(np.uint8)).save(os.path.join(t, f"b-q{q}", f"p{i}.png"))
        self.ckpt = os.path.join(t, "e.pt")

    def tearDown(self):
        self.tmp.cleanup()

    def train(self, *extra):
        return run(os.path.join(TRAIN, "train_enhance.py"), "--ckpt", self.ckpt, "--base-dir",
                   os.path.join(self.tmp.name, "b-q{q}"), "--data", self.data, "--crop", "16", "--batch", "2",
                   "--channels", "8", "--blocks", "1", "--threads", "1", *extra)

    def test_trains_resumes_and_evaluates(self):
        r = self.train("--steps", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("saved at step 3", r.stdout)
        first = torch.load(self.ckpt)
        self.assertEqual((first["step"], first["channels"], first["blocks"]), (3, 8, 1))
        r = self.train("--steps", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resumed at step 3", r.stdout)
        self.assertIn("saved at step 5", r.stdout)
        second = torch.load(self.ckpt)
        self.assertEqual(second["step"], 5)
        self.assertFalse(torch.equal(first["model"]["tail.weight"], second["model"]["tail.weight"]))
        r = self.train("--eval-only", "--eval", os.path.join(self.tmp.name, "b-q{q}"), "--eval-data", self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [line for line in r.stdout.splitlines() if re.match(r"q[13] ", line)]
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertIn("over 2", lines[0])

    def test_branch_starts_from_a_trained_network(self):
        """--init with --branch: the new checkpoint holds the trained network's weights and a
        branch whose output starts at zero, so it first computes what the trained one did."""
        r = self.train("--steps", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        trained = self.ckpt
        self.ckpt = os.path.join(self.tmp.name, "branch.pt")
        r = self.train("--steps", "2", "--branch", "1", "2", "--init", trained)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("below", r.stderr)  # the trained network has one block: nothing to join before 1
        self.assertFalse(os.path.exists(self.ckpt))
        r = self.train("--steps", "2", "--lr", "1e-9", "--branch", "0", "2", "--init", trained)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("initialised from", r.stdout)
        old, new = torch.load(trained), torch.load(self.ckpt)
        self.assertEqual((new["step"], tuple(new["branch"])), (2, (0, 2)))
        a, b = Enhancer.from_checkpoint(old), Enhancer.from_checkpoint(new)
        x, q = torch.rand(2, 3, 24, 18) * 255, torch.tensor([1, 3])
        with torch.no_grad():
            self.assertLess((a(x, q) - b(x, q)).abs().max().item(), 1e-3)
        r = self.train("--steps", "3")  # resumes with the checkpoint's own branch
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resumed at step 2", r.stdout)
        self.assertEqual(tuple(torch.load(self.ckpt)["branch"]), (0, 2))

    def test_a_trained_branch_grows_deeper(self):
        """--init from a network with a branch and --branch with more convolutions: the trained
        branch is kept and the added convolutions start as the identity, so the deeper network
        first computes what the trained one did; a shallower branch or another join point is
        refused with a one-line error."""
        r = self.train("--steps", "3", "--blocks", "2", "--branch", "0", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        trained = self.ckpt
        # a branch whose output is not zero, so that the identity start is put to the test
        ck = torch.load(trained)
        torch.manual_seed(3)
        for k in ("up.weight", "up.bias"):
            ck["model"][k] = torch.randn_like(ck["model"][k]) * 0.05
        torch.save(ck, trained)
        for branch in (("1", "2"), ("0", "0")):
            self.ckpt = os.path.join(self.tmp.name, "bad.pt")
            r = self.train("--steps", "2", "--branch", *branch, "--init", trained)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("may only add convolutions", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertFalse(os.path.exists(self.ckpt))
        self.ckpt = os.path.join(self.tmp.name, "deeper.pt")
        r = self.train("--steps", "1", "--lr", "1e-12", "--branch", "0", "3", "--init", trained)
        self.assertEqual(r.returncode, 0, r.stderr)
        new = torch.load(self.ckpt)
        self.assertEqual(tuple(new["branch"]), (0, 3))
        self.assertTrue(torch.equal(new["model"]["mid.0.weight"], ck["model"]["mid.0.weight"]))
        a, b = Enhancer.from_checkpoint(ck), Enhancer.from_checkpoint(new)
        x, q = torch.rand(2, 3, 26, 20) * 255, torch.tensor([2, 3])
        with torch.no_grad():
            ref = a(x, q)
            self.assertGreater(ref.abs().max().item(), 1e-3)
            self.assertLess((ref - b(x, q)).abs().max().item(), 1e-4)

    def test_rotated_crops_stay_aligned(self):
        import random
        ramp = np.tile(np.arange(40, dtype=np.uint8)[None, :, None], (40, 1, 3))  # varies along x only
        pairs = {1: [(ramp, 255 - ramp)]}
        for rotate in (False, True):
            x, y, _ = batch(pairs, 32, 16, random.Random(5), rotate)
            self.assertTrue(torch.equal(x + y, torch.full_like(x, 255.0)), "base and picture crops differ in shape")
            across = (x[:, :, 1:, :] != x[:, :, :-1, :]).flatten(1).any(1)  # crops that vary down the rows
            self.assertEqual(bool(across.any()), rotate)
            if rotate:
                self.assertFalse(bool(across.all()), "every crop turned")

    def test_bad_options_stop_before_training(self):
        r = run(os.path.join(TRAIN, "train_enhance.py"), "--ckpt", self.ckpt, "--base-dir",
                os.path.join(self.tmp.name, "b-q1"), "--data", self.data)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("{q} pattern", r.stderr)
        r = self.train("--steps", "2", "--crop", "15")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--crop must be even", r.stderr)
        r = run(os.path.join(TRAIN, "train_enhance.py"), "--ckpt", self.ckpt, "--base-dir",
                os.path.join(self.tmp.name, "none-q{q}"), "--data", self.data)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no base1 folder", r.stderr)
        self.assertFalse(os.path.exists(self.ckpt))


@unittest.skipUnless(HAVE_TORCH, "" if HAVE_TORCH else WHY)
class CommittedNetwork(unittest.TestCase):
    def test_weight_file_comes_from_the_checkpoint(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "again.scmw")
            rec = dict(read_tensors(WEIGHTS)[1])["enh.config"]  # name length, name, dtype, ndim, dims, values
            pos = 2 + struct.unpack("<H", rec[:2])[0] + 2
            (n,) = struct.unpack("<I", rec[pos:pos + 4])
            config = struct.unpack("<%di" % n, rec[pos + 4:])
            views = config[2] if n > 2 else 1
            r = run(os.path.join(TRAIN, "add_enhancer.py"), WEIGHTS, CKPT, out, "--views", str(views))
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(WEIGHTS, "rb") as a, open(out, "rb") as b:
                self.assertEqual(a.read(), b.read(), "add_enhancer.py with the committed checkpoint changes the weights")
            names = [n for n, _ in read_tensors(out)[1]]
            self.assertEqual(names.count("enh.config"), 1)

    @staticmethod
    def committed_network():
        ck = torch.load(CKPT, map_location="cpu")
        net = Enhancer.from_checkpoint(ck)
        net.eval()
        return net

    def test_decoder_restores_as_pytorch_does(self):
        net = self.committed_network()
        with tempfile.TemporaryDirectory() as tmp:
            pic, out = os.path.join(tmp, "base.png"), os.path.join(tmp, "out.png")
            # odd sizes: the network sees the picture extended; 150 rows: more than one band
            base = synthetic(pic, 99, 301, 7)
            changed = 0
            for q, strength in ((1, 3), (4, 1), (8, 2)):
                r = subprocess.run([RESTORE, pic, str(q), str(strength), out], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(f"quality {q}", r.stdout)
                got = np.asarray(Image.open(out).convert("RGB"), dtype=np.float64)
                corr = enhance_picture(net, base, q)
                want = np.clip(np.round(base + STRENGTHS[strength] * corr), 0, 255)
                # float order differs between PyTorch and the C backends: a rounding may flip
                self.assertLessEqual(np.abs(want - got).max(), 1.0, f"quality {q}")
                self.assertLess(np.mean(want != got), 0.001, f"quality {q}")
                changed += np.sum(got != base)
            self.assertGreater(changed, 0, "the network changed nothing: nothing compared")

    def test_decoder_averages_views_as_pytorch_does(self):
        net = self.committed_network()
        with tempfile.TemporaryDirectory() as tmp:
            weights, pic, out = (os.path.join(tmp, n) for n in ("four.scmw", "base.png", "out.png"))
            r = run(os.path.join(TRAIN, "add_enhancer.py"), WEIGHTS, CKPT, weights, "--views", "3")
            self.assertNotEqual(r.returncode, 0)
            self.assertFalse(os.path.exists(weights))
            r = run(os.path.join(TRAIN, "add_enhancer.py"), WEIGHTS, CKPT, weights, "--views", "4")
            self.assertEqual(r.returncode, 0, r.stderr)
            base = synthetic(pic, 45, 151, 3)  # odd: each mirror image is extended at its own far edges
            r = subprocess.run([RESTORE, pic, "2", "2", out, "--weights", weights], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("4 views", r.stdout)
            got = np.asarray(Image.open(out).convert("RGB"), dtype=np.float64)
            want = np.clip(np.round(base + enhance_picture(net, base, 2, 4)), 0, 255)
            one = np.clip(np.round(base + enhance_picture(net, base, 2)), 0, 255)
            self.assertLessEqual(np.abs(want - got).max(), 1.0)
            self.assertLess(np.mean(want != got), 0.001)
            self.assertGreater(np.mean(one != got), 0.01, "four views restore as one does: nothing compared")

    def test_restore_tool_refuses_bad_options(self):
        for args in (["x.png", "0", "1", "o.png"], ["x.png", "1", "4", "o.png"], ["x.png", "1"]):
            r = subprocess.run([RESTORE, *args], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("usage", r.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([RESTORE, os.path.join(tmp, "missing.png"), "1", "1", os.path.join(tmp, "o.png")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertFalse(os.path.exists(os.path.join(tmp, "o.png")))
            synthetic(os.path.join(tmp, "p.png"), 8, 8, 1)
            with open(os.path.join(tmp, "bad.scmw"), "wb") as f:
                f.write(b"SCMW not a weight file")
            r = subprocess.run([RESTORE, os.path.join(tmp, "p.png"), "1", "1", os.path.join(tmp, "o.png"), "--weights",
                                os.path.join(tmp, "bad.scmw")], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn("bad.scmw", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "o.png")))
    def test_decoder_runs_the_branch_as_pytorch_does(self):
        """A network with the quarter-resolution branch (random weights, the branch's output made
        non-zero), in a weight file made by add_enhancer.py, restores as PyTorch does: odd sizes,
        several bands of rows, and the branch itself changes the result."""
        torch.manual_seed(5)
        net = Enhancer(16, 3, 1, 2)
        with torch.no_grad():
            for p in net.parameters():
                p.normal_(0, 0.08)
        net.eval()
        plain = Enhancer(16, 3)
        plain.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith(BRANCH_PREFIXES)})
        with tempfile.TemporaryDirectory() as tmp:
            ckpt, weights, pic, out = (os.path.join(tmp, n) for n in ("b.pt", "b.scmw", "base.png", "out.png"))
            torch.save({"channels": 16, "blocks": 3, "branch": (1, 2), "model": net.state_dict(), "step": 0}, ckpt)
            r = run(os.path.join(TRAIN, "add_enhancer.py"), WEIGHTS, ckpt, weights)
            self.assertEqual(r.returncode, 0, r.stderr)
            names = [n for n, _ in read_tensors(weights)[1]]
            self.assertIn("enh.branch", names)
            base = synthetic(pic, 77, 309, 11)  # 155 half-resolution rows: three bands, odd sizes
            r = subprocess.run([RESTORE, pic, "3", "2", out, "--weights", weights], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = np.asarray(Image.open(out).convert("RGB"), dtype=np.float64)
            want = np.clip(np.round(base + enhance_picture(net, base, 3)), 0, 255)
            without = np.clip(np.round(base + enhance_picture(plain, base, 3)), 0, 255)
            self.assertLessEqual(np.abs(want - got).max(), 1.0)
            self.assertLess(np.mean(want != got), 0.001)
            self.assertGreater(np.mean(without != got), 0.05, "the branch changes nothing: nothing compared")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    RESTORE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
