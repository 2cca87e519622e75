"""Every warning skrnn raises names the line of the user's code that called skrnn
(``stacklevel``), however deep inside the package it is raised."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn._warnings import caller_stacklevel

FAST = dict(units=4, epochs=1, batch_size=16, conv_filters=None, random_state=0)


def data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(3, 10), 2) for _ in range(n)]
    return X, np.array([s[:, 0].mean() > 0 for s in X]).astype(int)


def caught(category, call):
    """The warnings of ``category`` that ``call()`` raised."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    found = [w for w in record if issubclass(w.category, category)]
    assert found, [str(w.message) for w in record]
    return found


def test_convergence_warning_names_the_callers_line():
    X, y = data()
    for call in (lambda: RNNClassifier(**FAST).fit(X, y),
                 lambda: RNNRegressor(**FAST).fit(X, y.astype(float)),
                 lambda: Seq2SeqTransformer(units=4, epochs=1, random_state=0).fit(
                     [list("ab"), list("abc")] * 8, [list("ba"), list("cba")] * 8)):
        for w in caught(ConvergenceWarning, call):
            assert w.filename == __file__, (w.filename, w.lineno)


def test_divergence_and_non_finite_warnings_name_the_callers_line():
    r = np.random.RandomState(0)
    X = [r.randn(r.randint(3, 30), 2) for _ in range(200)]
    est = RNNRegressor(cell="rnn", activation="relu", learning_rate=1e6, units=8, epochs=3,
                       conv_filters=None, random_state=0)
    found = caught(RuntimeWarning, lambda: est.fit(X, r.randn(200)))
    messages = " ".join(str(w.message) for w in found)
    assert "non-finite" in messages.lower()
    assert {w.filename for w in found} == {__file__}


def test_scikit_learns_column_vector_warning_names_the_callers_line():
    X, y = data()
    (w,) = caught(DataConversionWarning,
                  lambda: RNNClassifier(**FAST).fit(X, y.reshape(-1, 1)))
    assert w.filename == __file__ and "column-vector" in str(w.message)


def test_a_warning_from_a_callback_inside_fit_still_names_the_fit_call():
    """Frames of the user's own code called by skrnn (a callback) lie between skrnn
    frames: the warning goes to the line outside the outermost skrnn frame."""
    import keras

    from skrnn._warnings import warn

    class Warns(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            warn("from a callback")

    X, y = data()
    (w,) = [w for w in caught(UserWarning,
                              lambda: RNNClassifier(**FAST, callbacks=[Warns()]).fit(X, y))
            if "callback" in str(w.message)]
    assert w.filename == __file__ and "from a callback" in str(w.message)


def test_caller_stacklevel_outside_the_package_is_the_direct_caller():
    assert caller_stacklevel() == 2  # this frame is outside skrnn: warn() points here
    with pytest.warns(UserWarning) as record:
        warnings.warn("plain", UserWarning, stacklevel=caller_stacklevel() - 1)
    assert record[0].filename == __file__
