"""Fused kernels against Keras' own loops, layer by layer (run on torch and JAX by
``backend_cases.py``; see ``skrnn.models._fused``).

For each recurrent layer kind that has a fused kernel on the backend (:data:`CASES`):
forward and reversed (``Bidirectional``), one output or one per step, with a
right-padded mask, a front-padded one (which must fall back to Keras' loop) and none,
one layer or two stacked: the outputs (padded steps included), final states and the
gradients of every weight, computed once through Keras' loop and once through the fused
kernel, in a compiled function on JAX.
Returns ``{case: [largest absolute difference, fused kernel calls]}``.
"""

import keras
import numpy as np

from skrnn.models import _fused

#: (bidirectional, one output per step, mask, stacked): each direction and output kind
#: with each mask, and two stacked layers.
CASES = [(False, False, "right", False), (False, True, "right", False),
         (True, False, "right", False), (True, True, "right", False),
         (False, True, "front", False), (True, False, "front", False),
         (False, False, "none", False), (True, True, "none", False),
         (True, False, "right", True)]
LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


def _model(cls, bidirectional, per_step, masked, stacked):
    x = keras.Input((None, 3))
    mask = keras.Input((None,), dtype="bool")
    h, outs = x, []
    for i in range(2 if stacked else 1):
        layer = cls(4, return_sequences=per_step or i == 0 and stacked, return_state=True,
                    seed=i)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer)
        h, *states = layer(h, mask=mask) if masked else layer(h)
        outs += states
    inputs = [x, mask] if masked else x
    return keras.Model(inputs, [h, *outs])


def _outputs_and_grads(model, inputs):
    """Every output and the gradient of sum(sin(outputs)) for each trainable weight."""
    if keras.backend.backend() == "jax":
        import jax
        import jax.numpy as jnp

        other = [v.value for v in model.non_trainable_variables]

        def loss(trainable):
            outs, _ = model.stateless_call(trainable, other, inputs)
            return sum(jnp.sum(jnp.sin(o)) for o in outs), outs

        (_, outs), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(
            [v.value for v in model.trainable_variables])
        return [np.asarray(a) for a in [*outs, *grads]]
    for v in model.trainable_variables:
        v.value.grad = None
    outs = model(inputs)
    sum(keras.ops.sum(keras.ops.sin(o)) for o in outs).backward()
    return [keras.ops.convert_to_numpy(a) for a in
            [*outs, *(v.value.grad for v in model.trainable_variables)]]


def compare_fused() -> dict:
    """Every case; on torch twice: padded batches with held states (a CPU's way) and
    packed sequences (a GPU's), the latter named ``.../packed``."""
    results = _compare()
    if keras.backend.backend() == "torch":
        _fused.PACK_ON_CPU = True
        try:
            results.update({f"{case}/packed": value for case, value in _compare().items()
                            if "/right" in case})
        finally:
            _fused.PACK_ON_CPU = False
    return results


def _compare() -> dict:
    rng = np.random.RandomState(0)
    x = rng.randn(5, 7, 3).astype("float32")
    right = np.arange(7)[None] < np.array([7, 3, 1, 5, 7])[:, None]
    masks = {"right": right, "front": right[:, ::-1].copy(), "none": None}
    backend, mode = keras.backend.backend(), _fused.fused_mode()
    results = {}
    for name, cls in LAYERS.items():
        if _fused.fused_kind(cls(2), backend, _fused._on_gpu(backend), mode) is None:
            continue
        for bidirectional, per_step, kind, stacked in CASES:
            mask = masks[kind]
            model = _model(cls, bidirectional, per_step, mask is not None, stacked)
            inputs = x if mask is None else [x, mask]
            expected = _outputs_and_grads(model, inputs)
            before = sum(_fused.CALLS.values())
            _fused.use_fused_kernels(model)
            got = _outputs_and_grads(model, inputs)
            calls = sum(_fused.CALLS.values()) - before
            case = (f"{name}/{'bi' if bidirectional else 'uni'}/"
                    f"{'seq' if per_step else 'last'}/{kind}{'/stacked' if stacked else ''}")
            results[case] = [max(float(np.max(np.abs(a - b))) for a, b in zip(expected, got)),
                             calls]
    return results
