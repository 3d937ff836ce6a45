"""Bjontegaard delta rate (VCEG-M33): the average bitrate difference of two rate-distortion curves
over the quality interval they share.

Each curve is a list of (rate, quality) points (rate in bpp, quality in dB). log(rate) is fitted
as a cubic polynomial of quality for each curve, both are integrated over the overlapping quality
interval, and the mean difference is turned back into a rate ratio: -10 means the test curve
needs 10% fewer bits than the anchor for the same quality.
"""
import math

import numpy as np


def bd_rate(anchor, test):
    """Percent rate difference of test against anchor, or None when the curves do not overlap or
    have fewer than 4 distinct points each."""
    def prepare(curve):
        pts = sorted({(float(q), float(r)) for r, q in curve if r > 0 and math.isfinite(q)})
        return np.array([p[0] for p in pts]), np.log(np.array([p[1] for p in pts]))

    qa, la = prepare(anchor)
    qt, lt = prepare(test)
    if len(qa) < 4 or len(qt) < 4:
        return None
    lo, hi = max(qa.min(), qt.min()), min(qa.max(), qt.max())
    if hi <= lo:
        return None
    pa = np.polyint(np.polyfit(qa, la, 3))
    pt = np.polyint(np.polyfit(qt, lt, 3))
    avg_a = (np.polyval(pa, hi) - np.polyval(pa, lo)) / (hi - lo)
    avg_t = (np.polyval(pt, hi) - np.polyval(pt, lo)) / (hi - lo)
    return (math.exp(avg_t - avg_a) - 1.0) * 100.0
