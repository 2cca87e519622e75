"""Source/target pairs cut into teacher-forcing batches for the encoder-decoder."""

from __future__ import annotations

import numpy as np

from ._batching import pad_batch
from ._sequences import check_finite_rows, to_sequences


class Seq2SeqSet:
    """Source/target pairs cut into teacher-forcing batches (what the loop needs)."""

    per_step = True

    def __init__(self, source, source_lengths, target, target_kind, start, end,
                 source_kind, future=None):
        self.x = source
        self.source_lengths = np.asarray(source_lengths)
        self.target = target
        self.target_kind = target_kind
        self.start, self.end = start, end
        self.source_kind = source_kind
        self.future = future  # per pair (H_i, C) standardised covariates, or None
        self.lengths = np.array([len(t) + 1 for t in target])  # + the end token

    def __len__(self):
        return len(self.x)

    def subset(self, idx):
        idx = np.asarray(idx, dtype=np.intp)
        return Seq2SeqSet([self.x[i] for i in idx], self.source_lengths[idx],
                           [self.target[i] for i in idx], self.target_kind, self.start,
                           self.end, self.source_kind,
                           None if self.future is None else [self.future[i] for i in idx])

    def batch(self, idx):
        if self.source_kind == "vector":
            source = np.stack([self.x[i] for i in idx]).astype(np.float32)
            source_mask = np.ones((len(idx), 1), bool)
        else:
            source, source_mask = pad_batch(self.x, idx, self.source_lengths,
                                               dtype=self.x[idx[0]].dtype)
        if self.target_kind == "tokens":
            out = [np.r_[self.target[i], self.end] for i in idx]
            inp = [np.r_[self.start, self.target[i]] for i in idx]
            dtype = np.int32
        else:
            # Values with a stop flag column: 0 on every value step, 1 on the end step
            # (whose values are ignored by the loss).
            out = [np.vstack([np.c_[self.target[i], np.zeros(len(self.target[i]))],
                              np.r_[np.zeros(self.target[i].shape[1]), 1.0]])
                   for i in idx]
            inp = [np.vstack([np.zeros_like(self.target[i][:1]), self.target[i]])
                   for i in idx]
            if self.future is not None:  # step t reads the future covariates of step t
                inp = [np.c_[v, future_rows(self.future[i], len(v))]
                       for v, i in zip(inp, idx)]
            dtype = np.float32
        lengths = np.array([len(o) for o in out])
        pos = np.arange(len(idx))
        y, mask = pad_batch(out, pos, lengths, dtype=dtype)
        target_in, _ = pad_batch(inp, pos, lengths, dtype=dtype)
        return (source, source_mask, target_in), mask, y, mask.astype(np.float32)


def future_rows(future, steps: int):
    """The first ``steps`` rows of ``(H, C)`` covariates, zeros (their mean, once
    standardised) past the horizon they cover."""
    out = np.zeros((steps, future.shape[1]), np.float32)
    out[:min(steps, len(future))] = future[:steps]
    return out


def read_pairs_side(Z, what: str):
    """Read one side (sources ``X`` or targets ``Y``) of a sequence-to-sequence set.

    Returns ``(kind, values, strings)``: ``kind`` is "tokens" (strings, whose characters
    are the tokens, or token lists), "numeric" (sequences of ``(T_i, F)`` steps) or
    "vector" (a 2-D ``(n, F)`` array: one vector per sample); ``strings`` says the
    input was strings (so outputs go back as strings).
    """
    if Z is None:
        raise ValueError(f"{what} is None; Seq2SeqTransformer.fit needs sources X "
                         "and targets Y.")
    if isinstance(Z, str):
        raise TypeError(f"{what} is a single string; pass a list of strings.")
    items = list(Z) if not isinstance(Z, np.ndarray) or Z.dtype == object else None
    if items is not None and items and all(isinstance(s, str) for s in items):
        for i, s in enumerate(items):
            if not s:
                raise ValueError(f"{what}[{i}] is an empty string; every sequence "
                                 "needs at least one character.")
        seq = to_sequences([list(s) for s in items], input_type="tokens", what=what)
        return "tokens", seq, True
    if items is not None and items and any(isinstance(s, str) for s in items):
        bad = next(i for i, s in enumerate(items) if not isinstance(s, str))
        raise TypeError(f"{what} mixes strings and other sequences (e.g. {what}[{bad}]).")
    arr = Z if isinstance(Z, np.ndarray) else None
    if arr is not None and arr.dtype != object and arr.ndim == 2 and arr.dtype.kind in "biuf":
        if arr.shape[0] == 0:
            raise ValueError(f"{what} is empty.")
        check_finite_rows(arr, what)
        return "vector", [row.astype(np.float32) for row in arr], False
    seq = to_sequences(Z, what=what)
    return seq.kind, seq, False


def read_pairs(X, Y, x_name: str = "X", y_name: str = "Y"):
    """Sources and targets of a sequence-to-sequence fit, read and checked together:
    ``(source kind, sources, target kind, targets, targets are strings, n)``."""
    if Y is None:
        raise ValueError(f"Seq2SeqTransformer requires {y_name} to be passed, but the "
                         f"target {y_name} is None.")
    s_kind, s_data, _ = read_pairs_side(X, x_name)
    t_kind, t_data, t_strings = read_pairs_side(Y, y_name)
    n = len(s_data) if s_kind == "vector" else len(s_data.values)
    if t_kind == "vector":
        raise ValueError(f"{y_name} must hold sequences (strings, token lists or (T, F) "
                         "arrays), not one vector per sample.")
    if len(t_data.values) != n:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"{x_name} has {n} sequences but {y_name} has "
                         f"{len(t_data.values)}.")
    return s_kind, s_data, t_kind, t_data, t_strings, n
