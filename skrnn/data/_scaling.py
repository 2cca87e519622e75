"""Standardising numeric sequences: one formula for inputs, targets and SequenceScaler.

Statistics come from real steps only; padding is added after scaling, so padded steps
stay exact zeros.
"""

from __future__ import annotations

import numpy as np

SCALINGS = ("feature", "sequence", None)


def standardisation(steps) -> tuple:
    """Per-column ``(mean, scale)`` of ``steps`` (``(n_steps, F)``), in float64; a
    column without variance gets scale 1 (centred, not divided)."""
    steps = np.asarray(steps, np.float64)
    # Computed on values divided by each column's largest magnitude, so that squares
    # of values near float64's range (regression targets of 1e160) cannot overflow.
    big = np.abs(steps).max(axis=0) if len(steps) else np.ones(steps.shape[1:])
    big = np.where(big > 0, big, 1.0)
    unit = steps / big
    mean, std = unit.mean(axis=0) * big, unit.std(axis=0) * big
    return mean, np.where(std > 1e-12, std, 1.0)


def fit_scaling(values, mode):
    """``(mean, scale)`` per feature over every real step of ``values`` (a list of
    ``(T_i, F)`` arrays) for ``mode="feature"``; None for the other modes (``"sequence"``
    takes each sequence's own statistics at transform time)."""
    if mode != "feature":
        return None
    return standardisation(np.concatenate([np.asarray(v, np.float64) for v in values]))


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
        mean, scale = stats if mode == "feature" else standardisation(v)
        out.append(((v - mean) / scale).astype(np.float32))
    return out
