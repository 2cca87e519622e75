"""RNNRegressor: forecasting and sequence regression, per sequence or per step."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from . import data as sd
from .estimators._base import BaseRNN
from .estimators._constraints import REGRESSOR
from .estimators._docs import _FITTED_ATTRS, _SHARED_PARAMS
from .estimators._inputs import INPUT_STATE, check_statistics
from .estimators._losses import LOSS_DOC, LossMixin

#: The fraction ``interval_calibration="auto"`` holds out for a Gaussian's spread.
AUTO_CALIBRATION = 0.2
#: Fewest held-out sequences ``interval_calibration`` calibrates on.
MIN_CALIBRATION = 20
#: The central interval a Gaussian's std is calibrated for, and its half-width in
#: standard deviations (scipy.stats.norm.ppf(0.9)).
GAUSSIAN_LEVEL, GAUSSIAN_Z = 0.8, 1.2815515655446004


def _quantile_factors(y, q, levels):
    """Per output and level, the factor on the level's distance from the median that
    makes the held-out coverage of that level right (conformalised quantile regression
    on the scale of each row's own spread, so that a wide row stays wider than a narrow
    one; with the finite-sample correction); 1 at the median. ``y`` ``(n, k)``, ``q``
    ``(n, k, Q)``, all standardised."""
    n = len(y)
    median = q[:, :, list(levels).index(0.5)]
    factors = np.ones(q.shape[1:])
    for j, level in enumerate(levels):
        if np.isclose(level, 0.5):
            continue
        distance = q[:, :, j] - median  # > 0 above the median, < 0 below
        ratio = (y - median) / np.where(np.abs(distance) > 1e-9, distance,
                                        np.copysign(1e-9, level - 0.5))
        cover = level if level > 0.5 else 1 - level
        at = min(1.0, np.ceil((n + 1) * cover) / n)
        factors[:, j] = np.maximum(np.quantile(ratio, at, axis=0, method="higher"), 0.0)
    return factors


class RNNRegressor(RegressorMixin, LossMixin, BaseRNN):
    __doc__ = f"""Recurrent-network regressor for sequences.

    Many-to-one (the next value of a series, a property of a whole sequence) with
    ``y`` of shape ``(n,)`` or ``(n, k)``; per step with ``return_sequences=True``.
    Targets are standardised internally (mean and scale from the first fit) and
    predictions are returned on the original scale, so raw units train well.

    Parameters
    ----------
    {_SHARED_PARAMS}
    {LOSS_DOC.format(extra="")}
    interval_calibration : "auto", float in [0, 0.5) or None, default="auto"
        The fraction of the training sequences that ``fit`` keeps out of training to
        calibrate the spread of ``loss="gaussian"`` or ``"quantile"`` on data the
        network was not fitted on. ``"auto"``: 0.2 for ``"gaussian"`` (a network trained
        to its plateau fits the training noise, and the likelihood's standard deviation
        comes out too narrow: nominal 80 % intervals covered 0.70 of new targets, 0.80
        calibrated), none for ``"quantile"`` (the pinball loss kept its levels within
        0.77-0.80 in the same runs, and calibrating on a few hundred held-out
        sequences moved them by its own sampling error). The Gaussian's standard
        deviation is scaled so that the held-out central 80 % intervals (mean ± 1.28
        std) cover 80 % of them (split conformal on the standardised residual); every
        quantile level's distance from the median is scaled so that the level holds on
        the held-out sequences (conformalised quantile regression, relative to each
        row's own spread). Skipped when fewer than 20 sequences would be held out;
        ``None`` or 0 turns it off (all sequences train). ``partial_fit`` drops a
        calibration (the network it
        described has changed).

    Attributes
    ----------
    {_FITTED_ATTRS}
    n_outputs_ : int
        Number of values predicted per sequence (or per step).
    quantiles_ : ndarray
        With ``loss="quantile"``: the levels fitted, increasing (``quantiles`` and 0.5).
    interval_calibration_ : ndarray or None
        The held-out calibration of the spread (standardised units): per output the
        Gaussian's std factor ``(k,)``, or the factors on each quantile level's distance
        from the median ``(k, Q)``; None when not calibrated.

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
    _saved_state = INPUT_STATE | {"n_outputs_", "_y_ndim", "_y_mean", "_y_scale",
                                  "_fitted_loss", "quantiles_", "interval_calibration_"}

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
                 callbacks=None, loss="squared_error", quantiles=(0.1, 0.5, 0.9),
                 interval_calibration="auto"):
        self.loss = loss
        self.quantiles = quantiles
        self.interval_calibration = interval_calibration
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
                y_arr = sd.real_values(y_arr, "y", bound=False)  # the gate
            except TypeError as exc:
                raise TypeError(f"{exc} y must be numeric for a regressor; for per-step "
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
        if training:
            self._record_loss()
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
        self._check_quantiles()
        return units

    def _training_params(self) -> tuple:
        return super()._training_params() + (
            getattr(self, "_fitted_loss", None) or self._loss_setting(),)

    def _n_outputs(self):
        return self.n_outputs_ * self._output_columns

    def _check_fitted_state(self) -> None:
        n = self.n_outputs_
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n_outputs_ = {n!r}")
        check_statistics(self._y_mean, (n,), "the target mean")
        check_statistics(self._y_scale, (n,), "the target scale", positive=True)
        adjust = getattr(self, "interval_calibration_", None)
        if adjust is not None:
            loss = self._fitted_loss_name()
            shape = {"gaussian": (n,), "quantile": (n, len(self._loss_task().quantiles))}
            if loss not in shape:
                raise ValueError(f"an interval calibration for loss={loss!r}")
            check_statistics(adjust, shape[loss], "interval_calibration_",
                             positive=loss == "gaussian")
            if (adjust < 0).any():
                raise ValueError("interval_calibration_ must not be negative")
        super()._check_fitted_state()  # outputs (and loss columns) against the network

    def _val_score(self, y_true):
        def r2(outputs):
            if self.return_sequences:
                return r2_score(np.concatenate(y_true),
                                np.concatenate([self._split(o)[0] for o in outputs]))
            return r2_score(y_true, self._split(outputs)[0])
        return r2

    # ---------------------------------------------------------- interval calibration
    def _hold_out(self, data, rng, to_convergence):
        """``fit`` with a spread (gaussian, quantile) keeps ``interval_calibration`` of
        the sequences out of training, to calibrate the spread on after it."""
        self.interval_calibration_ = None
        fraction = self.interval_calibration
        if isinstance(fraction, str):  # "auto": the Gaussian's spread, not the quantiles'
            fraction = AUTO_CALIBRATION if self.loss == "gaussian" else 0.0
        fraction = fraction or 0.0
        if (not to_convergence or self.loss not in ("gaussian", "quantile")
                or np.ceil(fraction * len(data.full)) < MIN_CALIBRATION):
            return None
        data.full, held = sd.split_validation(data.full, fraction, rng)
        return held

    def _after_training(self, data, train, summary, batch_size) -> None:
        super()._after_training(data, train, summary, batch_size)
        held = data.context.get("held_out")
        if held is None:
            return
        from .training import predict_outputs

        out = predict_outputs(self._step, held.x, held.lengths, batch_size,
                              self.return_sequences)
        if self.return_sequences:
            out, y = np.concatenate(out), np.concatenate(held.y)
        else:
            y = held.y
        y = np.asarray(y, np.float64).reshape(len(y), -1)  # standardised (n, k)
        point, spread = self._split(out)  # uncalibrated: interval_calibration_ is None
        point = np.asarray(point, np.float64).reshape(len(y), -1)
        if self._fitted_loss_name() == "gaussian":
            z = np.abs(y - point) / np.asarray(spread, np.float64).reshape(len(y), -1)
            n = len(z)  # the 80 % interval's |z| on held-out data, over its nominal one
            at = min(1.0, np.ceil((n + 1) * GAUSSIAN_LEVEL) / n)
            adjust = np.quantile(z, at, axis=0, method="higher") / GAUSSIAN_Z
        else:
            adjust = _quantile_factors(y, np.asarray(spread, np.float64).reshape(
                len(y), y.shape[1], -1), self.quantiles_)
        if np.isfinite(adjust).all():
            self.interval_calibration_ = adjust.astype(np.float64)

    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``(X, y)``, continuing from the current weights.

        The target scaling is taken from the first call.

        Returns
        -------
        self
        """
        self._fit(X, y, sample_weight, reset=not self._is_fitted(), epochs=1)
        self.interval_calibration_ = None  # it described the network before this epoch
        return self

    def predict(self, X, return_std=False):
        """Predicted values: ``(n,)`` or ``(n, k)``; per step a list of ``(T_i,)``/``(T_i, k)``.

        The median with ``loss="quantile"``, the mean with ``loss="gaussian"``, where
        ``return_std=True`` returns ``(mean, std)`` (scikit-learn's convention, as in
        ``GaussianProcessRegressor``)."""
        self._check_return_std(return_std)
        out = self._outputs(X)
        rows = out if self.return_sequences else [out]
        squeeze = self._y_ndim == 1
        point = [self._unscale(self._split(o)[0], squeeze=squeeze) for o in rows]
        std = ([self._unscale(self._split(o)[1], "std", squeeze) for o in rows]
               if return_std else None)
        if not self.return_sequences:
            point, std = point[0], (std[0] if return_std else None)
        return (point, std) if return_std else point

    def predict_quantiles(self, X):
        """With ``loss="quantile"``: every level of ``quantiles_``, ``(n, Q)`` (or
        ``(n, k, Q)``); per step a list of ``(T_i, Q)`` / ``(T_i, k, Q)``. The columns
        never decrease."""
        self._check_quantile_loss()
        out = self._outputs(X)
        rows = out if self.return_sequences else [out]
        q = [self._unscale(self._split(o)[1], "quantiles", self._y_ndim == 1) for o in rows]
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
