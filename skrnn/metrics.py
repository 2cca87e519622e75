"""Metrics for sequence outputs: exact match, token accuracy, corpus BLEU, the mean
squared error of numeric sequences of their own lengths; and the expected calibration
error of predicted probabilities."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


def _tokens(seq):
    if isinstance(seq, str):
        return list(seq)
    return list(np.asarray(seq, dtype=object).ravel()) if np.ndim(seq) else [seq]


def _check_pairs(y_true, y_pred):
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} sequences but y_pred has "
                         f"{len(y_pred)}.")
    if not y_true:
        raise ValueError("y_true is empty: at least one sequence is needed.")
    return y_true, y_pred


def exact_match(y_true, y_pred) -> float:
    """Share of sequences predicted exactly, every token and the length.

    Strings are compared as strings; other sequences token by token.
    """
    y_true, y_pred = _check_pairs(y_true, y_pred)
    return float(np.mean([_tokens(t) == _tokens(p) for t, p in zip(y_true, y_pred)]))


def token_accuracy(y_true, y_pred) -> float:
    """Share of reference tokens predicted at their position.

    Positions past the end of a shorter prediction count as wrong; extra predicted
    tokens are not rewarded (the denominator is the number of reference tokens).
    """
    y_true, y_pred = _check_pairs(y_true, y_pred)
    correct = total = 0
    for t, p in zip(y_true, y_pred):
        t, p = _tokens(t), _tokens(p)
        correct += sum(a == b for a, b in zip(t, p))
        total += len(t)
    return correct / total if total else 0.0


def sequence_mse(y_true, y_pred) -> float:
    """Mean over sequences of the squared error per step of numeric sequences.

    A prediction longer than its target is cut to the target's length; a shorter one is
    extended with its last value (so stopping early costs what it misses).
    """
    y_true, y_pred = _check_pairs(y_true, y_pred)
    errors = []
    for t, p in zip(y_true, y_pred):
        t = np.asarray(t, dtype=float)
        t = t.reshape(len(t), -1)
        p = np.asarray(p, dtype=float).reshape(-1, t.shape[1])[:len(t)]
        p = np.vstack([p, np.repeat(p[-1:], len(t) - len(p), axis=0)])
        errors.append(np.mean((p - t) ** 2))
    return float(np.mean(errors))


def corpus_bleu(y_true, y_pred, max_n: int = 4) -> float:
    """Corpus-level BLEU (Papineni et al. 2002) with one reference per sequence.

    Clipped n-gram precisions for n = 1 .. ``max_n`` are summed over the corpus,
    combined by geometric mean and multiplied by the brevity penalty
    ``exp(1 - r / c)`` when the predictions are shorter than the references. Strings
    are read as sequences of characters; pass token lists for word-level BLEU. Returns
    a value in [0, 1] (0 if any precision is 0, as in the original definition).

    Examples
    --------
    >>> corpus_bleu([["the", "cat", "sat", "on", "the", "mat"]],
    ...             [["the", "cat", "sat", "on", "the", "mat"]])
    1.0
    """
    y_true, y_pred = _check_pairs(y_true, y_pred)
    matches = [0] * max_n
    possible = [0] * max_n
    ref_len = pred_len = 0
    for t, p in zip(y_true, y_pred):
        t, p = _tokens(t), _tokens(p)
        ref_len += len(t)
        pred_len += len(p)
        for n in range(1, max_n + 1):
            ref = Counter(tuple(t[i:i + n]) for i in range(len(t) - n + 1))
            hyp = Counter(tuple(p[i:i + n]) for i in range(len(p) - n + 1))
            matches[n - 1] += sum(min(c, ref[g]) for g, c in hyp.items())
            possible[n - 1] += max(len(p) - n + 1, 0)
    if pred_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / c) for m, c in zip(matches, possible)) / max_n
    brevity = 1.0 if pred_len > ref_len else math.exp(1 - ref_len / pred_len)
    return float(brevity * math.exp(log_precision))


def expected_calibration_error(y_true, y_prob, *, labels=None, n_bins=10,
                               strategy="uniform") -> float:
    """Expected calibration error of the top-label probabilities (Guo et al., 2017).

    Predictions are binned by the probability of their predicted class; the error is
    the mean over bins, weighted by the bin's share of predictions, of
    ``|accuracy - mean confidence|``. 0 is perfectly calibrated.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True labels.
    y_prob : array-like of shape (n, n_classes) or (n,)
        ``predict_proba``'s output (columns in the order of ``labels``), or for two
        classes the probability of the second (the positive) class.
    labels : array-like, optional
        The classes of the columns (an estimator's ``classes_``); default the sorted
        labels of ``y_true``, which must then hold every class.
    n_bins : int, default=10
    strategy : {"uniform", "quantile"}, default="uniform"
        Bins of equal width, or of equal counts (scikit-learn's ``calibration_curve``).
    """
    y_true = np.asarray(y_true)
    prob = np.asarray(y_prob, dtype=np.float64)
    if prob.ndim == 1:
        prob = np.column_stack([1 - prob, prob])
    if prob.ndim != 2 or len(prob) != len(y_true) or not len(prob):
        raise ValueError(f"y_prob has shape {np.shape(y_prob)}; expected ({len(y_true)}, "
                         "n_classes) or (n,) for two classes.")
    if not np.isfinite(prob).all() or (prob < 0).any() or (prob > 1).any():
        raise ValueError("y_prob must hold probabilities in [0, 1].")
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if len(labels) != prob.shape[1]:
        raise ValueError(f"y_prob has {prob.shape[1]} columns for {len(labels)} classes; "
                         "pass labels= (an estimator's classes_).")
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}.")
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    confidence = prob.max(axis=1)
    correct = labels[prob.argmax(axis=1)] == y_true
    edges = (np.linspace(0, 1, n_bins + 1) if strategy == "uniform"
             else np.quantile(confidence, np.linspace(0, 1, n_bins + 1)))
    which = np.clip(np.searchsorted(edges[1:-1], confidence, side="right"), 0, n_bins - 1)
    error = 0.0
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)
