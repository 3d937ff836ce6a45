"""The restoration network of the signal layer (docs/signal.md, "The restoration network").

A small convolutional network that predicts, from base1 (what the layers below decoded) and the
signal quality, a correction of base1: the ringing, the soft edges and the texture a quantized
wavelet correction leaves have shapes a network learns across pictures. It runs at half
resolution (2 x 2 pixel blocks as 12 channels), so six 3 x 3 convolutions see 26 x 26 pixels.

    r = tail(relu(body(... relu(head([unshuffle((base - 128) / 64), quality plane])))))
    enhanced = base + SCALE * shuffle(r)

Optionally a branch at quarter resolution widens what it sees at little cost (ringing of a coarse
wavelet step spreads further than the half-resolution convolutions reach): before body[at],

    h = h + shuffle(up(relu(mid(... relu(down(h))))))[cropped to h]

down a 3 x 3 convolution of stride 2, `depth` 3 x 3 convolutions, up a 1 x 1 convolution to four
times the channels, shuffled back to half resolution. up starts at zero, so a network given the
branch computes what it computed without it until training moves it.

The C decoder (layers/signal/enhance.c) computes the same graph from the weight file; the encoder
sends a strength that scales the correction (bitstream-spec/signal.md)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

SCALE = 16.0          # the tail's output unit, in grey levels
NUM_QUALITIES = 8
BRANCH_PREFIXES = ("down.", "mid.", "up.")   # the quarter-resolution branch's parameter names


def quality_plane(quality):
    """The value of the quality input plane for quality 1..8 (the same in C)."""
    return (quality - 1) / (NUM_QUALITIES - 1)


class Enhancer(nn.Module):
    def __init__(self, channels=48, blocks=4, branch_at=0, branch_depth=0):
        super().__init__()
        self.channels, self.blocks = channels, blocks
        self.branch = (branch_at, branch_depth)
        self.head = nn.Conv2d(12 + 1, channels, 3, padding=1)
        self.body = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(blocks)])
        self.tail = nn.Conv2d(channels, 12, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)
        if branch_depth:
            if not 0 <= branch_at < blocks:
                raise ValueError("the branch joins before one of the body's convolutions")
            self.down = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
            self.mid = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(branch_depth)])
            self.up = nn.Conv2d(channels, 4 * channels, 1)
            nn.init.zeros_(self.up.weight)
            nn.init.zeros_(self.up.bias)

    @classmethod
    def from_checkpoint(cls, ck):
        """The network of a train_enhance.py checkpoint (a dict), its weights loaded."""
        net = cls(ck["channels"], ck["blocks"], *ck.get("branch", (0, 0)))
        net.load_state_dict(ck["model"])
        return net

    def quarter(self, h):
        """The branch's contribution at half resolution, the size of h."""
        d = F.relu(self.down(h))
        for conv in self.mid:
            d = F.relu(conv(d))
        return F.pixel_shuffle(self.up(d), 2)[:, :, :h.shape[2], :h.shape[3]]

    def forward(self, base, quality):
        """base: (B, 3, H, W) in 0..255, H and W even; quality: (B,) ints 1..8.
        -> the correction in grey levels, (B, 3, H, W)."""
        h = F.pixel_unshuffle((base - 128.0) / 64.0, 2)
        plane = quality_plane(quality.float()).view(-1, 1, 1, 1).expand(-1, 1, h.shape[2], h.shape[3])
        h = F.relu(self.head(torch.cat([h, plane], 1)))
        for i, conv in enumerate(self.body):
            if self.branch[1] and i == self.branch[0]:
                h = h + self.quarter(h)
            h = F.relu(conv(h))
        return F.pixel_shuffle(self.tail(h), 2) * SCALE
