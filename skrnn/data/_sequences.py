"""Conversion of every accepted sequence input into one representation.

The representation is :class:`Sequences`: a list of per-sequence arrays plus their
lengths. Numeric sequences are ``(T_i, F)`` float32 arrays; token sequences are 1-D
object arrays of hashable tokens (turned into integer ids by a
:class:`~skrnn.data.Vocabulary`).

Two-dimensional tabular input (an ``(n, T)`` array or a wide DataFrame) is validated by
the estimator with scikit-learn's ``validate_data`` (so it gets scikit-learn's
``n_features_in_`` / ``feature_names_in_`` semantics) and then handed to
:func:`from_tabular`. Everything else goes through :func:`to_sequences`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

INPUT_TYPES = ("auto", "numeric", "tokens")


@dataclass
class Sequences:
    """Validated sequences: per-sequence arrays and their lengths.

    Attributes
    ----------
    values : list of ndarray
        ``(T_i, F)`` float32 arrays for numeric input, 1-D object arrays for tokens.
    lengths : ndarray of shape (n_sequences,)
        The number of steps of each sequence.
    kind : {"numeric", "tokens"}
    layout : {"tabular", "array", "list"}
        How the user passed them: a 2-D table, a 3-D array, or a list of sequences.
    n_features : int or None
        Features per step (numeric input only).
    feature_names : ndarray of str or None
        Column names when the input carried them.
    static : ndarray of shape (n_sequences, S) or None
        Static covariates given with the sequences (:class:`~skrnn.data.WithCovariates`).
    """

    values: list
    lengths: np.ndarray
    kind: str
    layout: str
    n_features: int | None = None
    feature_names: np.ndarray | None = field(default=None)
    static: np.ndarray | None = field(default=None)

    def __len__(self) -> int:
        return len(self.values)


class SequenceList(list):
    """A list of sequences that remembers where it came from.

    Returned by :func:`~skrnn.data.from_long_format`; behaves as a plain list of
    ``(T_i, F)`` arrays and additionally carries ``ids`` (the sequence identifiers, in
    order) and ``feature_names`` (the feature columns), which estimators record as
    ``feature_names_in_``.
    """

    def __init__(self, sequences, ids=None, feature_names=None):
        super().__init__(sequences)
        self.ids = ids
        self.feature_names = feature_names


def _is_string(x) -> bool:
    return isinstance(x, (str, bytes, np.str_, np.bytes_))


def _is_token(x) -> bool:
    return _is_string(x) or isinstance(x, (numbers.Integral, np.integer))


def is_tabular(X, input_type: str = "auto") -> bool:
    """Whether ``X`` is 2-D tabular numeric input (validated by scikit-learn).

    ``(n, T)`` arrays, array-likes exposing ``__array__`` and wide DataFrames are
    tabular; Python lists are read as lists of sequences, 3-D arrays as arrays of
    sequences, and string arrays as tokens.
    """
    if input_type == "tokens":
        return False
    if _is_sparse(X):
        return True  # let scikit-learn reject it with its usual message
    if hasattr(X, "iloc") and hasattr(X, "columns") and not isinstance(X, SequenceList):
        return True
    if isinstance(X, (list, tuple)):
        return _is_list_of_number_rows(X)
    if isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        arr = np.asarray(X)
        if arr.ndim != 2:
            return False
        if arr.dtype.kind in "USO" and arr.size and _looks_like_tokens(arr.ravel()):
            return False
        return True
    return False


def _is_list_of_number_rows(X) -> bool:
    """A list of equal-length plain lists of numbers: a 2-D table, as in scikit-learn."""
    if not X or not all(isinstance(r, (list, tuple)) for r in X):
        return False
    width = len(X[0])
    return all(len(r) == width for r in X) and all(
        isinstance(v, numbers.Number) and not isinstance(v, bool) for v in X[0])


def _is_sparse(X) -> bool:
    return hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse")


def _looks_like_tokens(flat) -> bool:
    for v in flat:
        if v is None:
            continue
        return _is_string(v)
    return False


def from_tabular(X: np.ndarray, feature_names=None) -> Sequences:
    """Each row of a validated 2-D float array is one univariate sequence."""
    X = np.asarray(X, dtype=np.float32)
    n, t = X.shape
    values = [X[i].reshape(t, 1) for i in range(n)]
    return Sequences(
        values=values,
        lengths=np.full(n, t, dtype=np.int64),
        kind="numeric",
        layout="tabular",
        n_features=1,
        feature_names=feature_names,
    )


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _fail_nonfinite(name, i, what="X", value=None):
    if value is not None and np.isfinite(value):
        raise ValueError(
            f"{what} holds {value:g} in sample {i}{name}, beyond float32's range "
            f"(±{_FLOAT32_MAX:.3g}) in which the network computes; rescale {what}.")
    raise ValueError(
        f"{what} contains NaN or infinity in sample {i}{name}; remove or impute "
        "non-finite values before fitting."
    )


def _out_of_range(rows: np.ndarray, bound: bool) -> np.ndarray:
    """Per row: holds a NaN, an infinity or (``bound``) a value beyond float32's range.
    ``isfinite`` first: in float16 the bound itself rounds to infinity."""
    bad = ~np.isfinite(rows)
    if bound and rows.dtype.itemsize > 4:
        bad |= np.abs(rows) > _FLOAT32_MAX
    return bad.any(axis=1)


def check_finite_rows(arr: np.ndarray, what: str = "X", *, bound: bool = True,
                      sample: int | None = None) -> None:
    """Raise a ValueError naming the first sample (row, or ``sample`` when ``arr`` is
    one sample) with a non-finite value or (``bound``) one beyond float32's range; a
    ValueError for complex values (as scikit-learn's "Complex data not supported")."""
    if arr.dtype.kind == "c":
        _fail_complex(arr, what, sample)
    if arr.dtype.kind != "f" or arr.size == 0:
        return
    rows = arr.reshape(len(arr), -1) if arr.ndim else arr.reshape(1, 1)
    bad = _out_of_range(rows, bound)
    if bad.any():
        i = int(np.argmax(bad))
        _fail_nonfinite("", i if sample is None else sample, what, _worst(rows[i]))


def _worst(values):
    """The first value that is NaN, infinite or beyond float32's range."""
    flat = np.ravel(values).astype(np.float64)
    return flat[int(np.argmax(~(np.abs(flat) <= _FLOAT32_MAX)))]


def _fail_complex(arr, what, sample=None):
    if sample is None:
        rows = arr.reshape(len(arr), -1) if arr.ndim else arr.reshape(1, 1)
        imaginary = (np.imag(rows) != 0).any(axis=1) if arr.dtype.kind == "c" else None
        sample = int(np.argmax(imaginary)) if imaginary is not None else 0
    raise ValueError(  # scikit-learn's words and type for complex data
        f"Complex data not supported: {what} holds complex values ({arr.dtype}) in "
        f"sample {sample}; skrnn needs real "
        f"numbers and never drops an imaginary part silently: pass {what}.real, "
        f"np.abs({what}) or the two parts as separate features.")


def real_values(value, what: str = "X", *, sample: int | None = None,
                bound: bool = True) -> np.ndarray:
    """The numeric gate every door goes through: ``value`` (an array of any dtype,
    a list, a DataFrame or Series) as a new float64 array, refused unless every entry
    is a real number (not complex, not None, not a string), finite and, with
    ``bound``, within float32's range (in which the network computes).

    Errors name the sample: ``sample`` when the whole of ``value`` is one sample,
    else the row (axis 0) of ``value`` that holds the bad entry."""
    where = what if sample is None else f"{what} (sample {sample})"
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where} is not a numeric array ({exc}).") from None
    if arr.dtype == object:
        _refuse_none_or_complex(arr, what, sample)
    elif arr.dtype.kind not in "biufc":
        raise TypeError(f"{where} holds {arr.dtype} values; numbers are required.")
    if arr.dtype.kind == "c":
        _fail_complex(arr, what, sample)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.array(arr, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{where} holds values that are not numbers ({exc}).") from None
    check_finite_rows(out, what, bound=bound, sample=sample)
    return out


def _refuse_none_or_complex(arr: np.ndarray, what: str, sample: int | None) -> None:
    """An object array's None or complex entry, refused naming its sample (its row,
    or ``sample`` when ``arr`` is one sample)."""
    rows = arr.reshape(len(arr), -1) if arr.ndim else arr.reshape(1, 1)
    for i, row in enumerate(rows):
        for v in row:
            at = i if sample is None else sample
            if v is None:
                raise ValueError(f"{what} contains None in sample {at}.")
            if isinstance(v, (complex, np.complexfloating)):
                _fail_complex(arr, what, at)


def check_table(X, what: str = "X") -> None:
    """The gate's check of 2-D tabular input before scikit-learn's ``validate_data``
    converts it (which would cut complex values to their real part with a warning and
    name no sample): complex values, None, NaN, infinity and values beyond float32
    are refused naming the row. DataFrames and sparse matrices are left to
    ``validate_data``; :func:`check_finite_rows` on its result bounds them."""
    if hasattr(X, "columns") or _is_sparse(X):
        return
    arr = np.asarray(X)
    if arr.dtype == object or arr.dtype.kind == "c":
        real_values(arr, what)
    else:  # before validate_data, whose own message names no sample
        check_finite_rows(arr, what)


def _as_numeric_sequence(seq, i: int, what: str) -> np.ndarray:
    if _is_sparse(seq):
        raise TypeError(
            f"{what}[{i}] is a sparse matrix; sparse input is not supported, pass "
            "dense arrays."
        )
    try:
        raw = np.asarray(seq.to_numpy() if hasattr(seq, "to_numpy") else seq)
        if raw.dtype == object:
            raw = np.asarray(raw.tolist())  # nested lists of numbers (or None, complex)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{what}[{i}] is neither a numeric sequence nor a list of tokens "
            f"(got {type(seq).__name__}: {exc}). Pass (T, F) or (T,) numbers, a list "
            "of str/int tokens, or set input_type."
        ) from None
    if raw.dtype == object:
        _refuse_none_or_complex(raw, what, i)
    if raw.dtype.kind == "c":
        _fail_complex(raw, what, i)
    if raw.dtype.kind not in "biuf":
        raise TypeError(
            f"{what}[{i}] is neither a numeric sequence nor a list of tokens "
            f"(got {type(seq).__name__} of {raw.dtype}). Pass (T, F) or (T,) numbers, a "
            "list of str/int tokens, or set input_type.")
    arr = raw
    if arr.ndim == 0:
        raise ValueError(
            f"{what}[{i}] is a scalar; each sample must be a sequence. For a single "
            f"sequence pass [{what.lower()}_sequence]; for tabular data pass a 2-D array."
        )
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim != 2:
        raise ValueError(
            f"{what}[{i}] has {arr.ndim} dimensions; each sequence must be 1-D (T,) "
            "or 2-D (T, n_features)."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{what}[{i}] is a zero-length sequence; every sequence needs "
                         "at least one step.")
    if arr.shape[1] == 0:
        raise ValueError(
            f"{what}[{i}] has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is "
            "required."
        )
    return real_values(arr, what, sample=i).astype(np.float32)


def _as_token_sequence(seq, i: int, what: str) -> np.ndarray:
    if _is_string(seq):
        raise TypeError(
            f"{what}[{i}] is a single string; pass each sequence as a list of tokens "
            "(e.g. text.split())."
        )
    try:
        tokens = list(seq)
    except TypeError:
        raise TypeError(
            f"{what}[{i}] is not a sequence of tokens (got {type(seq).__name__})."
        ) from None
    if len(tokens) == 0:
        raise ValueError(f"{what}[{i}] is a zero-length sequence; every sequence needs "
                         "at least one token.")
    for j, tok in enumerate(tokens):
        if not _is_token(tok):
            raise TypeError(
                f"{what}[{i}][{j}] is {tok!r} of type {type(tok).__name__}; tokens must "
                "be str or int."
            )
    arr = np.empty(len(tokens), dtype=object)
    arr[:] = tokens
    return arr


def _first_element(seq):
    if isinstance(seq, np.ndarray):
        return seq.flat[0] if seq.size else None
    try:
        for v in seq:
            return v
    except TypeError:
        return None
    return None


def to_sequences(X, *, input_type: str = "auto", what: str = "X") -> Sequences:
    """Convert non-tabular input into :class:`Sequences`, validating every sample.

    Parameters
    ----------
    X : 3-D array, list of arrays, list of token lists, or SequenceList
    input_type : {"auto", "numeric", "tokens"}
        ``"auto"`` reads sequences of strings as tokens and everything else as numbers;
        integer token ids need ``"tokens"``.
    what : str
        Name used in error messages.
    """
    if input_type not in INPUT_TYPES:
        raise ValueError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}.")
    if X is None:
        raise ValueError(f"{what} is None; pass a list or array of sequences.")
    if _is_string(X):
        raise TypeError(f"{what} is a single string; pass a list of token sequences.")
    if _is_sparse(X):
        raise TypeError(f"{what} is a sparse matrix; sparse input is not supported.")
    feature_names = getattr(X, "feature_names", None) if isinstance(X, SequenceList) else None
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 3:
            if input_type == "tokens":
                raise ValueError(f"{what} is a 3-D array; tokens must be a list of token "
                                 "lists or a 2-D array of tokens.")
            if X.shape[0] == 0:
                raise ValueError(f"{what} is empty: 0 sequences (shape={X.shape}).")
            if X.shape[1] == 0:
                raise ValueError(f"{what} has zero-length sequences (shape={X.shape}).")
            if X.shape[2] == 0:
                raise ValueError(
                    f"{what} has 0 feature(s) (shape={X.shape}) while a minimum of 1 "
                    "is required."
                )
            if X.dtype.kind == "c" or X.dtype == object:
                X = real_values(X, what)  # complex, None, non-numbers: named
            if X.dtype.kind not in "biuf":
                raise TypeError(f"{what} is a 3-D array of dtype {X.dtype}; numeric "
                                "values are required.")
            check_finite_rows(X, what)
            arr = X.astype(np.float32)  # copies: the caller's array is never touched
            return Sequences(
                values=list(arr),
                lengths=np.full(len(arr), arr.shape[1], dtype=np.int64),
                kind="numeric",
                layout="array",
                n_features=arr.shape[2],
            )
        if X.ndim == 1 and X.dtype.kind in "biufc":
            raise ValueError(
                f"Expected a 2-D or 3-D array or a list of sequences, got a 1-D array "
                f"of numbers (shape={X.shape}). Reshape your data: X.reshape(-1, 1) if "
                "each value is one sample of length 1, or [X] for a single sequence."
            )
        if X.ndim > 3:
            raise ValueError(f"{what} has {X.ndim} dimensions; expected at most 3 "
                             "(n_sequences, n_steps, n_features).")
    if isinstance(X, Mapping):
        raise TypeError(f"{what} is a {type(X).__name__}; pass a list or array of "
                        f"sequences (e.g. list({what}.values())).")
    try:
        items = list(X)
    except TypeError:
        raise TypeError(
            f"{what} must be an array or a list of sequences, got {type(X).__name__}."
        ) from None
    if len(items) == 0:
        raise ValueError(f"{what} is empty: 0 sequences were given, at least 1 is "
                         "required.")
    for i, item in enumerate(items):
        if item is None:
            raise ValueError(f"{what}[{i}] is None; every sample must be a sequence.")
    kind = input_type
    if kind == "auto":
        kind = "tokens" if _is_string(_first_element(items[0])) else "numeric"
    if kind == "tokens":
        values = [_as_token_sequence(s, i, what) for i, s in enumerate(items)]
        n_features = None
    else:
        for i, s in enumerate(items):
            if _is_string(s) or _is_string(_first_element(s)):
                raise TypeError(
                    f"{what}[{i}] holds strings while {what}[0] is numeric; a sequence "
                    "input must be all numbers or all tokens."
                )
        values = [_as_numeric_sequence(s, i, what) for i, s in enumerate(items)]
        n_features = values[0].shape[1]
        for i, v in enumerate(values):
            if v.shape[1] != n_features:
                raise ValueError(
                    f"{what}[{i}] has {v.shape[1]} features per step but {what}[0] has "
                    f"{n_features}; all sequences need the same number of features."
                )
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    return Sequences(
        values=values,
        lengths=lengths,
        kind=kind,
        layout="list",
        n_features=n_features,
        feature_names=None if feature_names is None else np.asarray(feature_names, dtype=object),
    )
