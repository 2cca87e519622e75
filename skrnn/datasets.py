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


_TAGGING = {
    # Words that are a person after some words and a place after others: a tagger
    # must read the context, a word-by-word lookup cannot.
    "ambiguous": ["Jordan", "Georgia", "Chad", "Florence", "Victoria", "Austin"],
    "person": ["Maria", "Ahmed", "Li", "Olga", "Pedro", "Amara"],
    "place": ["Paris", "Lagos", "Lima", "Oslo", "Hanoi", "Quito"],
    "org": ["Acme", "Globex", "Initech", "Umbrella"],
}


def make_entity_tagging(n_samples: int = 2000, random_state=None):
    """Sentences with named-entity tags (``PER``, ``LOC``, ``ORG``, ``O``), generated.

    Sentences follow a few templates ("X said that Y visited Z", "X works for Y in Z",
    ...). Some names are a person in one template slot and a place in another
    ("Jordan said ..." vs "... visited Jordan"), so the right tag depends on the words
    around them; tagging every word with its most frequent tag gets those wrong.

    Returns
    -------
    sentences : list of list of str
    tags : list of list of str
        One tag per word.
    """
    rng = check_random_state(random_state)
    words = _TAGGING

    def pick(kind):
        pool = words[kind] + (words["ambiguous"] if kind in ("person", "place") else [])
        return pool[rng.randint(len(pool))]

    templates = [
        [("person", "PER"), "said", "that", ("person", "PER"), "visited", ("place", "LOC")],
        [("person", "PER"), "works", "for", ("org", "ORG"), "in", ("place", "LOC")],
        ["the", "office", "of", ("org", "ORG"), "in", ("place", "LOC"), "is", "closed"],
        ["we", "met", ("person", "PER"), "and", ("person", "PER"), "near", ("place", "LOC")],
        ["flights", "from", ("place", "LOC"), "to", ("place", "LOC"), "were", "late"],
    ]
    sentences, tags = [], []
    for _ in range(n_samples):
        sentence, tag = [], []
        for slot in templates[rng.randint(len(templates))]:
            if isinstance(slot, tuple):
                sentence.append(pick(slot[0]))
                tag.append(slot[1])
            else:
                sentence.append(slot)
                tag.append("O")
        sentences.append(sentence)
        tags.append(tag)
    return sentences, tags


def make_ecg_like(n_samples: int = 1000, min_seconds: float = 4.0, max_seconds: float = 8.0,
                  rate: int = 25, random_state=None):
    """ECG-like single-lead signals, normal rhythm vs atrial-fibrillation-like, generated.

    Each beat is a sum of Gaussian bumps (P wave, QRS complex, T wave) on a wandering
    baseline with noise, sampled at ``rate`` Hz, for a random duration in
    ``[min_seconds, max_seconds]`` (so sequences have different lengths). "normal":
    regular beat-to-beat intervals (heart rate 55-100, 3 % jitter) with P waves.
    "af": irregular intervals (25 % jitter), no P waves, fibrillatory ripple. Heart rates
    and amplitudes overlap between the classes: the rhythm tells them apart, not the
    level or spread of the signal.

    Returns
    -------
    X : list of ndarray of shape (T_i,)
    y : ndarray of str, "normal" or "af"
    """
    rng = check_random_state(random_state)
    X, y = [], []
    for i in range(n_samples):
        af = i % 2 == 1
        seconds = rng.uniform(min_seconds, max_seconds)
        t = np.arange(int(seconds * rate)) / rate
        mean_rr = 60.0 / rng.uniform(55, 100)
        beats, at = [], rng.uniform(0, mean_rr)
        while at < seconds + 1:
            beats.append(at)
            at += mean_rr * (1 + rng.randn() * (0.25 if af else 0.03))
            at = max(at, beats[-1] + 0.3)
        amplitude = rng.uniform(0.8, 1.2)
        signal = 0.1 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6))
        for b in beats:
            signal += amplitude * np.exp(-((t - b) / 0.03) ** 2)          # QRS
            signal += 0.3 * amplitude * np.exp(-((t - b - 0.25) / 0.07) ** 2)  # T
            if not af:
                signal += 0.15 * amplitude * np.exp(-((t - b + 0.16) / 0.04) ** 2)  # P
        if af:
            signal += 0.05 * np.sin(2 * np.pi * rng.uniform(5, 7) * t)
        signal += 0.05 * rng.randn(len(t))
        X.append(signal.astype(np.float32))
        y.append("af" if af else "normal")
    order = rng.permutation(n_samples)
    return [X[i] for i in order], np.array(y)[order]


def make_trajectories(n_samples: int = 1000, dt: float = 0.1, random_state=None):
    """Projectile flights with air drag and wind: launch parameters → the path to landing.

    A one-to-many task: each sample is one vector ``(speed, angle, height, drag, wind)``
    — launch speed 5-15 m/s, angle 15-75 degrees, launch height 0-3 m, linear drag
    coefficient 0-0.5 1/s, horizontal wind -5 to 5 m/s — and its target is the ``(x, y)``
    position every ``dt`` seconds from the first step after launch until the projectile
    is on the ground (the last position is the first with ``y <= 0``). Flights last
    0.2-3.5 s, so targets have 2-35 steps: the length itself is part of what is to be
    predicted. Integrated with small Euler steps (acceleration ``g`` down plus
    ``-drag * (velocity - wind)``).

    Returns
    -------
    X : ndarray of shape (n_samples, 5)
        Speed (m/s), angle (degrees), height (m), drag (1/s), wind (m/s).
    Y : list of ndarray of shape (T_i, 2)
        Positions in metres.
    """
    rng = check_random_state(random_state)
    g, sub = 9.81, 20
    X = np.column_stack([rng.uniform(5, 15, n_samples), rng.uniform(15, 75, n_samples),
                         rng.uniform(0, 3, n_samples), rng.uniform(0, 0.5, n_samples),
                         rng.uniform(-5, 5, n_samples)])
    # Every launch is integrated at once; each path is cut at its own landing step.
    step, gravity = dt / sub, np.array([0.0, -g])
    angle = np.radians(X[:, 1])
    pos = np.column_stack([np.zeros(n_samples), X[:, 2]])
    vel = X[:, :1] * np.column_stack([np.cos(angle), np.sin(angle)])
    air, drag = np.column_stack([X[:, 4], np.zeros(n_samples)]), X[:, 3:4]
    path, landed = [], np.zeros(n_samples, dtype=int)
    while (landed == 0).any():
        for _ in range(sub):
            vel = vel + (gravity - drag * (vel - air)) * step
            pos = pos + vel * step
        path.append(pos)
        landed[(landed == 0) & (pos[:, 1] <= 0)] = len(path)
    path = np.stack(path, axis=1).astype(np.float32)
    return X, [p[:k] for p, k in zip(path, landed)]


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "- - twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number_words(n: int) -> list:
    words = []
    if n >= 1000:
        words += [_ONES[n // 1000], "thousand"]
        n %= 1000
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n and words:
        words.append("and")
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
    if n or not words:
        words.append(_ONES[n])
    return words


def make_number_words(n_samples: int = 3000, random_state=None):
    """Numbers 0-9999 as digit vectors → their English words, generated.

    A one-to-many task with a compositional answer: each sample is one vector, the four
    digits of a number (thousands, hundreds, tens, units), and its target the number in
    words, e.g. ``[3, 0, 4, 2]`` → ``["three", "thousand", "and", "forty", "two"]``
    (1-7 words). The numbers are distinct and in random order, so splitting the result
    gives test numbers never seen in training.

    Returns
    -------
    X : ndarray of shape (n_samples, 4)
        Digits, integers 0-9.
    Y : list of list of str
    """
    if not 1 <= n_samples <= 10_000:
        raise ValueError(f"n_samples must be between 1 and 10000 (distinct numbers), "
                         f"got {n_samples}.")
    numbers = check_random_state(random_state).permutation(10_000)[:n_samples]
    X = np.stack([numbers // 1000, numbers // 100 % 10, numbers // 10 % 10, numbers % 10], 1)
    return X, [_number_words(int(n)) for n in numbers]
