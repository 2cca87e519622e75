"""The streaming step of a fitted recurrent network: new steps and the carried state
in, the output after every new step and the new state out, written with ``keras.ops``
(so it runs on every backend and traces into a TensorFlow graph for export).

What is carried per series (:attr:`StreamEngine.fields`, all float32):

- ``steps``: the real steps seen;
- ``rnn_{i}_{j}``: state ``j`` of recurrent layer ``i`` (an LSTM's ``h`` and ``c``);
- ``mean_sum``: mean pooling's running sum of the last layer's outputs;
- ``attention_max``, ``attention_norm``, ``attention_sum``: attention pooling as a
  running softmax: the largest score so far, ``sum exp(score - max)`` and the
  weighted sum of outputs on the same scale;
- ``conv_buffer``, ``conv_real``: the convolutional front-end's receptive field, the
  last ``L + R`` inputs of the block (and which of them are real steps);
  ``conv_sum``: in ``conv_mode="parallel"`` the running sum of its settled features.

A "same" convolution of kernel ``k`` reads ``(k - 1) // 2`` steps back and the rest
ahead; through the blocks, ``L`` back and ``R`` ahead. So for a prefix of ``n`` steps
(which :meth:`predict` sees as a whole sequence, zeros after it) the features of its
last ``R`` steps are provisional: the next steps change them. Every new step settles one
feature and the last ``R`` are recomputed from the buffer, each in a window of ``L + R +
1`` inputs. With ``conv_mode="before"`` the recurrent state (and the pooling's) is
carried to the last settled feature and the recurrent layers re-run over the ``R``
provisional ones for every output: a fixed cost, not one that grows with the history.
"""

from __future__ import annotations

from keras import ops

#: A score below every real one (finite, so a saved stream loads: -inf would not).
_NEG = -3.0e38
#: Steps per call of the compiled step when the convolutional front-end is on (its work
#: per step grows with the steps of a call): longer chunks go in several calls.
CONV_CHUNK = 32
#: Attention pooling's running softmax rescales a whole chunk by its largest score;
#: when scores can differ by more than this (``2 * ||v||_1``) exp() could underflow to
#: zero for an early step of a chunk, so chunks go one step at a time (exact).
_SAFE_SCORE_RANGE = 60.0


def _last_real(values, mask):
    """Each row's value at its last real step (rows of no real step: the first)."""
    n = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)
    at = ops.maximum(n - 1, 0)
    return ops.take_along_axis(values, ops.expand_dims(at, -1), axis=1)[:, 0]


def _recurrent_cell(layer):
    return layer.cell


def _run_cell(cell, h, mask, states):
    """A recurrent cell over ``h`` (B, k, D) from ``states``: every step's output and
    the final states (masked steps carry the state, as Keras' layers do)."""
    from keras.src import backend as kb
    from keras.src import tree

    def step(inputs, st):
        out, new = cell(inputs, st, training=False)
        if not tree.is_nested(new):
            new = [new]
        return out, list(new)

    if h.shape[1] == 1:  # one step (a compiled call of its own): no loop
        out, new = step(h[:, 0], list(states))
        keep = ops.expand_dims(mask[:, 0], -1)
        return ops.expand_dims(out, 1), [ops.where(keep, n, s) for n, s in zip(new, states)]
    _, outputs, new_states = kb.rnn(step, h, list(states), mask=mask,
                                    zero_output_for_mask=False, return_all_outputs=True)
    if not isinstance(new_states, (list, tuple)):
        new_states = [new_states]
    return outputs, list(new_states)


class CarriedFields:
    """What an engine carries per series: ``fields`` (name -> per-series shape, all
    float32) and their layout side by side in one row of ``width`` values, which the
    stream stores and the compiled and exported steps take (:meth:`unpack`,
    :meth:`pack`)."""

    fields: dict = {}

    def initial(self) -> dict:
        """One new series' state (per-series shapes, no batch axis): zeros."""
        import numpy as np

        return {name: np.zeros(shape, np.float32) for name, shape in self.fields.items()}

    @property
    def width(self) -> int:
        return sum(_size(shape) for shape in self.fields.values())

    def initial_row(self):
        """:meth:`initial` as one packed row, ``(width,)``."""
        import numpy as np

        return np.concatenate([v.reshape(-1) for v in self.initial().values()] or
                              [np.zeros(0)]).astype(np.float32)

    def unpack(self, flat):
        """``(B, width)`` -> a dict of ``(B, *shape)`` tensors."""
        b, at, state = ops.shape(flat)[0], 0, {}
        for name, shape in self.fields.items():
            state[name] = ops.reshape(flat[:, at:at + _size(shape)], (b, *shape))
            at += _size(shape)
        return state

    def pack(self, new, old):
        """The fields of ``new`` (those it lacks from ``old``) as one ``(B, width)``."""
        b = ops.shape(next(iter(old.values())))[0]
        return ops.concatenate([ops.reshape(new.get(name, old[name]), (b, _size(shape)))
                                for name, shape in self.fields.items()], axis=1)


def _size(shape) -> int:
    size = 1
    for n in shape:
        size *= int(n)
    return size


class StreamEngine(CarriedFields):
    """The step of one fitted :class:`~skrnn.models.ModelSpec` network (its layers,
    sharing their variables).

    Parameters
    ----------
    model : keras.Model
        Built by :func:`skrnn.models.build_model` (unidirectional; checked by the
        estimator's ``stream()``).
    spec : ModelSpec
    """

    def __init__(self, model, spec):
        from ..models import AttentionPooling, ConvBlock
        from ..models._recurrent import _is_recurrent

        self.spec = spec
        self.input_width = spec.n_features  # (None for tokens)
        layers = {layer.name: layer for layer in model.layers}
        self.embedding = layers.get("embedding")
        self.recurrent = [layer for layer in model.layers if _is_recurrent(layer)]
        self.conv = next((layer for layer in model.layers if isinstance(layer, ConvBlock)),
                         None)
        self.head = layers["head"]
        self.pooling = "last" if spec.return_sequences else spec.pooling
        self.attention = next((layer for layer in model.layers
                               if isinstance(layer, AttentionPooling)), None)
        fields = {"steps": (1,)}
        for i, layer in enumerate(self.recurrent):
            size = _recurrent_cell(layer).state_size
            for j, s in enumerate(size if isinstance(size, (list, tuple)) else [size]):
                fields[f"rnn_{i}_{j}"] = (int(s),)
        width = int(spec.units[-1])
        if self.pooling == "mean":
            fields["mean_sum"] = (width,)
        elif self.pooling == "attention":
            fields.update(attention_max=(1,), attention_norm=(1,),
                          attention_sum=(width,))
        self.max_chunk = None
        if self.attention is not None:
            v = ops.convert_to_numpy(self.attention.v)
            if 2 * float(abs(v).sum()) > _SAFE_SCORE_RANGE:
                self.max_chunk = 1
        if self.conv is not None:
            left = [(k - 1) // 2 for k in self.conv.kernel_sizes]
            self.left, self.right = sum(left), sum(self.conv.kernel_sizes) - len(left) - sum(left)
            self.window = self.left + self.right + 1
            stem = spec.embedding_dim if spec.input_kind == "tokens" else spec.n_features
            fields["conv_buffer"] = (self.window - 1, int(stem))
            fields["conv_real"] = (self.window - 1,)
            self.parallel = self.conv.parallel
            if self.parallel and not spec.return_sequences:
                fields["conv_sum"] = (int(self.conv.filters[-1]),)
            if not self.parallel:  # features settled (the recurrent layers' steps)
                fields["settled_steps"] = (1,)
            self.max_chunk = min(self.max_chunk or CONV_CHUNK, CONV_CHUNK)
        self.fields = fields

    def initial(self) -> dict:
        """One new series' state: zeros, and a running maximum below every score."""
        state = super().initial()
        if "attention_max" in state:
            state["attention_max"][:] = _NEG
        return state

    # ------------------------------------------------------------------ the step
    def chunk_size(self, batch: int, last_only: bool) -> int:
        """Steps per call for ``batch`` rows: what keeps a call's tensors bounded (about
        a million step-rows; the convolution's windows, and its features, much fewer)."""
        if self.conv is not None:
            size = max(1, 2**18 // batch) if last_only else min(
                self.max_chunk or CONV_CHUNK, CONV_CHUNK)
        else:
            size = max(1, 2**20 // batch)
            if self.max_chunk and not last_only:
                size = min(size, self.max_chunk)
        return size

    def step_last(self, x, mask, state):
        """As :meth:`step`, but only the output after each row's last real step,
        (B, n_outputs): the convolution runs once over the chunk (no window per step),
        what feeding a long history costs."""
        if self.conv is None:
            out, new = self.step(x, mask, state)
            return _last_real(out, mask), new
        m = ops.cast(mask, "float32")
        stem = self.embedding(x) if self.embedding is not None else x
        steps = state["steps"] + ops.sum(m, axis=1, keepdims=True)
        new = {"steps": steps}
        rnn, pool = self._carried(state)
        buffer = ops.concatenate([state["conv_buffer"], ops.cast(stem, "float32")], axis=1)
        real = ops.concatenate([state["conv_real"] > 0.5, mask], axis=1)
        feats = self._features(buffer, real)  # zeros after each row's last real step
        n_new = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)  # (B, 1)
        w = self.window
        keep = n_new + ops.expand_dims(ops.arange(w - 1), 0)
        new["conv_buffer"] = ops.take_along_axis(buffer, ops.expand_dims(keep, -1), axis=1)
        new["conv_real"] = ops.take_along_axis(ops.cast(real, "float32"), keep, axis=1)
        k = ops.shape(stem)[1]
        # new step j settles the feature at buffer position L + j; the last R real
        # positions are the final prefix's provisional features
        settled = feats[:, self.left:self.left + k]
        valid = real[:, self.left:self.left + k] & mask
        settled = settled * ops.expand_dims(ops.cast(valid, feats.dtype), -1)
        tail_at = n_new + self.left + ops.expand_dims(ops.arange(self.right), 0)  # (B, R)
        tail = ops.take_along_axis(feats, ops.expand_dims(tail_at, -1), axis=1)
        tail_real = ops.take_along_axis(real, tail_at, axis=1)
        if self.parallel:
            z, rnn, pool = self._advance(stem, mask, rnn, pool, state["steps"])
            z = _last_real(z, mask)
            if self.spec.return_sequences:
                last_at = n_new + w - 2  # the last real position
                branch = ops.take_along_axis(feats, ops.expand_dims(last_at, -1),
                                             axis=1)[:, 0]
            else:
                total = state["conv_sum"] + ops.sum(settled, axis=1)
                new["conv_sum"] = total
                branch = (total + ops.sum(tail * ops.expand_dims(
                    ops.cast(tail_real, tail.dtype), -1), axis=1)) / ops.maximum(steps, 1.0)
            out = self.head(ops.concatenate([z, branch], axis=-1))
        else:
            before = state["settled_steps"]
            z, rnn, pool = self._advance(settled, valid, rnn, pool, before)
            new["settled_steps"] = before + ops.sum(ops.cast(valid, "float32"), axis=1,
                                                    keepdims=True)
            if self.right:  # the tail's last position is the last real step
                z, _, _ = self._advance(tail, tail_real, rnn, pool, new["settled_steps"])
                out = self.head(z[:, -1])
            else:
                out = self.head(_last_real(z, valid))
        return out, self._with_carried(new, rnn, pool)

    def step(self, x, mask, state):
        """``x`` (B, k, F) float32 or (B, k) int32 token ids, ``mask`` (B, k) bool (real
        steps first in every row), ``state`` a dict of (B, ...) tensors; returns the
        network's outputs after every step, (B, k, n_outputs), and the new state."""
        m = ops.cast(mask, "float32")
        stem = self.embedding(x) if self.embedding is not None else x
        steps = state["steps"] + ops.cumsum(m, axis=1)  # (B, k): steps after each
        new = {"steps": steps[:, -1:]}
        rnn, pool = self._carried(state)
        if self.conv is None:
            z, rnn, pool = self._advance(stem, mask, rnn, pool, state["steps"])
            out = self.head(z)
        else:
            feats, wm, buffer, real = self._windows(stem, mask, state)
            new.update(conv_buffer=buffer, conv_real=real)
            if self.parallel:
                z, rnn, pool = self._advance(stem, mask, rnn, pool, state["steps"])
                branch, conv_sum = self._parallel_branch(feats, wm, m, steps, state)
                if conv_sum is not None:
                    new["conv_sum"] = conv_sum
                out = self.head(ops.concatenate([z, branch], axis=-1))
            else:
                out, rnn, pool = self._before(feats, wm, mask, rnn, pool, state)
        return out, self._with_carried(new, rnn, pool)

    def _carried(self, state):
        """The recurrent layers' states (a list per layer) and the pooling's fields."""
        rnn = [[state[f"rnn_{i}_{j}"] for j in range(self._n_states(i))]
               for i in range(len(self.recurrent))]
        pool = {k: state[k] for k in ("mean_sum", "attention_max", "attention_norm",
                                      "attention_sum") if k in state}
        return rnn, pool

    def _with_carried(self, new, rnn, pool) -> dict:
        for i, group in enumerate(rnn):
            for j, s in enumerate(group):
                new[f"rnn_{i}_{j}"] = s
        new.update(pool)
        return new

    def _n_states(self, i):
        size = _recurrent_cell(self.recurrent[i]).state_size
        return len(size) if isinstance(size, (list, tuple)) else 1

    def _advance(self, h, mask, rnn, pool, steps_before):
        """The recurrent stack and the pooling over ``h`` from ``rnn`` / ``pool``: the
        pooled (or last-layer) output after every step, and the new states."""
        finals = []
        for layer, states in zip(self.recurrent, rnn):
            h, new = _run_cell(_recurrent_cell(layer), h, mask, states)
            finals.append(new)
        m = ops.expand_dims(ops.cast(mask, h.dtype), -1)
        if self.pooling == "mean":
            total = ops.expand_dims(pool["mean_sum"], 1) + ops.cumsum(h * m, axis=1)
            count = ops.expand_dims(steps_before, 1) + ops.cumsum(m, axis=1)
            return total / ops.maximum(count, 1.0), finals, {"mean_sum": total[:, -1]}
        if self.pooling == "attention":
            z, pool = self._attention(h, mask, m, pool)
            return z, finals, pool
        return h, finals, {}

    def _attention(self, h, mask, m, pool):
        layer = self.attention
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(h, layer.w) + layer.b),
                                        layer.v), axis=-1)
        scores = ops.where(mask, scores, ops.full_like(scores, _NEG))
        top = ops.maximum(pool["attention_max"],
                          ops.max(scores, axis=1, keepdims=True))  # (B, 1)
        e = ops.exp(scores - top) * m[..., 0]
        rescale = ops.exp(pool["attention_max"] - top)
        norm = pool["attention_norm"] * rescale + ops.cumsum(e, axis=1)  # (B, k)
        total = (ops.expand_dims(pool["attention_sum"] * rescale, 1)
                 + ops.cumsum(ops.expand_dims(e, -1) * h, axis=1))
        z = total / ops.expand_dims(ops.where(norm > 0, norm, ops.ones_like(norm)), -1)
        return z, {"attention_max": top, "attention_norm": norm[:, -1:],
                   "attention_sum": total[:, -1]}

    # ----------------------------------------------------- the convolutional front-end
    def _features(self, x, mask):
        """The block's per-step features (``ConvBlock.call`` without its pooling)."""
        keep = ops.expand_dims(ops.cast(mask, x.dtype), -1)
        h = x
        for conv, norm in zip(self.conv.convs, self.conv.norms):
            h = ops.relu(norm(conv(h * keep), training=False))
        return h * keep

    def _windows(self, stem, mask, state):
        """For every new step ``j``, the block's features in the window of ``L + R + 1``
        inputs that ends at it (``(B, k, window, C)``, and which window steps are real),
        and the new buffer: the last ``L + R`` inputs of each row."""
        w = self.window
        buffer = ops.concatenate([state["conv_buffer"], ops.cast(stem, "float32")], axis=1)
        real = ops.concatenate([state["conv_real"] > 0.5, mask], axis=1)
        k = ops.shape(stem)[1]
        index = ops.expand_dims(ops.arange(k), 1) + ops.expand_dims(ops.arange(w), 0)
        windows = ops.take(buffer, index, axis=1)  # (B, k, w, C)
        window_real = ops.take(real, index, axis=1)  # (B, k, w)
        b, c = ops.shape(windows)[0], ops.shape(windows)[-1]
        feats = self._window_features(ops.reshape(windows, (-1, w, c)),
                                      ops.reshape(window_real, (-1, w)))
        feats = ops.reshape(feats, (b, k, self.right + 1, ops.shape(feats)[-1]))
        # the new buffer ends at each row's last real step
        n_new = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)  # (B, 1)
        keep = n_new + ops.expand_dims(ops.arange(w - 1), 0)  # (B, w - 1)
        new_buffer = ops.take_along_axis(buffer, ops.expand_dims(keep, -1), axis=1)
        new_real = ops.take_along_axis(ops.cast(real, "float32"), keep, axis=1)
        return feats, window_real[:, :, self.left:], new_buffer, new_real

    def _window_features(self, windows, real):
        """The block's features at the last ``R + 1`` positions of each window (the
        one a step settles, and the ``R`` provisional ones after it), as ``"same"``
        convolutions give them for a sequence ending at the window's end: each layer
        computes only the positions the next one reads ("valid" convolutions, zeros
        past the end), about 40 % of the work of the whole window for LSTM-FCN."""
        convs, norms = self.conv.convs, self.conv.norms
        lefts = [(k - 1) // 2 for k in self.conv.kernel_sizes]
        rights = [k - 1 - left for k, left in zip(self.conv.kernel_sizes, lefts)]
        last = self.window - 1
        spans = [(self.left, last)]  # the outputs each layer computes, last layer first
        for i in range(len(convs) - 1, 0, -1):
            a, b = spans[0]
            spans.insert(0, (a - lefts[i], min(last, b + rights[i])))
        keep = ops.expand_dims(ops.cast(real, windows.dtype), -1)
        h, lo, hi = windows * keep, 0, last
        for conv, norm, (a, b), left, right in zip(convs, norms, spans, lefts, rights):
            start, end = a - left, b + right  # the inputs it reads
            part = h[:, start - lo:min(end, hi) - lo + 1]
            if end > hi:  # past the prefix: "same" padding's zeros
                part = ops.pad(part, [[0, 0], [0, end - hi], [0, 0]])
            z = ops.conv(part, conv.kernel, padding="valid")
            if conv.use_bias:
                z = z + conv.bias
            h = ops.relu(norm(z, training=False)) * keep[:, a:b + 1]
            lo, hi = a, b
        return h

    def _settled(self, feats, wm, mask):
        """The feature each new step settles (``R`` steps back), and whether it is a real
        step's: (B, k, C), (B, k). ``feats`` and ``wm`` start at that position."""
        valid = wm[:, :, 0] & mask
        return feats[:, :, 0] * ops.expand_dims(ops.cast(valid, feats.dtype), -1), valid

    def _parallel_branch(self, feats, wm, m, steps, state):
        """LSTM-FCN's branch after every new step: the feature of that step (per-step
        outputs) or the mean over the prefix's real steps; and the new running sum."""
        if self.spec.return_sequences:
            return feats[:, :, -1], None
        settled, _ = self._settled(feats, wm, m > 0.5)
        total = ops.expand_dims(state["conv_sum"], 1) + ops.cumsum(settled, axis=1)
        tail = feats[:, :, 1:] * ops.expand_dims(ops.cast(wm[:, :, 1:], feats.dtype), -1)
        pooled = (total + ops.sum(tail, axis=2)) / ops.maximum(
            ops.expand_dims(steps, -1), 1.0)
        return pooled, total[:, -1]

    def _before(self, feats, wm, mask, rnn, pool, state):
        """``conv_mode="before"``: the recurrent states and the pooling are carried to
        the last settled feature; each new step's output re-runs the recurrent layers
        over the settled features up to it and the ``R`` provisional ones after."""
        settled, valid = self._settled(feats, wm, mask)
        before = state["settled_steps"]
        now = {"settled_steps": before + ops.sum(ops.cast(valid, "float32"), axis=1,
                                                  keepdims=True)}
        if self.right == 0:  # every feature settles at once
            z, rnn, pool = self._advance(settled, valid, rnn, pool, before)
            return self.head(z), rnn, {**pool, **now}
        k, r = ops.shape(feats)[1], self.right
        b, c = ops.shape(feats)[0], ops.shape(feats)[-1]
        # sequence j: settled features 0..j, then window j's provisional ones
        upto = ops.expand_dims(ops.arange(k), 0) <= ops.expand_dims(ops.arange(k), 1)
        first = ops.broadcast_to(ops.expand_dims(settled, 1), (b, k, k, c))
        first_mask = ops.expand_dims(upto, 0) & ops.expand_dims(valid, 1)
        tail = feats[:, :, 1:]
        tail_mask = wm[:, :, 1:]
        seqs = ops.reshape(ops.concatenate([first, tail], axis=2), (-1, k + r, c))
        seq_mask = ops.reshape(ops.concatenate([first_mask, tail_mask], axis=2), (-1, k + r))
        repeat = lambda t: ops.repeat(t, k, axis=0)  # noqa: E731
        z, _, _ = self._advance(seqs, seq_mask, [[repeat(s) for s in g] for g in rnn],
                                {n: repeat(t) for n, t in pool.items()}, repeat(before))
        out = self.head(ops.reshape(z[:, -1], (b, k, ops.shape(z)[-1])))
        _, rnn, pool = self._advance(settled, valid, rnn, pool, before)
        return out, rnn, {**pool, **now}
