"""skrnn estimators as sktime classifiers, regressors and forecasters.

``pip install sktime`` first: this module imports it (skrnn itself does not).

- :class:`RNNTimeSeriesClassifier`, :class:`RNNTimeSeriesRegressor`: panel data in
  every sktime format, multivariate and of unequal length (masked training: no
  padding to a common length, no truncation), deterministic with a seed, picklable.
- :class:`RNNForecaster`: a forecaster on the windows of the series, an
  :class:`~skrnn.RNNRegressor` (one output per step ahead) or a
  :class:`~skrnn.Seq2SeqTransformer` (a decoder) inside; prediction intervals and
  quantiles when that estimator was given ``loss="quantile"`` or ``"gaussian"``.

Each passes ``sktime.utils.estimator_checks.check_estimator`` (the skrnn suite runs it).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

try:
    from sktime.classification.base import BaseClassifier
    from sktime.forecasting.base import BaseForecaster, ForecastingHorizon
    from sktime.regression.base import BaseRegressor
except ImportError as err:  # pragma: no cover - exercised only without sktime
    raise ImportError("skrnn.sktime needs sktime: pip install sktime") from err

from . import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from .integrations._adapters import AdapterMixin, adapter_doc, channels_first, seeded
from .model_selection import _point, _quantiles, fit_windows, is_seq2seq, last_window
from .preprocessing import TimeSeriesWindows

__all__ = ["RNNForecaster", "RNNTimeSeriesClassifier", "RNNTimeSeriesRegressor"]

_PANEL_TAGS = {
    "authors": ["skrnn developers"],
    "maintainers": ["skrnn developers"],
    "python_dependencies": ["skrnn"],
    # a list of (T_i, channels) frames; a (n, channels, T) array stays one
    "X_inner_mtype": ["df-list", "numpy3D"],
    "capability:multivariate": True,
    "capability:unequal_length": True,
    "capability:missing_values": False,
    "capability:random_state": True,
    "property:randomness": "derandomized",
}


class _PanelAdapter(AdapterMixin):
    def _sequences(self, X):
        if isinstance(X, np.ndarray):  # numpy3D: (n, channels, T)
            return channels_first(X)
        return [frame.to_numpy(dtype=np.float64) for frame in X]  # df-list: (T_i, channels)

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        return cls._small_params()


class RNNTimeSeriesClassifier(_PanelAdapter, BaseClassifier):
    __doc__ = adapter_doc(
        "A skrnn :class:`~skrnn.RNNClassifier` as an sktime classifier.\n\n"
        "Multivariate series of unequal lengths are read as they are (masked, not padded "
        "to one length); ``predict_proba`` gives the network's class probabilities.",
        RNNClassifier, """
        >>> from sktime.datasets import load_unit_test
        >>> from skrnn import RNNClassifier
        >>> from skrnn.sktime import RNNTimeSeriesClassifier
        >>> X, y = load_unit_test(split="train", return_X_y=True)
        >>> clf = RNNTimeSeriesClassifier(RNNClassifier(units=8, epochs=3), random_state=0)
        >>> clf.fit(X, y).predict(X).shape
        (20,)
        """)

    _skrnn_class = RNNClassifier
    _tags = {**_PANEL_TAGS, "capability:predict_proba": True}


class RNNTimeSeriesRegressor(_PanelAdapter, BaseRegressor):
    __doc__ = adapter_doc(
        "A skrnn :class:`~skrnn.RNNRegressor` as an sktime regressor.\n\n"
        "Multivariate series of unequal lengths are read as they are (masked, not padded "
        "to one length).",
        RNNRegressor, """
        >>> import numpy as np
        >>> from skrnn import RNNRegressor
        >>> from skrnn.sktime import RNNTimeSeriesRegressor
        >>> X = np.random.default_rng(0).normal(size=(12, 2, 10))   # (n, channels, T)
        >>> reg = RNNTimeSeriesRegressor(RNNRegressor(units=8, epochs=3), random_state=0)
        >>> reg.fit(X, X[:, 0, :].mean(axis=1)).predict(X).shape
        (12,)
        """)

    _skrnn_class = RNNRegressor
    _tags = dict(_PANEL_TAGS)


def _frame(y, X, x_columns):
    """``y`` and ``X``'s columns ``x_columns`` side by side on ``y``'s index, float."""
    frame = pd.DataFrame({"y": y.to_numpy(dtype=np.float64)}, index=y.index)
    if x_columns and X is None:
        raise ValueError(f"the forecaster was fitted with X (columns {x_columns}): pass X "
                         "for the new steps too.")
    for i, column in enumerate(x_columns):
        frame[f"x{i}"] = X[column].reindex(y.index).to_numpy(dtype=np.float64)
    return frame


class RNNForecaster(BaseForecaster):
    """A skrnn network as an sktime forecaster, trained on the windows of the series.

    ``fit`` cuts the series into windows of ``lookback`` steps, each with the next
    ``max(fh)`` values as targets, and fits the estimator on them; ``predict`` forecasts
    from the last ``lookback`` steps seen (after ``update`` too). An
    :class:`~skrnn.RNNRegressor` forecasts every step at once (one output per step
    ahead), a :class:`~skrnn.Seq2SeqTransformer` step by step with its decoder.
    Exogenous ``X`` joins each window as input columns (its past); a decoder also reads
    it over the horizon (known-future covariates), so ``predict`` then needs ``X`` at
    every step up to ``max(fh)``.
    Fitted with ``loss="gaussian"`` (any level) or ``loss="quantile"`` (its
    ``quantiles``), the estimator gives ``predict_interval`` and ``predict_quantiles``.

    Parameters
    ----------
    estimator : RNNRegressor, Seq2SeqTransformer or None, default=None
        The skrnn estimator fitted on the windows (cloned; its parameters stay
        untouched); None: ``RNNRegressor()``, skrnn's defaults.
    lookback : int, default=24
        Steps each forecast is made from (two years of a monthly series); the series
        needs at least ``lookback + max(fh)`` steps.
    relative : bool, default=True
        Windows and targets relative to each window's last value: the network learns
        changes, not levels, so forecasts follow a trend beyond the levels seen in
        training (the level is added back).
    random_state : int or None, default=None
        Seed of the network; when given it overrides the estimator's own
        ``random_state``. With a seed, refits give equal forecasts.

    Attributes
    ----------
    estimator_ : RNNRegressor or Seq2SeqTransformer
        The fitted estimator.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from skrnn import RNNRegressor
    >>> from skrnn.sktime import RNNForecaster
    >>> y = load_airline()
    >>> forecaster = RNNForecaster(RNNRegressor(loss="gaussian", epochs=3), lookback=12,
    ...                            random_state=0)
    >>> forecaster.fit(y, fh=[1, 2, 3]).predict().shape
    (3,)
    >>> forecaster.predict_interval(coverage=0.8).shape
    (3, 2)
    """

    _tags = {
        "authors": ["skrnn developers"],
        "maintainers": ["skrnn developers"],
        "python_dependencies": ["skrnn"],
        "y_inner_mtype": "pd.Series",
        "X_inner_mtype": "pd.DataFrame",
        "capability:exogenous": True,
        "capability:categorical_in_X": False,
        "requires-fh-in-fit": True,
        "capability:insample": False,
        "capability:pred_int": True,
        "capability:pred_int:insample": False,
        "capability:missing_values": False,
        "capability:random_state": True,
        "property:randomness": "derandomized",
    }

    def __init__(self, estimator=None, lookback=24, relative=True, random_state=None):
        self.estimator = estimator
        self.lookback = lookback
        self.relative = relative
        self.random_state = random_state
        super().__init__()
        # intervals only from a probabilistic loss; a decoder reads X at every step ahead
        loss = getattr(estimator, "loss", None)
        self.set_tags(**{"capability:pred_int": loss in ("quantile", "gaussian"),
                         "capability:non_contiguous_X": not is_seq2seq(estimator)})

    def _fit(self, y, X=None, fh=None):
        horizon = int(np.max(fh.to_relative(self.cutoff)))
        lookback = self.lookback
        if isinstance(lookback, bool) or not isinstance(lookback, Integral) or lookback < 1:
            raise ValueError(f"lookback must be a positive int, got {lookback!r}.")
        lookback = int(lookback)
        if len(y) < lookback + horizon:
            raise ValueError(f"the series has {len(y)} steps; lookback={lookback} and a "
                             f"horizon of {horizon} need at least {lookback + horizon} "
                             f"(lower lookback).")
        estimator = seeded(RNNRegressor() if self.estimator is None else self.estimator,
                           self.random_state)
        x_columns = [] if X is None else list(X.columns)
        frame = _frame(y, X, x_columns)
        future = (list(range(1, 1 + len(x_columns))) if x_columns and is_seq2seq(estimator)
                  else None)
        values = frame.to_numpy()
        windows = TimeSeriesWindows(lookback, horizon, target=0, future=future).fit(values)
        fitted = fit_windows(estimator, windows, values, self.relative)
        # fitted state changes only once the fit succeeded
        self.windows_, self.estimator_ = windows, fitted
        self._recent = frame.iloc[-lookback:]  # what the forecasts are made from
        self._x_columns, self._name = x_columns, y.name
        return self

    def _update(self, y, X=None, update_params=True):
        # the newest ``lookback`` steps, new values replacing old ones at equal times
        steps = pd.concat([self._recent, _frame(y, X, self._x_columns)])
        steps = steps[~steps.index.duplicated(keep="last")].sort_index()
        self._recent = steps.iloc[-int(self.lookback):]
        # update_params=True: sktime's default, a refit on all the data it keeps
        return super()._update(y, X, update_params=update_params)

    def _known(self, X):
        """X over every step of the horizon, for a decoder that reads it (else None)."""
        if self.windows_.future is None:
            return None
        horizon = self.windows_.horizon
        steps = ForecastingHorizon(np.arange(1, horizon + 1)).to_absolute_index(self.cutoff)
        missing = steps if X is None else steps.difference(X.index)
        if len(missing):
            raise ValueError(f"the Seq2SeqTransformer reads X at every step up to "
                             f"max(fh) = {horizon}; X has no rows for {list(missing)}.")
        return X.loc[steps, self._x_columns].to_numpy(dtype=np.float64)

    def _forecast(self, fh, X, quantiles=None):
        """Forecasts of the steps of ``fh`` from the latest window: points ``(k,)``, or
        quantiles ``(k, len(quantiles))``."""
        steps = np.asarray(fh.to_relative(self.cutoff), dtype=int) - 1
        X_new, base = last_window(self.windows_, self._recent.to_numpy(), self._known(X),
                                  relative=self.relative)
        horizon = self.windows_.horizon
        if quantiles is None:
            return _point(self.estimator_, X_new, 1, horizon)[0, steps] + base
        return _quantiles(self.estimator_, X_new, quantiles, 1, horizon)[0, steps] + base

    def _predict(self, fh, X=None):
        return pd.Series(self._forecast(fh, X), index=fh.to_absolute_index(self.cutoff),
                         name=self._name)

    def _predict_quantiles(self, fh, X, alpha):
        values = self._forecast(fh, X, list(alpha))
        return pd.DataFrame(values, index=fh.to_absolute_index(self.cutoff),
                            columns=self._get_columns(method="predict_quantiles", alpha=alpha))

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Small networks for sktime's checks: a GRU regressor with a gaussian loss
        (intervals at any level) and a decoder (point forecasts; with X, it reads X
        over the horizon)."""
        return [
            {"estimator": RNNRegressor(cell="gru", units=4, loss="gaussian", epochs=2,
                                       batch_size=16), "lookback": 6, "random_state": 0},
            {"estimator": Seq2SeqTransformer(units=3, epochs=1, batch_size=16),
             "lookback": 4, "relative": False, "random_state": 0},
        ]
