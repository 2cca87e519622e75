"""Resuming training after pickling: the optimizer's state travels with the estimator."""

import pickle

import numpy as np
import pytest
from helpers import ragged

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

# a constant rate and no plateau stop: 3 + 3 warm epochs are then 6 epochs in one go
PARAMS = dict(units=4, batch_size=8, conv_filters=None, lr_schedule="constant",
              n_iter_no_change=100, random_state=0)


pytestmark = pytest.mark.usefixtures("quiet_convergence")


def weights(est):
    return [np.asarray(w) for w in est.model_.get_weights()]


def assert_same(a, b):
    for x, y in zip(weights(a), weights(b)):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [RNNClassifier, RNNRegressor])
def test_fit_pickle_warm_start_equals_one_fit(make):
    X, labels = ragged(40)
    y = labels if make is RNNClassifier else np.array([x[:, 0].mean() for x in X])
    whole = make(epochs=6, **PARAMS).fit(X, y)
    half = make(epochs=3, warm_start=True, **PARAMS).fit(X, y)
    resumed = pickle.loads(pickle.dumps(half))
    resumed.predict(X[:2])  # predicting first builds the step: the state must survive
    resumed.fit(X, y)
    assert_same(resumed, whole)
    assert resumed.history_["epoch"] == list(range(1, 7))
    # the test can fail: without the optimizer's state (Adam's moments restart) the
    # weights differ
    restarted = pickle.loads(pickle.dumps(half))
    del restarted._optimizer_state
    restarted.fit(X, y)
    assert not all(np.allclose(a, b, rtol=1e-5, atol=1e-6)
                   for a, b in zip(weights(restarted), weights(whole)))


def test_a_fresh_fit_after_unpickling_starts_its_optimizer_afresh():
    X, y = ragged(40)
    half = RNNClassifier(epochs=3, **PARAMS).fit(X, y)
    refit = pickle.loads(pickle.dumps(half)).fit(X, y)  # warm_start=False
    assert "_optimizer_state" not in refit.__dict__
    assert_same(refit, RNNClassifier(epochs=3, **PARAMS).fit(X, y))


def test_changed_step_settings_drop_the_pickled_state():
    X, y = ragged(40)
    half = RNNClassifier(epochs=3, warm_start=True, **PARAMS).fit(X, y)
    resumed = pickle.loads(pickle.dumps(half)).set_params(learning_rate=0.01)
    resumed.fit(X, y)
    assert "_optimizer_state" not in resumed.__dict__
    assert resumed.history_["learning_rate"][-1] == pytest.approx(0.01)


def test_seq2seq_resumes_too():
    X = ["abc", "bca", "cab", "acb", "bac", "cba"] * 3
    Y = [x[::-1] for x in X]
    params = dict(units=4, batch_size=8, lr_schedule="constant", n_iter_no_change=100,
                  random_state=0)
    whole = Seq2SeqTransformer(epochs=4, **params).fit(X, Y)
    half = Seq2SeqTransformer(epochs=2, warm_start=True, **params).fit(X, Y)
    resumed = pickle.loads(pickle.dumps(half)).fit(X, Y)
    assert_same(resumed, whole)
