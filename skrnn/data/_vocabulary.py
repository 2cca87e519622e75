"""Token vocabularies: tokens to integer ids, learned in ``fit``."""

from __future__ import annotations

from collections import Counter

import numpy as np

PAD_ID = 0
OOV_ID = 1


class Vocabulary:
    """Map hashable tokens to ids; 0 is padding, 1 is out-of-vocabulary.

    Ids follow decreasing frequency, ties broken by first appearance, so the same data
    always gives the same vocabulary.

    Parameters
    ----------
    min_frequency : int, default=1
        Tokens seen fewer times are mapped to the out-of-vocabulary id.
    """

    def __init__(self, min_frequency: int = 1):
        self.min_frequency = min_frequency

    def fit(self, sequences) -> Vocabulary:
        counts = Counter()
        for seq in sequences:
            counts.update(seq.tolist() if isinstance(seq, np.ndarray) else seq)
        # Counter keeps first-insertion order, so sorted() is stable on ties.
        kept = [t for t, c in sorted(counts.items(), key=lambda kv: -kv[1])
                if c >= self.min_frequency]
        self.tokens_ = kept
        self.index_ = {t: i + 2 for i, t in enumerate(kept)}
        return self

    def __len__(self) -> int:
        """Number of ids including padding and out-of-vocabulary."""
        return len(self.tokens_) + 2

    def encode(self, seq) -> np.ndarray:
        get = self.index_.get
        return np.fromiter((get(t, OOV_ID) for t in seq), dtype=np.int32, count=len(seq))

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.tokens_ == other.tokens_

    __hash__ = None
