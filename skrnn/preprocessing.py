"""Transformers for sequence data that scikit-learn's own cannot handle."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import data as sd
from .estimators._constraints import SEQUENCE_SCALER, TIME_SERIES_WINDOWS, sizes, validate_params
from .estimators._inputs import StepFeatures


class SequenceScaler(StepFeatures, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise each feature over all steps of all sequences.

    scikit-learn's scalers reject 3-D and ragged input; this one accepts every numeric
    sequence input the skrnn estimators do and returns the same structure: a 3-D array
    for a 3-D array, a list of arrays for a list, a 2-D array for a 2-D array (read, like
    the estimators do, as one univariate series per row, so a single mean and scale are
    used for all its columns); the sequences of a :class:`~skrnn.data.WithCovariates`,
    whose covariates pass through. Statistics weigh every real step equally, so long
    sequences count more than short ones, as they do in the loss.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the per-feature mean.
    with_std : bool, default=True
        Divide by the per-feature standard deviation (features with zero variance
        are left unscaled).

    Attributes
    ----------
    mean_ : ndarray of shape (n_step_features,)
    scale_ : ndarray of shape (n_step_features,)
    n_features_in_ : int
        As for the estimators: the columns of 2-D input (absent for sequences).
    n_step_features_ : int
        Features per step.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.preprocessing import SequenceScaler
    >>> X = [np.array([[0.0], [2.0]]), np.array([[4.0]])]
    >>> [s.ravel().tolist() for s in SequenceScaler().fit_transform(X)]
    [[-1.224744871391589, 0.0], [1.224744871391589]]
    """

    _parameter_constraints = SEQUENCE_SCALER

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def _read(self, X, reset):
        if sd.is_tabular(X, "numeric"):
            sd.check_table(X)
            if reset or getattr(self, "_layout", None) == "tabular":
                arr = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
                sd.check_finite_rows(arr)
            else:
                arr = validate_data(self, X, reset=False, skip_check_array=True)
                arr = np.asarray(arr, dtype=np.float64)
                sd.check_finite_rows(arr)
            values = arr.reshape(arr.shape[0], arr.shape[1], 1)
            layout, n_step = "tabular", 1
        else:
            seq = sd.to_sequences(X, input_type="numeric")
            if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 3:
                values, layout = np.asarray(X, dtype=np.float64), "array"
            else:
                values, layout = seq.values, "list"
            n_step = seq.n_features
            if reset:
                self.__dict__.pop("n_features_in_", None)  # columns of a table only
                if seq.feature_names is not None:
                    self.feature_names_in_ = seq.feature_names
                elif hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        if reset:
            self._layout = layout
            self._n_step_features = n_step
        elif n_step != self._n_step_features:
            raise ValueError(f"X has {n_step} features per step, but SequenceScaler is "
                             f"expecting {self._n_step_features} features per step.")
        return values, layout

    def fit(self, X, y=None):
        """Compute the per-feature mean and scale over every step of every sequence."""
        validate_params(self)
        values, layout = self._read(sd.split_covariates(X)[0], reset=True)
        steps = (values.reshape(-1, values.shape[-1]) if layout != "list"
                 else np.concatenate(values).astype(np.float64))
        mean, scale = sd.standardisation(steps)
        self.mean_ = mean if self.with_mean else np.zeros(steps.shape[1])
        self.scale_ = scale if self.with_std else np.ones(steps.shape[1])
        return self

    def _apply(self, X, fn):
        check_is_fitted(self)
        if isinstance(X, sd.WithCovariates):  # the sequences scaled, covariates kept
            return X.with_sequences(self._apply(X.sequences, fn))
        values, layout = self._read(X, reset=False)
        if layout == "list":
            out = [fn(np.asarray(v, dtype=np.float64)) for v in values]
            if isinstance(X, sd.SequenceList):
                return sd.SequenceList(out, ids=X.ids, feature_names=X.feature_names)
            if all(np.ndim(s) == 1 for s in X):
                return [o[:, 0] for o in out]
            return out
        out = fn(np.asarray(values, dtype=np.float64))
        return out[..., 0] if layout == "tabular" else out

    def transform(self, X):
        """Standardised copy of ``X`` in the same structure."""
        return self._apply(X, lambda v: (v - self.mean_) / self.scale_)

    def inverse_transform(self, X):
        """Undo :meth:`transform`."""
        return self._apply(X, lambda v: v * self.scale_ + self.mean_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


class TimeSeriesWindows(TransformerMixin, BaseEstimator):
    """Cut time series into windows of ``lookback`` steps, the next ``horizon`` values
    of each window being its targets: the input of a forecaster.

    A series is a ``(T,)`` or ``(T, F)`` array, a pandas Series or DataFrame (rows are
    time steps), or a list of them (several series: windows never straddle two).

    Parameters
    ----------
    lookback : int
        Steps in each window.
    horizon : int, default=1
        Future steps forecast from each window (:meth:`split`).
    stride : int, default=1
        Steps between the ends of consecutive windows.
    target : int, list of int or None, default=None
        Columns to forecast (all when None).
    future : int, list of int or None, default=None
        Columns known in advance (a calendar, planned prices): :meth:`split` returns
        ``X`` as :class:`~skrnn.data.WithCovariates` whose ``future`` holds these
        columns over each window's horizon, for a
        :class:`~skrnn.Seq2SeqTransformer`'s decoder; :meth:`last` gives the latest
        window with the horizon's values you pass. The columns stay in the windows
        too (their past is known as well).

    Attributes
    ----------
    n_features_in_ : int
        Features per step.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.preprocessing import TimeSeriesWindows
    >>> windows = TimeSeriesWindows(lookback=3, horizon=2)
    >>> X, Y = windows.split(np.arange(7.0))
    >>> X[:, :, 0].tolist(), Y[:, :, 0].tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [[3.0, 4.0], [4.0, 5.0], [5.0, 6.0]])
    >>> windows.transform(np.arange(7.0))[-1, :, 0].tolist()   # the latest window
    [4.0, 5.0, 6.0]
    """

    _parameter_constraints = TIME_SERIES_WINDOWS

    def __init__(self, lookback, horizon=1, stride=1, target=None, future=None):
        self.lookback = lookback
        self.horizon = horizon
        self.stride = stride
        self.target = target
        self.future = future

    def _series(self, series, reset):
        validate_params(self)
        for name in ("target", "future"):
            if getattr(self, name) is not None:
                sizes(self, name, allow_zero=True)
        single = (isinstance(series, np.ndarray) and series.dtype != object) or \
            hasattr(series, "iloc")
        items = [series] if single else list(series)
        if not items:
            raise ValueError("No series given.")
        out = []
        for i, s in enumerate(items):
            a = np.asarray(s.to_numpy() if hasattr(s, "to_numpy") else s, dtype=np.float64)
            if a.ndim == 1:
                a = a[:, None]
            if a.ndim != 2:
                raise ValueError(f"Series {i} has shape {a.shape}; a series is (T,) or "
                                 "(T, F), rows being time steps.")
            if not np.isfinite(a).all():
                raise ValueError(f"Series {i} contains NaN or infinity (row "
                                 f"{int(np.argmin(np.isfinite(a).all(axis=1)))}).")
            out.append(a)
        n_features = out[0].shape[1]
        if any(a.shape[1] != n_features for a in out):
            raise ValueError("All series must have the same number of features.")
        if reset:
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(f"The series have {n_features} features, but "
                             f"TimeSeriesWindows was fitted with {self.n_features_in_}.")
        return out

    def fit(self, series, y=None):
        """Record the number of features."""
        self._series(series, reset=True)
        return self

    def _windows(self, series, extra):
        """Windows (and the ``extra`` steps after each), ends aligned on each series'
        last step, in time order."""
        k = int(self.lookback) + extra
        windows = []
        for i, a in enumerate(series):
            if len(a) < k:
                raise ValueError(f"Series {i} has {len(a)} steps; windows need lookback + "
                                 f"horizon = {k}." if extra else
                                 f"Series {i} has {len(a)} steps; lookback is {k}.")
            ends = np.arange(len(a), k - 1, -int(self.stride))[::-1]
            windows.append(np.stack([a[e - k:e] for e in ends]))
        return np.concatenate(windows)

    def transform(self, series):
        """Every window of ``lookback`` steps: ``(n_windows, lookback, F)``."""
        check_is_fitted(self)
        return self._windows(self._series(series, reset=False), 0)

    def split(self, series):
        """Windows followed by ``horizon`` steps, and those steps.

        Returns
        -------
        X : ndarray of shape (n_windows, lookback, F)
        Y : ndarray of shape (n_windows, horizon, n_targets)
            For ``RNNRegressor`` use ``Y.reshape(len(Y), -1)`` (one output per future
            value); ``Seq2SeqTransformer`` takes ``Y`` as it is.

        With ``future`` columns, ``X`` is ``WithCovariates(windows, future=those
        columns over each window's horizon)``.
        """
        data = self._series(series, reset=not hasattr(self, "n_features_in_"))
        both = self._windows(data, int(self.horizon))
        lookback = int(self.lookback)
        X, ahead = both[:, :lookback], both[:, lookback:]
        Y = ahead[:, :, self._columns("target")]
        if self.future is None:
            return X, Y
        from .data import WithCovariates

        return WithCovariates(X, future=ahead[:, :, self._columns("future")]), Y

    def _columns(self, name):
        value = getattr(self, name)
        if value is None:
            return slice(None)
        columns = np.atleast_1d(np.asarray(value, dtype=int))
        if columns.max() >= self.n_features_in_:
            raise ValueError(f"{name}={value!r} names a column past the series' "
                             f"{self.n_features_in_} features.")
        return columns

    def last(self, series, future=None):
        """The latest window of each series: what to forecast the next ``horizon``
        steps from, ``(n_series, lookback, F)``.

        ``future`` (with ``future`` columns set): those columns' values over the
        horizon after each series' end, ``(horizon, C)`` (one series) or one such
        array per series; the windows then come as
        :class:`~skrnn.data.WithCovariates`.
        """
        check_is_fitted(self)
        data = self._series(series, reset=False)
        k = int(self.lookback)
        short = [i for i, a in enumerate(data) if len(a) < k]
        if short:
            raise ValueError(f"Series {short[0]} has {len(data[short[0]])} steps; "
                             f"lookback is {k}.")
        windows = np.stack([a[-k:] for a in data])
        if self.future is None:
            if future is not None:
                raise ValueError("future values are read for the future columns; "
                                 "set TimeSeriesWindows(future=...).")
            return windows
        if future is None:
            raise ValueError(f"future={self.future!r} columns are known in advance: pass "
                             "their values over the horizon, last(series, future=...).")
        from .data import WithCovariates

        future = [future] if len(data) == 1 and np.ndim(future) <= 2 else list(future)
        return WithCovariates(windows, future=future)
