"""TensorFlow's cuDNN path with masks it cannot take (issue 13; ``_cudnn_guard.py``).

This machine has no GPU, so Keras' cuDNN call is replaced by a stand-in that does what
the GPU path does first — Keras' own ``tf.Assert`` that the mask is right-padded with a
real step per row — and then declines (``NotImplementedError``), which sends Keras to its
generic loop. Unguarded, a front-padded or empty row then fails at run time as it would
on a GPU; guarded, only masks cuDNN takes reach it, and the results are Keras' own.
"""

import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from skrnn import RNNClassifier, RNNRegressor
from skrnn.models import _cudnn_guard
from skrnn.models._cudnn_guard import cudnn_takes, guard_cudnn_masks

L = keras.layers
KERAS_TF_RNN = importlib.import_module("keras.src.backend.tensorflow.rnn")

RIGHT = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
MASKS = {"right": RIGHT, "front": RIGHT[:, ::-1].copy(),
         "empty row": np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0] * 5], bool),
         "gap": np.array([[1, 0, 1, 0, 0], [1] * 5, [1, 0, 0, 0, 0]], bool)}


@pytest.fixture
def gpu_like(monkeypatch):
    """Call it to make Keras' LSTM and GRU run the GPU path's mask assertion before
    their kernel (and skrnn see a GPU)."""
    def asserting(mask_at):
        def kernel(*args, **kwargs):
            mask = args[mask_at]
            if mask is not None:
                KERAS_TF_RNN._assert_valid_mask(mask)
            raise NotImplementedError  # no CudnnRNNV3 here: Keras' generic loop
        return kernel

    def install():
        monkeypatch.setattr(keras.src.backend, "lstm", asserting(3))
        monkeypatch.setattr(keras.src.backend, "gru", asserting(2))
        monkeypatch.setattr(_cudnn_guard, "gpu_visible", lambda: True)
    return install


@pytest.mark.parametrize("name, mask", MASKS.items())
def test_the_predicate_is_cudnns_condition(name, mask):
    assert bool(cudnn_takes(mask)) == (name == "right")
    assert bool(cudnn_takes(np.ones((2, 3), bool)))


@pytest.mark.parametrize("cls, bidirectional, per_step", [
    (L.LSTM, False, False), (L.LSTM, True, True), (L.GRU, False, True), (L.GRU, True, False),
])
def test_guarded_layers_take_every_mask_and_give_keras_results(gpu_like, cls, bidirectional,
                                                               per_step):
    x = np.random.RandomState(0).randn(3, 5, 2).astype("float32")
    inputs = [keras.Input((None, 2)), keras.Input((None,), dtype="bool")]
    layer = cls(3, return_sequences=per_step, dropout=0.2)
    model = keras.Model(inputs, (L.Bidirectional(layer) if bidirectional else layer)(
        inputs[0], mask=inputs[1]))
    expected = {name: model([x, m]).numpy() for name, m in MASKS.items()}
    gpu_like()
    unguarded = tf.function(lambda x, m: model([x, m]))
    unguarded(x, MASKS["right"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="right-padded"):
        unguarded(x, MASKS["front"])  # what a GPU does without the guard

    assert len(guard_cudnn_masks(model)) == (2 if bidirectional else 1)
    assert guard_cudnn_masks(model) == guard_cudnn_masks(model)  # idempotent
    guarded = tf.function(lambda x, m, training: model([x, m], training=training))
    for name, m in MASKS.items():
        np.testing.assert_allclose(guarded(x, m, False).numpy(), expected[name], atol=1e-6)
        assert np.isfinite(guarded(x, m, True).numpy()).all()  # dropout in both branches


def test_layers_that_never_take_cudnn_are_left_alone(gpu_like):
    gpu_like()
    x = keras.Input((None, 2))
    layers = [L.LSTM(2, use_cudnn=False), L.GRU(2, recurrent_dropout=0.1),
              L.SimpleRNN(2)]
    model = keras.Model(x, [layer(x) for layer in layers])
    assert guard_cudnn_masks(model) == []
    assert guard_cudnn_masks(model, force=False) == []


@pytest.mark.parametrize("make", [
    lambda: RNNClassifier(cell="lstm", truncate_steps=3),  # front-padded chunks
    lambda: RNNRegressor(cell="gru", truncate_steps=3, return_sequences=True),  # empty rows
])
def test_truncated_bptt_trains_on_a_gpu_like_tensorflow(gpu_like, monkeypatch, make):
    """The chunks of truncated BPTT reach cuDNN only when it can take them; the fit is
    the one Keras' generic loop gives."""
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(2, 9), 2) for _ in range(24)]
    y = [x[:, 0] for x in X] if "Regressor" in repr(make()) else \
        np.array([int(x[:, 0].sum() > 0) for x in X])
    params = dict(units=4, epochs=2, batch_size=8, conv_filters=None, random_state=0)
    plain = make().set_params(**params).fit(X, y)  # Keras' own kernels: the reference
    gpu_like()
    guard = _cudnn_guard.guard_cudnn_masks
    monkeypatch.setattr(_cudnn_guard, "guard_cudnn_masks", lambda model: [])
    with pytest.raises(tf.errors.InvalidArgumentError, match="right-padded"):
        make().set_params(**params).fit(X, y)  # unguarded, as on a GPU
    monkeypatch.setattr(_cudnn_guard, "guard_cudnn_masks", guard)
    guarded = make().set_params(**params).fit(X, y)
    assert guarded.n_iter_ == 2
    for a, b in zip(plain.model_.get_weights(), guarded.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
