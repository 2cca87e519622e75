"""Length-bucketed batching with per-batch padding and masks."""

from __future__ import annotations

import numpy as np


def bucket_batches(lengths, batch_size: int, rng: np.random.RandomState | None = None,
                   pool_factor: int = 50) -> list[np.ndarray]:
    """Split sample indices into batches of sequences of similar length.

    Without ``rng`` (prediction) the indices are sorted by length and cut into
    consecutive batches. With ``rng`` (training) the indices are shuffled, cut into
    pools of ``batch_size * pool_factor``, sorted by length within each pool (ties in
    shuffled order), cut into batches, and the batches are shuffled: every epoch sees
    different batches, yet each batch holds sequences of similar length, so padding to
    the batch's own maximum wastes little.

    Returns
    -------
    list of int arrays
        Indices of each batch.
    """
    lengths = np.asarray(lengths)
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    perm = rng.permutation(n)
    pool = max(batch_size * pool_factor, batch_size)
    batches = []
    for start in range(0, n, pool):
        chunk = perm[start:start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def pad_batch(values, idx, lengths, pad_to: int | None = None, dtype=np.float32,
              align: str = "start", multiple: int | None = None):
    """Stack ``values[idx]`` into one zero-padded array and a boolean mask.

    Parameters
    ----------
    values : list of arrays
        Each ``(T_i, ...)``.
    idx : int array
        Which sequences form the batch.
    lengths : int array
        Lengths of all sequences.
    pad_to : int, optional
        Pad to this many steps instead of the batch's own maximum.
    align : {"start", "end"}
        ``"start"`` pads on the right (every sequence starts at step 0); ``"end"``
        pads on the left (every sequence ends at the last step), which is what
        truncated BPTT needs for one target per sequence: the last chunk then holds
        the last steps of every sequence.
    multiple : int, optional
        Round the padded length up to a multiple of this (the truncation length).

    Returns
    -------
    padded : ndarray of shape (B, T, ...)
    mask : bool ndarray of shape (B, T)
    """
    batch_lengths = lengths[idx]
    t = int(batch_lengths.max()) if pad_to is None else int(pad_to)
    if multiple:
        t = -(-t // multiple) * multiple
    first = values[idx[0]]
    out = np.zeros((len(idx), t) + first.shape[1:], dtype=dtype)
    steps = np.arange(t)[None, :]
    if align == "end":
        for row, i in enumerate(idx):
            v = values[i]
            out[row, t - len(v):] = v
        mask = steps >= (t - batch_lengths)[:, None]
    else:
        for row, i in enumerate(idx):
            v = values[i]
            out[row, :len(v)] = v
        mask = steps < batch_lengths[:, None]
    return out, mask


class SupervisedSet:
    """Encoded inputs, targets and weights, ready to be cut into padded batches.

    Parameters
    ----------
    x : list of arrays
        ``(T_i, F)`` float32 or ``(T_i,)`` int32 token ids.
    lengths : int array
    y : ndarray or list of arrays
        ``(n,)`` class ids / ``(n, k)`` values, or per-step ``(T_i,)`` / ``(T_i, k)``.
    weights : list of arrays or ndarray
        Per-sequence weights ``(n,)``, or per-step ``(T_i,)`` arrays.
    per_step : bool
    """

    def __init__(self, x, lengths, y, weights, per_step: bool):
        self.x = x
        self.lengths = np.asarray(lengths)
        self.y = y
        self.weights = weights
        self.per_step = per_step

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, idx) -> SupervisedSet:
        idx = np.asarray(idx, dtype=np.intp)
        pick = (lambda a: [a[i] for i in idx]) if self.per_step else (lambda a: a[idx])
        return SupervisedSet([self.x[i] for i in idx], self.lengths[idx], pick(self.y),
                             pick(self.weights), self.per_step)

    def batch(self, idx, align: str = "start", multiple: int | None = None):
        """``(x, mask, y, w)`` for the sequences ``idx``, padded to their own maximum
        (rounded up to ``multiple``); see :func:`pad_batch` for ``align``."""
        x_dtype = self.x[idx[0]].dtype
        pad = dict(align=align, multiple=multiple)
        x, mask = pad_batch(self.x, idx, self.lengths, dtype=x_dtype, **pad)
        if self.per_step:
            y_dtype = self.y[idx[0]].dtype
            y, _ = pad_batch(self.y, idx, self.lengths, dtype=y_dtype, **pad)
            w, _ = pad_batch(self.weights, idx, self.lengths, dtype=np.float32, **pad)
        else:
            y = self.y[idx]
            w = self.weights[idx].astype(np.float32)
        return x, mask, y, w


def split_validation(full, fraction: float, rng, labels=None):
    """``(train, validation)`` subsets of ``full`` (a :class:`SupervisedSet` or
    :class:`Seq2SeqSet`) holding out ``fraction`` of it, stratified on ``labels`` (one
    class per sequence) when every class can appear on both sides."""
    from sklearn.model_selection import train_test_split

    n = len(full)
    n_val = int(np.ceil(fraction * n))
    if n_val < 1 or n - n_val < 1:
        raise ValueError(f"early_stopping needs at least 2 sequences to hold out "
                         f"validation_fraction={fraction}; got {n}.")
    stratify = None
    if labels is not None:
        _, counts = np.unique(labels, return_counts=True)
        if counts.min() >= 2 and n_val >= len(counts):
            stratify = labels
    tr, va = train_test_split(np.arange(n), test_size=n_val, stratify=stratify,
                              random_state=rng.randint(0, 2**31 - 1))
    return full.subset(tr), full.subset(va)
