#!/usr/bin/python3
"""Train the signal-layer codec on random crops of ../shared/data/train (CPU, resumable).

  /usr/bin/python3 layers/signal/train/train.py --ckpt CKPT [--steps N] [--hours H]
        [--data DIR] [--base-dir DIR [--flat-share F]] [--N 64 --M 96 --groups 6] [--lr 2e-4]
        [--balance P] [--extra DATA_DIR:BASE_DIR ...] [--procs 2] [--threads T]

The input is the residual img - base1 in [-1, 1]. Without --base-dir base1 is the flat mid-grey
image (what `scmc encode --layers signal` uses); with it, base1 for train/foo.jpg is read from
DIR/foo.png (written by `scmc` itself, so the model sees the residual the C encoder produces);
DIR may be a pattern with {q} (e.g. bases-q{q}, from `make_bases.sh ... QUALITY`): each crop is
then taken against the base1 of its sampled quality, or of the nearest quality there is a folder
for, since under a signal layer the structure layer's wavelet step follows the quality (bases.py);
--flat-share F keeps a fraction F of the crops against the flat base, so that the model still codes
whole pictures well (`--layers signal`).

A checkpoint (model, optimizer, step, log) is written every --save-every seconds, at the end and on
SIGTERM or SIGINT (after the step in hand); rerunning with the same --ckpt resumes. The log of (step, loss, bpp, psnr) is kept in the
checkpoint and printed; `export.py` turns a checkpoint into the weight file C reads.
--extra adds a further set of images with their base1 (e.g. the enlarged copies of
make_upscaled.py); crops are drawn uniformly over all images of all sets.
--procs P trains data-parallel: P processes (gloo on a local port), each drawing its own
batch/P crops, their gradients averaged every step; the result is one model, as with one process
and the whole batch.
"""
import argparse
import glob
import math
import os
import random
import signal
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bases import per_quality, quality_dirs  # noqa: E402
from model import LAMBDAS, NUM_QUALITIES, SignalCodec  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "../../../../shared/data/train/bsds500"))


def load_images(data_dir, base_spec):
    """-> [(image, bases)]: bases[q] is base1 at quality index q (bases.py: one folder or a
    pattern with {q}; the arrays of a folder shared by several qualities are loaded once), or
    None without --base-dir."""
    files = sorted(glob.glob(os.path.join(data_dir, "*.jpg")) + glob.glob(os.path.join(data_dir, "*.png")))
    if not files:
        sys.exit(f"train.py: no training images in {data_dir}")
    dirs = quality_dirs(base_spec, NUM_QUALITIES) if base_spec else None
    out = []
    for f in files:
        img = np.asarray(Image.open(f).convert("RGB"), dtype=np.uint8)
        stem = os.path.splitext(os.path.basename(f))[0]

        def read(d):
            path = os.path.join(d, stem + ".png")
            if not os.path.exists(path):
                sys.exit(f"train.py: {path} missing (see make_bases.sh)")
            base = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
            if base.shape != img.shape:
                sys.exit(f"train.py: {path} has another size than {f}")
            return base

        bases = per_quality(dirs, read) if dirs else None
        out.append((img, bases))
    return out


def crop_size(text):
    """--crop: "320" (square) or "320x448" (height x width)."""
    parts = text.lower().split("x")
    if len(parts) > 2 or not all(p.isdigit() and int(p) >= 64 and int(p) % 64 == 0 for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r}: a size or HxW, multiples of 64")
    return int(parts[0]), int(parts[-1])


def fits(img, crop):
    """Whether a crop of size (height, width) fits img as it is or turned a quarter."""
    h, w = img.shape[:2]
    return (h >= crop[0] and w >= crop[1]) or (w >= crop[0] and h >= crop[1])


def batch(images, q, crop, rng, flat_share=0.0):
    """One crop per entry of q (quality indices), each against its quality's base1. crop:
    (height, width); a picture it fits only turned a quarter (a portrait one, for a landscape
    crop) is transposed. flat_share: the fraction of samples taken against the flat mid-grey base
    instead of base1, i.e. whole pictures, as `--layers signal` codes them."""
    ch, cw = crop
    size = len(q)
    xs = np.empty((size, 3, ch, cw), dtype=np.float32)
    for i in range(size):
        img, bases = images[rng.randrange(len(images))]
        base = bases[q[i]] if bases is not None else None
        if img.shape[0] < ch or img.shape[1] < cw:
            img = img.transpose(1, 0, 2)
            base = base.transpose(1, 0, 2) if base is not None else None
        h, w, _ = img.shape
        y0, x0 = rng.randrange(h - ch + 1), rng.randrange(w - cw + 1)
        a = img[y0:y0 + ch, x0:x0 + cw].astype(np.float32)
        flat = base is None or (flat_share > 0 and rng.random() < flat_share)
        b = 128.0 if flat else base[y0:y0 + ch, x0:x0 + cw].astype(np.float32)
        r = (a - b) / 255.0
        if rng.random() < 0.5:
            r = r[:, ::-1]
        if rng.random() < 0.5:
            r = r[::-1]
        xs[i] = r.transpose(2, 0, 1)
    return torch.from_numpy(xs)


def balance_weights(running, per_sample, q, power):
    """--balance: each sample's weight (mean over qualities / running mean of its quality)^power;
    running (a per-quality running mean of per_sample, None at first) is updated. -> (running, w)"""
    with torch.no_grad():
        if running is None:
            running = torch.full((NUM_QUALITIES,), float("nan"))
        for k in q.unique().tolist():
            v = per_sample[q == k].mean().item()
            old_v = running[k].item()
            running[k] = v if math.isnan(old_v) else 0.99 * old_v + 0.01 * v
        ref = running.nanmean() if hasattr(torch, "nanmean") else running[~running.isnan()].mean()
        return running, (ref / running[q]) ** power


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--base-dir", default=None, metavar="DIR|PATTERN",
                    help="base1 folder, or a pattern with {q} for one folder per quality (bases.py)")
    ap.add_argument("--steps", type=int, default=10 ** 9, help="stop at this total step count")
    ap.add_argument("--hours", type=float, default=1e9, help="stop after this wall time")
    ap.add_argument("--N", type=int, default=64)
    ap.add_argument("--M", type=int, default=96)
    ap.add_argument("--groups", type=int, default=6)
    # 2 x 320^2 (the largest square in a 481x321 BSDS photograph) rather than 8 x 128^2: on a 128
    # crop the hyper-latent z is 2 x 2, every position of it at the border, so h_a / h_s never see
    # the inside of a picture (docs/signal.md, "Smooth pictures and the crop size")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--crop", type=crop_size, default=(320, 320), metavar="S|HxW",
                    help="crop size, square or height x width (multiples of 64); default 320")
    ap.add_argument("--hyper-only", action="store_true",
                    help="train h_a, h_s and the z density alone, on the rate only, with the analysis "
                         "transforms fixed (no synthesis, no backward pass through g_a: about a sixth "
                         "of a full step's arithmetic per pixel, so whole pictures are affordable)")
    ap.add_argument("--hard-rate", action="store_true",
                    help="with --hyper-only: the rate of the rounded symbols the coder is given "
                         "instead of the noisy latents")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--threads", type=int, default=0, help="threads per process (default: 2 / --procs)")
    ap.add_argument("--procs", type=int, default=1,
                    help="data-parallel processes, each with its share of --batch, gradients averaged "
                         "(2 processes of 1 thread train about 1.4 times faster than 1 of 2 threads here)")
    ap.add_argument("--save-every", type=float, default=600.0, help="seconds between checkpoints")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flat-share", type=float, default=0.0, metavar="F",
                    help="with --base-dir: code this fraction of the crops against a flat mid-grey base "
                         "(whole pictures, as --layers signal codes them) instead of base1")
    ap.add_argument("--balance", type=float, default=0.0, metavar="P",
                    help="weight each sample's loss by (mean / running mean loss of its quality)^P: with P = 1 "
                         "every quality pulls the shared weights about equally, with 0 (default) the top "
                         "qualities dominate (their loss is about 10 times the lowest one's)")
    ap.add_argument("--extra", action="append", default=[], metavar="DATA_DIR:BASE_DIR",
                    help="a further image set and its base1 folder or {q} pattern (repeatable)")
    args = ap.parse_args()
    for e in args.extra:
        if ":" not in e or not args.base_dir:
            ap.error("--extra takes DATA_DIR:BASE_DIR, and needs --base-dir")
    if args.hard_rate and not args.hyper_only:
        ap.error("--hard-rate goes with --hyper-only")
    if args.procs < 1 or args.batch % args.procs:
        ap.error("--batch must be a multiple of --procs")
    if args.threads <= 0:
        args.threads = max(1, 2 // args.procs)
    if args.procs == 1:
        train(0, args, None)
        return
    # the workers meet on a free local port; the parent only waits, and passes SIGTERM / SIGINT on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx = torch.multiprocessing.get_context("fork")
    workers = [ctx.Process(target=train, args=(rank, args, port)) for rank in range(args.procs)]
    for w in workers:
        w.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _: [os.kill(w.pid, signum) for w in workers if w.is_alive()])
    for w in workers:
        w.join()
    if any(w.exitcode for w in workers):
        sys.exit(f"train.py: a worker failed (exit codes {[w.exitcode for w in workers]})")


def train(rank, args, port):
    """One training process; with --procs > 1, rank `rank` of them, meeting on `port`."""
    world = args.procs
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    lead = rank == 0  # prints and saves
    extra = [e.split(":", 1) for e in args.extra]
    per_proc = args.batch // world
    torch.set_num_threads(args.threads)
    seed = args.seed + 1000003 * rank  # each process draws its own crops
    rng = random.Random(seed)
    torch.manual_seed(args.seed)  # the same initial weights in every process

    state = torch.load(args.ckpt) if os.path.exists(args.ckpt) else None
    cfg = state["config"] if state else {"N": args.N, "M": args.M, "groups": args.groups}
    model = SignalCodec(**cfg)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, log = 0, []
    resized = state.get("resized", []) if state else []  # (step, M before, M after[, "detail"]): latent_width.py, add_detail.py
    if state:
        model.load_state_dict(state["model"])
        if "optimizer" in state:
            opt.load_state_dict(state["optimizer"])
            for g in opt.param_groups:
                g["lr"] = args.lr
        step, log = state["step"], state["log"]
        rng.seed(seed + step)
        torch.manual_seed(seed + step)
        if lead:
            print(f"resumed {args.ckpt} at step {step}", flush=True)

    images = load_images(args.data, args.base_dir)
    for data_dir, base_dir in extra:
        images += load_images(data_dir, base_dir)
    small = sum(not fits(img, args.crop) for img, _ in images)
    crop_text = "x".join(map(str, args.crop)) if args.crop[0] != args.crop[1] else f"{args.crop[0]}^2"
    if small:
        sys.exit(f"train.py: {small} images are smaller than --crop {crop_text}")
    if lead:
        print(f"{len(images)} images, config {cfg}, lr {args.lr}, batch {args.batch}x{crop_text}"
              + (", hyperprior only" if args.hyper_only else "")
              + (f" over {world} processes of {args.threads} thread(s)" if world > 1 else ""), flush=True)
    lambdas = torch.tensor(LAMBDAS)
    # running mean loss per quality (--balance); kept in the checkpoint
    quality_loss = state.get("quality_loss") if state else None
    quality_loss = torch.tensor(quality_loss) if quality_loss is not None else None

    def save():
        if not lead:
            return
        tmp = args.ckpt + ".tmp"
        torch.save({"config": cfg, "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "step": step, "log": log, "resized": resized,
                    "quality_loss": quality_loss.tolist() if quality_loss is not None else None}, tmp)
        os.replace(tmp, args.ckpt)

    # SIGTERM / SIGINT (the end of a session, Ctrl-C) finish the step in hand and save
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    t0 = last_save = time.time()
    acc = np.zeros(5)
    if args.hyper_only:  # the rest gets no gradient, so Adam leaves it (and its moments) alone
        params = [p for n, p in model.named_parameters() if n.startswith(("h_a.", "h_s.", "density."))]
        rate_mean = None  # --balance on the rate; the checkpoint's quality_loss is left as it is
    else:
        params = list(model.parameters())
    done = step >= args.steps
    while not done:
        q = torch.randint(0, NUM_QUALITIES, (per_proc,))
        x = batch(images, q.tolist(), args.crop, rng, args.flat_share)
        keep = torch.where(torch.rand(per_proc) < 0.5, torch.full((per_proc,), cfg["groups"]),
                           torch.randint(0, cfg["groups"], (per_proc,)))
        if args.hyper_only:
            y_lik, z_lik = model.hyper_rates(x, q, args.hard_rate)
        else:
            x_hat, y_lik, z_lik = model(x, q, keep)
        bpp = -(torch.log2(y_lik).sum((1, 2, 3)) + torch.log2(z_lik).sum((1, 2, 3))) / (x.shape[2] * x.shape[3])
        if args.hyper_only:  # the rate alone: no picture, so no PSNR to log
            per_sample, psnr, n_full = bpp, 0.0, 0
        else:
            mse = ((x_hat - x) ** 2).mean((1, 2, 3))
            per_sample = lambdas[q] * 255 ** 2 * mse + bpp
            # PSNR over the samples that kept every group; a batch without one (a quarter of them at
            # batch 2) adds nothing to it
            full = keep == cfg["groups"]
            psnr, n_full = (10 * torch.log10(1.0 / mse[full].clamp(min=1e-10))).sum().item(), full.sum().item()
        loss = per_sample.mean()
        objective = loss
        if args.balance > 0:
            if args.hyper_only:
                rate_mean, w = balance_weights(rate_mean, per_sample, q, args.balance)
            else:
                quality_loss, w = balance_weights(quality_loss, per_sample, q, args.balance)
            objective = (w * per_sample).mean()
        opt.zero_grad()
        objective.backward()
        stats = [loss.item(), bpp.mean().item(), psnr, n_full]
        want_stop = float(bool(stop) or step + 1 >= args.steps or time.time() - t0 >= args.hours * 3600)
        if world > 1:
            # one message per step: every gradient, the statistics and whether any process must stop
            # (a signal, the time limit), so that all of them take the same steps and stop together
            for p in params:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            flat = torch.cat([p.grad.reshape(-1) for p in params] + [torch.tensor(stats + [want_stop])])
            dist.all_reduce(flat)
            k = 0
            for p in params:
                p.grad.copy_(flat[k:k + p.numel()].view_as(p.grad) / world)
                k += p.numel()
            tail = flat[k:].tolist()
            stats = [tail[0] / world, tail[1] / world, tail[2], tail[3]]
            want_stop = tail[4]
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        done = want_stop > 0
        acc += np.array([1] + stats)
        if step % 50 == 0 and lead:
            n = acc[0]
            psnr_mean = acc[3] / max(acc[4], 1)
            # a --hyper-only entry is tagged: its loss is the rate alone (loss_table.py leaves it out)
            log.append((step, acc[1] / n, acc[2] / n, psnr_mean) + (("hyper-only",) if args.hyper_only else ()))
            print(f"step {step} loss {acc[1] / n:.4f} bpp {acc[2] / n:.4f} psnr(full) {psnr_mean:.2f} "
                  f"t {time.time() - t0:.0f}s", flush=True)
            acc[:] = 0
        elif step % 50 == 0:
            acc[:] = 0
        if time.time() - last_save > args.save_every:
            save()
            last_save = time.time()
    save()
    if lead:
        print(f"saved {args.ckpt} at step {step}", flush=True)


if __name__ == "__main__":
    main()
