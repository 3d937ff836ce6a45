#!/usr/bin/python3
"""Puts the restoration network of a train_enhance.py checkpoint into a signal weight file.

  /usr/bin/python3 layers/signal/train/add_enhancer.py IN.scmw ENHANCE_CKPT OUT.scmw [--views V]

Every tensor of IN.scmw but an earlier network's (`enh.*`) is copied byte for byte, then the
network's are appended (docs/weights.md): `enh.config` (int32: channels, blocks, and with
--views 2 or 4 the number of mirrored views the decoder averages) and float32
`enh.head.{weight,bias}`, `enh.body.{i}.{weight,bias}`, `enh.tail.{weight,bias}` in PyTorch's
convolution layout; for a network with the quarter-resolution branch, `enh.branch` (int32: the
body convolution it joins before, its depth) and float32 `enh.down.*`, `enh.mid.{i}.*`, `enh.up.*`. The file's CRC, and so the model id streams carry, changes with them. Prints
the new id and size."""
import argparse
import os
import struct
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import DT_F32, DT_I32, record  # noqa: E402


def read_tensors(path):
    """[(name, raw record bytes)] of a weight file, its CRC checked."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16 or data[:4] != b"SCMW" or zlib.crc32(data[:-4]) & 0xFFFFFFFF != struct.unpack("<I", data[-4:])[0]:
        raise SystemExit(f"add_enhancer.py: {path} is not a valid weight file")
    version, count = struct.unpack("<II", data[4:12])
    pos, out = 12, []
    for _ in range(count):
        start = pos
        (n,) = struct.unpack("<H", data[pos:pos + 2])
        name = data[pos + 2:pos + 2 + n].decode()
        pos += 2 + n
        dtype, ndim = data[pos], data[pos + 1]
        dims = struct.unpack("<%dI" % ndim, data[pos + 2:pos + 2 + 4 * ndim])
        pos += 2 + 4 * ndim
        count_el = 1
        for d in dims:
            count_el *= d
        pos += 4 * count_el
        out.append((name, data[start:pos]))
    return version, out


def network_records(ckpt, views=1):
    ck = torch.load(ckpt, map_location="cpu")
    sd = ck["model"]
    config = [ck["channels"], ck["blocks"]] + ([views] if views > 1 else [])
    recs = [record("enh.config", DT_I32, torch.tensor(config, dtype=torch.int32))]
    names = ["head"] + ["body.%d" % i for i in range(ck["blocks"])] + ["tail"]
    at, depth = ck.get("branch", (0, 0))
    if depth:
        recs.append(record("enh.branch", DT_I32, torch.tensor([at, depth], dtype=torch.int32)))
        names += ["down"] + ["mid.%d" % i for i in range(depth)] + ["up"]
    for n in names:
        for part in ("weight", "bias"):
            recs.append(record(f"enh.{n}.{part}", DT_F32, sd[f"{n}.{part}"].float()))
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights_in")
    ap.add_argument("ckpt")
    ap.add_argument("weights_out")
    ap.add_argument("--views", type=int, default=1, choices=(1, 2, 4))
    a = ap.parse_args()
    version, tensors = read_tensors(a.weights_in)
    kept = [rec for name, rec in tensors if not name.startswith("enh.")]
    recs = kept + network_records(a.ckpt, a.views)
    body = b"SCMW" + struct.pack("<II", version, len(recs)) + b"".join(recs)
    crc = zlib.crc32(body) & 0xFFFFFFFF
    tmp = a.weights_out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(body + struct.pack("<I", crc))
    os.replace(tmp, a.weights_out)
    print(f"{a.weights_out}: model id {crc:08x}, {len(body) + 4} bytes")


if __name__ == "__main__":
    main()
