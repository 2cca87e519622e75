"""TimeSeriesWindows: the windowing helper for forecasting."""

import doctest

import numpy as np
import pandas as pd
import pytest

import skrnn.preprocessing
from skrnn.preprocessing import TimeSeriesWindows


def test_docstring_examples():
    assert doctest.testmod(skrnn.preprocessing).failed == 0


def test_windows_targets_strides_and_several_series():
    series = np.c_[np.arange(10.0), 100 + np.arange(10.0)]
    X, Y = TimeSeriesWindows(lookback=4, horizon=3, stride=2, target=1).split(series)
    # aligned on the last step, 2 apart: windows + targets cover steps 3-9 and 1-7
    assert X.shape == (2, 4, 2) and Y.shape == (2, 3, 1)
    np.testing.assert_array_equal(X[-1, :, 0], [3, 4, 5, 6])
    np.testing.assert_array_equal(Y[-1, :, 0], [107, 108, 109])
    np.testing.assert_array_equal(Y[0, :, 0], X[0, -1, 1] + [1, 2, 3])
    two = [np.arange(6.0), pd.Series(np.arange(50.0, 55.0))]
    windows = TimeSeriesWindows(lookback=3).fit(two)
    W = windows.transform(two)
    assert W.shape == (4 + 3, 3, 1)  # no window straddles the two series
    np.testing.assert_array_equal(W[4, :, 0], [50, 51, 52])
    frame = pd.DataFrame({"a": np.arange(5.0), "b": np.ones(5)})
    assert TimeSeriesWindows(lookback=2).fit_transform(frame).shape == (4, 2, 2)


def test_windows_feed_the_forecasters():
    from skrnn import RNNRegressor

    t = np.arange(120.0)
    series = np.sin(t / 6)
    X, Y = TimeSeriesWindows(lookback=12, horizon=3).split(series)
    reg = RNNRegressor(units=8, epochs=2, random_state=0).fit(X, Y.reshape(len(Y), -1))
    assert reg.predict(X[-1:]).shape == (1, 3)


@pytest.mark.parametrize("series, params, match", [
    (np.arange(4.0), dict(lookback=3, horizon=2), "Series 0 has 4 steps; windows need"),
    ([np.arange(9.0), np.arange(2.0)], dict(lookback=3), "Series 1 has 2 steps"),
    (np.array([1.0, np.nan, 2.0, 3.0]), dict(lookback=2), r"NaN or infinity \(row 1\)"),
    (np.ones((2, 3, 4)), dict(lookback=1), r"shape \(2, 3, 4\)"),
    (np.arange(9.0), dict(lookback=0), "The 'lookback' parameter of TimeSeriesWindows must be"),
    (np.arange(9.0), dict(lookback=2, target=(0, -1)), "The 'target' parameter of "),
])
def test_bad_series(series, params, match):
    windows = TimeSeriesWindows(**params)
    with pytest.raises(ValueError, match=match):
        windows.split(series) if "horizon" in params else windows.fit_transform(series)
