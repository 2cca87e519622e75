"""The training loop: epochs, early stopping, weights, warm start, compilation."""

import keras
import numpy as np
import pytest

from skrnn import RNNClassifier, RNNRegressor
from skrnn.training import clip_gradients

# batch_size=32: the loop's tests count batches (2 an epoch for 60 sequences)
FAST = dict(units=4, epochs=3, batch_size=32, random_state=0)


def data(n=60, seed=0, lo=3, hi=20):
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(lo, hi), 2) for _ in range(n)]
    y = np.array([int(s[:, 0].mean() > 0) for s in X])
    return X, y


def test_history_and_verbose_output(capsys):
    X, y = data()
    clf = RNNClassifier(verbose=2, early_stopping=True, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "Epoch 1/3 - loss:" in out and "val_loss:" in out and "val_accuracy:" in out
    assert "batch" not in out  # one line per epoch
    h = clf.history_
    assert h["epoch"] == [1, 2, 3]
    for key in ("loss", "val_loss", "val_score", "time", "grad_norm_mean", "grad_norm_max",
                "clipped_fraction"):
        assert len(h[key]) == 3 and np.isfinite(h[key]).all()
    clf.predict(X)
    assert capsys.readouterr().out == ""  # verbose=2: no progress bar for predict
    clf.set_params(verbose=1, warm_start=True, epochs=1).fit(X, y)
    out = capsys.readouterr().out
    assert out.startswith("Epoch 4/4") and "/batch" in out and "loss:" in out
    assert "val_loss:" in out and "val_accuracy:" in out
    clf.predict(X)
    assert "/batch" in capsys.readouterr().out
    RNNClassifier(**FAST).fit(X, y).predict(X)
    assert capsys.readouterr().out == ""


def test_early_stopping_restores_best_epoch_weights(monkeypatch):
    import skrnn.training._loop as loop

    seen = {}
    real_validate = loop._validate

    def validate(step, validation, batch_size, val_score):
        seen["validation"], seen["batch_size"] = validation, batch_size
        return real_validate(step, validation, batch_size, val_score)

    monkeypatch.setattr(loop, "_validate", validate)
    X, y = data(80)
    clf = RNNClassifier(units=8, epochs=200, learning_rate=0.05, early_stopping=True,
                        n_iter_no_change=3, validation_fraction=0.25, conv_filters=None,
                        random_state=0)
    clf.fit(X, y)
    h = clf.history_
    assert clf.n_iter_ < 200  # stopped early
    best = int(np.argmin(h["val_loss"]))
    assert clf.best_epoch_ == h["epoch"][best]
    assert clf.n_iter_ - clf.best_epoch_ >= 3
    assert h["val_loss"][best] < h["val_loss"][-1]
    # the kept weights give the best epoch's validation loss, not the last epoch's
    # (the normalisation calibration after training touches no weight here: no conv)
    restored, _ = real_validate(clf._step, seen["validation"], seen["batch_size"], None)
    assert restored == pytest.approx(h["val_loss"][best], rel=1e-5)


def test_sample_weight_and_class_weight_change_the_fit():
    X, y = data()
    base = RNNClassifier(**FAST).fit(X, y).predict_proba(X)
    sw = np.where(y == 1, 10.0, 0.1)
    weighted = RNNClassifier(**FAST).fit(X, y, sample_weight=sw).predict_proba(X)
    cw = RNNClassifier(class_weight={0: 0.1, 1: 10.0}, **FAST).fit(X, y).predict_proba(X)
    assert weighted[:, 1].mean() > base[:, 1].mean()
    np.testing.assert_allclose(weighted, cw, rtol=1e-5)  # same per-sample weights
    ones = RNNClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y))).predict_proba(X)
    np.testing.assert_array_equal(ones, base)
    bal = RNNClassifier(class_weight="balanced", **FAST).fit(X, y)
    assert bal.predict(X).shape == (60,)


def test_class_weight_per_step():
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(3, 8), 1) for _ in range(40)]
    Y = [(s[:, 0] > 1.0).astype(int) for s in X]  # rare positive steps
    kw = dict(return_sequences=True, **FAST)
    plain = RNNClassifier(**kw).fit(X, Y)
    heavy = RNNClassifier(class_weight={1: 20.0}, **kw).fit(X, Y)
    p_plain = np.concatenate([p[:, 1] for p in plain.predict_proba(X)])
    p_heavy = np.concatenate([p[:, 1] for p in heavy.predict_proba(X)])
    assert p_heavy.mean() > p_plain.mean()


def test_warm_start_continues_and_partial_fit_runs_one_epoch():
    X, y = data()
    clf = RNNClassifier(warm_start=True, **FAST).fit(X, y)
    w0 = [w.copy() for w in clf.model_.get_weights()]
    clf.fit(X, y)
    assert clf.n_iter_ == 6 and clf.history_["epoch"] == [1, 2, 3, 4, 5, 6]
    assert any(not np.array_equal(a, b) for a, b in zip(w0, clf.model_.get_weights()))
    cold = RNNClassifier(**FAST).fit(X, y).fit(X, y)
    assert cold.n_iter_ == 3
    pf = RNNClassifier(**FAST)
    for _ in range(2):
        pf.partial_fit(X[:30], y[:30], classes=[0, 1])
    assert pf.n_iter_ == 2
    reg = RNNRegressor(**FAST).partial_fit(X, y.astype(float)).partial_fit(X, y + 0.5)
    assert reg.n_iter_ == 2


def test_optimizer_instance_is_copied_not_modified():
    X, y = data()
    opt = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)
    clf = RNNClassifier(optimizer=opt, **FAST).fit(X, y)
    assert clf._step.optimizer is not opt
    assert int(opt.iterations) == 0
    rms = RNNClassifier(optimizer="rmsprop", learning_rate=0.01, **FAST).fit(X, y)
    assert float(rms._step.optimizer.learning_rate) == pytest.approx(0.01)


def test_variable_lengths_compile_a_bounded_number_of_times():
    X, y = data(300, lo=2, hi=200)
    clf = RNNClassifier(units=4, epochs=3, batch_size=16, random_state=0).fit(X, y)
    n_shapes = len({len(s) for s in X})
    assert n_shapes > 50
    assert clf._step.tracing_count() <= 3


def test_one_graph_per_function_for_small_fits(monkeypatch):
    """TensorFlow: a small fit on sequences of several lengths runs its equal-length
    batches through the masked graph (an all-true mask) rather than tracing the
    unmasked view too; equal-length data never trace the masked one (prediction's
    filler rows included). A large fit switches to the unmasked view; the weights are
    the same either way."""
    from skrnn.training._tensorflow import TensorFlowStep

    X, y = data(60, lo=3, hi=7)  # many batches of one length
    params = dict(units=4, epochs=2, batch_size=8, conv_filters=None, random_state=0)
    small = RNNClassifier(early_stopping=True, **params).fit(X, y)
    small.predict(X)
    assert sorted(small._step._functions) == [("evaluate", True), ("predict", True),
                                              ("train", True)]
    truncated = RNNClassifier(truncate_steps=3, early_stopping=True, **params).fit(X, y)
    truncated.predict(X)  # truncated BPTT keeps its set on the host, but is ragged too
    assert {masked for _, masked in truncated._step._functions} == {True}
    monkeypatch.setattr(TensorFlowStep, "UNMASKED_AFTER", 0)  # as if the data were large
    large = RNNClassifier(early_stopping=True, **params).fit(X, y)
    assert ("train", False) in large._step._functions
    for a, b in zip(small.model_.get_weights(), large.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    X3 = np.random.RandomState(0).randn(30, 5, 2)  # 30 rows: predict pads a last batch
    equal = RNNClassifier(**params).fit(X3, y[:30])
    equal.predict(X3)
    assert sorted(equal._step._functions) == [("predict", False), ("train", False)]


def test_variants_choose_the_masked_view_until_an_unmasked_one_pays_off():
    """The choice behind the test above, for TensorFlow (one unmasked graph) and JAX
    (one unmasked compilation per length)."""
    from skrnn.training._variants import Variants

    one_length = Variants(100, per_length=True)
    one_length.fit_lengths([5, 5, 5])
    assert not one_length.masked(True, 5, 40, train=False)   # data of one length
    assert one_length.masked(False, 5, 40, train=True)       # padding: always masked

    tf_like, jax_like = Variants(100, per_length=False), Variants(100, per_length=True)
    for v in (tf_like, jax_like):
        v.fit_lengths([3, 4, 4, 6])
        assert [v.masked(True, 4, 40, train=True) for _ in range(3)] == [True, True, False]
        assert not v.masked(True, 4, 8, train=False)         # that length has paid off
    assert not tf_like.masked(True, 6, 8, train=False)       # one graph for every length
    assert jax_like.masked(True, 6, 8, train=False)          # a compilation per length
    assert jax_like.masked(True, 6, 80, train=False)         # prediction does not count

    large = Variants(100, per_length=True)
    large.fit_lengths([4] * 30 + [3])                        # 120 row-steps of length 4
    assert not large.masked(True, 4, 8, train=True) and large.masked(True, 3, 6, train=True)


def test_clip_gradients_matches_keras_semantics():
    to_np = keras.ops.convert_to_numpy
    g = [keras.ops.convert_to_tensor(np.array([3.0, 4.0], "float32")),
         keras.ops.convert_to_tensor(np.array([0.3, 0.4], "float32"))]
    clipped, norm, flag = clip_gradients(g, clipnorm=1.0)
    assert float(norm) == pytest.approx(np.sqrt(25 + 0.25)) and float(flag) == 1.0
    np.testing.assert_allclose(to_np(clipped[0]), [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(to_np(clipped[1]), [0.3, 0.4], rtol=1e-6)
    clipped, _, flag = clip_gradients(g, clipvalue=0.35)
    np.testing.assert_allclose(to_np(clipped[1]), [0.3, 0.35], rtol=1e-6)
    clipped, _, flag = clip_gradients(g, global_clipnorm=1.0)
    total = np.sqrt(sum(np.sum(to_np(c) ** 2) for c in clipped))
    assert total == pytest.approx(1.0, rel=1e-6) and float(flag) == 1.0
    np.testing.assert_allclose(to_np(clipped[1]) / to_np(clipped[0]), [0.1, 0.1], rtol=1e-5)
    _, _, flag = clip_gradients(g, clipnorm=100.0, clipvalue=100.0, global_clipnorm=100.0)
    assert float(flag) == 0.0


def test_clipnorm_bounds_the_update():
    """With plain SGD (lr=1) the update of each variable is the clipped gradient."""
    X, y = data(32)
    # conv_filters=None: batch-norm statistics are weights that no gradient moves
    clf = RNNClassifier(units=4, epochs=1, batch_size=32, optimizer="sgd",
                        learning_rate=1.0, clipnorm=1e-3, conv_filters=None, random_state=0)
    clf.fit(X, y)  # builds the model; now one more epoch = one batch
    before = [w.copy() for w in clf.model_.get_weights()]
    clf.set_params(warm_start=True).fit(X, y)
    for a, b in zip(before, clf.model_.get_weights()):
        assert np.linalg.norm(b - a) <= 1e-3 * (1 + 1e-4)
    assert clf.history_["grad_norm_max"][-1] > 1e-3  # it really was clipped
    assert clf.history_["clipped_fraction"] == [1.0, 1.0]


def test_global_clipnorm_bounds_the_whole_update():
    X, y = data(32)
    clf = RNNClassifier(units=4, epochs=1, batch_size=32, optimizer="sgd",
                        learning_rate=1.0, global_clipnorm=1e-3, conv_filters=None,
                        random_state=0, warm_start=True).fit(X, y)
    before = clf.model_.get_weights()
    clf.fit(X, y)
    change = np.sqrt(sum(np.sum((b - a) ** 2)
                         for a, b in zip(before, clf.model_.get_weights())))
    assert change == pytest.approx(1e-3, rel=1e-3)
    unclipped = RNNClassifier(units=4, epochs=1, random_state=0).fit(X, y)
    assert unclipped.history_["clipped_fraction"] == [0.0]


def test_keyboard_interrupt_keeps_a_usable_model(monkeypatch):
    X, y = data()
    clf = RNNClassifier(**FAST).fit(X, y)
    calls = {"n": 0}
    real_train = clf._step.train

    def train_then_interrupt(*args):
        calls["n"] += 1
        if calls["n"] > 5:  # 2 batches an epoch: the 6th call is in the 3rd epoch
            raise KeyboardInterrupt
        return real_train(*args)

    monkeypatch.setattr(clf._step, "train", train_then_interrupt)
    clf.set_params(warm_start=True)
    with pytest.warns(RuntimeWarning, match="interrupted during epoch 6"):
        clf.fit(X, y)
    assert clf.n_iter_ == 5 and len(clf.history_["loss"]) == 5
    assert clf.predict(X).shape == (60,)


def test_non_finite_update_stops_training_and_keeps_last_finite_weights(monkeypatch):
    rng = np.random.RandomState(0)
    X = [rng.randn(6, 1) for _ in range(64)]
    y = rng.randn(64)
    X[40] = np.full((6, 1), 1e19)  # relu recurrence overflows float32 on this sample
    import skrnn.training._tensorflow as tf_step

    batches, real_train = [], tf_step.TensorFlowStep.train

    def train(self, x, mask, y, w):
        batches.append(float(np.abs(np.asarray(x)).max()))
        return real_train(self, x, mask, y, w)

    monkeypatch.setattr(tf_step.TensorFlowStep, "train", train)
    reg = RNNRegressor(cell="rnn", activation="relu", units=4, epochs=5, batch_size=8,
                       scaling=None, conv_filters=None, random_state=0)
    with pytest.warns(RuntimeWarning, match=r"Non-finite loss or gradient at epoch 1, "
                                            r"update \d+ .* lower the learning_rate"):
        reg.fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.history_["non_finite"]) == 1
    assert all(np.isfinite(w).all() for w in reg.model_.get_weights())
    assert np.isfinite(reg.predict(X[:5])).all()  # still usable
    # the warning names the update that failed: the ones before it were applied
    bad_update = reg.history_["non_finite"][0]["update"]
    first_bad_batch = next(i for i, m in enumerate(batches) if m > 1e18)
    assert bad_update == first_bad_batch + 1  # 1-based, in the epoch's update order
    assert np.isfinite(reg.history_["loss"][0])
    # a later fit starts afresh and trains normally without the bad sample
    X[40] = np.zeros((6, 1))
    assert reg.fit(X, y).n_iter_ == 5 and reg.history_["non_finite"] == []


def test_warm_start_takes_new_training_params_and_refuses_new_architecture():
    X, y = data()
    clf = RNNClassifier(warm_start=True, **FAST).fit(X, y)
    step = clf._step
    clf.fit(X, y)
    assert clf._step is step  # optimizer state carries over
    clf.set_params(learning_rate=0.5, clipnorm=0.1).fit(X, y)
    assert clf._step is not step and clf._step.clipping["clipnorm"] == 0.1
    assert float(clf._step.optimizer.learning_rate) == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"\['units'\] changed"):
        clf.set_params(units=7).fit(X, y)


@pytest.mark.parametrize("change", [
    dict(dropout=0.3), dict(recurrent_dropout=0.2), dict(recurrent_initializer="identity"),
    dict(unit_forget_bias=False), dict(layer_norm=True), dict(cell="gru"),
    dict(units=(4, 4)), dict(pooling="attention"), dict(conv_filters=(8, 8, 8)),
])
def test_warm_start_refuses_every_model_defining_change(change):
    X, y = data()
    clf = RNNClassifier(warm_start=True, conv_filters=None, **FAST).fit(X, y)
    before = clf.predict_proba(X)
    name = next(iter(change))
    with pytest.raises(ValueError, match=rf"\['{name}'.*\] changed since it was built"):
        clf.set_params(**change).fit(X, y)
    assert np.array_equal(clf.predict_proba(X), before)


def test_warm_start_refuses_a_new_embedding_for_tokens_only():
    tokens = [["a", "b", "c"][: 1 + i % 3] for i in range(30)]
    y = np.arange(30) % 2
    clf = RNNClassifier(warm_start=True, embedding_dim=4, **FAST).fit(tokens, y)
    with pytest.raises(ValueError, match=r"\['embedding_dim'\] changed"):
        clf.set_params(embedding_dim=6).fit(tokens, y)
    X, yn = data()
    numeric = RNNClassifier(warm_start=True, embedding_dim=4, **FAST).fit(X, yn)
    numeric.set_params(embedding_dim=6).fit(X, yn)  # unused for numbers: continues
    assert numeric.n_iter_ == 6


def test_history_is_one_object_with_its_keys():
    from skrnn import History
    from skrnn._history import EPOCH_KEYS, EVENT_KEYS

    X, y = data()
    clf = RNNClassifier(**FAST).fit(X, y)
    h = clf.history_
    assert isinstance(h, History) and set(h) == set(EPOCH_KEYS) | set(EVENT_KEYS)
    assert all(len(h[k]) == h.n_epochs == 3 for k in EPOCH_KEYS)
    with pytest.raises(KeyError, match="needs exactly"):
        h.record(epoch=4, loss=0.1)
    # a history pickled as a plain dict by an earlier version is taken over
    import pickle

    state = clf.__getstate__()
    state["history_"] = {k: list(v) for k, v in h.items() if k != "learning_rate"}
    old = RNNClassifier.__new__(RNNClassifier)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert isinstance(old.history_, History)
    assert np.isnan(old.history_["learning_rate"]).all()
    old.set_params(warm_start=True, epochs=1).fit(X, y)
    assert old.history_.n_epochs == 4 and old.history_["epoch"][-1] == 4


def test_an_unknown_task_is_refused_not_trained_as_squared_error():
    from skrnn.models import ModelSpec, build_model
    from skrnn.training import get_optimizer, make_step, weighted_loss

    model = build_model(ModelSpec(
        input_kind="numeric", n_features=1, vocabulary_size=None, embedding_dim=4,
        cell="rnn", units=(2,), bidirectional=False, dropout=0.0, recurrent_dropout=0.0,
        activation="tanh", pooling="last", return_sequences=False, n_outputs=1, seed=0))
    with pytest.raises(ValueError, match="task must be one of"):
        make_step(model, get_optimizer("adam", 1e-3), "regresion", False)
    y = np.zeros((2, 1), np.float32)
    with pytest.raises(ValueError, match="task must be one of"):
        weighted_loss("ranking", False, y, y, np.ones(2, np.float32), None)


# ------------------------------------------------------------ learning-rate schedules
def _schedule():
    return keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=0.9)


def test_a_learning_rate_schedule_sets_every_update_and_carries_over_warm_starts():
    import pickle
    import warnings

    from helpers import ragged
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    X, y = ragged(40)
    schedule = _schedule()
    before = schedule.get_config()
    clf = RNNClassifier(units=4, epochs=3, batch_size=10, learning_rate=schedule,
                        conv_filters=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        # 40 sequences in batches of 10: 4 updates an epoch, each at 0.9 times the last
        # rate; the plateau schedule leaves a Keras schedule alone
        np.testing.assert_allclose(clf.history_["learning_rate"],
                                   [0.01 * 0.9 ** (4 * e) for e in range(3)], rtol=1e-5)
        assert schedule.get_config() == before  # copied, never modified
        copy = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
        assert clone(clf).learning_rate.get_config() == before
        clf.set_params(warm_start=True, epochs=1).fit(X, y)  # the update count goes on
    assert clf.history_["learning_rate"][-1] == pytest.approx(0.01 * 0.9 ** 12, rel=1e-5)


def test_seq2seq_takes_a_learning_rate_schedule():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skrnn import Seq2SeqTransformer

    X = ["abc", "bca", "cab", "acb"] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Seq2SeqTransformer(units=4, epochs=2, batch_size=8, learning_rate=_schedule(),
                                   random_state=0).fit(X, [x[::-1] for x in X])
    np.testing.assert_allclose(model.history_["learning_rate"], [0.01, 0.01 * 0.9 ** 2],
                               rtol=1e-5)


def test_a_learning_rate_of_another_kind_is_refused():
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = [np.ones((3, 1)), np.zeros((4, 1))] * 4, [0, 1] * 4
    with pytest.raises(InvalidParameterError, match="The 'learning_rate' parameter"):
        RNNClassifier(learning_rate="fast", epochs=1).fit(X, y)
    with pytest.raises(TypeError, match="learning_rate must be a positive float or a keras"):
        RNNClassifier(learning_rate=keras.layers.Dense(2), epochs=1).fit(X, y)
