"""Source/target pairs cut into teacher-forcing batches for the encoder-decoder."""

from __future__ import annotations

import numpy as np

from ._batching import pad_batch


class Seq2SeqSet:
    """Source/target pairs cut into teacher-forcing batches (what the loop needs)."""

    per_step = True

    def __init__(self, source, source_lengths, target, target_kind, start, end,
                 source_kind):
        self.x = source
        self.source_lengths = np.asarray(source_lengths)
        self.target = target
        self.target_kind = target_kind
        self.start, self.end = start, end
        self.source_kind = source_kind
        self.lengths = np.array([len(t) + 1 for t in target])  # + the end token

    def __len__(self):
        return len(self.x)

    def subset(self, idx):
        idx = np.asarray(idx, dtype=np.intp)
        return Seq2SeqSet([self.x[i] for i in idx], self.source_lengths[idx],
                           [self.target[i] for i in idx], self.target_kind, self.start,
                           self.end, self.source_kind)

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
            dtype = np.float32
        lengths = np.array([len(o) for o in out])
        pos = np.arange(len(idx))
        y, mask = pad_batch(out, pos, lengths, dtype=dtype)
        target_in, _ = pad_batch(inp, pos, lengths, dtype=dtype)
        return (source, source_mask, target_in), mask, y, mask.astype(np.float32)
