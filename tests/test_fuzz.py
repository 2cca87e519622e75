"""Fuzzing with hypothesis: ragged inputs, dtypes, special values, labels and parameters
for all three estimators.

Every example ends in a correct fit (right output shapes, finite outputs, labels among
the classes) or in a ValueError / TypeError raised by skrnn's (or scikit-learn's) own
validation, never in an error from inside NumPy, Keras, TensorFlow, JAX or torch.
"""

import os
import traceback
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]
# 10 examples per estimator in the suite; SKRNN_FUZZ_EXAMPLES=200 for a longer search.
FUZZ = settings(max_examples=int(os.environ.get("SKRNN_FUZZ_EXAMPLES", 10)), deadline=None,
                derandomize="SKRNN_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SPECIAL = [0.0, -0.0, 1.0, -1e30, 1e30, 1e-40, np.nan, np.inf, 1e39]


@st.composite
def numeric_sequences(draw, n):
    features = draw(st.integers(1, 3))
    ragged_features = draw(st.booleans()) and draw(st.booleans())  # 1 in 4
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    out = []
    for i in range(n):
        length = draw(st.integers(1, 6))
        f = features + (1 if ragged_features and i == n - 1 else 0)
        seq = np.asarray(draw(st.lists(st.floats(-5, 5), min_size=length * f,
                                       max_size=length * f))).reshape(length, f)
        if draw(st.integers(0, 9)) == 0:  # a special value, now and then
            seq[draw(st.integers(0, length - 1)), 0] = draw(st.sampled_from(SPECIAL))
        with np.errstate(invalid="ignore", over="ignore"):
            out.append(seq.astype(dtype) if dtype is not np.int64
                       or np.isfinite(seq).all() else seq)
    if draw(st.booleans()) and len({len(s) for s in out}) == 1 and not ragged_features:
        return np.stack(out)  # a 3-D array
    return out


@st.composite
def inputs(draw):
    n = draw(st.integers(2, 8))
    kind = draw(st.sampled_from(["numeric", "numeric", "tokens", "broken"]))
    if kind == "numeric":
        X = draw(numeric_sequences(n))
    elif kind == "tokens":
        X = [draw(st.lists(st.sampled_from(["a", "b", "cd", "é"]), min_size=1, max_size=5))
             for _ in range(n)]
    else:
        X = draw(st.sampled_from([
            [np.ones((3, 2)), None] + [np.ones((2, 2))] * (n - 2),
            [np.ones((3, 2)), "text"] + [np.ones((2, 2))] * (n - 2),
            [np.ones((0, 2))] * n, {"a": 1}, 5.0, np.ones(n),
            [np.ones((2, 2)), [["a"], ["b"]]] + [np.ones((2, 2))] * (n - 2)]))
    return X, n


PARAMS = st.fixed_dictionaries({
    "units": st.sampled_from([1, 2, (2, 1)]),
    "cell": st.sampled_from(["lstm", "gru", "rnn"]),
    "bidirectional": st.booleans(),
    "pooling": st.sampled_from(["last", "mean", "attention"]),
    "scaling": st.sampled_from(["feature", "sequence", None]),
    "conv_filters": st.sampled_from([None, (2,)]),
})


def assert_own_error(exc):
    """The error comes from skrnn's (or scikit-learn's) validation, not from deep inside
    a numerical library."""
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    origin = traceback.extract_tb(exc.__traceback__)[-1].filename
    assert "/skrnn/" in origin or "/sklearn/" in origin, (
        f"{type(exc).__name__}: {exc} raised from {origin}")


OUTCOMES = {"fitted": 0, "refused": 0}


def fit_or_refuse(make, X, y, check):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = make().fit(X, y)
            check(est)
        OUTCOMES["fitted"] += 1
    except (ValueError, TypeError) as exc:
        OUTCOMES["refused"] += 1
        assert_own_error(exc)


@FUZZ
@given(data=inputs(), params=PARAMS, labels=st.sampled_from(
    [[0, 1], ["x", "y", "z"], [True, False], [0.5, 1.5], ["only"], [None, 1]]),
    wrong_length=st.integers(0, 9))
def test_classifier_fits_or_refuses_clearly(data, params, labels, wrong_length):
    X, n = data
    y = [labels[i % len(labels)] for i in range(n + (wrong_length == 0))]

    def check(clf):
        proba = clf.predict_proba(X)
        assert proba.shape == (n, len(clf.classes_)) and np.isfinite(proba).all()
        assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)
        assert set(clf.predict(X)) <= set(clf.classes_)

    fit_or_refuse(lambda: RNNClassifier(epochs=1, conv_kernel_sizes=2, random_state=0,
                                        **params), X, y, check)


@FUZZ
@given(data=inputs(), params=PARAMS, outputs=st.integers(1, 2),
       target=st.sampled_from([1.0, 1e6, -1e30, np.nan, 1e200]))
def test_regressor_fits_or_refuses_clearly(data, params, outputs, target):
    X, n = data
    rng = np.random.RandomState(0)
    y = rng.randn(n, outputs) if outputs > 1 else rng.randn(n)
    y.flat[0] = target

    def check(reg):
        pred = reg.predict(X)
        assert pred.shape == y.shape and np.isfinite(pred).all()

    fit_or_refuse(lambda: RNNRegressor(epochs=1, conv_kernel_sizes=2, random_state=0,
                                       **params), X, y, check)


@FUZZ
@given(data=inputs(), target_kind=st.sampled_from(["strings", "tokens", "numeric", "bad"]),
       params=st.fixed_dictionaries({
           "units": st.sampled_from([2, (2, 2)]),
           "cell": st.sampled_from(["lstm", "gru", "rnn"]),
           "attention": st.sampled_from([None, "additive", "dot"]),
           "decoding": st.sampled_from(["greedy", "beam"]),
           "bidirectional": st.booleans()}))
def test_seq2seq_fits_or_refuses_clearly(data, target_kind, params):
    X, n = data
    rng = np.random.RandomState(0)
    Y = {"strings": ["ab", "ba", "abc", "c"] * n,
         "tokens": [["a", "b"], ["b"], ["c", "a", "b"]] * n,
         "numeric": [rng.randn(rng.randint(1, 4), 2) for _ in range(n)],
         "bad": [1.0, 2.0] * n}[target_kind][:n]

    def check(s2s):
        out = s2s.predict(X)
        assert len(out) == n
        if target_kind == "numeric":
            assert all(np.isfinite(o).all() and o.shape[1] == 2 for o in out)

    fit_or_refuse(lambda: Seq2SeqTransformer(epochs=1, batch_size=4, max_output_length=4,
                                             random_state=0, **params), X, Y, check)


def test_the_fuzzing_reached_both_outcomes():
    """Not all refusals: the generators must produce fittable data too (run after the
    fuzz tests, in the same worker)."""
    if OUTCOMES["fitted"] + OUTCOMES["refused"] == 0:
        pytest.skip("run together with the fuzz tests above")
    assert OUTCOMES["fitted"] >= 5 and OUTCOMES["refused"] >= 5, OUTCOMES
