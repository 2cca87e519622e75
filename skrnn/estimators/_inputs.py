"""What RNNClassifier and RNNRegressor read: ``X`` validated and converted (tables,
arrays, lists, tokens, static covariates), its scaling, and fit's validation set."""

from __future__ import annotations

import contextlib

import numpy as np
from sklearn.utils.validation import validate_data

from .. import data as sd


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim != 1 or sw.shape[0] != n:
        raise ValueError(f"sample_weight.shape == {sw.shape}, expected ({n},): one "
                         "weight per sequence.")
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or infinity in sample "
                         f"{int(np.argmax(~np.isfinite(sw)))}.")
    if (sw < 0).any():
        raise ValueError(f"sample_weight is negative in sample {int(np.argmax(sw < 0))}; "
                         "weights must be >= 0.")
    if not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero weight; "
                         "all sample_weight values are zero.")
    return sw.copy()


@contextlib.contextmanager
def errors_named(what: str):
    """Prefix a ValueError / TypeError raised inside with ``In {what}:`` (fit's
    validation data is read by the code that reads X and y, whose messages say X, y)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"In {what}: {exc}") from exc


#: The fitted attributes :class:`InputMixin` records (saved with the estimator).
INPUT_STATE = frozenset({"n_features_in_", "feature_names_in_", "_layout", "_input_kind",
                         "_n_step_features", "vocabulary_", "_scaling", "scaling_mean_",
                         "scaling_scale_", "_covariates"})


def check_statistics(values, shape, what, positive=False) -> None:
    """A saved statistic: a finite float array of ``shape`` (a ValueError if not)."""
    if not isinstance(values, np.ndarray) or values.dtype.kind != "f" \
            or values.shape != shape or not np.isfinite(values).all() \
            or (positive and not (values > 0).all()):
        raise ValueError(f"{what} must be finite floats of shape {shape}"
                         f"{', all positive' if positive else ''}; got "
                         f"{getattr(values, 'dtype', type(values).__name__)} "
                         f"{getattr(values, 'shape', '')}")


class StepFeatures:
    """``n_step_features_`` of an estimator that read sequences (``_n_step_features``)."""

    @property
    def n_step_features_(self):
        """Features per step the network reads (numeric input; 1 for a table), None
        for tokens."""
        try:
            return self.__dict__["_n_step_features"]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} is not fitted: it has no "
                                 "n_step_features_ yet.") from None


class InputMixin(StepFeatures):
    """The input half of :class:`~skrnn.estimators._base.BaseRNN`."""

    def _check_input_state(self) -> None:
        """Loading: what was recorded of X agrees with itself (a ValueError if not)."""
        if self._input_kind not in ("numeric", "tokens"):
            raise ValueError(f"input kind {self._input_kind!r}")
        if self._input_kind == "numeric":
            n = self._n_step_features
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"{n!r} features per step")
            mode, stats = self._input_scaling()
            if stats is not None:
                check_statistics(stats[0], (n,), "scaling_mean_")
                check_statistics(stats[1], (n,), "scaling_scale_", positive=True)

    def _check_X(self, X, *, reset: bool) -> sd.Sequences:
        """Validate and convert X; on ``reset`` record what fit saw (the covariates'
        scaling too: a fit that fails is undone by its transaction)."""
        if X is None:
            raise ValueError(f"{type(self).__name__} requires X, got None.")
        X, static, future = sd.split_covariates(X)
        if future is not None:
            raise ValueError(
                f"{type(self).__name__} takes static covariates only: future ones feed "
                "the decoder of a Seq2SeqTransformer, which forecasts a horizon.")
        if sd.is_tabular(X, self.input_type):
            fitted_tabular = not reset and getattr(self, "_layout", None) == "tabular"
            if not reset and not fitted_tabular:
                seq = self._tabular_without_reset(X)
            else:
                sd.check_table(X)
                arr = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                                    ensure_min_samples=1)
                sd.check_finite_rows(arr)  # a DataFrame's values beyond float32
                seq = sd.from_tabular(arr, getattr(self, "feature_names_in_", None))
        else:
            seq = sd.to_sequences(X, input_type=self.input_type)
            if reset:
                # scikit-learn's n_features_in_ counts the columns of a 2-D table, which
                # is what other tools build to probe a model (MAPIE predicts on
                # zeros((1, n_features_in_))): sequences have none (n_step_features_)
                self.__dict__.pop("n_features_in_", None)
                if seq.feature_names is not None:
                    self.feature_names_in_ = seq.feature_names
                elif hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        if (not reset and seq.feature_names is not None
                and getattr(self, "feature_names_in_", None) is not None
                and list(seq.feature_names) != list(self.feature_names_in_)):
            raise ValueError(
                f"X has feature names {list(seq.feature_names)}, but "
                f"{type(self).__name__} was fitted with {list(self.feature_names_in_)}.")
        if static is not None and seq.kind != "numeric":
            raise ValueError("static covariates go with numeric sequences (they are "
                             "appended to every step's features).")
        if reset:
            self._layout = seq.layout
            self._input_kind = seq.kind
            self._n_step_features = seq.n_features
            self._covariates = sd.CovariateScaling.learn(static, None).stats
        else:
            self._check_compatible(seq)
            sd.fitted_covariates(self).check(static, None, type(self).__name__)
        seq.static = static
        return seq

    def _tabular_without_reset(self, X) -> sd.Sequences:
        """2-D input at predict time for a model fitted on sequences (univariate)."""
        from sklearn.utils import check_array

        if hasattr(X, "tocsr"):
            raise TypeError("Sparse input is not supported; pass a dense array.")
        arr = np.asarray(X) if not hasattr(X, "columns") else X.to_numpy()
        sd.check_table(arr)
        arr = check_array(arr, dtype=[np.float64, np.float32])
        sd.check_finite_rows(arr)
        return sd.from_tabular(arr)

    def _check_compatible(self, seq: sd.Sequences):
        if seq.kind != self._input_kind:
            raise ValueError(
                f"X holds {seq.kind} sequences but {type(self).__name__} was fitted on "
                f"{self._input_kind} sequences."
            )
        if seq.kind == "numeric" and seq.n_features != self._n_step_features:
            raise ValueError(
                f"X has {seq.n_features} features per step, but {type(self).__name__} "
                f"is expecting {self._n_step_features} features per step as input."
            )

    def _encode_X(self, seq: sd.Sequences, scaling=None) -> list:
        """Token ids, or scaled values (``scaling``: ``(mode, stats)``, by default the
        fitted one)."""
        if seq.kind == "tokens":
            return [self.vocabulary_.encode(s) for s in seq.values]
        values = sd.apply_scaling(seq.values, *(scaling or self._input_scaling()))
        if getattr(seq, "static", None) is None:
            return values
        return sd.append_static(values, sd.fitted_covariates(self).static_rows(seq.static))

    def _input_scaling(self) -> tuple:
        """``(mode, stats)`` of the fitted input scaling (mode None for models fitted
        before scaling existed)."""
        mode = getattr(self, "_scaling", None)
        stats = (self.scaling_mean_, self.scaling_scale_) if mode == "feature" else None
        return mode, stats

    def _commit_scaling(self, mode, stats):
        """Record the input scaling with the model it trains (the same fit step)."""
        self._scaling = mode
        if stats is not None:
            self.scaling_mean_, self.scaling_scale_ = stats
        else:
            for name in ("scaling_mean_", "scaling_scale_"):
                self.__dict__.pop(name, None)

    def _validation_set(self, validation_data, data):
        """``fit``'s fixed validation data ``(X_val, y_val, sample_weight_val)``, read
        with what it learned from X and y (``data``, a :class:`._fitting.FitData`)."""
        X_val, y_val, sample_weight_val = validation_data
        scaling = data.context["scaling"]
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val go together: pass both, or neither to "
                             "validate on a validation_fraction of the training data.")
        with errors_named("X_val"):
            seq = self._check_X(X_val, reset=False)
        with errors_named("y_val"):
            y_enc = self._prepare_targets(y_val, seq, reset=False, training=False)
        with errors_named("sample_weight_val"):
            sw = _check_sample_weight(sample_weight_val, len(seq))
        return sd.SupervisedSet(self._encode_X(seq, scaling), seq.lengths, y_enc,
                                self._target_weights(y_enc, sw), self.return_sequences)
