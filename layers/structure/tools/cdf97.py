"""CDF 9/7 lifting in floating point for the Python tools and benches that measure the wavelet
correction (the codec's own transforms are layers/structure/wavelet.c: the encoder's in double,
the decoder's normative inverse in integers). One level along the first axis of a NumPy array
or a PyTorch tensor of even length, with wavelet.c's mirror rule (s[ns] = s[ns-1], d[-1] = d[0])
and wavelet.c's scaling (a constant's low band doubles at each level)."""
ALPHA, BETA, GAMMA, DELTA, ZETA = -1.586134342059924, -0.052980118572961, 0.882911075530934, 0.443506852043971, 1.149604398860241


def _lib(x):
    """(concatenate, stack) of x's array library."""
    if type(x).__module__.startswith("torch"):
        import torch
        return torch.cat, torch.stack
    import numpy as np
    return np.concatenate, np.stack


def _next(a):
    return _lib(a)[0]([a[1:], a[-1:]], 0)


def _prev(a):
    return _lib(a)[0]([a[:1], a[:-1]], 0)


def lift_forward(x):
    """(low, high) halves of x along its first axis."""
    even, odd = x[0::2], x[1::2]
    odd = odd + ALPHA * (even + _next(even))
    even = even + BETA * (odd + _prev(odd))
    odd = odd + GAMMA * (even + _next(even))
    even = even + DELTA * (odd + _prev(odd))
    return even * ZETA, odd / ZETA


def lift_inverse(low, high):
    """The samples lift_forward split into low and high, interleaved again along the first axis."""
    even, odd = low / ZETA, high * ZETA
    even = even - DELTA * (odd + _prev(odd))
    odd = odd - GAMMA * (even + _next(even))
    even = even - BETA * (odd + _prev(odd))
    odd = odd - ALPHA * (even + _next(even))
    return _lib(even)[1]([even, odd], 1).reshape((2 * even.shape[0],) + tuple(even.shape[1:]))
