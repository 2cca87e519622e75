"""Forecasting Mauna Loa CO2 a year ahead, backtested against statistical models.

    python examples/co2_backtest.py               # about 10 minutes on 2 CPU cores
    python examples/co2_backtest.py --origins 3   # about 3

The weekly Mauna Loa CO2 record (1958-2001) shipped with ``statsmodels``
(``pip install 'skrnn[examples]'``; nothing is downloaded), averaged per month (526
months; the few missing weeks interpolated). A rolling-origin backtest: at each of the
last ``--origins`` year ends every model is fitted on the months before it and
forecasts the next 12 months, with an 80 % prediction interval. Scored: mean absolute
error (ppm), how often the interval covers the truth (0.8 is right), its mean width,
and the seconds spent fitting and forecasting.

The models:

- seasonal naive: the same month one year earlier, the interval from the past
  year-on-year changes (normal);
- ETS (statsmodels ``ETSModel``: additive error, damped additive trend, additive
  seasonality) and seasonal ARIMA (``SARIMAX`` (1,1,1)(0,1,1)12, the "airline" model),
  their own intervals;
- ``Seq2SeqTransformer(loss="quantile")``: 36 months in, 12 decoded one by one, the
  month of year (sine, cosine) a covariate known over the horizon;
- ``RNNRegressor(loss="quantile")``: 36 months in, the 12 next months out at once.

Both networks keep their default settings otherwise, and take windows relative to
their last value (``backtest(relative=True)``: they learn the changes, not the level
that climbs past everything seen in training).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from skrnn import RNNRegressor, Seq2SeqTransformer  # noqa: E402
from skrnn.model_selection import backtest, backtest_summary  # noqa: E402

HORIZON, LOOKBACK, LEVEL = 12, 36, 0.8
Z = 1.2815515655446004  # the normal quantile of 0.9: an 80 % interval


def load_co2() -> pd.Series:
    """Monthly mean CO2 (ppm), March 1958 to December 2001."""
    from statsmodels.datasets import co2

    weekly = co2.load_pandas().data["co2"]
    return weekly.resample("MS").mean().interpolate()


def origins_of(series, n_origins):
    """The last ``n_origins`` forecast origins, one year apart."""
    return [len(series) - HORIZON - 12 * k for k in range(n_origins)][::-1]


def seasonal_naive(past):
    y = past.to_numpy()
    sd = np.sqrt(np.mean((y[12:] - y[:-12]) ** 2))
    forecast = y[-12:][:HORIZON]
    return forecast, forecast - Z * sd, forecast + Z * sd


def ets(past):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    fit = ETSModel(past, error="add", trend="add", seasonal="add", seasonal_periods=12,
                   damped_trend=True).fit(disp=False)
    frame = fit.get_prediction(start=len(past), end=len(past) + HORIZON - 1).summary_frame(
        alpha=1 - LEVEL)
    return frame["mean"].to_numpy(), frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy()


def arima(past):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    fit = SARIMAX(past, order=(1, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(disp=False)
    forecast = fit.get_forecast(HORIZON)
    interval = forecast.conf_int(alpha=1 - LEVEL).to_numpy()
    return forecast.predicted_mean.to_numpy(), interval[:, 0], interval[:, 1]


def statistical_backtest(model, series, origins) -> pd.DataFrame:
    """The same protocol as :func:`skrnn.model_selection.backtest`, for a function
    ``model(past) -> (forecast, lower, upper)``."""
    rows = []
    for t in origins:
        start = time.perf_counter()
        with warnings.catch_warnings():  # convergence chatter of the optimisers
            warnings.simplefilter("ignore")
            forecast, lower, upper = model(series.iloc[:t])
        seconds = time.perf_counter() - start
        rows += [{"origin": t, "step": h + 1, "time": series.index[t + h],
                  "actual": series.iloc[t + h], "forecast": forecast[h],
                  "lower": lower[h], "upper": upper[h], "fit_seconds": seconds}
                 for h in range(HORIZON)]
    return pd.DataFrame(rows)


def with_calendar(series) -> pd.DataFrame:
    """The series beside the month of year as a sine and a cosine."""
    angle = 2 * np.pi * series.index.month.to_numpy() / 12
    return pd.DataFrame({"co2": series.to_numpy(), "sin": np.sin(angle),
                         "cos": np.cos(angle)}, index=series.index)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=200, help="the networks' budget")
    args = parser.parse_args(argv)
    series = load_co2()
    origins = origins_of(series, args.origins)
    print(f"{len(series)} months; {len(origins)} origins from {series.index[origins[0]]:%Y-%m},"
          f" {HORIZON} months ahead, {LEVEL:.0%} intervals:")
    results = {}
    for name, model in (("seasonal naive", seasonal_naive), ("ETS", ets),
                        ("ARIMA (1,1,1)(0,1,1)12", arima)):
        results[name] = statistical_backtest(model, series, origins)
    net = dict(lookback=LOOKBACK, horizon=HORIZON, origins=origins, relative=True,
               level=LEVEL)
    results["Seq2SeqTransformer, calendar"] = backtest(
        Seq2SeqTransformer(loss="quantile", epochs=args.epochs, random_state=0),
        with_calendar(series), future=[1, 2], **net)
    results["RNNRegressor"] = backtest(
        RNNRegressor(loss="quantile", epochs=args.epochs, random_state=0), series, **net)
    print(f"  {'model':<30} {'MAE':>6} {'coverage':>9} {'width':>6} {'seconds':>8}")
    scores = {}
    for name, frame in results.items():
        s = scores[name] = backtest_summary(frame, LEVEL)
        print(f"  {name:<30} {s['mae']:6.3f} {s['coverage']:9.2f} {s['width']:6.2f} "
              f"{s['fit_seconds']:8.1f}")
    return scores


if __name__ == "__main__":
    main()
