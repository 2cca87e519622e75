"""RNNClassifier: sequence classification and per-step tagging."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import data as sd
from ._warnings import warn
from .estimators._base import BaseRNN
from .estimators._constraints import CLASSIFIER
from .estimators._docs import _FITTED_ATTRS, _SHARED_PARAMS
from .estimators._inputs import INPUT_STATE, check_statistics


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class RNNClassifier(ClassifierMixin, BaseRNN):
    __doc__ = f"""Recurrent-network classifier for sequences.

    Many-to-one (one label per sequence: sentiment, ECG classes) by default; with
    ``return_sequences=True`` one label per step (tagging, named entities). Accepts
    3-D arrays, ragged lists of arrays, token lists and long-format frames; padding,
    masks, vocabularies and label encoding are internal.

    Parameters
    ----------
    {_SHARED_PARAMS}
    class_weight : dict, "balanced" or None, default=None
        Weights per class multiplied into the loss (per step with
        ``return_sequences=True``); ``"balanced"`` uses n / (n_classes * count).

    Attributes
    ----------
    classes_ : ndarray
        Class labels, sorted as scikit-learn does.
    {_FITTED_ATTRS}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.randn(rng.randint(5, 15), 2) for _ in range(40)]
    >>> y = ["up" if s[:, 0].sum() > 0 else "down" for s in X]
    >>> clf = RNNClassifier(units=8, epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:2]).shape
    (2,)
    """

    _task = "classification"
    _score_name = "accuracy"

    _parameter_constraints = CLASSIFIER
    _saved_state = INPUT_STATE | {"classes_", "_label_encoder", "_class_weights"}

    def __init__(self, cell="lstm", units=32, bidirectional=False, dropout=0.0,
                 recurrent_dropout=0.0, activation="tanh", layer_norm=False,
                 recurrent_initializer="orthogonal", unit_forget_bias=True, pooling="last",
                 conv_filters="auto", conv_kernel_sizes=(8, 5, 3), conv_mode="parallel",
                 return_sequences=False, embedding_dim=32, min_token_frequency=1,
                 input_type="auto", scaling="feature", optimizer="adam", learning_rate=None,
                 lr_schedule="plateau", epochs=200, batch_size="auto",
                 truncate_steps=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change="auto",
                 tol=1e-4, warm_start=False, random_state=None, verbose=0, strategy=None,
                 class_weight=None, callbacks=None):
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
        self.class_weight = class_weight
        self.callbacks = callbacks

    # ------------------------------------------------------------------ targets
    def _prepare_targets(self, y, seq, reset, classes=None, training=True):
        n = len(seq)
        if self.return_sequences:
            steps = sd.check_step_targets(y, seq.lengths, numeric=False)
            flat = np.concatenate(steps)
            check_classification_targets(flat)
        else:
            if isinstance(y, (list, tuple)) and y and not np.isscalar(y[0]) \
                    and not isinstance(y[0], str):
                if any(np.ndim(v) > 0 for v in y):
                    raise ValueError(
                        "y holds one array per sequence: per-step targets need "
                        "return_sequences=True.")
            y_arr = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
            sd.check_no_none(y_arr)
            if y_arr.dtype.kind == "f" and not np.isfinite(y_arr).all():
                bad = int(np.argmax(~np.isfinite(y_arr.reshape(len(y_arr), -1)).all(1)))
                raise ValueError(f"Input y contains NaN or infinity in sample {bad}.")
            check_classification_targets(y_arr)
            if y_arr.ndim == 2 and y_arr.shape[1] == 1:  # scikit-learn's warning, our line
                warn("A column-vector y was passed when a 1d array was expected. Please "
                     "change the shape of y to (n_samples,), for example using ravel().",
                     DataConversionWarning)
            flat = column_or_1d(y_arr)
            if len(flat) != n:
                raise ValueError(
                    f"Found input variables with inconsistent numbers of samples: X has "
                    f"{n} sequences but y has {len(flat)} labels.")
        if reset:
            encoder = LabelEncoder().fit(flat if classes is None else np.asarray(classes))
            if len(encoder.classes_) < 2 and classes is None:
                raise ValueError(
                    "RNNClassifier needs samples of at least 2 classes; only one class "
                    f"({encoder.classes_[0]!r}) is present in y.")
            self.classes_ = encoder.classes_
            self._label_encoder = encoder
        elif classes is not None and not np.array_equal(
                np.unique(np.asarray(classes)), self.classes_):
            # scikit-learn's rule for partial_fit (SGDClassifier, MLPClassifier)
            raise ValueError(
                f"classes={np.unique(np.asarray(classes)).tolist()} is not the same as on "
                f"the first call to partial_fit, which fixed {self.classes_.tolist()}.")
        unseen = np.setdiff1d(np.unique(flat), self.classes_)
        if unseen.size:
            raise ValueError(f"y contains labels {unseen.tolist()} not among the classes "
                             f"seen in the first fit {self.classes_.tolist()}.")
        if training:  # class weights come from the training targets only
            self._class_weights = self._compute_class_weights(flat)
        enc = self._label_encoder.transform
        if self.return_sequences:
            return [enc(s).astype(np.int32) for s in steps]
        return enc(flat).astype(np.int32)

    def _compute_class_weights(self, flat):
        cw = self.class_weight
        if cw is None:
            return None
        n_classes = len(self.classes_)
        if isinstance(cw, str):  # "balanced" (the constraints refuse any other)
            counts = np.bincount(self._label_encoder.transform(flat), minlength=n_classes)
            return len(flat) / (n_classes * np.maximum(counts, 1))
        weights = np.ones(n_classes)
        known = {c: i for i, c in enumerate(self.classes_.tolist())}
        for label, w in cw.items():
            if label not in known:
                raise ValueError(f"class_weight names class {label!r}, which is not "
                                 f"among the classes {self.classes_.tolist()}.")
            if (not isinstance(w, numbers.Real) or isinstance(w, bool)
                    or not 0 <= w < np.inf):
                raise ValueError(f"class_weight[{label!r}] must be a non-negative finite "
                                 f"number, got {w!r}.")
            weights[known[label]] = float(w)
        return weights

    def _target_weights(self, y_enc, sample_weight):
        cw = self._class_weights
        if cw is None:
            return super()._target_weights(y_enc, sample_weight)
        if self.return_sequences:
            return [(cw[t] * w).astype(np.float32) for t, w in zip(y_enc, sample_weight)]
        return (cw[y_enc] * sample_weight).astype(np.float32)

    def _n_outputs(self):
        return len(self.classes_)

    def _check_fitted_state(self) -> None:
        classes = self.classes_
        if not isinstance(classes, np.ndarray) or classes.ndim != 1 or not len(classes) \
                or classes.dtype.kind not in "biufUSO" \
                or len(np.unique(classes)) != len(classes):
            raise ValueError("classes_ must be a 1-D array of distinct labels")
        if not np.array_equal(self._label_encoder.classes_, classes):
            raise ValueError("the label encoder's classes are not classes_")
        weights = getattr(self, "_class_weights", None)
        if weights is not None:
            check_statistics(np.asarray(weights, dtype=float), (len(classes),),
                             "the class weights")
        super()._check_fitted_state()  # labels against the network's outputs

    def _val_score(self, y_true):
        def accuracy(outputs):
            if self.return_sequences:
                pred = np.concatenate([o.argmax(-1) for o in outputs])
                return float(np.mean(pred == np.concatenate(y_true)))
            return float(np.mean(outputs.argmax(-1) == y_true))
        return accuracy

    # ------------------------------------------------------------------ API
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch on ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X, y, sample_weight
            As in :meth:`fit`.
        classes : array-like, optional
            All class labels; give it on the first call when that batch may not
            contain every class.

        Returns
        -------
        self
        """
        first = not self._is_fitted()
        return self._fit(X, y, sample_weight, reset=first, epochs=1,
                         classes=classes)

    def predict_proba(self, X):
        """Class probabilities, ``(n, n_classes)``; per step, a list of ``(T_i, n_classes)``."""
        out = self._outputs(X)
        if self.return_sequences:
            return [self._probabilities(o) for o in out]
        return self._probabilities(out)

    @staticmethod
    def _probabilities(logits):
        """The network's logits (any leading axes) as probabilities, in float64."""
        return _softmax(np.asarray(logits).astype(np.float64))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        proba = self.predict_proba(X)
        if self.return_sequences:
            return [np.log(p) for p in proba]
        return np.log(proba)

    def predict(self, X):
        """Predicted labels, ``(n,)``; per step, a list of ``(T_i,)`` label arrays."""
        out = self._outputs(X)
        if self.return_sequences:
            return [self.classes_[o.argmax(-1)] for o in out]
        return self.classes_[out.argmax(-1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy; with ``return_sequences=True``, over all steps of all sequences."""
        if not self.return_sequences:
            return super().score(X, y, sample_weight=sample_weight)
        check_is_fitted(self)
        pred = self.predict(X)
        steps = sd.check_step_targets(y, np.array([len(p) for p in pred]), numeric=False)
        sw = None
        if sample_weight is not None:
            sw = np.concatenate([np.full(len(t), w) for t, w in zip(steps, sample_weight)])
        correct = np.concatenate(pred) == np.concatenate(steps)
        return float(np.average(correct, weights=sw))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
