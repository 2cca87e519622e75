"""The gradient of a function of a network's input, on every backend.

``value_and_input_gradient(fn, u)``: ``fn`` maps a float32 batch ``u`` (a backend
tensor) to one value per row; returns those values and ``∂ sum(fn(u)) / ∂u`` as NumPy
arrays. Rows of a batch never interact in inference (no batch statistics), so the
gradient of the sum holds each row's own gradient: a whole batch of inputs (sequences
times interpolation points) costs one backward pass.
"""

from __future__ import annotations

import keras
import numpy as np


def value_and_input_gradient(fn, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    backend = keras.backend.backend()
    u = np.ascontiguousarray(u, dtype=np.float32)
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(u)
        with tf.GradientTape() as tape:
            tape.watch(x)
            values = fn(x)
            total = tf.reduce_sum(values)
        grad = tape.gradient(total, x)
        grad = np.zeros_like(u) if grad is None else grad.numpy()
        return values.numpy(), grad
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def total(x):
            values = fn(x)
            return jnp.sum(values), values

        (_, values), grad = jax.value_and_grad(total, has_aux=True)(jnp.asarray(u))
        return np.asarray(values), np.asarray(grad)
    if backend == "torch":
        import torch

        x = keras.ops.convert_to_tensor(u).detach().requires_grad_(True)
        with torch.enable_grad():
            values = fn(x)
            (grad,) = torch.autograd.grad(values.sum(), x, allow_unused=True)
        grad = np.zeros_like(u) if grad is None else grad.detach().cpu().numpy()
        return values.detach().cpu().numpy(), grad
    raise NotImplementedError(f"gradients on the {backend!r} backend")
