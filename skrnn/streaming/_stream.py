"""The live series ``est.stream()`` returns (see docs/streaming.md)."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from .. import data as sd
from ..estimators._transaction import check_finite_outputs
from ._compile import bucket, packed_call
from ._inputs import StreamInputs


class Stream(StreamInputs):
    """Live series of one fitted estimator (made by ``est.stream()``).

    Each series has a key (``ids``: any hashable; to save a stream, ``str``, ``int``,
    ``float`` or tuples of them) and carries the network's state; a new step costs one
    step of the network whatever the history.

    Attributes
    ----------
    estimator : the fitted estimator (a snapshot taken by ``stream()``)
    ids : list
        The live series, in the order they started.
    """

    def __init__(self, estimator):
        self.estimator = estimator
        self._seq2seq = hasattr(estimator, "_decoder_step")
        if self._seq2seq:
            from ._seq2seq import EncoderEngine

            self._engine = EncoderEngine(estimator)
        else:
            from ._engine import StreamEngine

            self._engine = StreamEngine(estimator.model_, estimator._spec)
        self._initial_row = self._engine.initial_row()
        self._rows: dict = {}  # id -> row of the state arrays
        self._free: list = []
        self._allocate(0)
        self._memory: dict = {}  # seq2seq with attention: id -> encoder outputs
        self._last: dict = {}  # seq2seq: id -> the decoded answer, once it has one
        self._steps_compiled = None

    # ------------------------------------------------------------------ bookkeeping
    def _fields(self) -> dict:
        fields = dict(self._engine.fields)
        n_static = sd.fitted_covariates(self.estimator).n_static
        if n_static:
            fields["static"] = (n_static,)
        if not self._seq2seq:  # the raw outputs after the last step (once steps > 0)
            fields["last"] = (self.estimator._spec.n_outputs,)
        return fields

    def _allocate(self, capacity, old=None) -> None:
        """Room for ``capacity`` series (the rows of ``old`` copied): the engine's
        fields are views of one ``(capacity, width)`` array (``_packed``), which a call
        gathers and scatters at once."""
        packed = np.zeros((capacity, self._engine.width), np.float32)
        state, at = {}, 0
        for name, shape in self._engine.fields.items():
            size = int(np.prod(shape))
            state[name] = packed[:, at:at + size].reshape(capacity, *shape)
            if size and capacity and not np.shares_memory(state[name], packed):
                raise RuntimeError(f"the stream's field {name} is not a view")
            at += size
        for name, shape in self._fields().items():
            if name not in state:
                state[name] = np.zeros((capacity, *shape), np.float32)
        if old is not None:
            for name, value in old.items():
                state[name][:len(value)] = value
        self._packed, self._state = packed, state
        self._rows_cache = None

    @property
    def ids(self) -> list:
        return list(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key) -> bool:
        return key in self._rows

    def __repr__(self) -> str:
        return f"<skrnn Stream of {type(self.estimator).__name__}: {len(self)} series>"

    def _check_ids(self, ids, known: bool) -> list:
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise TypeError(f"ids must be a list of keys, one per series; got "
                            f"{type(ids).__name__} (for one series pass [key]).")
        ids = list(ids.tolist() if isinstance(ids, np.ndarray) else ids)
        try:  # the usual case at once: distinct hashable keys (known ones, if asked)
            if len(set(ids)) == len(ids) and (not known or all(k in self._rows
                                                               for k in ids)):
                return ids
        except TypeError:
            pass
        seen = set()
        for key in ids:
            if not isinstance(key, Hashable):
                raise TypeError(f"ids must be hashable keys; got {type(key).__name__}.")
            if key in seen:
                raise ValueError(f"id {key!r} appears twice in one call: give each series "
                                 "its new steps as one chunk.")
            seen.add(key)
            if known and key not in self._rows:
                raise KeyError(f"No live series with id {key!r}.")
        return ids

    def _new_rows(self, keys) -> None:
        for key in keys:
            if self._free:
                row = self._free.pop()
            else:
                row = len(self._packed)
                grow = max(8, row)
                self._allocate(row + grow, self._state)
                self._free.extend(range(row + grow - 1, row, -1))
            self._rows[key] = row
            self._rows_cache = None
            self._clear(row)
            if "static" in self._state:
                self._state["static"][row] = 0.0

    def _clear(self, row) -> None:
        """A series with no steps (its static covariates left as they are)."""
        self._packed[row] = self._initial_row
        if "last" in self._state:
            self._state["last"][row] = 0.0

    def reset(self, ids) -> None:
        """Start these series again from no steps (their static covariates kept)."""
        for key in self._check_ids(ids, known=True):
            self._clear(self._rows[key])
            self._last.pop(key, None)
            self._memory.pop(key, None)

    def drop(self, ids) -> None:
        """Forget these series."""
        self._rows_cache = None
        for key in self._check_ids(ids, known=True):
            self._free.append(self._rows.pop(key))
            self._last.pop(key, None)
            self._memory.pop(key, None)

    # -------------------------------------------------------------------- updating
    def update(self, ids, X_new, *, every_step=True, return_std=False,
               return_quantiles=False):
        """Feed new steps and get the answer after each of them.

        Parameters
        ----------
        ids : list of hashable
            One key per series; a new key starts a series, a known one continues it.
        X_new : list or 3-D array
            One chunk per id in the estimator's input format: a ``(k_i, F)`` array (or
            ``(k_i,)`` for one feature), or a list of tokens; ``k_i`` may differ and
            may be 0. With static covariates, ``skrnn.data.WithCovariates(chunks,
            static=rows)``: a new series must bring its row.
        every_step : bool, default=True
            False: only the answer after each chunk's last step (None for an empty
            chunk), which is how to start series from a long history: with the
            convolutional front-end the chunk is then read in one pass, not one window
            per step.
        return_std, return_quantiles : bool
            RNNRegressor with ``loss="gaussian"`` / ``"quantile"``: also return the
            standard deviations / quantiles after every step.

        Returns
        -------
        list, one entry per id (an array for an ``(n, k, F)`` array of new steps)
            RNNClassifier: the probabilities after every new step, ``(k_i,
            n_classes)``. RNNRegressor: the predictions after every new step, ``(k_i,)``
            or ``(k_i, n_outputs)`` (and with ``return_std`` / ``return_quantiles`` a
            second list). For an ``(n, k, F)`` array: one ``(n, k, ...)`` array, whose
            entry ``i`` is the ``i``-th id's. Seq2SeqTransformer: what ``predict``
            gives on the prefix so far, after the chunk's last step (None for a series
            with no steps yet).
        """
        ids = self._check_ids(ids, known=False)
        self._check_extras(return_std, return_quantiles)
        chunks, static = self._chunks(ids, X_new)
        if not ids:
            return ([], []) if return_std or return_quantiles else []
        if static is not None:
            for key, row in zip(ids, static):
                if key in self._rows and self._steps(key) > 0 and not np.array_equal(
                        self._state["static"][self._rows[key]], row):
                    raise ValueError(f"id {key!r}: static covariates differ from those "
                                     "the series started with (reset it to change them).")
        if self._rows_cache is None or self._rows_cache[0] != ids:  # (else all known)
            self._new_rows([key for key in ids if key not in self._rows])
        if static is not None:
            for key, row in zip(ids, static):
                self._state["static"][self._rows[key]] = row
        dense = isinstance(chunks, np.ndarray)  # (n, k, F): every id moves k steps
        moving = (list(range(len(ids))) if dense and chunks.shape[1] else [] if dense
                  else [i for i, c in enumerate(chunks) if len(c)])
        outs = None
        if moving:
            keys = ids if dense else [ids[i] for i in moving]
            # (a decoder reads every encoder output: a seq2seq stream keeps them all)
            done = self._advance(keys, chunks if dense else [chunks[i] for i in moving],
                                 last_only=not every_step and not self._seq2seq)
            outs = done if dense else dict(zip(moving, done))
        if self._seq2seq:
            return [self._last.get(key) for key in ids]
        if dense and outs is None:
            outs = np.zeros((len(ids), 0, self.estimator._spec.n_outputs), np.float32)
        if not isinstance(outs, np.ndarray):  # per id, empty where no step came
            empty = np.zeros((0, self.estimator._spec.n_outputs), np.float32)
            outs = [(outs or {}).get(i, empty) for i in range(len(ids))]
        answers = self._answers(outs, return_std, return_quantiles)
        if every_step:
            return answers
        def last(values):
            if isinstance(values, np.ndarray):
                return values[:, -1] if values.shape[1] else [None] * len(values)
            return [v[-1] if len(v) else None for v in values]

        return tuple(map(last, answers)) if isinstance(answers, tuple) else last(answers)

    def _rows_of(self, keys) -> np.ndarray:
        """The state rows of ``keys`` (the last call's, when the keys are the same: a
        service feeds the same series update after update)."""
        cached = self._rows_cache
        if cached is not None and cached[0] == keys:
            return cached[1]
        rows = np.array([self._rows[key] for key in keys], dtype=np.int64)
        self._rows_cache = (list(keys), rows)
        return rows

    def _steps(self, key) -> int:
        return int(self._state["steps"][self._rows[key], 0])

    def _compiled_step(self, last_only: bool, single: bool = False):
        """The engine's step compiled (:func:`._compile.packed_call`), once per kind of
        call."""
        if self._steps_compiled is None:
            self._steps_compiled = {}
        key = (last_only, single)
        if key not in self._steps_compiled:
            self._steps_compiled[key] = packed_call(
                self._engine, last_only, single, self._input_kind() == "tokens")
        return self._steps_compiled[key]

    def _advance(self, keys, chunks, last_only=False):
        """Run the chunks (a list, or an ``(n, k, F)`` array) through the network and
        store the new states and answers; returns the raw outputs after every new step
        (``last_only``: after the last) of each key: a list, or an ``(n, k, C)`` array
        for an array of chunks."""

        rows = self._rows_of(keys)
        n, b = len(keys), bucket(len(keys), 8)
        # every field side by side; filler rows repeat the first (their outputs unread)
        state = self._packed[np.concatenate([rows, np.full(b - n, rows[0])])]
        dense = isinstance(chunks, np.ndarray)
        longest = chunks.shape[1] if dense else max(len(c) for c in chunks)
        size = self._engine.chunk_size(b, last_only)
        step = self._compiled_step(last_only, single=min(size, longest) == 1)
        outputs = []
        for start in range(0, longest, size):
            x, mask, lengths = self._batch(rows, chunks, start, start + size)
            out, new = step(x, mask, state)
            outputs.append((out[:n, None] if last_only else out[:n], lengths))
            moved = lengths > 0
            # rows without steps in this call keep their state
            state = new if moved.all() else np.where(
                np.concatenate([moved, np.zeros(b - n, bool)])[:, None], new, state)
        self._packed[rows] = state[:n]
        if dense:
            result = (outputs[0][0] if len(outputs) == 1 else np.concatenate(
                [o[:, :(1 if last_only else m[0])] for o, m in outputs], axis=1))
            per_key = result = result[:, -1:] if last_only else result[:, :longest]
        else:
            per_key = []
            for r in range(n):
                parts = [o[r, :1 if last_only else m[r]] for o, m in outputs if m[r]]
                per_key.append(parts[-1] if last_only else np.concatenate(parts))
        check_finite_outputs(self.estimator, per_key, ids=keys)
        if not self._seq2seq:
            self._state["last"][rows] = (per_key[:, -1] if dense else
                                         np.stack([p[-1] for p in per_key]))
        else:
            self._decode(keys, rows, per_key)
        return per_key

    def _decode(self, keys, rows, encoded) -> None:
        """Seq2SeqTransformer: decode every moved series from its encoder state (and,
        with attention, every encoder output it has had), as ``predict`` does."""
        est = self.estimator
        states = [self._state[name][rows] for name in self._engine.state_names]
        memory = mask = None
        if self._engine.attention:
            for r, key in enumerate(keys):
                old = self._memory.get(key)
                self._memory[key] = (encoded[r] if old is None
                                     else np.concatenate([old, encoded[r]]))
            lengths = np.array([len(self._memory[key]) for key in keys])
            memory = np.zeros((len(keys), lengths.max(), encoded[0].shape[-1]), np.float32)
            for r, key in enumerate(keys):
                memory[r, :lengths[r]] = self._memory[key]
            mask = np.arange(lengths.max())[None, :] < lengths[:, None]
        else:  # the one-step decoder takes a memory it does not read without attention
            memory = np.zeros((len(keys), 1, encoded[0].shape[-1]), np.float32)
            mask = np.ones((len(keys), 1), bool)
        outputs = est._decode_encoded(memory, mask, states, np.arange(len(keys)))
        if est._target_kind != "tokens":
            outputs = [est._unscale(est._split(o)[0]) for o in outputs]
        for key, out in zip(keys, outputs):
            self._last[key] = out

    # -------------------------------------------------------------------- answers
    def _check_extras(self, return_std, return_quantiles):
        if return_std or return_quantiles:
            if self._seq2seq or hasattr(self.estimator, "classes_"):
                raise ValueError("return_std / return_quantiles are for an RNNRegressor.")
            if return_std and return_quantiles:
                raise ValueError("Ask for return_std or return_quantiles, not both.")
            if return_std:
                self.estimator._check_return_std(True)
            else:
                self.estimator._check_quantile_loss()

    def _answers(self, outs, return_std=False, return_quantiles=False):
        """Raw outputs (a list of ``(k_i, C)``, or one ``(n, k, C)`` array) as the
        estimator answers: probabilities, or values (and stds or quantiles)."""
        est = self.estimator
        if isinstance(outs, np.ndarray):  # (n, k, C): answered as one array
            lead = outs.shape[:-1]
            outs = outs.reshape(-1, outs.shape[-1])
            cut = lambda a: a.reshape(*lead, *a.shape[1:])  # noqa: E731
        else:  # one array of every id's steps, answered at once, then cut
            ends = np.cumsum([len(o) for o in outs])[:-1]
            outs = np.concatenate(outs)
            cut = lambda a: np.split(a, ends)  # noqa: E731
        rows = len(outs)
        if not rows:  # (the backends' reshapes cannot infer an axis of zero rows)
            outs = np.zeros((1, outs.shape[-1]), np.float32)
        split = lambda a: cut(a[:rows])  # noqa: E731
        if hasattr(est, "classes_"):
            return split(est._probabilities(outs))
        squeeze = est._y_ndim == 1
        values = split(est._unscale(est._split(outs)[0], squeeze=squeeze))
        if return_std:
            return values, split(est._unscale(est._split(outs)[1], "std", squeeze))
        if return_quantiles:
            return values, split(est._unscale(est._split(outs)[1], "quantiles", squeeze))
        return values

    def _current(self, ids):
        """The ids checked, and their current raw outputs ``(n, 1, C)`` (seq2seq: the
        decoded answers)."""
        ids = self._check_ids(ids, known=True)
        rows = self._rows_of(ids)
        empty = np.flatnonzero(self._state["steps"][rows, 0] == 0)
        if len(empty):
            raise ValueError(f"id {ids[empty[0]]!r} has no steps yet: there is no answer "
                             "to give.")
        if self._seq2seq:
            return ids, [self._last[key] for key in ids]
        return ids, self._state["last"][rows][:, None]

    def predict(self, ids, return_std=False):
        """The current answer of each series (after its last step): labels, values (and
        standard deviations), or a Seq2SeqTransformer's decoded output."""
        ids, outs = self._current(ids)
        if self._seq2seq:
            return outs
        est = self.estimator
        if hasattr(est, "classes_"):
            return est.classes_[outs[:, 0].argmax(axis=-1)]
        answers = self._answers(outs, return_std=return_std)
        if return_std:
            return np.stack(answers[0])[:, 0], np.stack(answers[1])[:, 0]
        return np.stack(answers)[:, 0]

    def predict_proba(self, ids):
        """RNNClassifier: the current class probabilities, ``(len(ids), n_classes)``."""
        if not hasattr(self.estimator, "classes_"):
            raise AttributeError("predict_proba is for a stream of an RNNClassifier.")
        _, outs = self._current(ids)
        return np.concatenate(self._answers(outs))

    def predict_quantiles(self, ids):
        """RNNRegressor with ``loss="quantile"``: the current quantiles."""
        self._check_extras(False, True)
        _, outs = self._current(ids)
        return np.stack([q[0] for q in self._answers(outs, return_quantiles=True)[1]])

    # ------------------------------------------------------------- exported graphs
    def initial_state(self, n: int = 1) -> np.ndarray:
        """The state ``n`` new series start from, as the graph of
        ``est.export(path, streaming=True)`` takes it: ``(n, width)`` float32."""
        return np.tile(self._initial_row, (int(n), 1))

    def state_of(self, ids) -> np.ndarray:
        """These series' states as the exported ``step`` takes them, ``(len(ids),
        width)`` float32: warm series here, serve them from the exported graph."""
        if self._seq2seq:
            raise ValueError("state_of is for the streams of RNNClassifier and "
                             "RNNRegressor (whose graphs export with streaming=True).")
        ids = self._check_ids(ids, known=True)
        return self._packed[self._rows_of(ids)].copy()

    # --------------------------------------------------------------------- saving
    def _engine_memory(self) -> bool:
        """Whether each series keeps its encoder outputs (seq2seq with attention)."""
        return self._seq2seq and self._engine.attention

    def _restore(self, ids, state, memory, lengths) -> None:
        """A loaded stream's series (checked by the loader)."""
        self._rows = {key: i for i, key in enumerate(ids)}
        self._free = []
        self._allocate(len(ids))
        for name, value in state.items():
            self._state[name][:] = value
        if memory is not None:
            ends = np.cumsum(lengths)
            for key, end, length in zip(ids, ends, lengths):
                if length:
                    self._memory[key] = memory[end - length:end]
        moved = [key for key in ids if self._steps(key) > 0]
        if self._seq2seq and moved:
            nothing = np.zeros((0, self._engine.memory_width), np.float32)
            self._decode(moved, self._rows_of(moved), [nothing] * len(moved))

    def save(self, path) -> None:
        """Write the estimator and every series' state to one file that
        :func:`skrnn.load` reads back (no pickle), so a service restarts where it
        stopped and continues bit-identically."""
        from ..serving._saving import save_stream

        save_stream(self, path)
