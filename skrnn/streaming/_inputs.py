"""What a stream reads: each id's new steps checked and encoded as the network takes
them (scaling, vocabulary, static covariates), and padded into one batch."""

from __future__ import annotations

import numpy as np

from .. import data as sd
from ._compile import bucket


class StreamInputs:
    """The input half of :class:`~skrnn.streaming.Stream`."""

    def _chunks(self, ids, X_new):
        """``(chunks, static)``: each id's new steps as the network takes them (scaled,
        token ids) and the standardised static rows given (or None)."""
        X_new, static, future = sd.split_covariates(X_new)
        est = self.estimator
        if future is not None:
            raise ValueError("A stream takes no future covariates (see stream()).")
        if isinstance(X_new, (str, bytes)) or not hasattr(X_new, "__len__"):
            raise TypeError("X_new must hold one chunk of new steps per id (a list, or "
                            f"a 3-D array); got {type(X_new).__name__}.")
        if len(X_new) != len(ids):
            raise ValueError(f"{len(ids)} ids but {len(X_new)} chunks in X_new: give one "
                             "chunk (possibly empty) per id.")
        tokens = self._input_kind() == "tokens"
        chunks = None if tokens else self._array_chunks(X_new)
        if chunks is None:  # one by one, naming the id of the first that is refused
            chunks = [self._chunk(c, i, key, tokens) for i, (c, key) in
                      enumerate(zip(X_new, ids))]
        rows = None
        if static is not None:
            stats = sd.fitted_covariates(est)
            stats.check(static, None, type(est).__name__)
            rows = stats.static_rows(sd.real_values(static, "static"))
            if len(rows) != len(ids):
                raise ValueError(f"{len(ids)} ids but {len(rows)} rows of static "
                                 "covariates.")
        elif sd.fitted_covariates(est).n_static:
            missing = [key for key in ids if key not in self._rows]
            if missing:
                raise ValueError(f"{type(est).__name__} was fitted with static "
                                 f"covariates: a new series (id {missing[0]!r}) starts "
                                 "with its static row (X_new as "
                                 "skrnn.data.WithCovariates(chunks, static=rows)).")
        return chunks, rows

    def _array_chunks(self, X_new):
        """A numeric ``(n, k, F)`` array of new steps read at once (the usual feed of
        a sensor), or None when it is anything else or holds a value ``_chunk`` would
        refuse (which then names the id)."""
        if not isinstance(X_new, np.ndarray) or X_new.dtype.kind not in "biuf":
            return None
        n = self._n_features()
        arr = X_new[..., None] if X_new.ndim == 2 and n == 1 else X_new
        if arr.ndim != 3 or arr.shape[2] != n:
            return None
        out = self._scaled(arr)
        bound = np.finfo(np.float32).max
        if not (np.isfinite(arr).all() and np.abs(arr).max(initial=0) <= bound
                and np.isfinite(out).all()):
            return None
        return out

    def _scaled(self, values) -> np.ndarray:
        """New steps as the network takes them, float32: scaled as ``predict`` scales
        them (a seq2seq source is not)."""
        mode, stats = (None, None) if self._seq2seq else self.estimator._input_scaling()
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(sd.apply_scaling([values], mode, stats)[0], np.float32)

    def _input_kind(self) -> str:
        est = self.estimator
        return est._source_kind if self._seq2seq else est._input_kind

    def _n_features(self) -> int:
        est = self.estimator
        return est._n_source_features if self._seq2seq else est._n_step_features

    def _chunk(self, chunk, i, key, tokens):
        what = f"X_new[{i}] (id {key!r})"
        if tokens:
            if isinstance(chunk, str) and self._seq2seq and self.estimator._source_kind \
                    == "tokens":
                chunk = list(chunk)  # string sources are their characters
            if isinstance(chunk, (str, bytes)) or not hasattr(chunk, "__len__"):
                raise TypeError(f"{what} must be a list of tokens, got "
                                f"{type(chunk).__name__}.")
            vocabulary = (self.estimator.source_vocabulary_ if self._seq2seq
                          else self.estimator.vocabulary_)
            return vocabulary.encode(list(chunk))
        arr = sd.real_values(chunk, what)
        n = self._n_features()
        if (arr.ndim == 1 and n == 1) or arr.size == 0:  # one feature; no new step
            arr = arr.reshape(-1, n) if arr.size or n == 1 else np.zeros((0, n))
        if arr.ndim != 2 or arr.shape[1] != n:
            raise ValueError(f"{what} must be a (k, {n}) array of new steps, got shape "
                             f"{arr.shape}.")
        out = self._scaled(arr)
        if not np.isfinite(out).all():
            raise ValueError(f"{what} holds values that are not finite once scaled.")
        return out

    def _batch(self, rows, chunks, start, stop):
        """The padded batch of steps ``start:stop`` of every chunk (rows and steps
        rounded up to powers of two), static covariates appended; and each row's
        number of steps in it."""
        n = len(rows)
        b = bucket(n, 8)
        tokens = self._input_kind() == "tokens"
        width = self._engine.input_width
        if isinstance(chunks, np.ndarray):
            part = chunks[:, start:stop]
            lengths = np.full(n, part.shape[1])
            k = bucket(part.shape[1])
            x = np.zeros((b, k, part.shape[2]), np.float32)
            x[:n, :part.shape[1]] = part
            mask = np.zeros((b, k), bool)
            mask[:n, :part.shape[1]] = True
        else:
            lengths = np.array([max(0, min(len(c), stop) - start) for c in chunks])
            k = bucket(int(lengths.max()))
            x = np.zeros((b, k) if tokens else (b, k, self._n_features()),
                         np.int32 if tokens else np.float32)
            mask = np.zeros((b, k), bool)
            for r, (c, m) in enumerate(zip(chunks, lengths)):
                if m:
                    x[r, :m] = c[start:start + m]
                    mask[r, :m] = True
        if not tokens and width > x.shape[2]:  # static covariates after the values
            static = np.zeros((b, x.shape[1], width - x.shape[2]), np.float32)
            static[:n] = self._state["static"][rows][:, None, :]
            x = np.concatenate([x, static * mask[..., None]], axis=2)
        return x, mask, lengths
