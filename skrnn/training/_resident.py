"""The training set kept on the device for a whole fit (issue 13).

On an accelerator, the host otherwise gathers, pads and copies every batch of every epoch
(:meth:`Step.stage`). When the training set fits comfortably in the device's free memory,
:meth:`Step.hold` copies it there once per fit: the sequences end to end in one array
(``(sum T_i, ...)``, no padding stored), with their offsets. Each batch is then cut out
on the device from the rows' offsets and lengths (a few hundred bytes from the host):
positions ``offset + arange(t)``, a mask ``arange(t) < length``, padded steps set to
exact zeros; the batch is the one :meth:`SupervisedSet.batch` would have padded, value
for value, so a held fit is the same fit.

Written with ``keras.ops``: JAX compiles :func:`cut_batch` per batch shape, torch runs it
eagerly on the GPU's stream. TensorFlow's step keeps the host path (its ``tf.function``
takes the padded batches; TensorFlow is not on the GPU machines this was built for).
"""

from __future__ import annotations

import numpy as np
from keras import ops

#: Hold the set when it needs at most this fraction of the device's free memory: the
#: rest is for the model, its activations over the longest batch and the optimizer.
FREE_FRACTION = 0.25
#: Sets held and batches cut since the process started (for tests).
HELD = {"sets": 0, "batches": 0}


def held_bytes(train) -> int:
    """Device memory the held set takes."""
    def size(values):
        return sum(np.asarray(v).nbytes for v in values) if isinstance(values, list) \
            else np.asarray(values).nbytes
    return size(train.x) + size(train.y) + size(train.weights)


def indexable(train) -> bool:
    """Whether the set's steps can be indexed with int32 (JAX's default integers)."""
    return int(np.sum(train.lengths, dtype=np.int64)) < 2 ** 31


class HeldSet:
    """A :class:`~skrnn.data.SupervisedSet` on the device.

    Parameters
    ----------
    train : SupervisedSet
    put : callable
        ``put(array) -> device array``.
    """

    def __init__(self, train, put):
        self.train = train
        self.per_step = train.per_step
        HELD["sets"] += 1
        lengths = np.asarray(train.lengths, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
        self.lengths = lengths.astype(np.int32)
        self.x = put(np.concatenate(train.x))
        if self.per_step:
            self.y = put(np.concatenate(train.y))
            self.w = put(np.concatenate(train.weights).astype(np.float32))
        else:
            self.y = put(np.asarray(train.y))
            self.w = put(np.asarray(train.weights).astype(np.float32))

    def rows(self, idx):
        """``(offsets, lengths, t, equal)`` of the batch ``idx``: ``t`` its longest
        length, ``equal`` whether every row has it (an unmasked batch)."""
        HELD["batches"] += 1
        lengths = self.lengths[idx]
        t = int(lengths.max())
        return self.offsets[idx], lengths, t, bool(lengths.min() == t)


def cut(flat, offsets, lengths, t: int):
    """Rows of ``flat`` (sequences end to end) from ``offsets``, ``t`` steps each, with
    steps past each row's length set to zero; returns ``(batch, mask)``."""
    steps = ops.arange(t, dtype="int32")
    mask = ops.expand_dims(steps, 0) < ops.expand_dims(lengths, 1)
    last = ops.shape(flat)[0] - 1
    positions = ops.minimum(ops.expand_dims(offsets, 1) + ops.expand_dims(steps, 0), last)
    batch = ops.take(flat, positions, axis=0)
    keep = ops.reshape(mask, tuple(ops.shape(mask)) + (1,) * (len(ops.shape(batch)) - 2))
    return ops.where(keep, batch, ops.zeros_like(batch)), mask


def cut_batch(x, y, w, idx, offsets, lengths, t: int, per_step: bool):
    """``(x, mask, y, w)`` of one batch, padded to ``t`` steps, from a held set's arrays:
    what :meth:`SupervisedSet.batch` gives (padded further to ``t``)."""
    xb, mask = cut(x, offsets, lengths, t)
    if per_step:
        yb, _ = cut(y, offsets, lengths, t)
        wb, _ = cut(w, offsets, lengths, t)
    else:
        yb, wb = ops.take(y, idx, axis=0), ops.take(w, idx, axis=0)
    return xb, mask, yb, wb
