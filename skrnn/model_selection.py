"""Backtesting forecasters on a rolling origin, never letting a window see the future.

:func:`backtest` refits a forecaster at a series of forecast origins: at the origin
``t`` it sees ``series[:t]`` only (every training window and every target lies before
``t``), forecasts ``series[t:t + horizon]`` from the last ``lookback`` steps (and the
horizon's known ``future`` columns, when given), and records the forecast, its interval
and the time taken. :func:`backtest_summary` scores the result.

The same protocol on scikit-learn's own splitter, for windows cut once: with windows of
stride 1 from one series, ``TimeSeriesSplit(gap=horizon - 1)`` keeps every training
window's targets at or before the test windows' first origin (``docs/examples.md``).
"""

from __future__ import annotations

import time
from statistics import NormalDist

import numpy as np
from sklearn.base import clone

__all__ = ["backtest", "backtest_summary"]


def _origins(n_steps, lookback, horizon, origins, step):
    """The forecast origins (steps observed), increasing, each with room before it."""
    if isinstance(origins, (int, np.integer)):
        if origins < 1:
            raise ValueError(f"origins must be a positive count or a list of origins, got "
                             f"{origins}.")
        step = horizon if step is None else int(step)
        last = n_steps - horizon
        origins = [last - step * k for k in range(int(origins))][::-1]
    origins = [int(t) for t in origins]
    if sorted(set(origins)) != origins:
        raise ValueError("origins must be increasing and distinct.")
    too_early = [t for t in origins if t < lookback + horizon]
    if too_early:
        raise ValueError(f"origin {too_early[0]} leaves no training window: an origin "
                         f"needs lookback + horizon = {lookback + horizon} steps before it.")
    too_late = [t for t in origins if t + horizon > n_steps]
    if too_late:
        raise ValueError(f"origin {too_late[0]} has no {horizon} steps after it in a "
                         f"series of {n_steps}.")
    return origins


def _quantiles(estimator, X, probs, n, horizon):
    """Forecast quantiles ``(n, horizon, len(probs))``: the fitted levels of
    ``loss="quantile"`` (each of ``probs`` must be one), or any level of the normal
    distribution of ``loss="gaussian"`` (its mean and standard deviation)."""
    loss = _loss(estimator)
    if loss == "quantile":
        levels = list(np.round(estimator.quantiles_, 10))
        missing = [q for q in (round(float(p), 10) for p in probs) if q not in levels]
        if missing:
            raise ValueError(f"the quantile {missing[0]} was not fitted: the estimator was "
                             f"fitted with quantiles={estimator.quantiles_} (add it there, or "
                             f"fit loss='gaussian', which gives every level).")
        q = np.asarray(estimator.predict_quantiles(X), np.float64).reshape(n, horizon, -1)
        return q[..., [levels.index(round(float(p), 10)) for p in probs]]
    if loss == "gaussian":
        mean, std = (_rows(a, n, horizon) for a in estimator.predict(X, return_std=True))
        z = np.array([NormalDist().inv_cdf(float(p)) for p in probs])
        return mean[..., None] + std[..., None] * z
    raise ValueError(f"quantiles and intervals need an estimator fitted with loss='quantile' "
                     f"or loss='gaussian', not {loss!r}.")


def _interval(estimator, X, level, n, horizon):
    """``(point, lower, upper)`` forecasts ``(n, horizon)``: ``predict``'s point and the
    central ``level`` interval of a quantile or gaussian loss, else NaN bounds."""
    point = _point(estimator, X, n, horizon)
    loss = _loss(estimator)
    if loss not in ("quantile", "gaussian"):
        nan = np.full_like(point, np.nan)
        return point, nan, nan
    lo, hi = round((1 - level) / 2, 10), round((1 + level) / 2, 10)
    if loss == "quantile" and not {lo, hi} <= set(np.round(estimator.quantiles_, 10)):
        raise ValueError(f"a {level:.0%} interval needs the quantiles {lo} and {hi}; the "
                         f"estimator was fitted with {estimator.quantiles_}.")
    q = _quantiles(estimator, X, [lo, hi], n, horizon)
    return point, q[..., 0], q[..., 1]


def _loss(estimator):
    """The loss an estimator was fitted with (None for one without losses)."""
    return estimator._fitted_loss_name() if hasattr(estimator, "_fitted_loss_name") else None


def is_seq2seq(estimator) -> bool:
    """Whether ``estimator`` forecasts with a decoder (targets ``(n, horizon, 1)``)."""
    return hasattr(estimator, "_decoder_step") or type(estimator).__name__ == \
        "Seq2SeqTransformer"


def _rows(out, n, horizon):
    """Forecasts (an array, or a Seq2SeqTransformer's list of arrays) as ``(n, horizon)``."""
    return np.reshape(np.asarray(np.stack(out) if isinstance(out, list) else out,
                                 np.float64), (n, horizon))


def _point(estimator, X, n, horizon):
    return _rows(estimator.predict(X), n, horizon)


def backtest(estimator, series, *, lookback, horizon, origins=5, step=None, target=0,
             future=None, stride=1, relative=False, level=0.8, refit=True):
    """Rolling-origin evaluation of a forecaster on one series.

    Parameters
    ----------
    estimator : RNNRegressor or Seq2SeqTransformer
        Cloned, then fitted on the windows before each origin: a regressor on
        ``Y.reshape(n, horizon)`` (one output per future step), a
        ``Seq2SeqTransformer`` on ``(n, horizon, 1)`` targets. Fitted with
        ``loss="quantile"`` (levels ``(1 ± level) / 2`` among its quantiles) or
        ``loss="gaussian"``, its ``level`` interval is recorded too.
    series : array of shape (T,) or (T, F), or a pandas Series / DataFrame
        One series, rows being time steps (a pandas index labels the forecasts).
    lookback, horizon : int
        Steps each forecast is made from, and forecast.
    origins : int or list of int, default=5
        The forecast origins (the number of steps observed at each); an int counts
        origins back from the last one possible, ``step`` apart.
    step : int, default=None
        Steps between origins (default: ``horizon``: the forecasts tile the end).
    target : int, default=0
        The column forecast.
    future : int or list of int, optional
        Columns known in advance (calendar): a ``Seq2SeqTransformer``'s decoder reads
        their values over each horizon.
    stride : int, default=1
        Steps between the training windows.
    relative : bool, default=False
        Take each window and its targets relative to the window's last value of the
        target (networks then learn changes, not levels; the level is added back).
    level : float, default=0.8
        Coverage of the recorded interval.
    refit : bool, default=True
        Fit again at every origin on everything before it; False fits at the first
        origin only (later origins still see nothing of their future).

    Returns
    -------
    pandas.DataFrame
        One row per origin and step ahead: ``origin`` (steps observed), ``step`` (1 to
        ``horizon``), ``time`` (the forecast step's index label), ``actual``,
        ``forecast``, ``lower``, ``upper`` (NaN without an interval) and ``fit_seconds``
        (the fit at that origin, 0 when none).
    """
    import pandas as pd

    from .preprocessing import TimeSeriesWindows

    labels = np.asarray(series.index) if hasattr(series, "index") else None
    values = np.asarray(series.to_numpy() if hasattr(series, "to_numpy") else series,
                        dtype=np.float64)
    values = values[:, None] if values.ndim == 1 else values
    if values.ndim != 2:
        raise ValueError(f"series must be (T,) or (T, F), got shape {values.shape}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}.")
    lookback, horizon = int(lookback), int(horizon)
    windows = TimeSeriesWindows(lookback, horizon, stride=stride, target=target,
                                future=future)
    windows.fit(values)
    points = _origins(len(values), lookback, horizon, origins, step)
    rows, fitted = [], None
    for t in points:
        past = values[:t]  # everything the forecaster may see at this origin
        seconds = 0.0
        if refit or fitted is None:
            start = time.perf_counter()
            fitted = fit_windows(estimator, windows, past, relative)
            seconds = time.perf_counter() - start
        known = None if future is None else values[t:t + horizon][:, windows._columns("future")]
        X_new, base = last_window(windows, past, known, relative)
        point, lower, upper = _interval(fitted, X_new, level, 1, horizon)
        for h in range(horizon):
            rows.append({"origin": t, "step": h + 1,
                         "time": labels[t + h] if labels is not None else t + h,
                         "actual": values[t + h, target], "forecast": point[0, h] + base,
                         "lower": lower[0, h] + base, "upper": upper[0, h] + base,
                         "fit_seconds": seconds})
    return pd.DataFrame(rows)


def fit_windows(estimator, windows, past, relative=False):
    """A clone of ``estimator`` fitted on the windows that ``windows`` (a fitted
    :class:`~skrnn.preprocessing.TimeSeriesWindows` of one target column) cuts from
    ``past``: a regressor on targets ``(n, horizon)``, a ``Seq2SeqTransformer`` on
    ``(n, horizon, 1)``. ``relative``: windows and targets minus each window's last
    value of the target."""
    X, Y = windows.split(past)
    X, Y = _relative(X, Y, windows.target, relative)
    fitted = clone(estimator)
    fitted.fit(X, Y if is_seq2seq(estimator) else Y.reshape(len(Y), -1))
    return fitted


def last_window(windows, past, known=None, relative=False):
    """``(X, base)``: the forecast's input, the last window of ``past`` (with the
    horizon's ``known`` future columns), and what to add back to its forecasts."""
    X, _ = _relative(windows.last(past, future=known), None, windows.target, relative)
    return X, past[-1, windows.target] if relative else 0.0


def _relative(X, Y, target, relative):
    """Windows (and targets) minus each window's last value of the target column."""
    if not relative:
        return X, Y
    from .data import WithCovariates

    windows = X.sequences if isinstance(X, WithCovariates) else X
    base = windows[:, -1:, target:target + 1]
    shifted = windows.copy()
    shifted[:, :, target:target + 1] -= base
    if isinstance(X, WithCovariates):
        shifted = WithCovariates(shifted, future=X.future)
    return shifted, None if Y is None else Y - base


def backtest_summary(results, level=0.8) -> dict:
    """Mean absolute error, interval coverage and mean width, fit time in total.

    ``results``: what :func:`backtest` returned (or any frame with its columns, e.g. a
    statistical model's forecasts), as a dict of floats (coverage and width NaN
    without intervals).
    """
    err = (results["actual"] - results["forecast"]).abs()
    inside = (results["actual"] >= results["lower"]) & (results["actual"] <= results["upper"])
    has = results["lower"].notna().all()
    per_origin = results.groupby("origin")["fit_seconds"].first()
    return {"mae": float(err.mean()),
            "coverage": float(inside.mean()) if has else float("nan"),
            "width": float((results["upper"] - results["lower"]).mean()) if has else
            float("nan"),
            "fit_seconds": float(per_origin.sum()), "level": level}
