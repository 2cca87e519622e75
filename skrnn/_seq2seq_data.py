"""What a Seq2SeqTransformer reads: its sources and targets encoded as the network
takes them (the vocabularies, the target scaling), and its fixed validation pairs."""

from __future__ import annotations

import numpy as np

from . import data as sd
from ._params import errors_named


class Seq2SeqData:
    """The encoding half of :class:`~skrnn.Seq2SeqTransformer`."""

    def _validation_pairs(self, X_val, Y_val):
        """``fit``'s fixed validation pairs, read with what it learned from X and Y."""
        if X_val is None:
            raise ValueError("X_val and Y_val go together: pass both, or neither to "
                             "validate on a validation_fraction of the training pairs.")
        s_kind, s_data, t_kind, t_data, _, n = sd.read_pairs(X_val, Y_val, "X_val", "Y_val")
        if t_kind != self._target_kind:
            raise ValueError(f"Y_val holds {t_kind} targets but Y held {self._target_kind}.")
        with errors_named("X_val / Y_val"):
            source, target = self._encode_source(s_kind, s_data), self._encode_target(t_data)
        return sd.Seq2SeqSet(source, self._source_lengths(s_kind, s_data, n), target, t_kind,
                             self._start, self._end, s_kind)

    def _encode_source(self, kind, data):
        if kind == "vector":
            if self._source_kind != "vector":
                raise ValueError(f"X holds one vector per sample but the model was fitted "
                                 f"on {self._source_kind} sequences.")
            if len(data[0]) != self._n_source_features:
                raise ValueError(f"X has {len(data[0])} features, but Seq2SeqTransformer "
                                 f"is expecting {self._n_source_features} features.")
            return data
        if kind != self._source_kind:
            raise ValueError(f"X holds {kind} sequences but the model was fitted on "
                             f"{self._source_kind}.")
        if kind == "tokens":
            return [self.source_vocabulary_.encode(s) for s in data.values]
        if data.n_features != self._n_source_features:
            raise ValueError(f"X has {data.n_features} features per step, but "
                             f"Seq2SeqTransformer is expecting {self._n_source_features}.")
        return data.values

    @staticmethod
    def _source_lengths(kind, data, n):
        return np.ones(n, dtype=np.int64) if kind == "vector" else data.lengths

    def _encode_target(self, data):
        if self._target_kind == "tokens":
            return [self.target_vocabulary_.encode(t) for t in data.values]
        if data.values[0].shape[1] != len(self._y_mean):
            raise ValueError("Y has a different number of features than in the first fit.")
        return [((t - self._y_mean) / self._y_scale).astype(np.float32) for t in data.values]
