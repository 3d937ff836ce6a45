#!/usr/bin/python3
"""Trains the signal layer's restoration network (enhance_model.py; docs/signal.md, "The
restoration network") on base1 of the training pictures at every quality.

  /usr/bin/python3 layers/signal/train/train_enhance.py --ckpt CKPT --base-dir 'bases-q{q}'
        [--data DIR] [--steps N] [--hours H] [--crop 96] [--batch 16] [--lr 1e-3] [--rotate]
        [--eval 'kodak-bases-q{q}' --eval-data ../shared/data/kodak]
        [--branch AT DEPTH [--init TRAINED_CKPT]]

--base-dir is a pattern with {q} (folders written by `make_bases.sh SCMC OUT_DIR IMAGE_DIR Q`);
each sample draws a quality among the folders present, a picture and a crop. Loss: per sample,
the squared error of base + correction against the picture less that of base, divided by the mean
squared error of base1 at the sample's quality over the training pictures: a relative change, so
every quality counts by the decibels it gains rather than by its error's size (-0.023 is about
+0.1 dB).
The learning rate falls from --lr to a tenth over --steps (cosine-free, exponential). Checkpoints
every --save-every seconds and on SIGTERM / SIGINT; rerunning with the same --ckpt resumes.
--branch gives the network its quarter-resolution branch (enhance_model.py) joining before body
convolution AT with DEPTH convolutions; with --init, a new checkpoint starts from a trained
network's weights (a new branch's output at zero, or a trained branch made deeper by convolutions
that start as the identity, so either way from what that network computes) and a new optimizer
and schedule.
--eval prints each quality's mean PSNR of base1 and of the enhanced picture (8-bit, rounded) over
the evaluation pictures, at every strength the encoder may choose (the best per picture counts).
"""
import argparse
import glob
import math
import os
import random
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from enhance_model import BRANCH_PREFIXES, NUM_QUALITIES, Enhancer  # noqa: E402

DEFAULT_DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "../../../../shared/data/train/bsds500"))
STRENGTHS = (0.0, 0.75, 1.0, 1.25)   # what the 2-bit strength field selects (bitstream-spec/signal.md)


def read_rgb(path):
    return np.array(Image.open(path).convert("RGB"))


def find_original(data_dir, stem):
    for ext in (".png", ".jpg", ".ppm"):
        if os.path.exists(os.path.join(data_dir, stem + ext)):
            return os.path.join(data_dir, stem + ext)
    raise SystemExit(f"train_enhance.py: no picture {stem} in {data_dir}")


def load_pairs(pattern, data_dir):
    """{quality 1..8: [(base1, picture), ...]} for the quality folders that exist."""
    if "{q}" not in pattern:
        raise SystemExit("train_enhance.py: --base-dir needs a {q} pattern (one folder per quality)")
    pictures, out = {}, {}
    for q in range(1, NUM_QUALITIES + 1):
        d = pattern.replace("{q}", str(q))
        files = sorted(glob.glob(os.path.join(d, "*.png")))
        if not files:
            continue
        out[q] = []
        for f in files:
            stem = os.path.basename(f)[:-4]
            if stem not in pictures:
                pictures[stem] = read_rgb(find_original(data_dir, stem))
            b = read_rgb(f)
            if b.shape != pictures[stem].shape:
                raise SystemExit(f"train_enhance.py: {f} is not the size of its picture")
            out[q].append((b, pictures[stem]))
    if not out:
        raise SystemExit(f"train_enhance.py: no base1 folder matches {pattern}")
    return out


def base_errors(pairs):
    """{quality: mean squared error of base1 against the picture over that quality's pairs}."""
    return {q: float(np.mean([np.mean((b.astype(np.float64) - o) ** 2) for b, o in v])) for q, v in pairs.items()}


def batch(pairs, size, crop, rng, rotate=False):
    qs, xs, ys = [], [], []
    have = sorted(pairs)
    for _ in range(size):
        q = rng.choice(have)
        b, o = rng.choice(pairs[q])
        h, w = b.shape[:2]
        y0 = rng.randrange(0, h - crop + 1) & ~1
        x0 = rng.randrange(0, w - crop + 1) & ~1
        bb, oo = b[y0:y0 + crop, x0:x0 + crop], o[y0:y0 + crop, x0:x0 + crop]
        if rng.random() < 0.5:
            bb, oo = bb[:, ::-1], oo[:, ::-1]
        if rng.random() < 0.5:
            bb, oo = bb[::-1], oo[::-1]
        if rotate and rng.random() < 0.5:  # with the flips: all eight turns and mirror images
            bb, oo = bb.transpose(1, 0, 2), oo.transpose(1, 0, 2)
        qs.append(q)
        xs.append(np.ascontiguousarray(bb))
        ys.append(np.ascontiguousarray(oo))
    t = lambda a: torch.from_numpy(np.stack(a)).permute(0, 3, 1, 2).float()  # noqa: E731
    return t(xs), t(ys), torch.tensor(qs)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def mirrored(a, flip):
    """a (H, W, ...) mirrored left-right (flip & 1) and / or top-bottom (flip & 2)."""
    if flip & 1:
        a = a[:, ::-1]
    if flip & 2:
        a = a[::-1]
    return a


def enhance_picture(net, base, quality, views=1):
    """base1 (H, W, 3 uint8) -> the correction (H, W, 3 float), padded to even size by repeating
    the last row / column as the C decoder does; with views 2 or 4, the mean of the corrections of
    the mirrored pictures (left-right, then top-bottom and both) mirrored back, as the C decoder
    computes it for a weight file whose enh.config names that many views."""
    h, w = base.shape[:2]
    total = None
    for flip in range(views):
        b = np.ascontiguousarray(mirrored(base, flip))
        x = np.pad(b, ((0, h & 1), (0, w & 1), (0, 0)), mode="edge")
        with torch.no_grad():
            r = net(torch.from_numpy(x).permute(2, 0, 1)[None].float(), torch.tensor([quality]))
        r = mirrored(r[0].permute(1, 2, 0).numpy()[:h, :w], flip)
        total = r.copy() if total is None else total + r
    return total / views if views > 1 else total


def evaluate(net, pattern, data_dir, views=1):
    lines = []
    for q in range(1, NUM_QUALITIES + 1):
        files = sorted(glob.glob(os.path.join(pattern.replace("{q}", str(q)), "*.png")))
        if not files:
            continue
        before = full = best = 0.0
        for f in files:
            b = read_rgb(f)
            o = read_rgb(find_original(data_dir, os.path.basename(f)[:-4]))
            r = enhance_picture(net, b, q, views)
            got = [psnr(np.clip(np.round(b + s * r), 0, 255), o) for s in STRENGTHS]
            before += got[0]
            full += got[-1]
            best += max(got)
        n = len(files)
        lines.append(f"q{q} {before / n:.3f} -> {full / n:.3f} ({(full - before) / n:+.3f}, "
                     f"best strength {(best - before) / n:+.3f}) over {n}")
    return lines


def start_from(net, init, name):
    """Loads a trained checkpoint's network into net, which has the same head, body and tail and
    either a new branch (its output at zero) or the trained branch made deeper: the added
    convolutions start as the identity, which the ReLU after them keeps (their input has passed a
    ReLU), so in both cases net first computes what the trained network did."""
    old_at, old_depth = init.get("branch", (0, 0))
    at, depth = net.branch
    if old_depth and (old_at != at or depth < old_depth):
        raise SystemExit(f"train_enhance.py: {name}'s branch joins before block {old_at} with {old_depth} "
                         "convolutions: --branch may only add convolutions to it")
    missing, unexpected = net.load_state_dict(init["model"], strict=False)
    if old_depth:  # only the added convolutions are new
        fits = set(missing) == {f"mid.{k}.{p}" for k in range(old_depth, depth) for p in ("weight", "bias")}
    else:          # the whole branch is new
        fits = all(k.startswith(BRANCH_PREFIXES) for k in missing)
    if unexpected or not fits:
        raise SystemExit(f"train_enhance.py: {name} does not fit this network")
    with torch.no_grad():
        for k in range(old_depth, depth) if old_depth else ():
            nn.init.dirac_(net.mid[k].weight)
            nn.init.zeros_(net.mid[k].bias)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--base-dir", required=True, metavar="PATTERN")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--steps", type=int, default=20000, help="total steps (the learning-rate schedule's length)")
    ap.add_argument("--hours", type=float, default=1e9, help="stop after this wall time")
    ap.add_argument("--channels", type=int, default=48)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-every", type=float, default=300.0, help="seconds between checkpoints")
    ap.add_argument("--eval-every", type=int, default=0, help="steps between evaluations (0: at the end)")
    ap.add_argument("--eval", default=None, metavar="PATTERN", help="base1 folders of the evaluation pictures")
    ap.add_argument("--eval-data", default=None, help="the evaluation pictures")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--rotate", action="store_true", help="also transpose half the crops (quarter turns)")
    ap.add_argument("--views", type=int, default=1, choices=(1, 2, 4),
                    help="evaluate the mean over this many mirrored views (add_enhancer.py --views)")
    ap.add_argument("--branch", type=int, nargs=2, default=(0, 0), metavar=("AT", "DEPTH"),
                    help="a quarter-resolution branch joining before body convolution AT")
    ap.add_argument("--init", default=None, help="start a new checkpoint from this one's network")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.crop < 8 or a.crop % 2 or a.batch < 1 or a.steps < 1:
        raise SystemExit("train_enhance.py: --crop must be even and >= 8, --batch and --steps positive")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    step, rng = 0, random.Random(a.seed)
    resume = torch.load(a.ckpt) if os.path.exists(a.ckpt) else None
    if resume:  # the checkpoint names its own network
        net = Enhancer.from_checkpoint(resume)
    else:
        init = torch.load(a.init) if a.init else None
        blocks = init["blocks"] if init else a.blocks
        if a.branch[1] < 0 or (a.branch[1] and not 0 <= a.branch[0] < blocks):
            raise SystemExit(f"train_enhance.py: --branch AT DEPTH needs DEPTH >= 0 and AT below the {blocks} blocks")
        net = Enhancer(init["channels"], blocks, *a.branch) if init else Enhancer(a.channels, a.blocks, *a.branch)
        if init:
            start_from(net, init, a.init)
            print(f"initialised from {a.init} (its step {init['step']})", flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    if resume:
        if "optimizer" in resume:
            opt.load_state_dict(resume["optimizer"])
        step = resume["step"]
        rng.setstate(resume["rng"]) if "rng" in resume else rng.seed(a.seed + step)
        print(f"resumed at step {step}", flush=True)
    if a.eval_only:
        for line in evaluate(net, a.eval, a.eval_data, a.views):
            print(line, flush=True)
        return

    def save():
        tmp = a.ckpt + ".tmp"
        torch.save({"channels": net.channels, "blocks": net.blocks, "branch": net.branch, "model": net.state_dict(),
                    "optimizer": opt.state_dict(), "step": step, "rng": rng.getstate()}, tmp)
        os.replace(tmp, a.ckpt)

    pairs = load_pairs(a.base_dir, a.data)
    norm = base_errors(pairs)
    print("qualities", {q: (len(v), round(norm[q], 2)) for q, v in pairs.items()}, "parameters",
          sum(p.numel() for p in net.parameters()), flush=True)
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    t0 = last_save = time.time()
    running, done_here = 0.0, 0
    while step < a.steps and not stop and time.time() - t0 < a.hours * 3600:
        for g in opt.param_groups:
            g["lr"] = a.lr * 0.1 ** (step / a.steps)
        x, y, q = batch(pairs, a.batch, a.crop, rng, a.rotate)
        w = torch.tensor([1.0 / norm[int(v)] for v in q]).view(-1, 1, 1, 1)
        loss = (((x + net(x, q) - y) ** 2 - (x - y) ** 2) * w).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        done_here += 1
        running = loss.item() if done_here == 1 else 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0:
            print(f"step {step} loss {running:.4f} {(time.time() - t0) / done_here:.2f} s/step", flush=True)
        if time.time() - last_save > a.save_every:
            save()
            last_save = time.time()
        if a.eval and a.eval_every and step % a.eval_every == 0:
            for line in evaluate(net, a.eval, a.eval_data, a.views):
                print(f"eval {step} {line}", flush=True)
    save()
    print(f"saved at step {step}", flush=True)
    if a.eval:
        for line in evaluate(net, a.eval, a.eval_data, a.views):
            print(f"eval {step} {line}", flush=True)


if __name__ == "__main__":
    main()
