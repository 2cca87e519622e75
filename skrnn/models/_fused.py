"""Fused recurrent kernels for Keras' JAX and torch backends, masks included.

Keras 3.15 hands an LSTM or GRU to cuDNN on JAX and torch only when a batch has *no
mask at all*, and on torch without a GPU it loops over the time steps in Python. skrnn's
batches are right-padded, so every masked batch ran the generic loop. This module gives
a recurrent layer instance its own ``inner_loop`` (:func:`use_fused_kernels`, called
when skrnn makes a training step) that runs the backend's fused kernel with the layer's
own variables, converted inside the traced or autograd function so that gradients reach
them:

- torch: ``torch._VF.lstm`` / ``gru`` / ``rnn_tanh`` / ``rnn_relu`` (cuDNN on a GPU,
  torch's native fused kernel on the CPU); masked batches go in as packed sequences.
- JAX on a GPU: ``jax.experimental.rnn.lstm`` with ``seq_lengths`` (LSTM only: JAX
  has no fused GRU or simple RNN, those keep Keras' scan).

A layer qualifies (:func:`fused_kind`) with tanh (or, simple RNN on torch, relu)
activations, sigmoid gates, a bias, no recurrent dropout, no unrolling, ``reset_after``
for a GRU and ``use_cudnn`` not False. A batch qualifies when its mask is absent or
strictly right-padded with at least one real step per row (checked on the host for
torch; inside the compiled function with ``lax.cond`` for JAX); any other batch — the
front-padded chunks of truncated BPTT, say — runs the layer's own loop. Outputs at padded
steps are set to what Keras' loop gives (the last real output carried forward; zeros
ahead of a reversed sequence), so the switch changes nothing but speed.

``SKRNN_FUSED_KERNELS``: ``auto`` (default), ``off`` (Keras' own loops), ``reference``
(JAX: ``jax.experimental.rnn.lstm_ref``, the kernel's pure-JAX twin, on any device —
how the CPU tests check the weight conversion that the GPU kernel uses).
"""

from __future__ import annotations

import contextlib
import os
import threading

import keras
import numpy as np
from keras import ops

#: How many times a fused kernel ran (traced, for JAX), per kind: for tests and benches.
CALLS = {"lstm": 0, "gru": 0, "rnn_tanh": 0, "rnn_relu": 0}
MODES = ("auto", "off", "reference")


_KNOWN = threading.local()


@contextlib.contextmanager
def known_lengths(lengths):
    """Within it, masked batches are right-padded with these lengths (a CPU tensor, at
    least one step each), as the step that padded them knows: torch's kernel then reads
    nothing back from a GPU (the check and the lengths a packed sequence needs)."""
    _KNOWN.lengths = lengths
    try:
        yield
    finally:
        _KNOWN.lengths = None


def right_padded_lengths(mask):
    """A NumPy mask's lengths if the kernels can take it (:func:`_right_padded`), else
    None."""
    lengths, ok = _right_padded(mask, np)
    return lengths if ok else None


def _arange(xp, steps, like):
    """``0 .. steps - 1`` for NumPy, JAX or torch, on ``like``'s device (torch's)."""
    return xp.arange(steps, device=like.device) if xp.__name__ == "torch" else \
        xp.arange(steps)


def _right_padded(mask, xp):
    """``(lengths, ok)``: each row's real steps, and whether the mask is strictly
    right-padded with at least one real step per row — what a fused kernel (and
    TensorFlow's cuDNN path) can take. ``xp``: NumPy, ``torch``, ``jax.numpy`` or
    ``keras.ops``."""
    lengths = xp.sum(mask, axis=1)
    steps = mask.shape[1]
    if steps is None:  # traced by TensorFlow (``xp`` is ``keras.ops``): read at run time
        steps = xp.shape(mask)[1]
    right = _arange(xp, steps, mask)[None, :] < lengths[:, None]
    return lengths, xp.all(lengths > 0) & xp.all(mask == right)


def fused_mode() -> str:
    mode = os.environ.get("SKRNN_FUSED_KERNELS", "auto").lower()
    if mode not in MODES:
        raise ValueError(f"SKRNN_FUSED_KERNELS must be one of {MODES}; got {mode!r}.")
    return mode


def _activation_name(fn) -> str | None:
    name = getattr(fn, "__name__", None)
    return name if getattr(keras.activations, str(name), None) is fn else None


def fused_kind(layer, backend: str, gpu: bool, mode: str = "auto") -> str | None:
    """The fused kernel ``layer`` can run on ``backend`` (``"lstm"``, ``"gru"``,
    ``"rnn_tanh"``, ``"rnn_relu"``) or None (the layer keeps its own loop)."""
    if mode == "off" or backend not in ("torch", "jax"):
        return None
    if backend == "jax" and not (gpu or mode == "reference"):
        return None  # on a CPU, Keras' scan is JAX's fastest LSTM
    cls = type(layer)
    if cls not in (keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN):
        return None  # custom cells (layer norm) and subclasses keep their own loop
    cell = layer.cell
    if (layer.unroll or layer.stateful or cell.recurrent_dropout or not cell.use_bias
            or getattr(layer, "use_cudnn", "auto") is False):
        return None
    activation = _activation_name(cell.activation)
    if cls is keras.layers.SimpleRNN:
        return f"rnn_{activation}" if backend == "torch" and activation in (
            "tanh", "relu") else None
    if activation != "tanh" or _activation_name(cell.recurrent_activation) != "sigmoid":
        return None
    if cls is keras.layers.GRU:
        return "gru" if backend == "torch" and cell.reset_after else None
    return "lstm"


def use_fused_kernels(model) -> list:
    """Give every qualifying recurrent layer of ``model`` (inside ``Bidirectional``
    wrappers too) the fused ``inner_loop``; returns those layers. Idempotent; the TF
    backend is left alone (Keras already takes cuDNN there for right-padded masks)."""
    backend, mode = keras.backend.backend(), fused_mode()
    gpu = _on_gpu(backend)
    done = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        kind = fused_kind(layer, backend, gpu, mode)
        if kind is None:
            layer.__dict__.pop("inner_loop", None)  # mode turned off since
            continue
        if not isinstance(layer.__dict__.get("inner_loop"), FusedLoop):
            object.__setattr__(layer, "inner_loop", FusedLoop(layer, kind, mode))
        done.append(layer)
    return done


def _on_gpu(backend: str) -> bool:
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


class FusedLoop:
    """A layer's ``inner_loop`` through the fused kernel (same signature and results as
    Keras' ``RNN.inner_loop``: ``(last_output, outputs, states)``, outputs in the order
    of processing, i.e. reversed for ``go_backwards``)."""

    def __init__(self, layer, kind, mode):
        self.layer, self.kind, self.mode = layer, kind, mode

    def _keras(self, sequences, initial_state, mask, training):
        return type(self.layer).inner_loop(self.layer, sequences, initial_state, mask,
                                           training=training)

    def __call__(self, sequences, initial_state, mask, training=False):
        layer = self.layer
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
            else [initial_state]
        x = sequences
        if training and layer.cell.dropout:  # one input-dropout mask for every step
            keep = ops.expand_dims(layer.cell.get_dropout_mask(sequences[:, 0, :]), 1)
            x = sequences * ops.broadcast_to(keep, ops.shape(sequences))
        weights = _weights(self.kind, layer.cell)
        run = _torch_run if keras.backend.backend() == "torch" else _jax_run
        # The layer's own loop (for a mask the kernel cannot take) reads the sequences
        # before dropout: its cell drops them out itself.
        return run(self, x, states, mask, weights,
                   lambda: self._keras(sequences, initial_state, mask, training))

    def finish(self, y, last, states, mask, xp):
        """Keras' outputs from the kernel's (``y`` in time order, right-padded rows):
        padded steps carry the last real output (zeros if ``zero_output_for_mask``);
        a reversed layer lists its steps in reverse (padding first, as zeros)."""
        CALLS[self.kind] += 1
        layer = self.layer
        if mask is not None:
            keep = mask[:, :, None]
            if layer.go_backwards:
                y = xp.where(keep, y, xp.zeros_like(y))
            else:
                fill = xp.zeros_like(y) if layer.zero_output_for_mask else \
                    xp.broadcast_to(last[:, None, :], y.shape)
                y = xp.where(keep, y, fill)
        if layer.go_backwards:
            y = xp.flip(y, [1] if xp.__name__ == "torch" else 1)
        return last, y, states


def _gru_gates(w):
    """Keras orders a GRU's gates (update, reset, candidate), cuDNN (reset, update, new)."""
    z, r, h = ops.split(w, 3, axis=-1)
    return ops.concatenate([r, z, h], axis=-1)


def _weights(kind, cell) -> list:
    """``[w_ih, w_hh, b_ih, b_hh]`` in cuDNN's layout, from the cell's variables (in the
    traced / autograd function, so gradients reach the variables)."""
    kernel, recurrent = (ops.convert_to_tensor(v) for v in (cell.kernel,
                                                            cell.recurrent_kernel))
    bias = ops.convert_to_tensor(cell.bias)
    if kind == "gru":  # reset_after: bias (2, 3 units) = input and recurrent biases
        kernel, recurrent, bias = (_gru_gates(w) for w in (kernel, recurrent, bias))
        return [ops.transpose(kernel), ops.transpose(recurrent), bias[0], bias[1]]
    return [ops.transpose(kernel), ops.transpose(recurrent), bias, ops.zeros_like(bias)]


def _reverse_index(lengths, steps, xp):
    """Per row, the step each step swaps with when the real steps are reversed in place
    (padding stays): ``len - 1 - t`` for ``t < len``, else ``t``."""
    t = _arange(xp, steps, lengths)[None, :]
    lengths = lengths[:, None]
    return xp.where(t < lengths, lengths - 1 - t, t)


# ------------------------------------------------------------------------------ torch
def _torch_run(loop, x, states, mask, weights, own_loop):
    import torch

    layer, kind = loop.layer, loop.kind
    fn = getattr(torch._VF, kind)
    weights = [w.contiguous() for w in weights]
    x = x.to(weights[0].dtype)
    hx = [s.unsqueeze(0) for s in states]
    hx = tuple(hx) if kind == "lstm" else hx[0]
    train = torch.is_grad_enabled()
    if mask is None:
        y, *final = fn(torch.flip(x, [1]) if layer.go_backwards else x, hx, weights, True,
                       1, 0.0, train, False, True)
        final = [f.squeeze(0) for f in final]
        CALLS[kind] += 1
        return final[0], y, final
    mask = mask.bool()
    steps = x.shape[1]
    host = getattr(_KNOWN, "lengths", None)
    if host is not None and len(host) == len(mask):
        lengths = host.to(mask.device)
    else:
        lengths, ok = _right_padded(mask, torch)
        if not bool(ok):
            return own_loop()
        host = lengths.cpu()
    index = None
    if layer.go_backwards:
        index = _reverse_index(lengths, steps, torch)
        x = x.gather(1, index[:, :, None].expand_as(x))
    run = _torch_packed if x.is_cuda or PACK_ON_CPU else _torch_held
    y, final = run(fn, kind, x, hx, weights, mask, lengths, host, train)
    if index is not None:
        y = y.gather(1, index[:, :, None].expand_as(y))
    return loop.finish(y, final[0], final, mask, torch)


#: torch's CPU kernel runs packed sequences step by step, 20-30 times slower than padded
#: ones (bench_gpu.py's variable lengths, 2-core CPU); tests set this to check both.
PACK_ON_CPU = False
#: A gate's pre-activation pushed this far saturates its sigmoid exactly in float32.
_HOLD = 1e30


def _torch_packed(fn, kind, x, hx, weights, mask, lengths, host, train):
    """cuDNN on packed sequences: padded steps are never computed."""
    from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

    packed = pack_padded_sequence(x, host, batch_first=True, enforce_sorted=False)
    order = packed.sorted_indices
    hx = tuple(h.index_select(1, order) for h in hx) if kind == "lstm" else \
        hx.index_select(1, order)
    y, *final = fn(packed.data, packed.batch_sizes, hx, weights, True, 1, 0.0, train,
                   False)
    y, _ = pad_packed_sequence(PackedSequence(y, packed.batch_sizes, order,
                                              packed.unsorted_indices),
                               batch_first=True, total_length=x.shape[1])
    return y, [f.index_select(1, packed.unsorted_indices).squeeze(0) for f in final]


def _torch_held(fn, kind, x, hx, weights, mask, lengths, host, train):
    """The padded batch through the fused kernel, one input feature added: 1 on padded
    steps, with constant weights that saturate the gates holding the state (LSTM:
    forget 1, input 0, so the cell state stays; GRU: update 1, the state stays). The
    saturated sigmoids' derivatives are exactly 0, so gradients are those of the real
    steps; the last real output is read at each row's length."""
    import torch

    units = weights[1].shape[1]
    hold = torch.zeros(weights[0].shape[0], 1, dtype=x.dtype, device=x.device)
    if kind == "lstm":  # gates i, f, g, o
        hold[:units], hold[units:2 * units] = -_HOLD, _HOLD
    elif kind == "gru":  # gates r, z, n
        hold[units:2 * units] = _HOLD
    x = torch.cat([x, (~mask).to(x.dtype)[:, :, None]], dim=2)
    weights = [torch.cat([weights[0], hold], dim=1), *weights[1:]]
    y, *final = fn(x, hx, weights, True, 1, 0.0, train, False, True)
    last = y.gather(1, (lengths - 1)[:, None, None].expand(-1, 1, y.shape[2]))[:, 0]
    return y, [last] + [f.squeeze(0) for f in final[1:]]


# -------------------------------------------------------------------------------- JAX
def _jax_run(loop, x, states, mask, weights, own_loop):
    import jax
    import jax.numpy as jnp
    from jax.experimental import rnn

    layer = loop.layer
    batch, steps = x.shape[0], x.shape[1]
    units = int(states[0].shape[-1])
    w_ih, w_hh, b_ih, b_hh = weights

    def kernel(x, lengths):
        h0, c0 = states[0][None], states[1][None]
        if loop.mode == "reference":
            return rnn.lstm_ref(x, h0, c0, {0: w_ih}, {0: w_hh}, {0: b_ih}, {0: b_hh},
                                lengths, input_size=x.shape[-1], hidden_size=units,
                                num_layers=1, dropout=0.0, bidirectional=False)
        flat = jnp.concatenate([w.ravel() for w in weights])
        return rnn.lstm(x, h0, c0, flat, lengths, input_size=x.shape[-1],
                        hidden_size=units, num_layers=1, dropout=0.0, bidirectional=False)

    def shaped(out):  # both branches of the cond must agree
        last, y, final = out
        y = y if layer.return_sequences else last[:, None, :]
        return last, y, [final[0], final[1]]

    x = x.astype(w_ih.dtype)
    if mask is None:
        y, h, c = kernel(jnp.flip(x, 1) if layer.go_backwards else x,
                         jnp.full((batch,), steps, jnp.int32))
        CALLS["lstm"] += 1
        return shaped((h[0], y, [h[0], c[0]]))
    mask = mask.astype(bool)
    lengths, ok = _right_padded(mask, jnp)
    lengths = lengths.astype(jnp.int32)

    def fused(x):
        index = _reverse_index(lengths, steps, jnp) if layer.go_backwards else None
        if index is not None:
            x = jnp.take_along_axis(x, index[:, :, None], axis=1)
        y, h, c = kernel(x, lengths)
        if index is not None:
            y = jnp.take_along_axis(y, index[:, :, None], axis=1)
        return shaped(loop.finish(y, h[0], [h[0], c[0]], mask, jnp))

    return jax.lax.cond(ok, fused, lambda x: shaped(own_loop()), x)
