"""Calling a stream's step: shapes rounded to powers of two, the step compiled for
the backend, its inputs and outputs packed into one array each."""

from __future__ import annotations

import numpy as np


def bucket(n: int, least: int = 1) -> int:
    """``n`` rounded up to a power of two (at least ``least``): the compiled step sees
    few distinct shapes."""
    return max(least, 1 << max(0, int(n) - 1).bit_length())


def compiled(fn, single=False):
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


def packed_call(engine, last_only: bool, single: bool, tokens: bool):
    """``engine``'s step compiled, as ``(x, mask, state) -> (outputs, state)`` on NumPy
    arrays, ``state`` every field side by side in one ``(B, width)`` array. The
    compiled function itself takes one array, ``[x, mask, state]`` flattened per row,
    and returns one, ``[outputs, state]``: a call's fixed cost is mostly per tensor
    passed. ``single``: for calls of one step (traced with that shape, the cells run
    without a loop); ``last_only``: the engine's ``step_last``."""
    from keras import ops

    fn = (engine.step_last if last_only and hasattr(engine, "step_last")
          else engine.step)
    width = engine.width
    per_step = 1 if tokens else engine.input_width

    def packed(flat):
        b, columns = ops.shape(flat)[0], flat.shape[1]
        k = (columns - width) // (per_step + 1)  # (static: one trace per shape)
        x = ops.reshape(flat[:, :k * per_step], (b, k) if tokens else
                        (b, k, per_step))
        x = ops.cast(x, "int32") if tokens else x
        mask = flat[:, k * per_step:k * (per_step + 1)] > 0.5
        state = engine.unpack(flat[:, k * (per_step + 1):])
        out, new = fn(x, mask, state)
        return ops.concatenate([ops.reshape(out, (b, -1)), engine.pack(new, state)],
                               axis=1)

    compiled_fn = compiled(packed, single)

    def call(x, mask, state):
        b = len(state)
        flat = np.concatenate([x.reshape(b, -1).astype(np.float32, copy=False),
                               mask.astype(np.float32), state], axis=1)
        result = ops.convert_to_numpy(compiled_fn(flat))
        out = result[:, :result.shape[1] - width]
        return out.reshape(b, x.shape[1], -1) if not last_only else out, \
            result[:, result.shape[1] - width:]
    return call
