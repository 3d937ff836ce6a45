"""base1 folders per quality, for train.py and eval_kodak.py.

Under a signal layer the structure layer's wavelet step follows the signal quality
(docs/structure.md, "Under a signal layer"), so base1, and with it the residual the signal model
codes, depends on the quality. A base folder argument is either one folder (the same base1 at
every quality) or a pattern with "{q}" in it, e.g. bases-q{q}, standing for the folders written by
`make_bases.sh SCMC OUT_DIR IMAGE_DIR QUALITY` for the qualities that exist; a quality without its
own folder takes the nearest one that has (the lower of two equally near). No torch here, so
that tests/train/test_train_tools.py runs where only numpy and PIL are installed."""
import os


def quality_dirs(spec, count):
    """spec: a folder or a pattern with {q}; count: the number of qualities (model.NUM_QUALITIES).
    -> {quality index 0..count-1: folder}, every index filled. The folder of quality index q is
    the pattern with {q} replaced by q + 1, the quality as `scmc encode --quality` counts it."""
    if "{q}" not in spec:
        return {q: spec for q in range(count)}
    have = [q for q in range(count) if os.path.isdir(spec.replace("{q}", str(q + 1)))]
    if not have:
        raise SystemExit(f"{spec}: no folder for any quality 1-{count}")
    return {q: spec.replace("{q}", str(min(have, key=lambda h: (abs(h - q), h)) + 1)) for q in range(count)}


def distinct(dirs):
    """The folders of quality_dirs() once each, in order of quality."""
    out = []
    for q in sorted(dirs):
        if dirs[q] not in out:
            out.append(dirs[q])
    return out


def per_quality(dirs, read):
    """[read(folder) for each quality index of quality_dirs()], read called once per folder, so
    that qualities sharing a folder share what was read from it."""
    got = {d: read(d) for d in distinct(dirs)}
    return [got[dirs[q]] for q in sorted(dirs)]
