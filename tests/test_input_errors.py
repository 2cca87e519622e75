"""A user's mistake gets a ValueError/TypeError naming it, never a TF traceback."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skrnn import RNNClassifier, RNNRegressor

FAST = dict(units=3, epochs=1, random_state=0)
rng = np.random.RandomState(0)
X = [rng.randn(n, 2) for n in (3, 5, 4, 6)]
y = np.array([0, 1, 0, 1])


@pytest.mark.parametrize("Est", [RNNClassifier, RNNRegressor])
@pytest.mark.parametrize("Xbad, exc, match", [
    ([np.ones((3, 2)), np.array([[1.0, np.nan]] * 2), np.ones((2, 2)), np.ones((2, 2))],
     ValueError, r"NaN or infinity in sample 1"),
    (np.full((4, 3, 2), np.inf), ValueError, r"NaN or infinity in sample 0"),
    (np.array([[1.0, 2.0], [1.0, np.nan], [0, 0], [1, 1]]), ValueError,
     r"NaN or infinity in sample 1"),
    ([], ValueError, "X is empty"),
    ([np.ones((3, 2)), np.ones((0, 2)), np.ones((2, 2)), np.ones((2, 2))], ValueError,
     r"X\[1\] is a zero-length sequence"),
    ([np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 4)), np.ones((2, 2))], ValueError,
     r"X\[2\] has 4 features per step but X\[0\] has 2"),
    ([np.ones(3), np.ones(3), {"a": 1}, np.ones(3)], TypeError, r"X\[2\]"),
    (np.array([object(), object(), object(), object()]), TypeError, r"X\[0\] is neither"),
    (np.empty((0, 5)), ValueError, r"0 sample\(s\)"),
    ([np.ones((3, 2)), None, np.ones((2, 2)), np.ones((2, 2))], ValueError,
     r"X\[1\] is None"),
    ({"a": np.ones((3, 2))}, TypeError, "X is a dict; pass a list"),
    # float32 is what the network computes in: 1e39 would become inf inside it
    ([np.ones((3, 2)), np.ones((3, 2)), np.full((2, 2), 1e39), np.ones((2, 2))],
     ValueError, r"X holds 1e\+39 in sample 2, beyond float32's range"),
    (np.array([[1.0, 2.0], [1.0, -1e39], [0, 0], [1, 1]]), ValueError,
     r"holds -1e\+39 in sample 1, beyond float32"),
])
def test_bad_X_in_fit(Est, Xbad, exc, match):
    with pytest.raises(exc, match=match):
        Est(**FAST).fit(Xbad, y)


@pytest.mark.parametrize("Est", [RNNClassifier, RNNRegressor])
def test_y_problems(Est):
    with pytest.raises(ValueError, match="X has 4 sequences but y has 3"):
        Est(**FAST).fit(X, y[:3])
    with pytest.raises(ValueError, match="requires y to be passed"):
        Est(**FAST).fit(X, None)
    with pytest.raises(ValueError, match="y contains None in sample 2"):
        Est(**FAST).fit(X, [0, 1, None, 1])


def test_nan_in_regression_targets_names_sample():
    with pytest.raises(ValueError, match="y contains NaN or infinity in sample 2"):
        RNNRegressor(**FAST).fit(X, [0.0, 1.0, np.nan, 2.0])


def test_per_step_target_length_mismatch():
    Y = [np.zeros(3), np.zeros(5), np.zeros(2), np.zeros(6)]
    with pytest.raises(ValueError, match=r"y\[2\] has 2 step targets but sequence 2 has 4"):
        RNNClassifier(return_sequences=True, **FAST).fit(X, Y)
    with pytest.raises(ValueError, match=r"y\[0\] is a single value"):
        RNNRegressor(return_sequences=True, **FAST).fit(X, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="per-step targets need return_sequences=True"):
        RNNClassifier(**FAST).fit(X, [np.zeros(3), np.zeros(5), np.zeros(4), np.zeros(6)])


@pytest.mark.parametrize("Est", [RNNClassifier, RNNRegressor])
def test_predict_problems(Est):
    est = Est(**FAST)
    with pytest.raises(NotFittedError):
        est.predict(X)
    est.fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features per step, but .* expecting 2"):
        est.predict([np.ones((4, 3))])
    with pytest.raises(ValueError, match="NaN or infinity in sample 0"):
        est.predict([np.full((2, 2), np.nan)])
    with pytest.raises(ValueError, match=r"X\[0\] is a zero-length sequence"):
        est.predict([np.ones((0, 2))])


def test_class_weight_unknown_class_and_bad_kind():
    with pytest.raises(ValueError, match="class_weight names class 7"):
        RNNClassifier(class_weight={0: 1.0, 7: 2.0}, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="The 'class_weight' parameter of RNNClassifier"):
        RNNClassifier(class_weight="heavy", **FAST).fit(X, y)


def test_single_class_and_continuous_labels():
    with pytest.raises(ValueError, match="at least 2 classes"):
        RNNClassifier(**FAST).fit(X, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="Unknown label type"):
        RNNClassifier(**FAST).fit(X, [0.5, 1.5, 0.2, 0.1])


@pytest.mark.parametrize("param, value, allowed", [
    ("cell", "transformer", "a str among"),
    ("units", 0, "an int in the range"),
    ("units", (4, -1), "a positive int or a non-empty tuple of positive ints"),
    ("units", 2.5, "an int in the range"),
    ("units", True, r"an int in the range .*, an instance of 'tuple' .* \(not a bool\)"),
    ("dropout", 1.0, r"a float in the range \[0.0, 1.0\)"),
    ("dropout", "0.1", r"a float in the range \[0.0, 1.0\)"),
    ("recurrent_dropout", -0.1, r"a float in the range \[0.0, 1.0\)"),
    ("activation", "sigmoid", "a str among"),
    ("pooling", "max", "a str among"),
    ("recurrent_initializer", "zeros", "a str among"),
    ("epochs", 0, r"an int in the range \[1, inf\)"),
    ("epochs", True, r"an int in the range \[1, inf\) \(not a bool\)"),
    ("batch_size", 0, "an int in the range .* or a str among {'auto'}"),
    ("batch_size", "big", "an int in the range .* or a str among {'auto'}"),
    ("n_iter_no_change", 0, "an int in the range .* or a str among {'auto'}"),
    ("n_iter_no_change", 2.5, "an int in the range .* or a str among {'auto'}"),
    ("min_token_frequency", 0, "an int in the range"),
    ("learning_rate", -1.0, r"a float in the range \(0.0, inf\), None or an object "
                           r"implementing '__call__' and 'get_config'"),
    ("learning_rate", np.inf, r"a float in the range \(0.0, inf\), None or an object "
                           r"implementing '__call__' and 'get_config'"),
    ("clipnorm", 0, r"a float in the range \(0.0, inf\) or None"),
    ("clipnorm", "1", r"a float in the range \(0.0, inf\) or None"),
    ("validation_fraction", 1.0, r"a float in the range \(0.0, 1.0\)"),
    ("tol", float("nan"), r"a float in the range \[0.0, inf\)"),
    ("input_type", "images", "a str among"),
    ("scaling", "minmax", "a str among .* or None"),
    ("conv_filters", (64, 0), "a positive int or a non-empty tuple of positive ints"),
    ("conv_kernel_sizes", "8", "an int in the range"),
    ("conv_mode", "after", "a str among"),
    ("lr_schedule", "cosine", "a str among"),
    ("truncate_steps", 0, "an int in the range .* or None"),
    ("layer_norm", "yes", "an instance of 'bool'"),
    ("strategy", "tpu", "a str among .*, an object implementing 'scope' or None"),
    ("optimizer", 3, "an instance of 'str' or an object implementing 'apply_gradients'"),
    ("random_state", "abc", "an int in the range"),
    ("random_state", 1.5, "an int in the range"),
    ("verbose", "loud", "an int in the range"),
    ("class_weight", "even", r"an instance of 'dict', a str among {'balanced'} or None"),
])
def test_invalid_parameters_raise_at_fit(param, value, allowed):
    """Declared once (skrnn.estimators._constraints), worded as scikit-learn words it, raised
    before anything is built."""
    from sklearn.utils._param_validation import InvalidParameterError

    est = RNNClassifier(**{**FAST, param: value})  # constructing never fails
    match = rf"The '{param}' parameter of RNNClassifier must be {allowed}.* Got .* instead"
    with pytest.raises(InvalidParameterError, match=match):
        est.fit(X, y)


@pytest.mark.parametrize("param, value, match", [
    ("optimizer", "warp-drive", "Unknown optimizer 'warp-drive'"),
    ("class_weight", {0: -1.0}, r"class_weight\[0\] must be a non-negative finite"),
    ("class_weight", {1: np.nan}, r"class_weight\[1\] must be a non-negative finite"),
])
def test_invalid_parameter_values_found_later(param, value, match):
    with pytest.raises(ValueError, match=match):
        RNNClassifier(**{**FAST, param: value}).fit(X, y)


def test_sample_weight_problems():
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(4,\)"):
        RNNClassifier(**FAST).fit(X, y, sample_weight=[1, 1, 1])
    with pytest.raises(ValueError, match="negative in sample 1"):
        RNNClassifier(**FAST).fit(X, y, sample_weight=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="at least one non-zero weight"):
        RNNClassifier(**FAST).fit(X, y, sample_weight=[0, 0, 0, 0])


def test_sparse_input_is_refused_clearly():
    from scipy import sparse

    with pytest.raises((TypeError, ValueError), match="[Ss]parse"):
        RNNClassifier(**FAST).fit(sparse.csr_matrix(np.ones((4, 3))), y)


def test_partial_fit_feature_change_and_new_class():
    clf = RNNClassifier(**FAST).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="features per step"):
        clf.partial_fit([np.ones((3, 5))] * 4, y)
    with pytest.raises(ValueError, match=r"labels \[2\] not among the classes"):
        clf.partial_fit(X, [0, 1, 2, 1])


def test_regression_targets_far_beyond_float32_are_learned_in_their_scale():
    big = np.array([1.0, 3.0, 2.0, 4.0]) * 1e160  # squares overflow float64
    reg = RNNRegressor(**FAST).fit(X, big)
    assert np.isfinite(reg._y_scale).all() and reg._y_scale[0] == pytest.approx(
        np.std(big / 1e160) * 1e160)
    pred = reg.predict(X)
    assert np.isfinite(pred).all() and np.abs(pred).max() > 1e158


@pytest.mark.parametrize("Est", [RNNClassifier, RNNRegressor])
def test_diverged_weights_never_give_silent_nan_predictions(Est):
    r = np.random.RandomState(0)
    Xd = [r.randn(r.randint(3, 30), 2) for _ in range(200)]
    yd = r.randn(200) if Est is RNNRegressor else r.randn(200) > 0
    est = Est(cell="rnn", activation="relu", learning_rate=1e6, units=8, epochs=3,
              conv_filters=None, random_state=0)
    with pytest.warns(RuntimeWarning, match="kept give non-finite outputs for"):
        est.fit(Xd, yd)
    assert est.history_["non_finite"]
    with pytest.raises(ValueError, match=r"non-finite outputs for sample \d+ .*training "
                                         "diverged.*lower learning_rate"):
        est.predict(Xd)
