"""Rolling-origin backtests: no training window or forecast input reaches past its
origin (a spy records everything a forecaster is shown), intervals and scores."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import TimeSeriesSplit

from skrnn import RNNRegressor, Seq2SeqTransformer
from skrnn.data import WithCovariates
from skrnn.model_selection import backtest, backtest_summary
from skrnn.preprocessing import TimeSeriesWindows

pytestmark = pytest.mark.usefixtures("quiet_convergence")

SEEN = []  # (what, latest time step shown) of every call of the spies


def latest(X):
    """The latest time step in X (the series' values are their own time index)."""
    seqs = X.sequences if isinstance(X, WithCovariates) else X
    return float(np.max(seqs))


class SpyRegressor(RegressorMixin, BaseEstimator):
    """Forecasts the last value; records the latest step it is shown."""

    def fit(self, X, y):
        SEEN.append(("fit", max(latest(X), float(np.max(y)))))
        return self

    def predict(self, X):
        SEEN.append(("predict", latest(X)))
        return np.repeat(np.asarray(X)[:, -1, :1], 3, axis=1)


class SpySeq2Seq(SpyRegressor):
    _decoder_step = None  # read as a Seq2SeqTransformer: (n, horizon, 1) targets

    def fit(self, X, Y):
        SEEN.append(("fit future", float(np.max(X.future))))
        return super().fit(X, Y)

    def predict(self, X):
        SEEN.append(("predict future", float(np.max(X.future))))
        return list(super().predict(X.sequences)[:, :, None])


@pytest.mark.parametrize("spy", [SpyRegressor, SpySeq2Seq])
def test_no_window_sees_past_its_origin(spy):
    steps = np.arange(60.0)
    series = np.c_[steps, steps]  # column 1: "known in advance"
    SEEN.clear()
    future = 1 if spy is SpySeq2Seq else None
    result = backtest(spy(), series, lookback=5, horizon=3, origins=4, step=2,
                      future=future)
    origins = [51, 53, 55, 57]
    assert sorted(set(result["origin"])) == origins
    calls = iter(SEEN)
    for t in origins:
        for what, value in calls:
            if what in ("fit", "fit future"):
                assert value == t - 1  # its last target is the step before the origin
            elif what == "predict future":  # the decoder's known future: the horizon's
                assert value == t + 2
            else:
                assert value == t - 1  # forecast from the steps before the origin
                break
    np.testing.assert_array_equal(result["actual"], [t + h for t in origins
                                                     for h in range(3)])
    np.testing.assert_array_equal(result["forecast"], np.repeat(np.array(origins) - 1, 3))
    scores = backtest_summary(result)
    assert scores["mae"] == 2.0 and np.isnan(scores["coverage"])


def test_time_series_split_recipe_keeps_targets_before_the_test_origins():
    """The documented recipe on scikit-learn's splitter: gap = horizon - 1."""
    horizon = 4
    X, Y = TimeSeriesWindows(lookback=6, horizon=horizon).split(np.arange(80.0))
    for train, test in TimeSeriesSplit(n_splits=5, gap=horizon - 1).split(X):
        first_origin = X[test[0], -1, 0] + 1  # the first step the test windows forecast
        assert Y[train].max() < first_origin
        assert Y[train].max() == first_origin - 1  # nothing wasted either


def test_intervals_of_quantile_and_gaussian_forecasters_are_recorded():
    rng = np.random.RandomState(0)
    t = np.arange(120)
    series = pd.Series(np.sin(t * 2 * np.pi / 12) + 0.3 * rng.randn(120),
                       index=pd.date_range("2000-01", periods=120, freq="MS"))
    kw = dict(lookback=12, horizon=3, origins=2)
    q = backtest(RNNRegressor(units=4, epochs=3, loss="quantile", random_state=0),
                 series, **kw)
    assert (q["lower"] <= q["forecast"]).all() and (q["forecast"] <= q["upper"]).all()
    assert q["time"].iloc[-1] == series.index[-1] and (q["fit_seconds"] > 0).all()
    g = backtest(Seq2SeqTransformer(units=4, epochs=3, loss="gaussian", random_state=0),
                 series, relative=True, refit=False, **kw)
    assert (g["lower"] < g["forecast"]).all() and (g["forecast"] < g["upper"]).all()
    assert (g.groupby("origin")["fit_seconds"].first() > 0).tolist() == [True, False]
    scores = backtest_summary(g)
    assert 0 <= scores["coverage"] <= 1 and scores["width"] > 0
    with pytest.raises(ValueError, match="a 90% interval needs the quantiles 0.05 and "
                                         "0.95"):
        backtest(RNNRegressor(units=4, epochs=1, loss="quantile"), series, level=0.9, **kw)
    with pytest.raises(ValueError, match="origin 10 leaves no training window"):
        backtest(RNNRegressor(), series, lookback=12, horizon=3, origins=[10])
    with pytest.raises(ValueError, match="origin 119 has no 3 steps after it"):
        backtest(RNNRegressor(), series, lookback=12, horizon=3, origins=[119])
