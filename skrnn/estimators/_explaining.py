"""The machinery of :mod:`skrnn.inspection`: a fitted estimator and the sequences to
explain, in the space attributions are taken in, with the output explained
(:class:`Explained`, its integrated gradients and occlusion), and the resampling of
the time-step permutation importance."""

from __future__ import annotations

import numbers

import numpy as np

from .. import data as sd


class Explained:
    """A fitted estimator, the sequences to explain in the space attributions are taken
    in (values in the input's units, or token embeddings), the baselines, and the
    output explained for each (sequence, output step)."""

    def __init__(self, estimator, X, baseline, target, quantile):
        import keras

        self.est = est = estimator
        seq = est._check_X(X, reset=False)
        self.tokens, self.standardised = seq.kind == "tokens", False
        self.lengths = np.asarray(seq.lengths)
        model = est.model_
        if self.tokens:
            table = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
            self.u = [table[ids].astype(np.float32) for ids in est._encode_X(seq)]
            self.static = None
            if baseline is not None:
                raise ValueError("token sequences are explained against the zero "
                                 "embedding: pass baseline=None.")
            self.layers = [layer for layer in model.layers
                           if not isinstance(layer, (keras.layers.InputLayer,
                                                     keras.layers.Embedding))]
        else:
            encoded = est._encode_X(seq)
            # scaling="sequence" is explained on each series' standardised values: a
            # straight path from a baseline never changes them (z(a x) = z(x)).
            self.standardised = est._input_scaling()[0] == "sequence"
            self.u = [np.asarray(v, np.float32) for v in
                      (sd.apply_scaling(seq.values, "sequence") if self.standardised
                       else seq.values)]
            n_f = self.u[0].shape[1] if len(self.u) else 0
            self.static = ([e[:, n_f:] for e in encoded]
                           if getattr(seq, "static", None) is not None else None)
        self.base = self._baselines(baseline)
        self.out_steps = est.return_sequences
        self._target(target, quantile, X)

    # ------------------------------------------------------------------ reading
    def _baselines(self, baseline):
        if baseline is None:
            return [np.zeros_like(u) for u in self.u]
        seq = self.est._check_X(baseline, reset=False)
        values = [np.asarray(v, np.float32) for v in
                  (sd.apply_scaling(seq.values, "sequence") if self.standardised
                   else seq.values)]
        if len(values) != len(self.u):
            raise ValueError(f"baseline holds {len(values)} sequences, X {len(self.u)}.")
        for i, (b, u) in enumerate(zip(values, self.u)):
            if b.shape != u.shape:
                raise ValueError(f"baseline[{i}] has shape {b.shape}, X[{i}] {u.shape}: "
                                 "a baseline is shaped like the sequence it stands for.")
        return values

    def _target(self, target, quantile, X):
        """``self.column[i]``: the output column explained for sequence ``i`` (an array
        per step for tagging models); ``self.read``: raw outputs -> explained values."""
        est = self.est
        from keras import ops

        n = len(self.u)
        if est._task == "classification":
            if quantile is not None:
                raise ValueError("quantile is for a regressor fitted with loss='quantile'.")
            if target is None:
                outputs = est._outputs(X)
                column = ([o.argmax(-1) for o in outputs] if self.out_steps
                          else list(outputs.argmax(-1)))
            else:
                labels = (np.full(n, target, dtype=object) if np.ndim(target) == 0
                          else np.asarray(target, dtype=object))
                if len(labels) != n:
                    raise ValueError(f"target holds {len(labels)} labels for {n} sequences.")
                known = {c: i for i, c in enumerate(est.classes_.tolist())}
                unknown = [t for t in labels.tolist() if t not in known]
                if unknown:
                    raise ValueError(f"target {unknown[0]!r} is not among the classes "
                                     f"{est.classes_.tolist()}.")
                column = [known[t] for t in labels.tolist()]
                if self.out_steps:
                    column = [np.full(t, c) for t, c in zip(self.lengths, column)]

            def read(out):
                return ops.softmax(out, axis=-1)
        else:
            k = 0 if target is None else target
            if not isinstance(k, numbers.Integral) or not 0 <= k < est.n_outputs_:
                raise ValueError(f"target must be an output index in [0, "
                                 f"{est.n_outputs_ - 1}] for a regressor, got {target!r}.")
            column = [np.full(t, int(k)) for t in self.lengths] if self.out_steps \
                else [int(k)] * n
            read = self._regression_reader(int(k), quantile)
        self.column, self.read = column, read

    def _regression_reader(self, k, quantile):
        """Raw outputs -> every output's value in the target's units (the quantile
        ``quantile`` with loss="quantile"), ``(..., n_outputs)``."""
        from keras import ops

        from ..training._losses import gaussian_outputs, quantile_outputs

        est = self.est
        task = est._loss_task()
        name = getattr(task, "name", "squared_error")
        if quantile is not None and name != "quantile":
            raise ValueError("quantile needs a regressor fitted with loss='quantile'.")
        mean, scale = (ops.convert_to_tensor(np.asarray(a, np.float32))
                       for a in (est._y_mean, est._y_scale))
        if name == "quantile":
            levels = list(task.quantiles)
            level = 0.5 if quantile is None else float(quantile)
            if not any(np.isclose(level, q) for q in levels):
                raise ValueError(f"quantile {quantile!r} is not among the fitted levels "
                                 f"{levels}.")
            index = int(np.argmin(np.abs(np.array(levels) - level)))

            def point(out):
                return quantile_outputs(out, len(levels))[..., index]
        elif name == "gaussian":
            def point(out):
                return gaussian_outputs(out)[0]
        else:
            def point(out):
                return out

        def read(out):
            return point(out) * scale + mean
        return read

    # -------------------------------------------------------------- the function
    def _network(self, u, mask, static):
        """Raw outputs for a batch ``u`` in attribution space (a backend tensor)."""
        from keras import ops

        est = self.est
        mask = ops.convert_to_tensor(mask)
        if self.tokens:
            from ..models._recurrent import _apply

            return _apply(self.layers, u, mask)[0]
        mode, stats = est._input_scaling()
        keep = ops.expand_dims(ops.cast(mask, "float32"), -1)
        z = u
        if mode == "feature":  # padded steps stay exact zeros, as predict pads them
            mean, scale = (ops.convert_to_tensor(a.astype(np.float32)) for a in stats)
            z = (u - mean) / scale * keep
        if static is not None:
            z = ops.concatenate([z, ops.convert_to_tensor(static)], axis=-1)
        return est.model_([z, mask], training=False)

    def _values(self, u, mask, static, columns, steps):
        """The explained value of every row: its output column (at its output step)."""
        from keras import ops

        out = self.read(self._network(u, mask, static))
        if self.out_steps:  # (B, T, C): each row's own output step
            pick = np.zeros(out.shape[:2], np.float32)
            pick[np.arange(len(steps)), steps] = 1.0
            out = ops.sum(out * ops.expand_dims(ops.convert_to_tensor(pick), -1), axis=1)
        onehot = ops.convert_to_tensor(np.eye(out.shape[-1], dtype=np.float32)[columns])
        return ops.sum(out * onehot, axis=-1)

    def _rows(self):
        """Every (sequence, output step) explained, sequences of similar lengths
        together: ``(sequence, output step or 0, column)``."""
        order = np.argsort(self.lengths, kind="stable")
        for i in order:
            if self.out_steps:
                for t in range(self.lengths[i]):
                    yield i, t, int(self.column[i][t])
            else:
                yield i, 0, int(self.column[i])

    def _run(self, rows, batch_size, gradient: bool):
        """``rows``: an iterable of ``(key, sequence, step, column, u_row)``; yields
        ``(key, value, gradient)`` per row, batched by up to ``batch_size`` rows."""
        from ..training._gradients import value_and_input_gradient

        pending = []

        def flush():
            idx = np.array([r[1] for r in pending])
            width = int(self.lengths[idx].max())
            c = pending[0][4].shape[-1]
            u = np.zeros((len(pending), width, c), np.float32)
            mask = np.zeros((len(pending), width), bool)
            for j, r in enumerate(pending):
                u[j, :len(r[4])], mask[j, :len(r[4])] = r[4], True
            static = None
            if self.static is not None:
                static = np.zeros((len(pending), width, self.static[0].shape[1]),
                                  np.float32)
                for j, r in enumerate(pending):
                    static[j, :len(r[4])] = self.static[r[1]]
            steps = np.array([r[2] for r in pending])
            columns = np.array([r[3] for r in pending])

            def fn(x):
                return self._values(x, mask, static, columns, steps)
            if gradient:
                values, grads = value_and_input_gradient(fn, u)
            else:
                from keras import ops

                values, grads = ops.convert_to_numpy(fn(ops.convert_to_tensor(u))), None
            for j, r in enumerate(pending):
                yield r[0], float(values[j]), (None if grads is None
                                               else grads[j, :len(r[4])])
            pending.clear()

        for row in rows:
            pending.append(row)
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

    def _empty(self):
        shape = lambda i: ((self.lengths[i],) if self.out_steps else ()) + self.u[i].shape  # noqa: E731
        return [np.zeros(shape(i), np.float64) for i in range(len(self.u))]

    # ---------------------------------------------------------------- the methods
    def integrated(self, points, batch_size):
        """Integrated gradients over Gauss-Legendre ``points`` on [-1, 1] (saliency: one
        point at the input)."""
        nodes, weights = points
        alphas, wts = (nodes + 1) / 2, weights / 2
        result = self._empty()

        def rows():
            for i, t, column in self._rows():
                delta = self.u[i] - self.base[i]
                for a_index, alpha in enumerate(alphas):
                    yield ((i, t, a_index), i, t, column, self.base[i] + alpha * delta)

        for (i, t, a_index), _, grad in self._run(rows(), batch_size, gradient=True):
            part = wts[a_index] * grad * (self.u[i] - self.base[i])
            if self.out_steps:
                result[i][t] += part
            else:
                result[i] += part
        return result

    def occlusion(self, window, batch_size):
        """Mean output drop over the windows (``window`` steps, one channel; every
        channel of a token's embedding at once) that cover each step."""
        result, covered = self._empty(), self._empty()
        reference = {}

        def blocks(i):
            n, c = self.u[i].shape
            w = min(window, n)
            channels = [slice(None)] if self.tokens else [slice(j, j + 1) for j in range(c)]
            for start in range(n - w + 1):
                for ch in channels:
                    yield slice(start, start + w), ch

        def rows():
            for i, t, column in self._rows():
                yield (i, t, None), i, t, column, self.u[i]
                for b, (steps, ch) in enumerate(blocks(i)):
                    occluded = self.u[i].copy()
                    occluded[steps, ch] = self.base[i][steps, ch]
                    yield (i, t, b), i, t, column, occluded

        drops = []
        for (i, t, b), value, _ in self._run(rows(), batch_size, gradient=False):
            if b is None:
                reference[i, t] = value
            else:
                drops.append((i, t, b, value))
        cached = {}
        for i, t, b, value in drops:
            if i not in cached:
                cached[i] = list(blocks(i))
            steps, ch = cached[i][b]
            target = (result[i][t], covered[i][t]) if self.out_steps else (result[i],
                                                                           covered[i])
            target[0][steps, ch] += reference[i, t] - value
            target[1][steps, ch] += 1.0
        return [r / np.maximum(c, 1.0) for r, c in zip(result, covered)]


def stretch(part, length: int, tokens: bool):
    """``part`` (``(k, ...)``) resampled to ``length`` steps."""
    if length == 0:
        return part[:0]
    if len(part) == 0:
        return None
    where = np.linspace(0, len(part) - 1, length)
    if tokens or len(part) == 1:
        return part[np.round(where).astype(int)]
    return np.stack([np.interp(where, np.arange(len(part)), column)
                     for column in part.reshape(len(part), -1).T], axis=1)


def replaced(receiver, donor, span, channels, tokens):
    """A copy of ``receiver`` with ``span`` (all steps, or a share ``(a, b)`` of its
    length) of ``channels`` taken from the same share of ``donor``."""
    out = receiver.copy()
    if span == slice(None):
        lo, hi, dlo, dhi = 0, len(receiver), 0, len(donor)
    else:
        a, b = span
        lo, hi = int(round(a * len(receiver))), int(round(b * len(receiver)))
        dlo, dhi = int(round(a * len(donor))), int(round(b * len(donor)))
    part = stretch(donor[dlo:dhi][:, channels] if not tokens else donor[dlo:dhi],
                    hi - lo, tokens)
    if part is None:  # the donor has nothing there: keep the receiver's own
        return out
    if tokens:
        out[lo:hi] = part
    else:
        out[lo:hi, channels] = part.reshape(hi - lo, -1)
    return out
