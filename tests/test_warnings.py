"""Every warning skrnn raises names the line of the user's code that called skrnn
(``stacklevel``), however deep inside the package it is raised."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn._warnings import caller_stacklevel

FAST = dict(units=4, epochs=1, batch_size=16, conv_filters=None, random_state=0)


def data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(3, 10), 2) for _ in range(n)]
    return X, np.array([s[:, 0].mean() > 0 for s in X]).astype(int)


def caught(category, call, match=""):
    """The warnings of ``category`` that ``call()`` (a one-line lambda) raised, each
    checked to name the lambda's line: the user's call, not skrnn's code nor the
    line of this helper that called the lambda."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    found = [w for w in record if issubclass(w.category, category)
             and match in str(w.message)]
    assert found, [str(w.message) for w in record]
    for w in found:
        assert (w.filename, w.lineno) == (__file__, call.__code__.co_firstlineno), (
            w.filename, w.lineno, str(w.message))
    return found


def test_convergence_warning_names_the_callers_line():
    X, y = data()
    src, tgt = [list("ab"), list("abc")] * 8, [list("ba"), list("cba")] * 8
    caught(ConvergenceWarning, lambda: RNNClassifier(**FAST).fit(X, y))
    caught(ConvergenceWarning, lambda: RNNRegressor(**FAST).fit(X, y.astype(float)))
    caught(ConvergenceWarning, lambda: Seq2SeqTransformer(units=4, epochs=1).fit(src, tgt))


def test_divergence_and_non_finite_warnings_name_the_callers_line():
    r = np.random.RandomState(0)
    X, y = [r.randn(r.randint(3, 30), 2) for _ in range(200)], r.randn(200)
    est = RNNRegressor(cell="rnn", activation="relu", learning_rate=1e6, units=8, epochs=3,
                       conv_filters=None, random_state=0)
    found = caught(RuntimeWarning, lambda: est.fit(X, y))
    assert "non-finite" in " ".join(str(w.message) for w in found).lower()


def test_scikit_learns_column_vector_warning_names_the_callers_line():
    X, y = data()
    caught(DataConversionWarning, lambda: RNNClassifier(**FAST).fit(X, y.reshape(-1, 1)),
           match="column-vector")


def test_a_warning_from_a_callback_inside_fit_still_names_the_fit_call():
    """Frames of the user's own code called by skrnn (a callback) lie between skrnn
    frames: the warning goes to the line outside the outermost skrnn frame."""
    import keras

    from skrnn._warnings import warn

    class Warns(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            warn("from a callback")

    X, y = data()
    est = RNNClassifier(**FAST, callbacks=[Warns()])
    caught(UserWarning, lambda: est.fit(X, y), match="from a callback")


def test_caller_stacklevel_outside_the_package_is_the_caller_itself():
    assert caller_stacklevel() == 1
