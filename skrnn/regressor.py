"""RNNRegressor: forecasting and sequence regression, per sequence or per step."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from . import data as sd
from ._base import BaseRNN
from ._constraints import REGRESSOR
from ._params import _FITTED_ATTRS, _SHARED_PARAMS


class RNNRegressor(RegressorMixin, BaseRNN):
    __doc__ = f"""Recurrent-network regressor for sequences.

    Many-to-one (the next value of a series, a property of a whole sequence) with
    ``y`` of shape ``(n,)`` or ``(n, k)``; per step with ``return_sequences=True``.
    Targets are standardised internally (mean and scale from the first fit) and
    predictions are returned on the original scale, so raw units train well.

    Parameters
    ----------
    {_SHARED_PARAMS}
    loss : {{"squared_error", "absolute_error", "huber", "quantile", "gaussian"}}, \
default="squared_error"
        What training minimises, on the standardised targets. ``"huber"`` is quadratic
        within one standard deviation of the target and linear beyond. ``"quantile"``
        fits every level of ``quantiles`` (and 0.5) with the pinball loss: ``predict``
        returns the median, :meth:`predict_quantiles` every level, and the levels never
        cross. ``"gaussian"`` fits a mean and a standard deviation by the normal
        likelihood: ``predict(X, return_std=True)`` returns both.
    quantiles : sequence of float in (0, 1), default=(0.1, 0.5, 0.9)
        The levels of ``loss="quantile"`` (the 80 % interval and the median by default).

    Attributes
    ----------
    {_FITTED_ATTRS}
    n_outputs_ : int
        Number of values predicted per sequence (or per step).
    quantiles_ : ndarray
        With ``loss="quantile"``: the levels fitted, increasing (``quantiles`` and 0.5).

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 10, 1)
    >>> y = X[:, -3:, 0].sum(axis=1)
    >>> reg = RNNRegressor(cell="gru", units=8, epochs=5, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _task = "regression"
    _score_name = "r2"

    _parameter_constraints = REGRESSOR

    def __init__(self, cell="lstm", units=32, bidirectional=False, dropout=0.0,
                 recurrent_dropout=0.0, activation="tanh", layer_norm=False,
                 recurrent_initializer="orthogonal", unit_forget_bias=True, pooling="last",
                 conv_filters="auto", conv_kernel_sizes=(8, 5, 3), conv_mode="parallel",
                 return_sequences=False, embedding_dim=32, min_token_frequency=1,
                 input_type="auto", scaling="feature", optimizer="adam", learning_rate=None,
                 lr_schedule="plateau", epochs=200, batch_size="auto",
                 truncate_steps=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change="auto", tol=1e-4,
                 warm_start=False, random_state=None, verbose=0, strategy=None,
                 callbacks=None, loss="squared_error", quantiles=(0.1, 0.5, 0.9)):
        self.loss = loss
        self.quantiles = quantiles
        self.cell = cell
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.activation = activation
        self.layer_norm = layer_norm
        self.recurrent_initializer = recurrent_initializer
        self.unit_forget_bias = unit_forget_bias
        self.pooling = pooling
        self.conv_filters = conv_filters
        self.conv_kernel_sizes = conv_kernel_sizes
        self.conv_mode = conv_mode
        self.return_sequences = return_sequences
        self.embedding_dim = embedding_dim
        self.min_token_frequency = min_token_frequency
        self.input_type = input_type
        self.scaling = scaling
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.epochs = epochs
        self.batch_size = batch_size
        self.truncate_steps = truncate_steps
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.strategy = strategy
        self.callbacks = callbacks

    def _prepare_targets(self, y, seq, reset, classes=None, training=True):
        n = len(seq)
        if self.return_sequences:
            steps = sd.check_step_targets(y, seq.lengths, numeric=True)
            flat = np.concatenate(steps)
            ndim = 2 if any(np.ndim(t) == 2 for t in
                            (np.asarray(v) for v in y)) else 1
        else:
            y_arr = y.to_numpy() if hasattr(y, "to_numpy") else y
            sd.check_no_none(y_arr)
            try:
                y_arr = np.asarray(y_arr, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError("y must be numeric for a regressor; for per-step "
                                "targets set return_sequences=True.") from None
            if y_arr.ndim == 0 or y_arr.ndim > 2:
                raise ValueError(f"y must be (n,) or (n, n_outputs), got shape "
                                 f"{y_arr.shape}.")
            if len(y_arr) != n:
                raise ValueError(
                    f"Found input variables with inconsistent numbers of samples: X has "
                    f"{n} sequences but y has {len(y_arr)} targets.")
            if not np.isfinite(y_arr).all():
                bad = int(np.argmax(~np.isfinite(y_arr.reshape(n, -1)).all(1)))
                raise ValueError(f"Input y contains NaN or infinity in sample {bad}.")
            y_arr = check_array(y_arr, ensure_2d=False, dtype=np.float64)
            ndim = y_arr.ndim
            flat = y_arr.reshape(n, -1)
        if training:  # this fit's loss (a warm one may change it)
            self._fitted_loss = self._loss_setting()
            if self.loss == "quantile":
                self.quantiles_ = np.array(self._fitted_loss[1])
        if reset:
            self.n_outputs_ = flat.shape[1]
            self._y_ndim = ndim
            self._y_mean, self._y_scale = sd.standardisation(flat)
        elif flat.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {flat.shape[1]} outputs but the model was fitted "
                             f"with {self.n_outputs_}.")
        scale = lambda a: ((a - self._y_mean) / self._y_scale).astype(np.float32)  # noqa: E731
        if self.return_sequences:
            return [scale(t) for t in steps]
        return scale(flat)

    def _check_params(self):
        units = super()._check_params()
        levels = np.asarray(self.quantiles, dtype=float) if len(self.quantiles) else None
        if self.loss == "quantile" and (
                levels is None or levels.ndim != 1 or not np.all((levels > 0) & (levels < 1))
                or np.any(np.diff(levels) <= 0)):
            raise ValueError(f"quantiles must be increasing levels in (0, 1), got "
                             f"{self.quantiles!r}.")
        return units

    def _loss_task(self):
        """The loss the network was (or, during a fit, is being) trained with: recorded
        by every fit, so a later ``set_params(loss=...)`` cannot misread the outputs."""
        name, levels = getattr(self, "_fitted_loss", None) or self._loss_setting()
        if name == "squared_error":
            return self._task
        from .training._step import RegressionLoss

        return RegressionLoss(name, tuple(levels))

    def _loss_setting(self) -> tuple:
        """``(loss, levels)`` from the parameters; the levels include 0.5."""
        if self.loss != "quantile":
            return self.loss, ()
        return self.loss, tuple(sorted({float(q) for q in self.quantiles} | {0.5}))

    def _training_params(self) -> tuple:
        return super()._training_params() + (
            getattr(self, "_fitted_loss", None) or self._loss_setting(),)

    def _n_outputs(self):
        task = self._loss_task()
        return self.n_outputs_ * getattr(task, "columns", 1)

    def _split(self, out):
        """Raw (standardised) outputs as ``(point, extra)``: the median and the
        ``(..., k, Q)`` quantiles, the mean and the standard deviation, or the values."""
        task = self._loss_task()
        if self.loss == "quantile":
            from keras import ops

            from .training._step import quantile_outputs

            q = ops.convert_to_numpy(quantile_outputs(out, len(task.quantiles)))
            return q[..., task.quantiles.index(0.5)], q
        if self.loss == "gaussian":
            from keras import ops

            from .training._step import gaussian_outputs

            mean, std = (ops.convert_to_numpy(a) for a in gaussian_outputs(out))
            return mean, std
        return out, None

    def _unscale(self, out, what="value"):
        """Standardised ``(..., k)`` values (or ``(..., k, Q)`` quantiles, or standard
        deviations: ``what``) in the target's units, ``(..., )`` for a 1-D ``y``."""
        out = np.asarray(out, np.float64)
        if what == "quantiles":
            out = out * self._y_scale[:, None] + self._y_mean[:, None]
        elif what == "std":
            out = out * self._y_scale
        else:
            out = out * self._y_scale + self._y_mean
        if self._y_ndim == 2:
            return out
        return out[..., 0, :] if what == "quantiles" else out[..., 0]

    def _val_score(self, y_true):
        def r2(outputs):
            if self.return_sequences:
                return r2_score(np.concatenate(y_true),
                                np.concatenate([self._split(o)[0] for o in outputs]))
            return r2_score(y_true, self._split(outputs)[0])
        return r2

    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``(X, y)``, continuing from the current weights.

        The target scaling is taken from the first call.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, reset=not self._is_fitted(), epochs=1)

    def predict(self, X, return_std=False):
        """Predicted values: ``(n,)`` or ``(n, k)``; per step a list of ``(T_i,)``/``(T_i, k)``.

        The median with ``loss="quantile"``, the mean with ``loss="gaussian"``, where
        ``return_std=True`` returns ``(mean, std)`` (scikit-learn's convention, as in
        ``GaussianProcessRegressor``)."""
        if return_std and self.loss != "gaussian":
            raise ValueError("return_std=True needs loss='gaussian' (the network then "
                             f"predicts a standard deviation); loss={self.loss!r}.")
        out = self._outputs(X)
        rows = out if self.return_sequences else [out]
        point = [self._unscale(self._split(o)[0]) for o in rows]
        std = [self._unscale(self._split(o)[1], "std") for o in rows] if return_std else None
        if not self.return_sequences:
            point, std = point[0], (std[0] if return_std else None)
        return (point, std) if return_std else point

    def predict_quantiles(self, X):
        """With ``loss="quantile"``: every level of ``quantiles_``, ``(n, Q)`` (or
        ``(n, k, Q)``); per step a list of ``(T_i, Q)`` / ``(T_i, k, Q)``. The columns
        never decrease."""
        if self.loss != "quantile":
            raise ValueError(f"predict_quantiles needs loss='quantile'; loss={self.loss!r}.")
        out = self._outputs(X)
        rows = out if self.return_sequences else [out]
        q = [self._unscale(self._split(o)[1], "quantiles") for o in rows]
        return q if self.return_sequences else q[0]

    def score(self, X, y, sample_weight=None):
        """R² (coefficient of determination); per step, over all steps of all sequences."""
        if not self.return_sequences:
            return super().score(X, y, sample_weight=sample_weight)
        check_is_fitted(self)
        pred = self.predict(X)
        steps = sd.check_step_targets(y, np.array([len(p) for p in pred]), numeric=True)
        sw = None
        if sample_weight is not None:
            sw = np.concatenate([np.full(len(t), w) for t, w in zip(steps, sample_weight)])
        flat_pred = np.concatenate([np.reshape(p, (len(p), -1)) for p in pred])
        return float(r2_score(np.concatenate(steps), flat_pred, sample_weight=sw))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
