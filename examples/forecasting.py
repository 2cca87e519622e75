"""Forecasting the airline passengers series 12 months ahead.

    python examples/forecasting.py            # about 30 seconds on 2 CPU cores

The classic Box & Jenkins monthly series (1949-1960, 144 months), as shipped by the
``aeon`` package (``pip install 'skrnn[examples]'``; nothing is downloaded). The last
two years are held out; every 12-month forecast whose target months lie in them is
scored (13 forecast origins). ``TimeSeriesWindows`` cuts the log series into windows of
24 months followed by the 12 to forecast; each window is taken relative to its last
value, so the networks learn the shape of the next year rather than the level.

Two forecasters against two baselines, mean absolute error in passengers:
``RNNRegressor`` (one output per future month) and ``Seq2SeqTransformer`` (decodes the
12 months one by one, feeding each back), vs the last value and the seasonal naive
forecast (the same month one year earlier).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from skrnn import RNNRegressor, Seq2SeqTransformer  # noqa: E402
from skrnn.preprocessing import TimeSeriesWindows  # noqa: E402

LOOKBACK, HORIZON, HELD_OUT = 24, 12, 24


def load_airline() -> np.ndarray:
    from aeon.datasets import load_airline as load

    return np.asarray(load(), dtype=float)


def make_sets(series):
    """Relative log windows: train on targets before the held-out years, test on every
    window whose 12 targets are held out."""
    logs = np.log(series)
    windows = TimeSeriesWindows(lookback=LOOKBACK, horizon=HORIZON)
    X_train, Y_train = windows.split(logs[:-HELD_OUT])
    X_test, Y_test = windows.split(logs[-(HELD_OUT + LOOKBACK):])
    return X_train, Y_train, X_test, Y_test


def relative(X, Y=None):
    base = X[:, -1:, :]
    return (X - base, None if Y is None else Y - base)


def mae(Y_true_log, Y_pred_log):
    return float(np.mean(np.abs(np.exp(Y_true_log) - np.exp(Y_pred_log))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    args = parser.parse_args(argv)
    X_train, Y_train, X_test, Y_test = make_sets(load_airline())
    Xr, Yr = relative(X_train, Y_train)
    Xt, _ = relative(X_test)
    base = X_test[:, -1:, :]
    print(f"{len(X_train)} training windows, {len(X_test)} held-out forecasts of "
          f"{HORIZON} months; mean absolute error (passengers):")
    results = {
        "last value": mae(Y_test, np.repeat(base, HORIZON, axis=1)),
        "seasonal naive": mae(Y_test, X_test[:, -12:]),
    }
    reg = RNNRegressor(cell="gru", units=32, epochs=args.epochs,
                       random_state=0).fit(Xr, Yr.reshape(len(Yr), -1))
    results["RNNRegressor (GRU)"] = mae(Y_test, reg.predict(Xt)[:, :, None] + base)
    s2s = Seq2SeqTransformer(cell="gru", units=32, attention=None,
                             epochs=args.epochs, learning_rate=0.01,
                             random_state=0).fit(Xr, Yr)
    results["Seq2SeqTransformer (GRU)"] = mae(Y_test, np.stack(s2s.predict(Xt)) + base)
    for name, value in results.items():
        print(f"  {name:<26} {value:8.1f}")
    return results


if __name__ == "__main__":
    main()
