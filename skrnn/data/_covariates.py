"""Sequences with covariates: static features per sequence and values known in advance
over the forecast horizon, kept together so scikit-learn can index them as one ``X``."""

from __future__ import annotations

import numbers

import numpy as np

from ._scaling import apply_scaling, standardisation
from ._sequences import SequenceList, real_values


def _finite_table(values, what: str, n: int):
    """``(n, S)`` float64 copy of a 2-D array-like (or DataFrame), checked finite."""
    names = np.asarray(values.columns, dtype=object) if hasattr(values, "columns") else None
    arr = real_values(values, what)  # the gate: real, finite, within float32
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or len(arr) != n:
        raise ValueError(f"{what} must be (n_sequences, n_features) = ({n}, ...), got "
                         f"shape {arr.shape}.")
    return arr, names


def _future_list(values, n: int):
    """Per sequence a ``(H_i, C)`` float64 copy, checked finite and of one width."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.ndim == 2:
            values = values[..., None]
        if values.ndim != 3:
            raise ValueError(f"future must be (n, horizon, n_features) or a list of "
                             f"(H_i, n_features) arrays, got shape {values.shape}.")
    items = list(values)
    if len(items) != n:
        raise ValueError(f"future has {len(items)} rows but there are {n} sequences.")
    out = []
    for i, item in enumerate(items):
        a = real_values(item, "future", sample=i)  # the gate
        a = a[:, None] if a.ndim == 1 else a
        if a.ndim != 2 or len(a) == 0:
            raise ValueError(f"future[{i}] must be a non-empty (H, n_features) array, got "
                             f"shape {a.shape}.")
        if out and a.shape[1] != out[0].shape[1]:
            raise ValueError(f"future[{i}] has {a.shape[1]} features but future[0] has "
                             f"{out[0].shape[1]}.")
        out.append(a)
    return out


class WithCovariates:
    """Sequences and their covariates as one ``X``, indexable like an array of samples.

    Parameters
    ----------
    sequences : 3-D array or list of ``(T_i, F)`` arrays
        The observed past, as any estimator takes it.
    static : array-like or DataFrame of shape (n, S), optional
        Features of each whole sequence (a store's size, a patient's age): every
        estimator appends them, standardised, to every step of its input.
    future : array of shape (n, H, C) or list of ``(H_i, C)`` arrays, optional
        Values known in advance over each sequence's forecast horizon (calendar, planned
        prices): a :class:`~skrnn.Seq2SeqTransformer` feeds step ``t`` of them to its
        decoder beside its previous output. They must cover every step to be decoded.

    Notes
    -----
    ``X[idx]`` with an index array, a boolean mask or a slice returns the chosen samples
    with their covariates (``shape == (n,)`` tells scikit-learn to index it so):
    ``cross_val_score``, ``GridSearchCV``, ``TimeSeriesSplit`` and ``train_test_split``
    work unchanged. ``X[i]`` is ``(sequence, static row, future)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.data import WithCovariates
    >>> X = WithCovariates(np.zeros((4, 6, 1)), static=np.arange(4.0),
    ...                    future=np.ones((4, 2, 1)))
    >>> len(X[[0, 2]]), X[1:].static[:, 0].tolist()
    (2, [1.0, 2.0, 3.0])
    """

    def __init__(self, sequences, static=None, future=None, *, ids=None):
        if sequences is None:
            raise ValueError("WithCovariates needs the sequences.")
        if isinstance(sequences, WithCovariates):
            raise TypeError("sequences is already a WithCovariates.")
        self.sequences = sequences
        n = len(sequences)
        self.static, self.static_names = (_finite_table(static, "static", n)
                                          if static is not None else (None, None))
        self.future = _future_list(future, n) if future is not None else None
        self.ids = None if ids is None else np.asarray(ids, dtype=object)
        if self.ids is None and getattr(sequences, "ids", None) is not None:
            self.ids = np.asarray(sequences.ids, dtype=object)

    @property
    def shape(self) -> tuple:
        return (len(self.sequences),)

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        parts = [f"{len(self)} sequences"]
        if self.static is not None:
            parts.append(f"{self.static.shape[1]} static")
        if self.future is not None:
            parts.append(f"{self.future[0].shape[1]} future")
        return f"WithCovariates({', '.join(parts)})"

    def __getitem__(self, key):
        if isinstance(key, tuple):  # scikit-learn's X[key, ...]
            if len(key) != 2 or key[1] is not Ellipsis:
                raise IndexError("WithCovariates is indexed along its samples only.")
            key = key[0]
        if isinstance(key, numbers.Integral):
            return (self.sequences[key],
                    None if self.static is None else self.static[key],
                    None if self.future is None else self.future[key])
        idx = np.arange(len(self))[key]
        seqs = self.sequences
        if isinstance(seqs, np.ndarray):
            subset = seqs[idx]
        elif isinstance(seqs, SequenceList):  # keeps the feature names
            subset = SequenceList([seqs[i] for i in idx], feature_names=seqs.feature_names,
                                  ids=None if seqs.ids is None else np.asarray(seqs.ids)[idx])
        else:
            subset = [seqs[i] for i in idx]
        out = WithCovariates.__new__(WithCovariates)
        out.sequences = subset
        out.static = None if self.static is None else self.static[idx]
        out.static_names = self.static_names
        out.future = None if self.future is None else [self.future[i] for i in idx]
        out.ids = None if self.ids is None else self.ids[idx]
        return out

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def with_sequences(self, sequences) -> WithCovariates:
        """The same covariates beside other sequences (transformed ones, say)."""
        if len(sequences) != len(self):
            raise ValueError(f"{len(sequences)} sequences for {len(self)} covariate rows.")
        out = self[:]
        out.sequences = sequences
        return out


def split_covariates(X):
    """``(sequences, static or None, future or None)`` of any ``X``."""
    if isinstance(X, WithCovariates):
        return X.sequences, X.static, X.future
    return X, None, None


class CovariateScaling:
    """Standardisation of the static and future covariates: ``(mean, scale)`` of each,
    or ``None`` where a fit had none (so a later ``X`` must have none either).
    Estimators keep :attr:`stats` (a tuple of arrays, which skrnn saves) as
    ``_covariates``; :func:`fitted_covariates` reads it back."""

    def __init__(self, static_stats=None, future_stats=None):
        self.static, self.future = static_stats, future_stats

    @classmethod
    def learn(cls, static, future):
        """The scaling of these covariates (either may be None)."""
        return cls(None if static is None else standardisation(static),
                   None if future is None else standardisation(np.concatenate(future)))

    @property
    def stats(self) -> tuple:
        return self.static, self.future

    @property
    def n_static(self) -> int:
        return 0 if self.static is None else len(self.static[0])

    @property
    def n_future(self) -> int:
        return 0 if self.future is None else len(self.future[0])

    def check(self, static, future, estimator: str):
        """Refuse covariates of another shape than at fit time, naming what differs."""
        for what, given, stats in (("static", static, self.static),
                                   ("future", future, self.future)):
            if stats is None and given is not None:
                raise ValueError(f"X has {what} covariates but {estimator} was fitted "
                                 f"without them.")
            if stats is not None and given is None:
                raise ValueError(f"{estimator} was fitted with {what} covariates: pass X "
                                 f"as WithCovariates(sequences, {what}=...).")
            width = None if given is None else (given.shape[1] if what == "static"
                                                 else given[0].shape[1])
            if stats is not None and width != len(stats[0]):
                raise ValueError(f"X has {width} {what} covariates but {estimator} was "
                                 f"fitted with {len(stats[0])}.")

    def static_rows(self, static):
        """Standardised float32 static features, ``(n, S)``."""
        return apply_scaling([static], "feature", self.static)[0]

    def future_steps(self, future):
        """Standardised float32 future covariates, a list of ``(H_i, C)``."""
        return apply_scaling(future, "feature", self.future)


def append_static(values, static_rows):
    """Every sequence's steps with its standardised static features appended."""
    return [np.concatenate([np.asarray(v, np.float32),
                            np.broadcast_to(s, (len(v), len(s)))], axis=1)
            for v, s in zip(values, static_rows)]


def fitted_covariates(estimator) -> CovariateScaling:
    """What an estimator's ``fit`` learned of the covariates (none for one fitted
    without them, or before skrnn had them)."""
    return CovariateScaling(*getattr(estimator, "_covariates", (None, None)))
