"""The restoration network of the signal layer (docs/signal.md, "The restoration network").

A small convolutional network that predicts, from base1 (what the layers below decoded) and the
signal quality, a correction of base1: the ringing, the soft edges and the texture a quantized
wavelet correction leaves have shapes a network learns across pictures. It runs at half
resolution (2 x 2 pixel blocks as 12 channels), so six 3 x 3 convolutions see 26 x 26 pixels.

    r = tail(relu(body(... relu(head([unshuffle((base - 128) / 64), quality plane])))))
    enhanced = base + SCALE * shuffle(r)

The C decoder (layers/signal/enhance.c) computes the same graph from the weight file; the encoder
sends a strength that scales the correction (bitstream-spec/signal.md)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

SCALE = 16.0          # the tail's output unit, in grey levels
NUM_QUALITIES = 8


def quality_plane(quality):
    """The value of the quality input plane for quality 1..8 (the same in C)."""
    return (quality - 1) / (NUM_QUALITIES - 1)


class Enhancer(nn.Module):
    def __init__(self, channels=48, blocks=4):
        super().__init__()
        self.channels, self.blocks = channels, blocks
        self.head = nn.Conv2d(12 + 1, channels, 3, padding=1)
        self.body = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(blocks)])
        self.tail = nn.Conv2d(channels, 12, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, base, quality):
        """base: (B, 3, H, W) in 0..255, H and W even; quality: (B,) ints 1..8.
        -> the correction in grey levels, (B, 3, H, W)."""
        h = F.pixel_unshuffle((base - 128.0) / 64.0, 2)
        plane = quality_plane(quality.float()).view(-1, 1, 1, 1).expand(-1, 1, h.shape[2], h.shape[3])
        h = F.relu(self.head(torch.cat([h, plane], 1)))
        for conv in self.body:
            h = F.relu(conv(h))
        return F.pixel_shuffle(self.tail(h), 2) * SCALE
