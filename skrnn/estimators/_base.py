"""The scikit-learn face shared by the recurrent estimators.

Estimators orchestrate data (``skrnn.data``) -> model (``skrnn.models``) -> loop
(``skrnn.training``); Keras is imported only when a model is built or used, so
``import skrnn`` stays light.
"""

from __future__ import annotations

import pickle

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .. import data as sd
from ..serving._export import ExportMixin
from ..serving._pickling import picklable_state, unpickled_state
from ..serving._saving import SaveMixin
from ..streaming import StreamMixin
from ._constraints import check_callbacks, conv_blocks, sizes, validate_params
from ._fitting import FitData, FitSkeleton, resolve_batch_size
from ._inputs import InputMixin, _check_sample_weight
from ._steps import check_spec_fields, fitted_step, step_settings
from ._transaction import check_finite_outputs, warn_if_outputs_diverged


class BaseRNN(FitSkeleton, InputMixin, SaveMixin, ExportMixin, StreamMixin, BaseEstimator):
    """Shared machinery of :class:`RNNClassifier` and :class:`RNNRegressor`."""

    _task = None  # "classification" or "regression"
    _spec_type = "ModelSpec"

    # ----------------------------------------------------------------- validation
    def _check_params(self):
        """Validate the parameters (``_parameter_constraints``, then the rules between
        them); returns ``units`` as a tuple."""
        validate_params(self)
        units = sizes(self, "units")
        check_callbacks(self.callbacks, type(self).__name__)
        if self.truncate_steps is not None:
            if self.bidirectional:
                raise ValueError(
                    "truncate_steps cannot be used with bidirectional=True: the backward "
                    "direction would need the future of every chunk. Use a "
                    "unidirectional model or full BPTT (truncate_steps=None).")
            if not self.return_sequences and self.pooling != "last":
                raise ValueError(
                    f"truncate_steps needs pooling='last' for one target per sequence "
                    f"(pooling={self.pooling!r} would pool over steps whose gradient "
                    "was truncated).")
        if conv_blocks(self)[0] and self.truncate_steps is not None:
            raise ValueError(
                "conv_filters cannot be used with truncate_steps: a convolution reads "
                "across the chunk edges that truncated BPTT cuts. Use conv_filters=None "
                "or full BPTT (truncate_steps=None).")
        return units

    def _conv(self, input_kind) -> tuple:
        """The convolutional front-end for this input (``"auto"`` resolved)."""
        auto = (self._task == "classification" and input_kind == "numeric"
                and not self.return_sequences and self.truncate_steps is None)
        return conv_blocks(self, auto=auto)

    # -------------------------------------------------------------- targets (hooks)
    def _prepare_targets(self, y, seq, reset: bool, training: bool = True):
        """Return encoded targets: ``(n,)``/``(n, k)`` or a list of per-step arrays
        (``training=False``: targets to evaluate on, which change nothing fitted)."""
        raise NotImplementedError

    def _target_weights(self, y_enc, sample_weight):
        """Per-target weights: ``(n,)`` or a list of ``(T_i,)``."""
        if self.return_sequences:
            return [np.full(len(t), w, dtype=np.float32)
                    for t, w in zip(y_enc, sample_weight)]
        return sample_weight.astype(np.float32)

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _val_score(self, y_true):
        """A function of validation outputs -> score (higher is better)."""
        return None

    # ------------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit the network on sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like or list of sequences
            ``(n, T, F)`` array; ``(n, T)`` array or DataFrame (univariate series); a
            list of ``(T_i, F)`` or ``(T_i,)`` arrays of any lengths; a list of token
            lists; or the output of :func:`skrnn.data.from_long_format`.
        y : array-like or list of arrays
            One target per sequence, or with ``return_sequences=True`` one array of
            per-step targets per sequence.
        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence in the loss.
        X_val, y_val : as X and y, default=None
            Fixed validation data (scikit-learn's names, from
            ``HistGradientBoostingClassifier``), read with what ``fit`` learns from ``X``
            and ``y`` (scaling, vocabulary, classes), instead of a random
            ``validation_fraction`` of the training data: a later stretch of a time
            series, say. Its loss and score are recorded every epoch
            (``history_["val_loss"]``, ``["val_score"]``); with ``early_stopping=True``
            they are monitored and the best epoch's weights restored.
        sample_weight_val : array-like of shape (n_val_sequences,), default=None
            Weight of each validation sequence.

        Returns
        -------
        self
        """
        keep = self.warm_start and self._is_fitted()
        return self._fit(X, y, sample_weight, reset=not keep, epochs=self.epochs,
                         to_convergence=True,
                         validation_data=(X_val, y_val, sample_weight_val))

    def _is_fitted(self) -> bool:
        return hasattr(self, "model_")

    def __sklearn_is_fitted__(self) -> bool:
        return self._is_fitted()

    @property
    def is_fitted(self) -> bool:
        """Whether the estimator is fitted: skbase's name (sktime, aeon), which tools
        such as MAPIE read when ``n_features_in_`` is absent (sequence input)."""
        return self._is_fitted()

    # ------------------------------------------------------ the fit skeleton's hooks
    def _fit_data(self, X, y, sample_weight, *, reset: bool, classes=None):
        """X and y through the input gate, encoded (a :class:`._fitting.FitData`);
        on ``reset`` the vocabulary is learned, and the input scaling, which is recorded
        only with the new network (a fit that fails before then leaves a fitted model its
        own scaling)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None.")
        seq = self._check_X(X, reset=reset)
        conv = self._conv(seq.kind)
        n = len(seq)
        y_enc = self._prepare_targets(y, seq, reset=reset, classes=classes)
        sw = _check_sample_weight(sample_weight, n)
        weights = self._target_weights(y_enc, sw)
        if reset:
            if seq.kind == "tokens":
                self.vocabulary_ = sd.Vocabulary(int(self.min_token_frequency)).fit(seq.values)
            else:
                self.vocabulary_ = None
            mode = self.scaling if seq.kind == "numeric" else None
            scaling = (mode, sd.fit_scaling(seq.values, mode))
        else:
            scaling = self._input_scaling()
        full = sd.SupervisedSet(self._encode_X(seq, scaling), seq.lengths, y_enc, weights,
                                self.return_sequences)
        by_class = self._task == "classification" and not self.return_sequences
        return FitData(full, stratify=y_enc if by_class else None,
                       commit=lambda: self._commit_scaling(*scaling),
                       context={"seq": seq, "conv": conv, "scaling": scaling})

    def _network_spec(self, data, units, seed):
        return self._model_spec(data.context["seq"], units, data.context["conv"], seed)

    def _loop_settings(self, train, validation, epochs: int, to_convergence: bool):
        truncate = None if self.truncate_steps is None else int(self.truncate_steps)
        loop = self._loop(train, epochs, to_convergence, truncate_steps=truncate,
                          score_name=self._score_name)
        return loop, (self._val_score(validation.y) if validation is not None else None)

    def _after_training(self, data, train, summary, batch_size) -> None:
        from .. import training

        training.calibrate_normalisation(self._step, train, batch_size)
        if summary["non_finite"] is not None:
            warn_if_outputs_diverged(self, data.full, batch_size)

    # ------------------------------------------------------------------ predicting
    def _outputs(self, X):
        """Raw model outputs for ``X`` in input order (logits or values)."""
        check_is_fitted(self)
        seq = self._check_X(X, reset=False)
        from .. import training

        if getattr(self, "_step", None) is None:
            self._step = self._make_step()
        out = training.predict_outputs(
            self._step, self._encode_X(seq), seq.lengths,
            resolve_batch_size(self.batch_size),
            self.return_sequences, verbose=int(self.verbose))
        check_finite_outputs(self, out)
        return out

    def _training_params(self) -> tuple:
        return step_settings(self) + (self.return_sequences,)

    def _model_spec(self, seq, units, conv, seed):
        """The network these parameters and this data define."""
        from ..models import ModelSpec

        return ModelSpec(
            input_kind=seq.kind,
            n_features=(None if seq.n_features is None
                        else seq.n_features + sd.fitted_covariates(self).n_static),
            vocabulary_size=len(self.vocabulary_) if self.vocabulary_ else None,
            embedding_dim=int(self.embedding_dim),
            cell=self.cell,
            units=units,
            bidirectional=bool(self.bidirectional),
            dropout=float(self.dropout),
            recurrent_dropout=float(self.recurrent_dropout),
            activation=self.activation,
            pooling=self.pooling,
            return_sequences=bool(self.return_sequences),
            n_outputs=self._n_outputs(),
            seed=seed,
            layer_norm=bool(self.layer_norm),
            recurrent_initializer=self.recurrent_initializer,
            unit_forget_bias=bool(self.unit_forget_bias),
            conv_filters=conv[0],
            conv_kernel_sizes=conv[1],
            conv_mode=self.conv_mode,
        )

    def _rebuild_network(self):
        """The network of the fitted specification (new variables), as ``model_``:
        what loading a saved estimator builds before it assigns the saved variables."""
        from ..models import build_model
        from ..training import strategy_scope

        with strategy_scope(getattr(self, "_strategy", None)):
            self.model_ = build_model(self._spec)
        return self.model_

    def _check_fitted_state(self) -> None:
        """Loading: the fitted state agrees with itself and with the network's
        specification, field by field (a ValueError names the first that does not)."""
        from types import SimpleNamespace

        self._check_input_state()
        spec = self._spec
        seen = SimpleNamespace(kind=self._input_kind, n_features=self._n_step_features)
        expected = self._model_spec(seen, spec.units,
                                    (spec.conv_filters, spec.conv_kernel_sizes), spec.seed)
        check_spec_fields(spec, expected, ("input_kind", "n_features", "vocabulary_size",
                                           "n_outputs", "return_sequences"))

    def _loss_task(self):
        """The task a training step computes the loss of (see ``training.Step``)."""
        return self._task

    def _make_step(self):
        return fitted_step(self, self._training_params(), self._loss_task(),
                           self.return_sequences)

    # ------------------------------------------------------------------- pickling
    def __getstate__(self):
        return picklable_state(self)

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            from ..models import register_custom_objects

            register_custom_objects()  # before loading the model
            state["model_"] = pickle.loads(state["model_"])
        self.__dict__.update(unpickled_state(state))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        return tags
