"""The regression losses of RNNRegressor and of a numeric Seq2SeqTransformer, and what
they give back: the median and the quantiles, the mean and the standard deviation.

Both estimators go through :class:`LossMixin`, so the two read their outputs the same
way: the network's raw value columns are ``(..., k * C)`` for ``k`` targets and ``C``
columns per target (``C`` quantiles, 2 for the Gaussian, else 1).
"""

from __future__ import annotations

import numpy as np

from .._options import LOSSES

LOSS_DOC = """loss : {{LOSS_NAMES}}, default="squared_error"
        What training minimises, on the standardised targets. ``"huber"`` is quadratic
        within one standard deviation of the target and linear beyond. ``"quantile"``
        fits every level of ``quantiles`` (and 0.5) with the pinball loss: ``predict``
        returns the median, :meth:`predict_quantiles` every level, and the levels never
        cross. ``"gaussian"`` fits a mean and a standard deviation by the normal
        likelihood: ``predict(X, return_std=True)`` returns both.{extra}
    quantiles : sequence of float in (0, 1), default=(0.1, 0.5, 0.9)
        The levels of ``loss="quantile"`` (the 80 % interval and the median by default)."""


LOSS_DOC = LOSS_DOC.replace("LOSS_NAMES", ", ".join(f'"{name}"' for name in LOSSES))


class LossMixin:
    """``loss`` / ``quantiles`` for an estimator with standardised numeric targets
    (``_y_mean``, ``_y_scale``); ``_base_task`` is its squared-error task."""

    _base_task = "regression"

    def _check_quantiles(self):
        levels = np.asarray(self.quantiles, dtype=float) if len(self.quantiles) else None
        if self.loss == "quantile" and (
                levels is None or levels.ndim != 1 or not np.all((levels > 0) & (levels < 1))
                or np.any(np.diff(levels) <= 0)):
            raise ValueError(f"quantiles must be increasing levels in (0, 1), got "
                             f"{self.quantiles!r}.")

    def _loss_setting(self) -> tuple:
        """``(loss, levels)`` from the parameters; the levels include 0.5."""
        if self.loss != "quantile":
            return self.loss, ()
        return self.loss, tuple(sorted({float(q) for q in self.quantiles} | {0.5}))

    def _record_loss(self) -> None:
        """This fit's loss (a warm one may change it): what the outputs are read by."""
        self._fitted_loss = self._loss_setting()
        if self.loss == "quantile":
            self.quantiles_ = np.array(self._fitted_loss[1])

    def _loss_task(self):
        """The loss the network was (or, during a fit, is being) trained with: recorded
        by every fit, so a later ``set_params(loss=...)`` cannot misread the outputs."""
        name, levels = getattr(self, "_fitted_loss", None) or self._loss_setting()
        if name == "squared_error":
            return self._base_task
        from ..training._losses import RegressionLoss

        return RegressionLoss(name, tuple(levels),
                              with_stop=self._base_task == "regression_with_stop")

    @property
    def _output_columns(self) -> int:
        return getattr(self._loss_task(), "columns", 1)

    def _fitted_loss_name(self) -> str:
        return getattr(self._loss_task(), "name", "squared_error")

    def _split(self, out):
        """Raw (standardised) value columns as ``(point, extra)``: the median and the
        ``(..., k, Q)`` quantiles, the mean and the standard deviation, or the values."""
        task = self._loss_task()
        name = getattr(task, "name", "squared_error")
        if name not in ("quantile", "gaussian"):
            return np.asarray(out), None
        from keras import ops

        from ..training._losses import calibrated_spread, gaussian_outputs, quantile_outputs

        adjust = getattr(self, "interval_calibration_", None)
        if name == "quantile":
            q = ops.convert_to_numpy(quantile_outputs(out, len(task.quantiles)))
            median = q[..., task.quantiles.index(0.5)]
            return median, ops.convert_to_numpy(calibrated_spread(task, q, adjust))
        mean, std = gaussian_outputs(out)
        return (ops.convert_to_numpy(mean),
                ops.convert_to_numpy(calibrated_spread(task, std, adjust)))

    def _sample(self, raw, rng):
        """One draw per row of raw outputs from the distribution they predict,
        ``(..., k)`` standardised (:func:`~skrnn.training._step.sample_outputs`, the
        noise from ``rng``)."""
        from keras import ops

        from ..training._losses import sample_outputs

        task = self._loss_task()
        shape = raw.shape[:-1] + (raw.shape[-1] // task.columns,)
        noise = (rng.standard_normal(shape) if task.name == "gaussian"
                 else rng.uniform(size=shape))
        return ops.convert_to_numpy(sample_outputs(task, raw, noise))

    def _unscale(self, out, what="value", squeeze=False):
        """Standardised ``(..., k)`` values (or ``(..., k, Q)`` quantiles, or standard
        deviations: ``what``) in the target's units; ``squeeze`` drops the ``k`` axis
        (a 1-D ``y``)."""
        out = np.asarray(out, np.float64)
        if what == "quantiles":
            out = out * self._y_scale[:, None] + self._y_mean[:, None]
        elif what == "std":
            out = out * self._y_scale
        else:
            out = out * self._y_scale + self._y_mean
        if not squeeze:
            return out
        return out[..., 0, :] if what == "quantiles" else out[..., 0]

    def _check_return_std(self, return_std):
        if return_std and self._fitted_loss_name() != "gaussian":
            raise ValueError("return_std=True needs loss='gaussian' (the network then "
                             "predicts a standard deviation); it was fitted with "
                             f"loss={self._fitted_loss_name()!r}.")

    def _check_quantile_loss(self):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if self._fitted_loss_name() != "quantile":
            raise ValueError("predict_quantiles needs loss='quantile'; it was fitted with "
                             f"loss={self._fitted_loss_name()!r}.")
