"""The sktime adapters as sktime users meet them: unequal-length panels in sktime's
formats, seeds, forecasts with intervals, update. sktime's own conformance suite on
them: tests/peer (run by test_peer_suites.py)."""

import numpy as np
import pandas as pd
import pytest
from helpers import ragged

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn.sktime import RNNForecaster, RNNTimeSeriesClassifier, RNNTimeSeriesRegressor

pytestmark = pytest.mark.usefixtures("quiet_convergence")

def _nested(sequences):
    """sktime's nested_univ panel: one row per series, one cell (a Series) per channel."""
    return pd.DataFrame({f"c{j}": [pd.Series(s[:, j]) for s in sequences]
                         for j in range(sequences[0].shape[1])})


def test_unequal_length_multivariate_panel_learns_in_each_sktime_format():
    X, y = ragged(n=80, f=2, lo=4, hi=14, seed=1)
    frames = [pd.DataFrame(s, columns=["a", "b"]) for s in X]
    multiindex = pd.concat(frames, keys=range(len(frames)), names=["instance", "time"])
    clf = RNNTimeSeriesClassifier(RNNClassifier(units=8, conv_filters=None, epochs=40),
                                  random_state=0).fit(multiindex, y)
    assert clf.estimator_.n_step_features_ == 2
    assert clf.score(multiindex, y) > 0.8  # the label is the sign of channel a's mean
    # the same series in other formats: the same probabilities
    probas = clf.predict_proba(multiindex)
    np.testing.assert_allclose(clf.predict_proba(frames), probas, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(_nested(X)), probas, atol=1e-6)
    # and in reverse order, the reverse (no format sorts the series)
    np.testing.assert_allclose(clf.predict_proba(frames[::-1]), probas[::-1], atol=1e-6)


def test_regressor_reads_unequal_lengths_without_padding_them():
    X, _ = ragged(n=60, f=1, lo=3, hi=12, seed=2)
    y = np.array([len(s) for s in X], dtype=float)  # padding to one length would hide it
    reg = RNNTimeSeriesRegressor(RNNRegressor(units=16, epochs=100, learning_rate=0.01),
                                 random_state=0)
    reg.fit([pd.DataFrame(s) for s in X], y)
    assert reg.score([pd.DataFrame(s) for s in X], y) > 0.9


def test_random_state_overrides_the_estimator_seed_and_leaves_it_untouched():
    X = np.random.default_rng(0).normal(size=(16, 2, 6))
    y = np.array(["a", "b"] * 8)
    inner = RNNClassifier(units=3, conv_filters=None, epochs=1, random_state=5)
    one = RNNTimeSeriesClassifier(inner, random_state=1).fit(X, y).predict_proba(X)
    two = RNNTimeSeriesClassifier(inner, random_state=1).fit(X, y).predict_proba(X)
    other = RNNTimeSeriesClassifier(inner, random_state=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(one, two)
    assert not np.allclose(one, other)
    assert inner.random_state == 5 and not hasattr(inner, "model_")


def _monthly(n=120, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    values = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    return pd.Series(values, index=pd.period_range("2000-01", periods=n, freq="M"))


def test_forecaster_beats_the_seasonal_naive_and_its_intervals_cover():
    from sktime.forecasting.naive import NaiveForecaster
    from sktime.performance_metrics.forecasting import mean_absolute_error

    y = _monthly(156)
    train, test = y.iloc[:-12], y.iloc[-12:]
    fh = np.arange(1, 13)
    forecaster = RNNForecaster(RNNRegressor(loss="gaussian", epochs=150), lookback=24,
                               random_state=0).fit(train, fh=fh)
    naive = NaiveForecaster(strategy="last", sp=12).fit(train, fh=fh)
    mae = mean_absolute_error(test, forecaster.predict())
    assert mae < 0.5 * mean_absolute_error(test, naive.predict())  # naive misses the trend
    interval = forecaster.predict_interval(coverage=0.9)
    inside = (test >= interval.iloc[:, 0]) & (test <= interval.iloc[:, 1])
    assert inside.mean() >= 0.75
    quantiles = forecaster.predict_quantiles(alpha=[0.1, 0.5, 0.9])
    assert (np.diff(quantiles.to_numpy(), axis=1) > 0).all()


def test_update_moves_the_origin_without_refitting():
    y = _monthly(80)
    forecaster = RNNForecaster(RNNRegressor(units=4, epochs=3), lookback=12,
                               random_state=0).fit(y.iloc[:-6], fh=[1, 2])
    weights = [w.copy() for w in forecaster.estimator_.model_.get_weights()]
    forecaster.update(y.iloc[-6:], update_params=False)
    assert forecaster.cutoff[0] == y.index[-1]
    pred = forecaster.predict()
    assert list(pred.index) == list(pd.period_range(y.index[-1] + 1, periods=2, freq="M"))
    # forecast from the newest 12 steps, by the same network
    refit_free = RNNForecaster(RNNRegressor(units=4, epochs=3), lookback=12,
                               random_state=0).fit(y.iloc[:-6], fh=[1, 2])
    from skrnn.model_selection import last_window

    X, base = last_window(refit_free.windows_, y.to_numpy()[:, None], relative=True)
    np.testing.assert_allclose(pred.to_numpy(), refit_free.estimator_.predict(X)[0] + base,
                               rtol=1e-6)
    for before, after in zip(weights, forecaster.estimator_.model_.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_seq2seq_forecaster_and_sparse_horizons():
    y = _monthly(60)
    forecaster = RNNForecaster(Seq2SeqTransformer(units=4, epochs=2, loss="quantile",
                                                  quantiles=(0.1, 0.5, 0.9)),
                               lookback=12, random_state=0).fit(y, fh=[2, 5])
    pred = forecaster.predict()
    assert list(pred.index) == [y.index[-1] + 2, y.index[-1] + 5]
    assert forecaster.predict_quantiles(alpha=[0.1, 0.9]).shape == (2, 2)
    with pytest.raises(ValueError, match="the quantile 0.05 was not fitted"):
        forecaster.predict_interval(coverage=0.9)


def test_forecaster_errors_name_the_problem():
    y = _monthly(20)
    with pytest.raises(ValueError, match="lower lookback"):
        RNNForecaster(lookback=24).fit(y, fh=[1, 2])
    with pytest.raises(ValueError, match="lookback must be a positive int, got 2.5"):
        RNNForecaster(lookback=2.5).fit(y, fh=[1, 2])
    with pytest.raises(ValueError, match="cannot handle missing data"):
        RNNForecaster(lookback=6).fit(y.where(y.index != y.index[3]), fh=[1])
    point_only = RNNForecaster(RNNRegressor(units=2, epochs=1), lookback=6).fit(y, fh=[1])
    assert not point_only.get_tag("capability:pred_int")
    with pytest.raises(NotImplementedError):
        point_only.predict_interval()


def _driven(n=240, seed=0):
    """A series driven by an exogenous column: y_t = 2 x_{t-1} + 3 promo_t + noise."""
    rng = np.random.default_rng(seed)
    index = pd.period_range("2000-01-01", periods=n, freq="D")
    X = pd.DataFrame({"lead": rng.normal(size=n), "promo": rng.integers(0, 2, n) * 1.0},
                     index=index)
    y = 2 * X["lead"].shift(1, fill_value=0) + 3 * X["promo"] + rng.normal(0, 0.1, n)
    return y.rename("sales"), X


def test_exogenous_x_past_for_the_regressor_and_future_for_the_decoder():
    from sktime.performance_metrics.forecasting import mean_absolute_error

    y, X = _driven()
    y_train, y_test, X_train = y.iloc[:-3], y.iloc[-3:], X.iloc[:-3]
    errors = {}
    for name, make in {"regressor": lambda: RNNRegressor(units=16, epochs=60),
                       "decoder": lambda: Seq2SeqTransformer(units=16, epochs=60)}.items():
        for with_x in (False, True):
            f = RNNForecaster(make(), lookback=8, relative=False, random_state=0)
            f.fit(y_train, X=X_train if with_x else None, fh=[1, 2, 3])
            pred = f.predict(X=X if with_x else None)
            assert pred.name == "sales" and list(pred.index) == list(y_test.index)
            errors[name, with_x] = mean_absolute_error(y_test, pred)
    # the regressor reads x_{t-1} for the first step ahead only; the decoder reads the
    # promotions of every step ahead from X over the horizon
    assert errors["regressor", True] < errors["regressor", False]
    assert errors["decoder", True] < 0.5 * errors["decoder", False], errors
    decoder = RNNForecaster(Seq2SeqTransformer(units=4, epochs=1), lookback=8,
                            random_state=0).fit(y_train, X=X_train, fh=[1, 3])
    assert not decoder.get_tag("capability:non_contiguous_X")
    with pytest.raises(ValueError, match=r"reads X at every step up to max\(fh\) = 3"):
        decoder.predict(X=X.iloc[[-3, -1]])
    with pytest.raises(ValueError, match="fitted with X"):
        decoder.update(y_test.iloc[:1], update_params=False)
