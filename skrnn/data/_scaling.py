"""Standardising numeric sequences inside the estimators.

Statistics come from the training sequences' real steps only; padding is added after
scaling, so padded steps stay exact zeros.
"""

from __future__ import annotations

import numpy as np

SCALINGS = ("feature", "sequence", None)
_TINY = 1e-8


def fit_scaling(values, mode):
    """``(mean, scale)`` per feature over every real step of ``values`` (a list of
    ``(T_i, F)`` arrays) for ``mode="feature"``; None for the other modes (``"sequence"``
    takes each sequence's own statistics at transform time)."""
    if mode != "feature":
        return None
    steps = np.concatenate([np.asarray(v, np.float64) for v in values])
    mean = steps.mean(axis=0)
    scale = steps.std(axis=0)
    return mean, np.where(scale > _TINY, scale, 1.0)


def apply_scaling(values, mode, stats=None) -> list:
    """Scaled float32 copies of ``values`` (the caller's arrays are never modified).

    ``"feature"``: ``(x - mean) / scale`` with the training ``stats``.
    ``"sequence"``: each sequence z-normalised per feature over its own steps (the time
    series classification convention); a constant feature becomes zeros.
    ``None``: unchanged.
    """
    if mode is None:
        return values
    out = []
    for v in values:
        v = np.asarray(v, np.float64)
        if mode == "feature":
            mean, scale = stats
        else:
            mean = v.mean(axis=0)
            scale = v.std(axis=0)
            scale = np.where(scale > _TINY, scale, 1.0)
        out.append(((v - mean) / scale).astype(np.float32))
    return out
