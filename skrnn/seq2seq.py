"""Seq2SeqTransformer: sequences to sequences of other lengths, and vectors to sequences."""

from __future__ import annotations

import pickle

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import data as sd
from .estimators._constraints import SEQ2SEQ, check_callbacks, sizes, validate_params
from .estimators._fitting import FitData, FitSkeleton
from .estimators._losses import LOSS_DOC, LossMixin
from .estimators._seq2seq_data import Seq2SeqData
from .estimators._steps import check_spec_fields, fitted_step, step_settings
from .serving._export import ExportMixin
from .serving._pickling import picklable_state, unpickled_state
from .serving._saving import SaveMixin
from .streaming import StreamMixin


class Seq2SeqTransformer(FitSkeleton, LossMixin, Seq2SeqData, SaveMixin, ExportMixin,
                         StreamMixin, TransformerMixin, BaseEstimator):
    __doc__ = f"""Encoder-decoder recurrent network: sequences in, sequences of other lengths out.

    Sources: strings (characters are tokens), token lists, numeric sequences (3-D
    arrays or lists of ``(T_i, F)`` arrays), or 2-D ``(n, F)`` vectors (one-to-many).
    Targets: strings, token lists, or numeric sequences (each of its own length, or all
    of one forecasting horizon). Outputs come back in the targets' type: strings in,
    strings out. Trained with teacher forcing by skrnn's loop; decoded greedily or by
    beam search until the end token or ``max_output_length``.

    Parameters
    ----------
    cell : {{"lstm", "gru", "rnn"}}, default="lstm"
    units : int or tuple of int, default=64
        Encoder layers; the decoder mirrors them.
    bidirectional : bool, default=False
        Bidirectional encoder (the decoder is then twice as wide).
    dropout : float in [0, 1), default=0.0
    attention : {{"additive", "dot", None}}, default="additive"
        Bahdanau (additive) or Luong (dot) attention over the encoder outputs.
    embedding_dim : int, default=32
    decoding : {{"greedy", "beam"}}, default="greedy"
    beam_width : int, default=4
    length_penalty : float, default=1.0
        Beam search ranks finished hypotheses by ``log_prob / length ** length_penalty``.
    max_output_length : int, default=None
        Longest output; by default the longest training target plus half of it. When
        every numeric training target has the same length (a horizon), outputs have
        that length, or ``max_output_length`` when it is set.
    learning_rate : float, LearningRateSchedule or None, default=0.003
        Adam at 0.003 with ``global_clipnorm=1.0``: measured against Keras' 0.001
        without clipping, it learns 3-digit addition to 0.99 held-out exact match in 19
        epochs where 0.001 peaked at 0.64 in 28, and dates in 4 epochs instead of 10
        (docs/benchmarks.md). None keeps the optimizer's own rate; a Keras
        ``LearningRateSchedule`` works as for :class:`~skrnn.RNNClassifier`.
    global_clipnorm : float or None, default=1.0
        Rescale all gradients together so their joint norm is at most this (None:
        no clipping).
    optimizer, lr_schedule, epochs, batch_size, clipnorm, clipvalue, early_stopping,
    validation_fraction, n_iter_no_change, tol, warm_start, random_state, verbose,
    strategy, callbacks
        As for :class:`~skrnn.RNNClassifier`: ``fit`` trains for at most ``epochs``
        (default 200) and stops when the monitored loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, halving the learning rate on plateaus.
    {LOSS_DOC.format(extra='''
        Numeric targets only (tokens are fitted by cross-entropy); per step of every
        output sequence, the point (median or mean) fed back to the decoder.''')}
    n_paths : int, default=200
        Sample paths whose spread gives the quantiles and standard deviations over a
        fixed horizon (:meth:`predict_quantiles`); 0 gives the network's one-step
        ones along the decoded path, which do not widen with the horizon.

    Attributes
    ----------
    model_ : keras.Model
        The teacher-forcing training model.
    source_vocabulary_, target_vocabulary_ : Vocabulary or None
        Learned in ``fit`` for token (and string) sources and targets.
    history_ : skrnn.History (a dict of lists)
        Per epoch, as for :class:`~skrnn.RNNClassifier`.
    n_iter_ : int
        Epochs run in total.
    best_epoch_ : int or None
        The epoch whose weights were restored by early stopping.
    quantiles_ : ndarray
        With ``loss="quantile"``: the levels fitted, increasing (``quantiles`` and 0.5).

    Notes
    -----
    ``score`` is the exact-match rate of whole sequences for tokens, and the negative
    mean squared error for numeric targets.

    Numeric targets of different lengths: next to its values the decoder predicts at
    every step the probability that the target has ended (trained with binary
    cross-entropy beside the squared error); decoding stops at the first step where it
    exceeds 0.5 (never before the first value), or at ``max_output_length``. For
    ``score``, a prediction shorter than its target is extended with its last value and
    a longer one cut to the target's length before the squared error is taken.
    """

    _parameter_constraints = SEQ2SEQ
    _saved_state = frozenset({
        "_source_kind", "_target_kind", "_target_strings", "source_vocabulary_",
        "target_vocabulary_", "_n_source_features", "_numeric_horizon",
        "max_output_length_", "_end", "_start", "_y_mean", "_y_scale", "_fitted_loss",
        "quantiles_", "_covariates"})
    _spec_type = "Seq2SeqSpec"
    _seed_before_split = True  # as the estimator drew it before the shared skeleton
    _base_task = "regression_with_stop"  # values and where each target ends

    def __init__(self, cell="lstm", units=64, bidirectional=False, dropout=0.0,
                 attention="additive", embedding_dim=32, decoding="greedy", beam_width=4,
                 length_penalty=1.0, max_output_length=None, optimizer="adam",
                 learning_rate=0.003, lr_schedule="plateau", epochs=200, batch_size=64,
                 clipnorm=None, clipvalue=None, global_clipnorm=1.0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change="auto", tol=1e-4, warm_start=False,
                 random_state=None, verbose=0, strategy=None, callbacks=None,
                 loss="squared_error", quantiles=(0.1, 0.5, 0.9), n_paths=200):
        self.loss = loss
        self.quantiles = quantiles
        self.n_paths = n_paths
        self.cell = cell
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.attention = attention
        self.embedding_dim = embedding_dim
        self.decoding = decoding
        self.beam_width = beam_width
        self.length_penalty = length_penalty
        self.max_output_length = max_output_length
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.epochs = epochs
        self.batch_size = batch_size
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

    # ----------------------------------------------------------------- reading data
    def _check_params(self):
        validate_params(self)
        check_callbacks(self.callbacks, type(self).__name__)
        self._check_quantiles()
        return sizes(self, "units")

    # ---------------------------------------------------------------------- fitting
    def fit(self, X, Y, *, X_val=None, Y_val=None):
        """Learn to map each source sequence of ``X`` to its target in ``Y``.

        ``X_val``, ``Y_val``: fixed validation pairs instead of a random
        ``validation_fraction`` of the training pairs, as for
        :meth:`RNNClassifier.fit <skrnn.RNNClassifier.fit>` (recorded every epoch,
        monitored with ``early_stopping=True``).

        Returns
        -------
        self
        """
        warm = bool(self.warm_start) and hasattr(self, "model_")
        return self._fit(X, Y, None, reset=not warm, epochs=self.epochs,
                         to_convergence=True, validation_data=(X_val, Y_val, None))

    # ------------------------------------------------------ the fit skeleton's hooks
    def _fit_data(self, X, Y, sample_weight, *, reset: bool, classes=None):
        """Sources and targets through the gate, encoded as teacher-forcing pairs; on
        ``reset`` the vocabularies, the target scaling and the covariates' scaling are
        learned (see :class:`~skrnn.estimators._fitting.FitData`)."""
        X, static, future = sd.split_covariates(X)
        s_kind, s_data, t_kind, t_data, t_strings, n = sd.read_pairs(X, Y)
        if t_kind == "tokens" and self.loss != "squared_error":
            raise ValueError(f"loss={self.loss!r} is for numeric targets; token "
                             "targets are fitted by cross-entropy (leave "
                             "loss='squared_error').")
        self._record_loss()
        if reset:
            self._source_kind, self._target_kind = s_kind, t_kind
            self._target_strings = t_strings
            self.source_vocabulary_ = (sd.Vocabulary().fit(s_data.values)
                                       if s_kind == "tokens" else None)
            self.target_vocabulary_ = (sd.Vocabulary().fit(t_data.values)
                                       if t_kind == "tokens" else None)
            self._n_source_features = (len(s_data[0]) if s_kind == "vector"
                                       else s_data.n_features)
            if t_kind == "numeric":
                self._y_mean, self._y_scale = sd.standardisation(
                    np.concatenate(t_data.values))
            longest = int(t_data.lengths.max())
            # One horizon for every numeric target: decode exactly that many steps.
            self._numeric_horizon = (longest if t_kind == "numeric"
                                     and len(set(t_data.lengths.tolist())) == 1 else None)
            self.max_output_length_ = (self.max_output_length
                                       or longest + max(2, longest // 2))
            if self.target_vocabulary_ is not None:
                self._end = len(self.target_vocabulary_)  # start and end follow the tokens
                self._start = self._end + 1
            else:
                self._end = self._start = None
        elif (s_kind, t_kind) != (self._source_kind, self._target_kind):
            raise ValueError("warm_start: the kinds of X and Y differ from the first fit.")
        self._check_covariates(static, future, s_kind, reset, t_data)
        return FitData(self._pair_set(s_kind, s_data, t_data, n, static, future))

    def _network_spec(self, data, units, seed):
        return self._seq2seq_spec(units, seed)

    def _validation_set(self, validation_data, data):
        return self._validation_pairs(*validation_data[:2])

    def _training_params(self) -> tuple:
        return step_settings(self) + (self._fitted_loss,)

    def _make_step(self):
        task = "classification" if self._target_kind == "tokens" else self._loss_task()
        return fitted_step(self, self._training_params(), task, True, seq2seq=True)

    def _loop_settings(self, train, validation, epochs: int, to_convergence: bool):
        return self._loop(train, epochs, to_convergence), None

    def _seq2seq_spec(self, units, seed):
        """The encoder-decoder these parameters and the fitted vocabularies define."""
        from .models._seq2seq import Seq2SeqSpec

        return Seq2SeqSpec(
            source_kind=self._source_kind,
            n_source_features=(None if self._n_source_features is None else
                               self._n_source_features + sd.fitted_covariates(self).n_static),
            source_vocabulary_size=(len(self.source_vocabulary_)
                                    if self.source_vocabulary_ else None),
            target_kind=self._target_kind,
            target_vocabulary_size=(len(self.target_vocabulary_) + 2
                                    if self.target_vocabulary_ is not None else None),
            n_target_features=(None if self._target_kind == "tokens"
                               else len(self._y_mean)),
            embedding_dim=int(self.embedding_dim), cell=self.cell, units=units,
            bidirectional=bool(self.bidirectional), dropout=float(self.dropout),
            attention=self.attention, seed=seed,
            output_columns=1 if self._target_kind == "tokens" else self._output_columns,
            n_future_features=sd.fitted_covariates(self).n_future)

    def _rebuild_network(self):
        """The encoder-decoder of the fitted specification (new variables): ``model_``
        and the encoder and decoder-step models sharing its layers."""
        from .models._seq2seq import build_seq2seq
        from .training import strategy_scope

        with strategy_scope(getattr(self, "_strategy", None)):
            models = build_seq2seq(self._spec)
        self.model_ = models["train"]
        self._encoder, self._decoder_step = models["encoder"], models["step"]
        self._inference = None
        return self.model_

    def _check_fitted_state(self) -> None:
        """Loading: the fitted state agrees with itself and with the network's
        specification, field by field (a ValueError names the first that does not)."""
        from .estimators._inputs import check_statistics

        spec = self._spec
        if self._target_kind == "numeric":
            n = spec.n_target_features
            check_statistics(self._y_mean, (n,), "the target mean")
            check_statistics(self._y_scale, (n,), "the target scale", positive=True)
        elif self.target_vocabulary_ is None or self._end != len(self.target_vocabulary_) \
                or self._start != self._end + 1:
            raise ValueError("the start and end ids do not follow the target vocabulary")
        expected = self._seq2seq_spec(spec.units, spec.seed)
        check_spec_fields(spec, expected, (
            "source_kind", "n_source_features", "source_vocabulary_size", "target_kind",
            "target_vocabulary_size", "n_target_features", "output_columns",
            "n_future_features"))

    # -------------------------------------------------------------------- predicting
    def predict(self, X, return_std=False):
        """Decode an output sequence for every source in ``X``.

        Returns a list of strings (string targets), of token lists, or of ``(T, F)``
        arrays (numeric targets: the median with ``loss="quantile"``, the mean with
        ``loss="gaussian"``, decoded by feeding it back). With ``loss="gaussian"``,
        ``return_std=True`` returns ``(means, stds)``, two lists of ``(T, F)`` arrays:
        the spread of ``n_paths`` sampled paths (see :meth:`predict_quantiles`).
        """
        self._check_return_std(return_std)
        outputs = self._decoded(X)
        if self._target_kind == "tokens":
            return outputs
        point = [self._unscale(self._split(o)[0]) for o in outputs]
        if not return_std:
            return point
        paths = self._paths(X)
        std = ([p.std(axis=0) for p in paths] if paths is not None
               else [self._split(o)[1] for o in outputs])
        return point, [self._unscale(s, "std") for s in std]

    def predict_quantiles(self, X):
        """With ``loss="quantile"``: every level of ``quantiles_`` at every output step,
        a list of ``(T, F, Q)`` arrays whose last axis never decreases.

        Over a fixed horizon they are the quantiles of ``n_paths`` sample paths: each
        step drawn from its predicted quantiles and fed back, so the uncertainty of the
        early steps carries into the later ones (the network's own quantiles are
        one-step-ahead, given the path before; ``n_paths=0`` returns those, along the
        median path). Targets of their own lengths get the one-step quantiles."""
        self._check_quantile_loss()
        paths = self._paths(X)
        if paths is None:
            return [self._unscale(self._split(o)[1], "quantiles") for o in self._decoded(X)]
        levels = self._loss_task().quantiles
        return [self._unscale(np.moveaxis(np.quantile(p, levels, axis=0), 0, -1),
                              "quantiles") for p in paths]

    def _decoded(self, X, paths=None):
        """Every source of ``X`` decoded: outputs in the targets' type (tokens), or the
        network's standardised value columns, ``(T, F * C)`` per sequence (or its
        sample paths, ``paths`` as for ``_decode_batch``)."""
        check_is_fitted(self)
        X, static, future = sd.split_covariates(X)
        kind, data, _ = sd.read_pairs_side(X, "X")
        self._check_covariates(static, future, kind, False)
        source = self._encode_source(kind, data, static)
        n = len(source)
        steps = self._decode_length()
        if future is not None:  # a fixed horizon reads its covariates at every step
            short = [i for i, f in enumerate(future) if len(f) < steps]
            if short and self._numeric_horizon is not None:
                raise ValueError(f"future[{short[0]}] covers {len(future[short[0]])} steps "
                                 f"but the model forecasts {steps}.")
            future = np.stack([sd.future_rows(f, steps) for f in
                               sd.fitted_covariates(self).future_steps(future)])
        lengths = self._source_lengths(kind, data, n)
        results = [None] * n
        from .training._outputs import progress_bar

        batches = sd.bucket_batches(lengths, int(self.batch_size))
        bar = progress_bar(len(batches), int(self.verbose))
        for b, idx in enumerate(batches):
            for i, out in zip(idx, self._decode_batch(source, lengths, idx, future, paths)):
                results[i] = out
            if bar is not None:
                bar.update(b + 1)
        return results

    def transform(self, X):
        """Same as :meth:`predict`, so the estimator can be a pipeline step."""
        return self.predict(X)

    def score(self, X, Y):
        """Exact-match rate (tokens) or negative mean squared error (numeric)."""
        from .metrics import exact_match, sequence_mse

        pred = self.predict(X)
        _, t_data, strings = sd.read_pairs_side(Y, "Y")
        if self._target_kind == "tokens":
            truth = list(Y) if strings else [list(t) for t in t_data.values]
            return exact_match(truth, pred)
        return -sequence_mse(t_data.values, pred)

    # --------------------------------------------------------------------- pickling
    def __getstate__(self):
        return picklable_state(self, rebuilt_on_use=("_encoder", "_decoder_step",
                                                      "_inference"))

    def __setstate__(self, state):
        pickled = state.get("model_")
        self.__dict__.update(unpickled_state(state))
        if isinstance(pickled, bytes):
            from .models import register_custom_objects

            register_custom_objects()  # before loading the model
            trained = pickle.loads(pickled)
            self._rebuild_network().set_weights(trained.get_weights())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags
