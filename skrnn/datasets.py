"""Offline, seeded data generators (nothing is downloaded)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state


def make_adding_problem(n_samples: int = 1000, n_steps: int = 200, random_state=None):
    """The adding problem (Hochreiter & Schmidhuber 1997; Bai, Kolter & Koltun 2018).

    Each sequence has two features per step: a value drawn uniformly from [0, 1] and a
    marker that is 1 at exactly two steps (one in each half) and 0 elsewhere. The
    target is the sum of the two marked values, so a model must remember a value for
    up to ``n_steps`` steps. Always predicting the mean (1.0) scores an MSE of about
    1/6 ≈ 0.167.

    Parameters
    ----------
    n_samples, n_steps : int
    random_state : int, RandomState instance or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_steps, 2), float32
    y : ndarray of shape (n_samples,), float64
    """
    if n_steps < 2:
        raise ValueError(f"n_steps must be at least 2, got {n_steps}.")
    rng = check_random_state(random_state)
    values = rng.uniform(0, 1, size=(n_samples, n_steps))
    markers = np.zeros((n_samples, n_steps))
    half = n_steps // 2
    first = rng.randint(0, half, size=n_samples)
    second = rng.randint(half, n_steps, size=n_samples)
    rows = np.arange(n_samples)
    markers[rows, first] = 1
    markers[rows, second] = 1
    X = np.stack([values, markers], axis=-1).astype(np.float32)
    y = values[rows, first].astype(np.float32).astype(np.float64) + values[
        rows, second].astype(np.float32).astype(np.float64)
    return X, y


def make_copy_memory(n_samples: int = 1000, n_steps: int = 100, n_symbols: int = 8,
                     n_copy: int = 10, random_state=None):
    """The copy-memory task as in Bai, Kolter & Koltun (2018).

    Inputs are ``n_copy`` symbols drawn from 1..``n_symbols``, then ``n_steps - 1``
    blanks (0), a delimiter (``n_symbols + 1``) and ``n_copy`` more blanks: length
    ``n_steps + 2 * n_copy``. The target is blank everywhere except the last ``n_copy``
    steps, which must repeat the first ``n_copy`` symbols. A model that outputs blanks
    then random symbols scores a cross-entropy of ``n_copy * ln(n_symbols) /
    (n_steps + 2 * n_copy)``.

    Use with ``RNNClassifier(return_sequences=True, input_type="tokens")``.

    Returns
    -------
    X : int ndarray of shape (n_samples, n_steps + 2 * n_copy)
    Y : int ndarray of the same shape (per-step labels)
    """
    rng = check_random_state(random_state)
    length = n_steps + 2 * n_copy
    symbols = rng.randint(1, n_symbols + 1, size=(n_samples, n_copy))
    X = np.zeros((n_samples, length), dtype=np.int64)
    X[:, :n_copy] = symbols
    X[:, n_copy + n_steps - 1] = n_symbols + 1
    Y = np.zeros_like(X)
    Y[:, -n_copy:] = symbols
    return X, Y


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
             "Sunday"]
_DATE_FORMATS = (
    lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",            # 25 November 2026
    lambda d: f"{d.day} {_MONTHS[d.month - 1][:3]} {d.year}",        # 25 Nov 2026
    lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",           # November 25, 2026
    lambda d: f"{_MONTHS[d.month - 1][:3]} {d.day} {d.year}",        # Nov 25 2026
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",                 # 25/11/2026
    lambda d: f"{d.day}.{d.month}.{d.year}",                         # 25.11.2026
    lambda d: f"{_WEEKDAYS[d.weekday()]}, {d.day} {_MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day} {_MONTHS[d.month - 1].lower()} {d.year}",    # 25 november 2026
)


def make_dates(n_samples: int = 10_000, start_year: int = 1950, end_year: int = 2049,
               random_state=None):
    """Human-readable dates in several formats, and the same dates in ISO 8601.

    A translation-like sequence-to-sequence task: sources and targets are strings of
    different lengths ("25 November 2026" → "2026-11-25"). Eight formats, English
    month and weekday names, days drawn uniformly between ``start_year`` and
    ``end_year``.

    Returns
    -------
    sources, targets : lists of str
    """
    import datetime

    rng = check_random_state(random_state)
    first = datetime.date(start_year, 1, 1).toordinal()
    last = datetime.date(end_year, 12, 31).toordinal()
    days = rng.randint(first, last + 1, size=n_samples)
    formats = rng.randint(0, len(_DATE_FORMATS), size=n_samples)
    sources, targets = [], []
    for day, fmt in zip(days, formats):
        d = datetime.date.fromordinal(int(day))
        sources.append(_DATE_FORMATS[fmt](d))
        targets.append(d.isoformat())
    return sources, targets


def make_addition(n_samples: int = 50_000, digits: int = 3, random_state=None):
    """Addition as text: "123+45" → "168" (the Keras addition-RNN example's task).

    Operands are drawn uniformly from 0 .. 10**digits - 1.

    Returns
    -------
    sources, targets : lists of str
    """
    rng = check_random_state(random_state)
    a = rng.randint(0, 10 ** digits, size=n_samples)
    b = rng.randint(0, 10 ** digits, size=n_samples)
    return [f"{x}+{y}" for x, y in zip(a, b)], [str(x + y) for x, y in zip(a, b)]


def make_reversal(n_samples: int = 10_000, min_length: int = 3, max_length: int = 12,
                  alphabet: str = "abcdefghij", random_state=None):
    """Random strings and the same strings reversed ("abcde" → "edcba").

    Returns
    -------
    sources, targets : lists of str
    """
    rng = check_random_state(random_state)
    letters = np.array(list(alphabet))
    lengths = rng.randint(min_length, max_length + 1, size=n_samples)
    sources = ["".join(rng.choice(letters, size=n)) for n in lengths]
    return sources, [s[::-1] for s in sources]
