"""Live series: ``est.stream()`` and what it returns (see docs/streaming.md)."""

from __future__ import annotations

import pickle
from collections.abc import Hashable

import numpy as np

from .. import data as sd


def _bucket(n: int, least: int = 1) -> int:
    """``n`` rounded up to a power of two (at least ``least``): the compiled step sees
    few distinct shapes."""
    return max(least, 1 << max(0, int(n) - 1).bit_length())


def _compiled(fn, single=False):
    """``fn`` compiled for the backend: a ``tf.function`` traced once per shape (the
    shapes are rounded to powers of two) and called through that concrete graph, which
    skips tf.function's dispatch; for calls of one step (``single``) compiled by XLA,
    which fuses the cell's few small operations. A ``jax.jit`` (the weights as
    constants: the stream holds a snapshot). Torch: called as it is, without autograd."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(fn, jit_compile=single)
        concrete = {}  # shapes (rounded to powers of two) -> the traced graph

        def call(*args):  # a concrete function skips tf.function's dispatch
            tensors = [tf.convert_to_tensor(a) for a in args]
            key = tuple((t.dtype, tuple(t.shape)) for t in tensors)
            if key not in concrete:
                concrete[key] = compiled.get_concrete_function(
                    *[tf.TensorSpec(t.shape, t.dtype) for t in tensors])
            return concrete[key](*tensors)
        return call
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "torch":
        import torch

        def call(*args):
            args = keras.tree.map_structure(keras.ops.convert_to_tensor, args)
            with torch.no_grad():
                return fn(*args)
        return call
    return fn


def why_not_streamable(est) -> str | None:
    """Why ``est`` cannot stream exactly (a sentence naming the parameter), or None."""
    if getattr(est, "_spec", None) is not None and getattr(est._spec, "bidirectional", False):
        return ("bidirectional=True: the backward direction reads every step from the "
                "end, so each new step would change all of them; stream a "
                "unidirectional model")
    if hasattr(est, "_decoder_step"):
        if est._source_kind == "vector":
            return ("the source is one vector per sample (one-to-many): there are no "
                    "steps to stream")
        if sd.fitted_covariates(est).future is not None:
            return ("future covariates: each forecast reads covariates over a horizon "
                    "that moves with every update; predict on the prefix instead")
        return None
    if getattr(est, "_scaling", None) == "sequence":
        return ("scaling='sequence': each prefix is z-normalised by its own mean and "
                "standard deviation, which change with every step; refit with "
                "scaling='feature' (or None) to stream")
    return None


class StreamMixin:
    """``est.stream()`` for the three estimators."""

    def stream(self):
        """A set of live series, empty at first: feed each one new steps as they
        arrive with :meth:`Stream.update` and get the answer after every step, at a
        cost that does not grow with the history (the recurrent state is carried).

        The outputs equal what ``predict`` / ``predict_proba`` give on each series'
        whole prefix (to float32 rounding). The stream holds a snapshot of the fitted
        estimator: fitting it again later does not change the stream.

        Raises
        ------
        ValueError
            For a model whose answers on a prefix cannot be carried step by step:
            ``bidirectional=True``, ``scaling="sequence"``; a Seq2SeqTransformer of
            vectors or with future covariates.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        why = why_not_streamable(self)
        if why is not None:
            raise ValueError(f"{type(self).__name__} cannot stream exactly: {why}.")
        if getattr(self, "_step", None) is not None:
            self._step.sync_to_model()
        return pickle.loads(pickle.dumps(self))._new_stream()

    def _new_stream(self):
        """A stream of this estimator itself (no snapshot): what a loaded file's
        stream is built on."""
        return Stream(self)

    def _why_not_streamable(self):
        return why_not_streamable(self)


class Stream:
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
        packed = np.zeros((capacity, self._width()), np.float32)
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

    def _clear(self, row) -> None:
        for name, value in self._engine.initial().items():
            self._state[name][row] = value
        if "static" in self._state:
            self._state["static"][row] = 0.0

    def reset(self, ids) -> None:
        """Start these series again from no steps (their static covariates kept)."""
        for key in self._check_ids(ids, known=True):
            row = self._rows[key]
            static = self._state["static"][row].copy() if "static" in self._state else None
            self._clear(row)
            if static is not None:
                self._state["static"][row] = static
            self._last.pop(key, None)
            self._memory.pop(key, None)

    def drop(self, ids) -> None:
        """Forget these series."""
        self._rows_cache = None
        for key in self._check_ids(ids, known=True):
            self._free.append(self._rows.pop(key))
            self._last.pop(key, None)
            self._memory.pop(key, None)

    # ----------------------------------------------------------------- the inputs
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
        with np.errstate(over="ignore", invalid="ignore"):
            values = np.asarray(arr, np.float64)
            if not self._seq2seq:
                mode, stats = self.estimator._input_scaling()
                if mode == "feature":
                    values = (values - stats[0]) / stats[1]
            out = values.astype(np.float32)
        bound = np.finfo(np.float32).max
        if not (np.isfinite(arr).all() and np.abs(arr).max(initial=0) <= bound
                and np.isfinite(out).all()):
            return None
        return out

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
        est = self.estimator
        if not self._seq2seq:
            mode, stats = est._input_scaling()
            if mode == "feature":
                arr = (arr - stats[0]) / stats[1]
        out = arr.astype(np.float32)
        if not np.isfinite(out).all():
            raise ValueError(f"{what} holds values that are not finite once scaled.")
        return out

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

    def _batch(self, rows, chunks, start, stop):
        """The padded batch of steps ``start:stop`` of every chunk (rows and steps
        rounded up to powers of two), static covariates appended; and each row's
        number of steps in it."""
        n = len(rows)
        b = _bucket(n, 8)
        tokens = self._input_kind() == "tokens"
        width = self._engine.input_width
        if isinstance(chunks, np.ndarray):
            part = chunks[:, start:stop]
            lengths = np.full(n, part.shape[1])
            k = _bucket(part.shape[1])
            x = np.zeros((b, k, part.shape[2]), np.float32)
            x[:n, :part.shape[1]] = part
            mask = np.zeros((b, k), bool)
            mask[:n, :part.shape[1]] = True
        else:
            lengths = np.array([max(0, min(len(c), stop) - start) for c in chunks])
            k = _bucket(int(lengths.max()))
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

    def _width(self) -> int:
        return sum(int(np.prod(shape)) for shape in self._engine.fields.values())

    def _compiled_step(self, last_only: bool, single: bool = False):
        """The engine's step compiled, as ``(x, mask, state) -> (outputs, state)``,
        ``state`` every field side by side in one ``(B, width)`` array. The compiled
        function itself takes one array, ``[x, mask, state]`` flattened per row, and
        returns one, ``[outputs, state]``: a call's fixed cost is mostly per tensor
        passed. ``single``: a function of its own for calls of one step (traced with
        that shape, it runs the cells without a loop)."""
        if self._steps_compiled is None:
            self._steps_compiled = {}
        key = (last_only, single)
        if key not in self._steps_compiled:
            from keras import ops

            fn = (self._engine.step_last if last_only and hasattr(self._engine, "step_last")
                  else self._engine.step)
            fields = dict(self._engine.fields)

            width = self._width()
            tokens = self._input_kind() == "tokens"
            per_step = 1 if tokens else self._n_features_in()

            def packed(flat):
                b, columns = ops.shape(flat)[0], flat.shape[1]
                k = (columns - width) // (per_step + 1)  # (static: one trace per shape)
                x = ops.reshape(flat[:, :k * per_step], (b, k) if tokens else
                                (b, k, per_step))
                x = ops.cast(x, "int32") if tokens else x
                mask = flat[:, k * per_step:k * (per_step + 1)] > 0.5
                unpacked, at = {}, k * (per_step + 1)
                for name, shape in fields.items():
                    size = int(np.prod(shape))
                    unpacked[name] = ops.reshape(flat[:, at:at + size], (b, *shape))
                    at += size
                out, new = fn(x, mask, unpacked)
                return ops.concatenate(
                    [ops.reshape(out, (b, -1))] +
                    [ops.reshape(new.get(name, unpacked[name]), (b, int(np.prod(shape))))
                     for name, shape in fields.items()], axis=1)

            compiled = _compiled(packed, single)

            def call(x, mask, state):
                b = len(state)
                flat = np.concatenate([x.reshape(b, -1).astype(np.float32, copy=False),
                                       mask.astype(np.float32), state], axis=1)
                result = ops.convert_to_numpy(compiled(flat))
                out = result[:, :result.shape[1] - width]
                return out.reshape(b, x.shape[1], -1) if not last_only else out, \
                    result[:, result.shape[1] - width:]

            self._steps_compiled[key] = call
        return self._steps_compiled[key]

    def _n_features_in(self) -> int:
        """Values per step the network reads (static covariates included)."""
        return self._engine.input_width

    def _advance(self, keys, chunks, last_only=False):
        """Run the chunks (a list, or an ``(n, k, F)`` array) through the network and
        store the new states and answers; returns the raw outputs after every new step
        (``last_only``: after the last) of each key: a list, or an ``(n, k, C)`` array
        for an array of chunks."""

        rows = self._rows_of(keys)
        n, b = len(keys), _bucket(len(keys), 8)
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
        bad = [r for r in range(n) if not np.isfinite(per_key[r]).all()] \
            if not np.isfinite(result if dense else np.concatenate(
                [p.reshape(-1) for p in per_key])).all() else []
        if bad:
            raise ValueError(f"{type(self.estimator).__name__} computes non-finite "
                             f"outputs for id {keys[bad[0]]!r}; no answer is returned "
                             "rather than a NaN (check the scale of its steps against the "
                             "training data).")
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
        rows = np.array([self._rows[key] for key in ids], dtype=np.int64)
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
        if self._seq2seq:
            ids, _ = self._current(ids)
            return [self._last[key] for key in ids]
        ids, outs = self._current(ids)
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
        return np.tile(self._packed_initial(), (int(n), 1))

    def state_of(self, ids) -> np.ndarray:
        """These series' states as the exported ``step`` takes them, ``(len(ids),
        width)`` float32: warm series here, serve them from the exported graph."""
        if self._seq2seq:
            raise ValueError("state_of is for the streams of RNNClassifier and "
                             "RNNRegressor (whose graphs export with streaming=True).")
        ids = self._check_ids(ids, known=True)
        return self._packed[self._rows_of(ids)].copy()

    def _packed_initial(self) -> np.ndarray:
        return np.concatenate([value.reshape(-1) for value in
                               self._engine.initial().values()]).astype(np.float32)

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
            rows = np.array([self._rows[key] for key in moved])
            self._decode(moved, rows, [np.zeros((0, self._engine.memory_width), np.float32)]
                         * len(moved))

    def save(self, path) -> None:
        """Write the estimator and every series' state to one file that
        :func:`skrnn.load` reads back (no pickle), so a service restarts where it
        stopped and continues bit-identically."""
        from ..serving._saving import save_stream

        save_stream(self, path)
