"""What the sktime and aeon adapters share: the wrapped skrnn estimator, fitted on the
collection's series as skrnn sequences.

Both toolkits call ``_fit(X, y)`` / ``_predict(X)`` / ``_predict_proba(X)`` after their
own checks and conversions; each adapter says how its toolkit's collection becomes a
list of ``(T_i, channels)`` arrays (``_sequences``), the rest is written once here.
"""

from __future__ import annotations

import textwrap

import numpy as np
from sklearn.base import clone

_ADAPTER_DOC = """{summary}

    Parameters
    ----------
    estimator : {name} or None, default=None
        The skrnn estimator to fit (cloned; its parameters stay untouched); None:
        ``{name}()``, skrnn's defaults.
    random_state : int or None, default=None
        Seed of the network's initialisation, shuffling and dropout; when given it
        overrides the estimator's own ``random_state``. With a seed, refits give equal
        predictions.

    Attributes
    ----------
    estimator_ : {name}
        The fitted estimator.

    Examples
    --------
{examples}
    """


def adapter_doc(summary, skrnn_class, examples) -> str:
    """The docstring of an adapter of ``skrnn_class``: ``summary`` (paragraphs apart by
    a blank line), the parameters and attributes every adapter has, and ``examples``
    (doctest lines)."""
    paragraphs = [textwrap.fill(" ".join(p.split()), 84, subsequent_indent="    ")
                  for p in summary.split("\n\n")]
    body = textwrap.indent(textwrap.dedent(examples).strip("\n"), "    ")
    return _ADAPTER_DOC.format(summary="\n\n    ".join(paragraphs),
                               name=skrnn_class.__name__, examples=body)


def channels_first(X) -> list:
    """A collection stored channels first, ``(n, channels, T)`` or a list of
    ``(channels, T_i)`` arrays, as skrnn sequences ``(T_i, channels)``."""
    return [np.asarray(x, dtype=np.float64).T for x in X]


def seeded(estimator, random_state):
    """A clone of ``estimator``, seeded with ``random_state`` when that is given."""
    fresh = clone(estimator)
    return fresh if random_state is None else fresh.set_params(random_state=random_state)


def small_estimators(cls):
    """Two small networks of ``cls`` for sktime's and aeon's checks: a GRU, and a
    bidirectional LSTM with a convolutional front-end and attention pooling."""
    return [cls(cell="gru", units=4, conv_filters=None, epochs=2, batch_size=16),
            cls(units=3, bidirectional=True, conv_filters=(4,), conv_kernel_sizes=3,
                pooling="attention", epochs=1, batch_size=16)]


class AdapterMixin:
    """``_fit`` / ``_predict`` / ``_predict_proba`` through a clone of ``estimator``."""

    _skrnn_class = None  # the wrapped estimator's class (RNNClassifier / RNNRegressor)

    def __init__(self, estimator=None, random_state=None):
        self.estimator = estimator
        self.random_state = random_state
        super().__init__()

    @classmethod
    def _small_params(cls):
        """Parameters of small test instances (a few units, one or two epochs): the
        toolkits' checks test the interface, not accuracy."""
        return [{"estimator": est, "random_state": 0}
                for est in small_estimators(cls._skrnn_class)]

    def _sequences(self, X) -> list:
        return channels_first(X)

    def _fit(self, X, y):
        estimator = self._skrnn_class() if self.estimator is None else self.estimator
        estimator = seeded(estimator, self.random_state)
        estimator.fit(self._sequences(X), y)
        self.estimator_ = estimator
        return self

    def _predict(self, X):
        return np.asarray(self.estimator_.predict(self._sequences(X)))

    def _predict_proba(self, X):
        return np.asarray(self.estimator_.predict_proba(self._sequences(X)))
