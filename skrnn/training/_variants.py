"""Which compiled variant, masked or unmasked, a batch of a compiled step runs.

Padded batches run the model with its mask. Batches of equal lengths can run the
weight-sharing view without a mask (25-30% faster on a CPU; on a GPU the unmasked call
is what Keras' TensorFlow layers send to cuDNN without a check), but that view is a
compiled function of its own: TensorFlow traces it once (its signature leaves the time
dimension free), JAX compiles it once per exact length (masked batches are padded to a
short ladder of lengths instead). A trace or compile costs a small fit more than the
view saves it (0.5-1 s for TensorFlow, 1-3 s for JAX on a CPU), so in a fit on
sequences of several lengths equal-length batches carry their all-true mask until the
variant they would compile has done ``unmasked_after`` row-steps over the step's fits, or
from the start when the training set alone holds that many for it. Data of one length
never run the masked variant.
"""

from __future__ import annotations

from collections import Counter

import numpy as np


class Variants:
    """The choice for one step.

    Parameters
    ----------
    unmasked_after : int
        Row-steps of equal-length batches after which their unmasked variant is worth
        its compilation.
    per_length : bool
        The unmasked variant is compiled once per length (JAX) instead of once (TF).
    """

    def __init__(self, unmasked_after: int, per_length: bool):
        self.unmasked_after = unmasked_after
        self.per_length = per_length
        self.ragged = False
        self.work = Counter()  # row-steps of equal-length batches, per variant

    def _key(self, steps: int):
        return int(steps) if self.per_length else None

    def fit_lengths(self, lengths) -> None:
        """A fit's training-set lengths (None: none known)."""
        if lengths is None or len(lengths) == 0 or np.ptp(lengths) == 0:
            return
        self.ragged = True
        values, counts = np.unique(np.asarray(lengths), return_counts=True)
        total = Counter()
        for t, c in zip(values.tolist(), counts.tolist()):
            total[self._key(t)] += t * c
        for key, work in total.items():
            if work >= self.unmasked_after:  # that much alone: unmasked from the start
                self.work[key] = max(self.work[key], self.unmasked_after + 1)

    def masked_batch(self, mask, train: bool) -> bool:
        """:meth:`masked` for a host batch's ``(rows, steps)`` boolean ``mask``."""
        return self.masked(bool(mask.all()), mask.shape[1], mask.size, train)

    def masked(self, all_valid: bool, steps: int, size: int, train: bool) -> bool:
        """Whether a batch of ``size`` row-steps, ``steps`` long, runs masked;
        ``all_valid``: no padding. Training batches count their work."""
        if not all_valid:
            return True
        if not self.ragged:
            return False
        key = self._key(steps)
        if train:
            self.work[key] += size
        return self.work[key] <= self.unmasked_after
