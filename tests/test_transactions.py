"""``fit`` is a transaction: a fit that raises leaves the estimator as it was."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import skrnn.models
import skrnn.training
import skrnn.training._loop
from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

FAST = dict(units=4, epochs=2, batch_size=16, conv_filters=None, random_state=0)


def data(n=40, seed=0, features=2):
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(3, 12), features) for _ in range(n)]
    return X, np.array([s[:, 0].mean() > 0 for s in X])


def state(est, X):
    """Everything a user sees of a fitted estimator."""
    out = {name: getattr(est, name) for name in ("n_iter_", "n_step_features_")}
    out["history"] = {k: list(v) for k, v in est.history_.items()}
    out["weights"] = est.model_.get_weights()
    if hasattr(est, "classes_"):
        out["classes"] = list(est.classes_)
        out["outputs"] = est.predict_proba(X)
    else:
        out["outputs"] = est.predict(X)
    return out


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key == "weights":
            assert all(np.array_equal(u, v) for u, v in zip(a[key], b[key]))
        elif key == "outputs":
            assert np.array_equal(a[key], b[key])  # bit-identical
        else:
            assert a[key] == b[key] or repr(a[key]) == repr(b[key]), key


def fail_late(monkeypatch):
    """Make the step after training (normalisation calibration) raise."""
    def boom(*args, **kwargs):
        raise RuntimeError("late failure")

    monkeypatch.setattr(skrnn.training, "calibrate_normalisation", boom)


def test_failed_refit_with_new_labels_leaves_the_classifier_as_it_was():
    X, y = data()
    clf = RNNClassifier(**FAST).fit(X, np.where(y, "a", "b"))
    before = state(clf, X)
    X3, _ = data(seed=1, features=3)
    with pytest.raises(ValueError, match="sample_weight"):
        clf.fit(X3, np.where(y, "c", "d"), sample_weight=-np.ones(len(y)))
    assert_same(state(clf, X), before)
    assert set(clf.predict(X)) <= {"a", "b"}


def test_failed_refit_leaves_the_regressor_as_it_was():
    X, y = data()
    reg = RNNRegressor(**FAST).fit(X, y.astype(float))
    before = state(reg, X)
    with pytest.raises(ValueError, match="sample_weight"):
        reg.fit(X, 1000.0 * y, sample_weight=-np.ones(len(y)))
    assert_same(state(reg, X), before)


@pytest.mark.parametrize("warm", [False, True])
def test_a_failure_after_training_restores_weights_history_and_scaling(monkeypatch, warm):
    X, y = data()
    clf = RNNClassifier(**FAST).fit(X, y)
    before = state(clf, X)
    mean = clf.scaling_mean_.copy()
    Xs = [10 * x + 5 for x in X]  # other scaling statistics
    fail_late(monkeypatch)
    with pytest.raises(RuntimeError, match="late failure"):
        clf.set_params(warm_start=warm).fit(Xs, y)
    assert_same(state(clf, X), before)
    assert np.array_equal(clf.scaling_mean_, mean)
    monkeypatch.undo()
    clf.fit(X, y)  # and it still fits (warm: continuing the restored weights)
    assert clf.n_iter_ == (4 if warm else 2)


def test_a_failed_partial_fit_restores_the_weights(monkeypatch):
    X, y = data()
    reg = RNNRegressor(**FAST)
    reg.partial_fit(X, y.astype(float))
    before = state(reg, X)
    fail_late(monkeypatch)
    with pytest.raises(RuntimeError):
        reg.partial_fit(X, y.astype(float))
    assert_same(state(reg, X), before)


@pytest.mark.parametrize("Estimator", [RNNClassifier, RNNRegressor])
def test_a_failed_first_fit_leaves_the_estimator_unfitted(monkeypatch, Estimator):
    X, y = data()
    fail_late(monkeypatch)
    est = Estimator(**FAST)
    with pytest.raises(RuntimeError):
        est.fit(X, y)
    assert not hasattr(est, "model_") and not hasattr(est, "n_step_features_")
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_ctrl_c_while_building_propagates_and_changes_nothing(monkeypatch):
    X, y = data()
    clf = RNNClassifier(**FAST).fit(X, y)
    before = state(clf, X)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skrnn.models, "build_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, ~y)
    assert_same(state(clf, X), before)


def test_ctrl_c_while_validating_ends_training_with_the_epoch_recorded(monkeypatch):
    X, y = data()
    real, calls = skrnn.training._loop._validate, {"n": 0}

    def validate_then_interrupt(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(skrnn.training._loop, "_validate", validate_then_interrupt)
    clf = RNNClassifier(early_stopping=True, **dict(FAST, epochs=5))
    with pytest.warns(RuntimeWarning, match="interrupted while validating epoch 3"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and clf.history_["epoch"] == [1, 2, 3]
    assert np.isnan(clf.history_["val_loss"][-1])
    assert clf.predict(X).shape == (40,)


S2S = dict(units=8, epochs=2, batch_size=16, random_state=0)
WORDS = ["abc", "bca", "cab", "acb", "bac", "cba", "aab", "bba"] * 3


def test_a_failed_seq2seq_refit_changes_nothing(monkeypatch):
    s2s = Seq2SeqTransformer(**S2S).fit(WORDS, [w[::-1] for w in WORDS])
    before = (s2s.predict(WORDS), list(s2s.history_["loss"]), s2s.n_iter_,
              s2s.target_vocabulary_.tokens_)

    def boom(*args, **kwargs):
        raise RuntimeError("late failure")

    monkeypatch.setattr(skrnn.training, "run_epochs", boom)
    for warm in (False, True):
        with pytest.raises(RuntimeError):
            s2s.set_params(warm_start=warm).fit(["xyz"] * 24, ["zyx"] * 24)
        after = (s2s.predict(WORDS), list(s2s.history_["loss"]), s2s.n_iter_,
                 s2s.target_vocabulary_.tokens_)
        assert after == before


def test_a_failed_first_seq2seq_fit_is_not_fitted(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skrnn.training, "run_epochs", interrupted)
    s2s = Seq2SeqTransformer(**S2S)
    with pytest.raises(KeyboardInterrupt):
        s2s.fit(WORDS, WORDS)
    assert not hasattr(s2s, "_encoder")
    with pytest.raises(NotFittedError):
        s2s.predict(WORDS)
