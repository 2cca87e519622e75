"""Validation of per-step targets (one label or value per sequence step)."""

from __future__ import annotations

import numpy as np

from ._sequences import real_values


def check_step_targets(y, lengths, *, numeric: bool, what: str = "y") -> list:
    """Validate a list of per-sequence targets against the sequence lengths.

    Returns a list of arrays, ``(T_i,)`` for labels and ``(T_i, k)`` float64 for values.
    """
    if y is None:
        raise ValueError(f"requires {what} to be passed, but the target {what} is None.")
    if isinstance(y, np.ndarray) and y.dtype != object and y.ndim >= 2:
        items = list(y)
    else:
        try:
            items = list(y)
        except TypeError:
            raise TypeError(f"{what} must be a list of per-sequence target arrays when "
                            "return_sequences=True.") from None
    if len(items) != len(lengths):
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has "
            f"{len(lengths)} sequences but {what} has {len(items)}."
        )
    out = []
    k = None
    for i, (t, n_steps) in enumerate(zip(items, lengths)):
        if np.isscalar(t) or isinstance(t, str):
            raise ValueError(
                f"{what}[{i}] is a single value but return_sequences=True needs one "
                f"target per step ({n_steps} for sample {i})."
            )
        if numeric:
            arr = real_values(t, what, sample=i, bound=False)  # the gate
            if arr.ndim == 1:
                arr = arr.reshape(-1, 1)
            if arr.ndim != 2:
                raise ValueError(f"{what}[{i}] must be (T,) or (T, n_outputs), got shape "
                                 f"{arr.shape}.")
            if k is None:
                k = arr.shape[1]
            elif arr.shape[1] != k:
                raise ValueError(f"{what}[{i}] has {arr.shape[1]} outputs per step but "
                                 f"{what}[0] has {k}.")
        else:
            arr = np.asarray(list(t))
            if arr.ndim != 1:
                raise ValueError(f"{what}[{i}] must hold one label per step, got shape "
                                 f"{arr.shape}.")
            if arr.dtype == object:
                bad = any(v is None or (isinstance(v, float) and not np.isfinite(v))
                          for v in arr)
            else:
                bad = arr.dtype.kind == "f" and not np.isfinite(arr).all()
            if bad:
                raise ValueError(f"{what} contains NaN or None in sample {i}.")
        if len(arr) != n_steps:
            raise ValueError(
                f"{what}[{i}] has {len(arr)} step targets but sequence {i} has "
                f"{n_steps} steps; per-step targets need one entry per step."
            )
        out.append(arr)
    return out


def check_no_none(y, what: str = "y") -> None:
    """Raise a ValueError naming the first sample of ``y`` (one target per sequence)
    that holds ``None`` (NumPy would otherwise fail on it in its own words)."""
    raw = np.asarray(y)
    if raw.dtype != object or raw.ndim == 0:
        return
    for i, row in enumerate(raw.reshape(len(raw), -1)):
        if any(v is None for v in row):
            raise ValueError(f"Input {what} contains None in sample {i}.")
