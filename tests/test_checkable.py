"""Predictions users can check: scikit-learn's calibration and MAPIE's conformal sets
and intervals over skrnn estimators on ragged sequences and token lists; the expected
calibration error; permutation importance and the attribution figure."""

import warnings

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV, CalibrationDisplay

from skrnn import RNNClassifier, RNNRegressor
from skrnn.inspection import attributions, permutation_importance
from skrnn.metrics import expected_calibration_error

pytestmark = pytest.mark.xdist_group("checkable")

TINY = dict(units=6, epochs=4, conv_filters=None, random_state=0)


def ragged(n, seed=0, noise=1.0):
    """Ragged 2-channel series; the label is a noisy sign of channel 0's mean, so no
    model is certain."""
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(4, 12), 2) for _ in range(n)]
    y = np.array([s[:, 0].mean() + noise * 0.3 * rng.randn() > 0 for s in X]).astype(int)
    return X, y


def documents(n, seed=0):
    rng = np.random.RandomState(seed)
    docs = [list(rng.choice(list("abcd"), rng.randint(3, 9))) for _ in range(n)]
    return docs, np.array(["pos" if d.count("a") > d.count("b") else "neg" for d in docs])


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "temperature"])
@pytest.mark.parametrize("inputs", ["ragged", "tokens"])
def test_calibrated_classifier_cv_over_ragged_and_token_inputs(method, inputs):
    X, y = ragged(90) if inputs == "ragged" else documents(90)
    cal = CalibratedClassifierCV(RNNClassifier(**TINY), method=method, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal.fit(X[:60], y[:60])
    proba = cal.predict_proba(X[60:])
    assert proba.shape == (30, 2) and np.allclose(proba.sum(1), 1)
    assert set(cal.predict(X[60:])) <= set(y)


def test_calibration_display_from_a_ragged_estimator():
    import matplotlib

    matplotlib.use("Agg")
    X, y = ragged(80)
    clf = RNNClassifier(**TINY).fit(X, y)
    display = CalibrationDisplay.from_estimator(clf, X, y, n_bins=5)
    assert len(display.prob_true) == len(display.prob_pred) >= 2


def test_expected_calibration_error():
    y = np.array([0, 1, 1, 0, 1, 1, 0, 0])
    assert expected_calibration_error(y, np.eye(2)[y]) == 0.0  # sure and right
    assert expected_calibration_error(y, np.eye(2)[1 - y]) == 1.0  # sure and wrong
    # 0.8 confident, right 3 times out of 4: |0.75 - 0.8| = 0.05
    proba = np.array([[0.2, 0.8]] * 4)
    assert expected_calibration_error([1, 1, 1, 0], proba) == pytest.approx(0.05)
    assert expected_calibration_error([1, 1, 1, 0], proba[:, 1], labels=[0, 1]) == \
        pytest.approx(0.05)
    labels = ["a", "b", "c"]
    rng = np.random.RandomState(0)
    p = rng.dirichlet(np.ones(3), 3000)
    truth = np.array([rng.choice(labels, p=row) for row in p])  # calibrated by making
    assert expected_calibration_error(truth, p, labels=labels) < 0.03
    assert expected_calibration_error(truth, p, labels=labels, strategy="quantile") < 0.03
    with pytest.raises(ValueError, match="3 columns for 2 classes"):
        expected_calibration_error([0, 1], p[:2])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        expected_calibration_error([0, 1], [[0.5, 1.5], [0.5, 0.5]])


def coverage_data(n, seed):
    """Targets with known noise: a regressor's truth is the sum of channel 0 plus
    N(0, 0.5); a classifier's label is drawn from a logistic of that sum."""
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(4, 10), 2) for _ in range(n)]
    signal = np.array([s[:, 0].sum() for s in X])
    y_reg = signal + 0.5 * rng.randn(n)
    y_clf = (rng.rand(n) < 1 / (1 + np.exp(-signal))).astype(int)
    return X, y_reg, y_clf


@pytest.fixture(scope="module")
def split_data():
    return coverage_data(2600, 0)


def test_mapie_split_conformal_sets_and_intervals_cover_90_percent(split_data):
    """Fitted on 600 sequences, conformalised on 1,000, tested on 1,000: 90 % sets and
    intervals cover 0.88-0.92 of the held-out labels and targets."""
    from mapie.classification import SplitConformalClassifier
    from mapie.regression import SplitConformalRegressor

    X, y_reg, y_clf = split_data
    fit, cal, test = slice(0, 600), slice(600, 1600), slice(1600, 2600)
    Xf, Xc, Xt = X[fit], X[cal], X[test]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = RNNClassifier(units=8, epochs=10, conv_filters=None,
                            random_state=0).fit(Xf, y_clf[fit])
        reg = RNNRegressor(units=8, epochs=10, conv_filters=None,
                           random_state=0).fit(Xf, y_reg[fit])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # MAPIE's "does not appear fitted"
        sets = SplitConformalClassifier(clf, confidence_level=0.9, prefit=True) \
            .conformalize(Xc, y_clf[cal]).predict_set(Xt)[1][:, :, 0]
        intervals = SplitConformalRegressor(reg, confidence_level=0.9, prefit=True) \
            .conformalize(Xc, y_reg[cal]).predict_interval(Xt)[1][:, :, 0]
    covered = sets[np.arange(1000), y_clf[test]]
    assert 0.88 <= covered.mean() <= 0.92, covered.mean()
    inside = (intervals[:, 0] <= y_reg[test]) & (y_reg[test] <= intervals[:, 1])
    assert 0.88 <= inside.mean() <= 0.92, inside.mean()


def test_mapie_cross_conformal_over_ragged_and_tokens():
    """Cross conformal (MAPIE fits the clones itself) on ragged series, and a split
    conformal classifier over token lists."""
    from mapie.classification import CrossConformalClassifier, SplitConformalClassifier
    from mapie.regression import CrossConformalRegressor

    X, y_reg, y_clf = coverage_data(200, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sets = CrossConformalClassifier(RNNClassifier(**TINY), confidence_level=0.9,
                                        cv=3).fit_conformalize(X[:150], y_clf[:150]) \
            .predict_set(X[150:])[1]
        intervals = CrossConformalRegressor(RNNRegressor(**TINY), confidence_level=0.9,
                                            cv=3).fit_conformalize(X[:150], y_reg[:150]) \
            .predict_interval(X[150:])[1]
        docs, labels = documents(160)
        clf = RNNClassifier(**TINY).fit(docs[:60], labels[:60])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        token_sets = SplitConformalClassifier(clf, confidence_level=0.8, prefit=True) \
            .conformalize(docs[60:120], labels[60:120]).predict_set(docs[120:])[1]
    assert sets.shape == (50, 2, 1) and intervals.shape == (50, 2, 1)
    assert (intervals[:, 0] <= intervals[:, 1]).all()
    assert token_sets.shape == (40, 2, 1) and token_sets.any(axis=1).all()


def test_n_features_in_is_for_tables_only():
    X, y = ragged(30)
    clf = RNNClassifier(**TINY).fit(X, y)
    assert not hasattr(clf, "n_features_in_") and clf.n_step_features_ == 2
    assert clf.is_fitted and not RNNClassifier().is_fitted
    table = np.random.RandomState(0).randn(30, 7)
    assert RNNClassifier(**TINY).fit(table, y).n_features_in_ == 7


def test_permutation_importance_finds_the_channel_and_the_stretch():
    rng = np.random.RandomState(0)
    X, y = [], rng.randint(0, 2, 160)
    for label in y:
        s = 0.1 * rng.randn(rng.randint(16, 25), 2)
        s[: len(s) // 4, 0] += 1.0 if label else -1.0  # the first quarter of channel 0
        X.append(s)
    clf = RNNClassifier(units=8, epochs=20, learning_rate=0.01, random_state=0).fit(X, y)
    kept = [x.copy() for x in X]
    channels = permutation_importance(clf, X, y, n_repeats=3, random_state=0)
    assert channels.names == ["channel 0", "channel 1"]
    assert channels.importances.shape == (2, 3)
    assert channels.importances_mean[0] > 0.3 > abs(channels.importances_mean[1])
    segments = permutation_importance(clf, X, y, by="segments", n_repeats=3,
                                      random_state=0, scoring="accuracy")
    assert segments.names[0] == "0%-25%"
    assert segments.importances_mean.argmax() == 0
    assert segments.importances_mean[0] > 0.3
    for a, b in zip(X, kept):
        np.testing.assert_array_equal(a, b)
    docs, labels = documents(60)
    tok = RNNClassifier(**TINY).fit(docs, labels)
    assert permutation_importance(tok, docs, labels, by="segments",
                                  n_repeats=2).importances.shape == (4, 2)
    with pytest.raises(ValueError, match="use by='segments'"):
        permutation_importance(tok, docs, labels)


def test_plot_attributions_draws_series_and_text():
    import matplotlib

    matplotlib.use("Agg")
    from skrnn.plotting import plot_attributions

    X, y = ragged(40)
    clf = RNNClassifier(**TINY).fit(X, y)
    ax = plot_attributions(X[0], attributions(clf, X[:1], n_steps=8)[0])
    assert len(ax.images) == 1 and len(ax.lines) == 2
    ax = plot_attributions(list("great product"), np.linspace(-1, 1, 13))
    assert len(ax.texts) == 13
    with pytest.raises(ValueError, match="one score per step and channel"):
        plot_attributions(X[0], np.zeros((2, 2)))
