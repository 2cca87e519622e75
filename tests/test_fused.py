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


def test_a_prefetched_fit_is_the_same_fit(monkeypatch):
    """The thread is used with an accelerator only; forced on here, the fit is the same
    to the bit, and a callback's stop in mid-epoch ends the thread."""
    from skrnn import RNNClassifier
    from skrnn.training import _loop
    from skrnn.training._tensorflow import TensorFlowStep

    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(3, 9), 2) for _ in range(40)]
    y = np.array([int(x[:, 0].sum() > 0) for x in X])

    def make(**kw):
        return RNNClassifier(units=4, epochs=3, batch_size=8, conv_filters=None,
                             random_state=0, **kw)

    plain = make().fit(X, y)
    assert plain._step.prefetch is False  # a CPU: no thread
    threads = []
    monkeypatch.setattr(TensorFlowStep, "prefetch", True)
    monkeypatch.setattr(_loop, "prefetch", lambda *a: threads.append(1) or prefetch(*a))
    fetched = make().fit(X, y)
    assert len(threads) == 3  # one per epoch
    for a, b in zip(plain.model_.get_weights(), fetched.model_.get_weights()):
        np.testing.assert_array_equal(a, b)

    class StopAtBatch2(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    make(callbacks=[StopAtBatch2()]).fit(X, y)
    assert not any(t.name == "skrnn-prefetch" for t in threading.enumerate())


@pytest.mark.parametrize("per_step, tokens", [(False, False), (True, False), (False, True),
                                              (True, True)])
def test_a_held_set_cuts_the_batches_the_host_pads(per_step, tokens):
    """The training set kept on the device (``_resident.py``): each batch cut out there
    is the one ``SupervisedSet.batch`` pads on the host, value for value, padded further
    to a longer length when asked (JAX's ladder), with exact zeros on padded steps."""
    from keras import ops

    from skrnn.data import SupervisedSet
    from skrnn.training._resident import HeldSet, cut_batch, held_bytes

    rng = np.random.RandomState(0)
    lengths = rng.randint(1, 9, 30)
    x = [rng.randint(1, 7, t).astype(np.int32) if tokens else
         rng.randn(t, 3).astype(np.float32) for t in lengths]
    y = [rng.randn(t, 2).astype(np.float32) for t in lengths] if per_step else \
        rng.randint(0, 3, 30).astype(np.int32)
    w = [rng.rand(t) for t in lengths] if per_step else rng.rand(30)
    train = SupervisedSet(x, lengths, y, w, per_step)
    held = HeldSet(train, ops.convert_to_tensor)
    assert held_bytes(train) == sum(a.nbytes for a in x) + (
        sum(a.nbytes for a in y) + sum(a.nbytes for a in w) if per_step else y.nbytes + w.nbytes)
    for idx in (rng.permutation(30)[:7], np.array([3]), np.arange(30)):
        offsets, batch_lengths, t, equal = held.rows(idx)
        assert t == lengths[idx].max() and equal == (len(set(lengths[idx])) == 1)
        for steps in (t, t + 3):
            got = [ops.convert_to_numpy(a) for a in cut_batch(
                held.x, held.y, held.w, idx, offsets, batch_lengths, steps, per_step)]
            expected = train.batch(idx)
            for name, a, b in zip("x mask y w".split(), got, expected):
                if name in ("x", "mask") or per_step:  # padded to ``steps``
                    b = np.pad(b, [(0, 0), (0, steps - t)] + [(0, 0)] * (b.ndim - 2))
                assert a.dtype == b.dtype, name
                np.testing.assert_array_equal(a, b, err_msg=name)


def test_tensorflow_keeps_padding_on_the_host(monkeypatch):
    """TensorFlow's step cannot cut batches on its device: forcing the held set changes
    nothing there (JAX and torch hold it: test_backends.py, ``check_held``)."""
    from skrnn import RNNClassifier
    from skrnn.training import _resident
    from skrnn.training._step import Step

    monkeypatch.setattr(Step, "keep_on_device", True)
    before = dict(_resident.HELD)
    X = [np.ones((t, 2)) * t for t in (2, 3, 4, 5)]
    clf = RNNClassifier(units=2, epochs=1, conv_filters=None).fit(X, [0, 1, 0, 1])
    assert clf._step.can_hold is False and _resident.HELD == before
