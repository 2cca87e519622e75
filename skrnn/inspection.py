"""Which steps and channels drove a prediction: attributions over time, attention
weights, and a permutation importance for ragged sequences.

:func:`attributions` explains one output of a fitted :class:`~skrnn.RNNClassifier` (a
class's probability) or :class:`~skrnn.RNNRegressor` (an output or a quantile, in the
target's units) by a score for every real step and channel of every sequence, in the
input's own units (the estimator's scaling is differentiated through):

- ``"integrated_gradients"`` (Sundararajan et al., 2017): the path integral of the
  gradient from a baseline to the input, by Gauss-Legendre quadrature. A sequence's
  scores sum to ``f(x) - f(baseline)`` (completeness).
- ``"saliency"``: gradient times (input - baseline), i.e. gradient x input at the
  default zero baseline.
- ``"occlusion"`` (Zeiler & Fergus, 2014): windows of ``window`` steps of one channel
  replaced by the baseline; a step's score is the mean drop of the output over the
  windows that cover it. No gradients: it reads only the predictions.

Token sequences are explained through their embeddings (the baseline is the zero
vector): one score per token. Padding never receives a score and cannot change one
(the network's mask removes padded steps from every path to the output).
:func:`attention_weights` returns what an attention pooling or a seq2seq decoder's
attention read. :func:`permutation_importance` measures how much a scikit-learn score
drops when a channel, or a stretch of the sequences, is shuffled between sequences.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import data as sd

METHODS = ("integrated_gradients", "saliency", "occlusion")


def _check_estimator(estimator, what):
    from .estimators._base import BaseRNN

    if not isinstance(estimator, BaseRNN):
        raise TypeError(f"{what} explains a fitted RNNClassifier or RNNRegressor, got "
                        f"{type(estimator).__name__} (for a Pipeline pass its last step "
                        "and the data that step reads).")
    check_is_fitted(estimator)
    if estimator._spec.bidirectional and what == "attention_weights":
        return


def attributions(estimator, X, method="integrated_gradients", *, target=None,
                 baseline=None, n_steps=50, window=5, quantile=None, batch_size=256):
    """Attribute a prediction to every real step (and channel) of every sequence.

    Parameters
    ----------
    estimator : fitted RNNClassifier or RNNRegressor
    X : sequences, as for ``predict``
    method : {"integrated_gradients", "saliency", "occlusion"}
    target : label, array-like of labels, int or None
        Classifier: the class whose probability is explained, one for all sequences
        or one per sequence (default: the predicted class; per step for tagging
        models). Regressor: which output column (default 0).
    baseline : None or sequences shaped like ``X``
        The reference input: None is zeros in the input's units (the zero embedding
        for tokens); or one array per sequence of the same shape.
    n_steps : int, default=50
        Quadrature points of integrated gradients.
    window : int, default=5
        Steps per occluded window.
    quantile : float, optional
        With ``loss="quantile"``: explain this fitted level (default the median).
    batch_size : int, default=256
        Rows (sequences times quadrature points or windows) per pass.

    Returns
    -------
    list of ndarray
        Per sequence ``(T_i, F)`` (numeric) or ``(T_i,)`` (tokens); for tagging
        models (``return_sequences=True``) ``(T_i, T_i, F)`` / ``(T_i, T_i)``, row ``t``
        explaining the output at step ``t``.
    """
    _check_estimator(estimator, "attributions")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    for name, value in (("n_steps", n_steps), ("window", window),
                        ("batch_size", batch_size)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    from .estimators._explaining import Explained

    problem = Explained(estimator, X, baseline, target, quantile)
    if method == "occlusion":
        scores = problem.occlusion(int(window), int(batch_size))
    else:
        points = (np.polynomial.legendre.leggauss(int(n_steps)) if method ==
                  "integrated_gradients" else (np.array([1.0]), np.array([2.0])))
        scores = problem.integrated(points, int(batch_size))
    if problem.tokens:
        scores = [s.sum(axis=-1) for s in scores]
    return scores


def attention_weights(estimator, X) -> list:
    """What the network's attention read.

    Parameters
    ----------
    estimator : fitted estimator
        An RNNClassifier or RNNRegressor with ``pooling="attention"`` (one output per
        sequence), or a Seq2SeqTransformer with ``attention="additive"`` or ``"dot"``.
    X : sequences, as for ``predict``

    Returns
    -------
    list of ndarray
        Pooling: ``(T_i,)`` per sequence, the weight of every step in the pooled
        summary (summing to 1). Seq2seq: ``(T_out_i, T_i)``, row ``t`` the decoder's
        attention over the source while it wrote output ``t`` of what ``predict``
        returns (an empty output: one row, the end it wrote).
    """
    from .seq2seq import Seq2SeqTransformer

    if isinstance(estimator, Seq2SeqTransformer):
        check_is_fitted(estimator)
        return estimator._attention_over_source(X)
    _check_estimator(estimator, "attention_weights")
    est = estimator
    if est.pooling != "attention" or est.return_sequences:
        raise ValueError("attention weights need pooling='attention' and one output per "
                         f"sequence (pooling={est.pooling!r}, "
                         f"return_sequences={est.return_sequences}).")
    import keras

    from .models._layers import AttentionPooling
    from .models._recurrent import _apply

    seq = est._check_X(X, reset=False)
    encoded, lengths = est._encode_X(seq), np.asarray(seq.lengths)
    layers = list(est.model_.layers)
    pool = next(i for i, layer in enumerate(layers) if isinstance(layer, AttentionPooling))
    result = [None] * len(encoded)
    dtype = np.int32 if seq.kind == "tokens" else np.float32
    for idx in sd.bucket_batches(lengths, 64):
        x, mask = sd.pad_batch(encoded, idx, lengths, dtype=dtype)
        mask_t = keras.ops.convert_to_tensor(mask)
        h = _apply(layers[:pool], keras.ops.convert_to_tensor(x), mask_t)[0]
        weights = keras.ops.convert_to_numpy(layers[pool].attention(h, mask_t))
        for j, i in enumerate(idx):
            result[i] = weights[j, :lengths[i]].astype(np.float64)
    return result


def permutation_importance(estimator, X, y, *, by="channels", n_segments=4, n_repeats=5,
                           scoring=None, random_state=None):
    """How much a score drops when a channel, or a stretch of time, is shuffled between
    sequences: scikit-learn's permutation importance for ragged sequences.

    ``by="channels"``: channel ``j`` of every sequence is replaced by channel ``j`` of
    another sequence (a random permutation), stretched to the receiving sequence's
    length by linear interpolation. ``by="segments"``: each sequence is cut into
    ``n_segments`` parts of equal share of its length, and part ``k`` is replaced by
    part ``k`` of another sequence, stretched likewise (tokens: resampled by position).
    Any fitted estimator that reads sequences works (a Pipeline too).

    Parameters
    ----------
    estimator : fitted estimator
    X : list of sequences, ``(n, T, F)`` array, or token lists
    y : targets, as for ``score``
    by : {"channels", "segments"}
    n_segments : int, default=4
    n_repeats : int, default=5
    scoring : str, callable or None
        As in scikit-learn (``None``: the estimator's ``score``).
    random_state : int, RandomState or None

    Returns
    -------
    sklearn.utils.Bunch
        ``importances_mean``, ``importances_std``, ``importances`` (groups x repeats:
        the baseline score minus the permuted score) and ``names`` of the groups.
    """
    from sklearn.metrics import check_scoring
    from sklearn.utils import Bunch, check_random_state

    from .estimators._explaining import replaced

    if by not in ("channels", "segments"):
        raise ValueError(f"by must be 'channels' or 'segments', got {by!r}.")
    for name, value in (("n_segments", n_segments), ("n_repeats", n_repeats)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    seq = sd.to_sequences(X)
    values = [np.asarray(v) for v in seq.values]
    tokens = seq.kind == "tokens"
    if by == "channels" and tokens:
        raise ValueError("token sequences have one channel: use by='segments'.")
    scorer = check_scoring(estimator, scoring=scoring)
    rng = check_random_state(random_state)
    reference = scorer(estimator, values, y)
    if by == "channels":
        groups = [(slice(None), slice(j, j + 1)) for j in range(values[0].shape[1])]
        names = (list(seq.feature_names) if seq.feature_names is not None
                 else [f"channel {j}" for j in range(len(groups))])
    else:
        cuts = np.linspace(0, 1, int(n_segments) + 1)
        groups = [((a, b), slice(None)) for a, b in zip(cuts[:-1], cuts[1:])]
        names = [f"{a:.0%}-{b:.0%}" for a, b in zip(cuts[:-1], cuts[1:])]
    drops = np.zeros((len(groups), int(n_repeats)))
    for g, (span, channels) in enumerate(groups):
        for r in range(int(n_repeats)):
            donors = rng.permutation(len(values))
            permuted = [replaced(v, values[d], span, channels, tokens)
                        for v, d in zip(values, donors)]
            drops[g, r] = reference - scorer(estimator, permuted, y)
    return Bunch(importances_mean=drops.mean(axis=1), importances_std=drops.std(axis=1),
                 importances=drops, names=names)
