"""Truncated backpropagation through time."""

import keras
import numpy as np
import pytest

from skrnn import RNNClassifier, RNNRegressor
from skrnn.data import SupervisedSet
from skrnn.models import ModelSpec, build_model, state_sizes, with_state_io
from skrnn.training._loop import _train_epoch

to_np = keras.ops.convert_to_numpy


def ragged(n=48, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(4, 25), 2) for _ in range(n)]
    y = np.array([int(s[-3:, 0].sum() > 0) for s in X])
    return X, y


def max_weight_difference(a, b):
    return max(np.abs(u - v).max() for u, v in zip(a.model_.get_weights(),
                                                     b.model_.get_weights()))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_truncation_longer_than_sequences_equals_full_bptt(cell):
    X, y = ragged()
    # conv_filters=None: "auto" gives full BPTT a front-end that truncation cannot have
    kw = dict(cell=cell, units=(5, 4), epochs=1, batch_size=16, conv_filters=None,
              random_state=0)
    full = RNNClassifier(**kw).fit(X, y)
    trunc = RNNClassifier(truncate_steps=25, **kw).fit(X, y)
    assert max_weight_difference(full, trunc) < 1e-6
    Y = [np.cumsum(s[:, 0]) for s in X]
    full = RNNRegressor(return_sequences=True, **kw).fit(X, Y)
    trunc = RNNRegressor(return_sequences=True, truncate_steps=40, **kw).fit(X, Y)
    assert max_weight_difference(full, trunc) < 1e-6


def test_short_truncation_changes_training_and_still_learns():
    X, y = ragged(200)
    kw = dict(units=8, epochs=15, learning_rate=0.02, batch_size=32, conv_filters=None,
              random_state=0)
    full = RNNClassifier(**kw).fit(X, y)
    trunc = RNNClassifier(truncate_steps=5, **kw).fit(X, y)
    assert max_weight_difference(full, trunc) > 1e-3
    # the label depends on the last 3 steps: 5-step truncation can learn it
    assert trunc.score(X, y) > 0.8


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("align", ["start", "end"])
def test_chunked_forward_with_carried_state_equals_full_forward(cell, align):
    spec = ModelSpec("numeric", 2, None, 4, cell, (5, 3), False, 0.0, 0.0, "tanh", "last",
                     align == "start", 2, 0)
    model = build_model(spec)
    stateful = with_state_io(model)
    rng = np.random.RandomState(0)
    lengths = np.array([12, 7, 3])
    x = rng.randn(3, 12, 2).astype("float32")
    steps = np.arange(12)[None]
    mask = steps < lengths[:, None] if align == "start" else steps >= 12 - lengths[:, None]
    full = to_np(model([x, mask]))
    states = [np.zeros((3, n), "float32") for group in state_sizes(model) for n in group]
    outs = []
    for c in range(3):  # chunks of 4 steps, a sequence ends inside one
        sl = slice(4 * c, 4 * c + 4)
        out, *states = (to_np(t) for t in stateful([x[:, sl], mask[:, sl], *states]))
        outs.append(out)
    if align == "start":  # per-step outputs
        np.testing.assert_allclose(np.concatenate(outs, axis=1)[mask], full[mask], atol=1e-6)
    else:
        np.testing.assert_allclose(outs[-1], full, atol=1e-6)


class RecordingStep:
    """Stands in for a backend step and records what the loop asks of it."""

    per_step = False

    def __init__(self):
        self.calls = []

    def resume(self):
        pass

    def initial_states(self, n):
        return [np.zeros((n, 1))]

    def advance(self, x, mask, states):
        self.calls.append(("advance", x.copy(), mask.copy(), states[0].copy()))
        return [states[0] + 1]

    def train_chunk(self, x, mask, y, w, states):
        self.calls.append(("train_chunk", x.copy(), mask.copy(), states[0].copy()))
        return 0.5, 1.0, 0.0, True, [states[0] + 1]


def test_loop_chunks_one_target_per_sequence_aligned_on_the_end():
    values = [np.arange(1, 4, dtype="float32")[:, None],
              np.arange(1, 8, dtype="float32")[:, None]]
    data = SupervisedSet(values, np.array([3, 7]), np.array([0, 1]), np.ones(2), False)
    step = RecordingStep()
    _train_epoch(step, data, batch_size=2, rng=np.random.RandomState(0), truncate_steps=3)
    kinds = [c[0] for c in step.calls]
    assert kinds == ["advance", "advance", "train_chunk"]  # 7 steps -> 9 = 3 chunks
    last_x, last_mask = step.calls[-1][1], step.calls[-1][2]
    # the last chunk holds the last 3 steps of every sequence
    assert sorted(last_x[:, :, 0].tolist()) == [[1, 2, 3], [5, 6, 7]]
    assert last_mask.all()
    assert step.calls[-1][3].tolist() == [[2], [2]]  # the state was carried twice


def test_loop_chunks_per_step_targets_updating_every_chunk():
    values = [np.ones((3, 1), "float32"), np.ones((7, 1), "float32")]
    y = [np.zeros(3, "int32"), np.zeros(7, "int32")]
    data = SupervisedSet(values, np.array([3, 7]), y, [np.ones(3), np.ones(7)], True)
    step = RecordingStep()
    step.per_step = True
    _train_epoch(step, data, batch_size=2, rng=np.random.RandomState(0), truncate_steps=3)
    assert [c[0] for c in step.calls] == ["train_chunk"] * 3
    masks = [c[2] for c in step.calls]
    assert [m.sum() for m in masks] == [6, 3, 1]  # 3+3, then 0+3, then 0+1 real steps
    assert [m[0].sum() for m in masks] == [3, 0, 0]  # the short one ends with chunk 0


def test_truncation_parameter_errors():
    X, y = ragged(8)
    with pytest.raises(ValueError, match="bidirectional"):
        RNNClassifier(truncate_steps=5, bidirectional=True, epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="pooling='last'"):
        RNNClassifier(truncate_steps=5, pooling="mean", epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"The 'truncate_steps' parameter of RNNClassifier "
                                         r"must be an int in the range \[1, inf\) or None"):
        RNNClassifier(truncate_steps=0, epochs=1).fit(X, y)
