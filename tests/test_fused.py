"""Fused recurrent kernels: which layers and batches take them, and the prefetching
thread (issue 13). The kernels' numbers are checked against Keras' loops on torch and
JAX in test_backends.py (``fused_cases.py``); this process runs TensorFlow, which never
gets skrnn's kernels (Keras takes cuDNN itself there)."""

import threading

import keras
import numpy as np
import pytest

from skrnn.models import LayerNormLSTMCell
from skrnn.models._fused import _reverse_index, fused_kind, fused_mode, use_fused_kernels
from skrnn.training._prefetch import prefetch

L = keras.layers


@pytest.mark.parametrize("layer, torch, jax_gpu", [
    (L.LSTM(4), "lstm", "lstm"),
    (L.LSTM(4, dropout=0.2, go_backwards=True), "lstm", "lstm"),  # input dropout: fused
    (L.GRU(4), "gru", None),  # JAX has no fused GRU
    (L.GRU(4, reset_after=False), None, None),  # not cuDNN's GRU
    (L.SimpleRNN(4), "rnn_tanh", None),
    (L.SimpleRNN(4, activation="relu"), "rnn_relu", None),
    (L.SimpleRNN(4, activation="leaky_relu"), None, None),
    (L.LSTM(4, activation="relu"), None, None),
    (L.LSTM(4, recurrent_activation="hard_sigmoid"), None, None),
    (L.LSTM(4, recurrent_dropout=0.1), None, None),
    (L.LSTM(4, use_bias=False), None, None),
    (L.LSTM(4, unroll=True), None, None),
    (L.LSTM(4, use_cudnn=False), None, None),
    (L.RNN(LayerNormLSTMCell(4)), None, None),  # skrnn's layer-norm cells
    (L.Dense(4), None, None),
])
def test_which_layers_take_a_fused_kernel(layer, torch, jax_gpu):
    assert fused_kind(layer, "torch", gpu=False) == torch
    assert fused_kind(layer, "torch", gpu=True) == torch
    assert fused_kind(layer, "jax", gpu=True) == jax_gpu
    # On a CPU, Keras' scan is JAX's fastest loop; "reference" is for tests.
    assert fused_kind(layer, "jax", gpu=False) is None
    assert fused_kind(layer, "jax", gpu=False, mode="reference") == jax_gpu
    assert fused_kind(layer, "tensorflow", gpu=True) is None
    assert fused_kind(layer, "torch", gpu=True, mode="off") is None


def test_the_switch_is_an_environment_variable(monkeypatch):
    monkeypatch.setenv("SKRNN_FUSED_KERNELS", "Off")
    assert fused_mode() == "off"
    monkeypatch.setenv("SKRNN_FUSED_KERNELS", "fast")
    with pytest.raises(ValueError, match="SKRNN_FUSED_KERNELS must be one of"):
        fused_mode()


def test_tensorflow_models_keep_keras_layers():
    x = keras.Input((None, 3))
    model = keras.Model(x, L.Bidirectional(L.LSTM(4))(x))
    assert use_fused_kernels(model) == []
    assert all("inner_loop" not in layer.__dict__ for layer in model._flatten_layers())


def test_reversing_the_real_steps_in_place():
    index = _reverse_index(np.array([3, 1, 0, 4]), 4, np)
    np.testing.assert_array_equal(index, [[2, 1, 0, 3], [0, 1, 2, 3], [0, 1, 2, 3],
                                          [3, 2, 1, 0]])


def test_prefetch_keeps_order_and_works_ahead():
    made = []
    seen = []
    for value in prefetch(lambda i: made.append(i) or i * i, range(20), depth=2):
        seen.append(value)
    assert seen == [i * i for i in range(20)] and made == list(range(20))


def test_prefetch_raises_where_the_item_failed_and_stops_its_thread():
    def make(i):
        if i == 3:
            raise ValueError("sample 3 is bad")
        return i

    got = []
    with pytest.raises(ValueError, match="sample 3"):
        for value in prefetch(make, range(10)):
            got.append(value)
    assert got == [0, 1, 2]
    assert not any(t.name == "skrnn-prefetch" for t in threading.enumerate())


def test_stopping_early_ends_the_thread():
    ahead = prefetch(lambda i: i, range(1000), depth=2)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()
    assert not any(t.name == "skrnn-prefetch" for t in threading.enumerate())
