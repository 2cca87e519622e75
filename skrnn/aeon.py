"""skrnn estimators as aeon classifiers and regressors.

``pip install aeon`` first: this module imports it (skrnn itself does not).

:class:`RNNTimeSeriesClassifier` and :class:`RNNTimeSeriesRegressor` read aeon
collections (``(n, channels, T)`` arrays, lists of ``(channels, T_i)`` arrays, or any
type aeon converts): multivariate series of unequal lengths as they are (masked, not
padded to one length). Unlike aeon's own deep learners they are deterministic with a
seed and picklable. Each passes ``aeon.testing.estimator_checking.check_estimator``
(the skrnn suite runs it).
"""

from __future__ import annotations

try:
    from aeon.classification.base import BaseClassifier
    from aeon.regression.base import BaseRegressor
except ImportError as err:  # pragma: no cover - exercised only without aeon
    raise ImportError("skrnn.aeon needs aeon: pip install aeon") from err

from . import RNNClassifier, RNNRegressor
from .integrations._adapters import AdapterMixin, adapter_doc

__all__ = ["RNNTimeSeriesClassifier", "RNNTimeSeriesRegressor"]

_TAGS = {
    "X_inner_type": ["numpy3D", "np-list"],  # (channels, T) each
    "capability:multivariate": True,
    "capability:unequal_length": True,
    "capability:missing_values": False,
    "algorithm_type": "deeplearning",
    "non_deterministic": False,  # with random_state set
    "cant_pickle": False,
    "python_dependencies": "skrnn",
}


class _CollectionAdapter(AdapterMixin):
    @classmethod
    def _get_test_params(cls, parameter_set="default"):
        return cls._small_params()


class RNNTimeSeriesClassifier(_CollectionAdapter, BaseClassifier):
    __doc__ = adapter_doc(
        "A skrnn :class:`~skrnn.RNNClassifier` as an aeon classifier.",
        RNNClassifier, """
        >>> from aeon.datasets import load_unit_test
        >>> from skrnn import RNNClassifier
        >>> from skrnn.aeon import RNNTimeSeriesClassifier
        >>> X, y = load_unit_test(split="train")
        >>> clf = RNNTimeSeriesClassifier(RNNClassifier(units=8, epochs=3), random_state=0)
        >>> clf.fit(X, y).predict(X).shape
        (20,)
        """)

    _skrnn_class = RNNClassifier
    _tags = dict(_TAGS)


class RNNTimeSeriesRegressor(_CollectionAdapter, BaseRegressor):
    __doc__ = adapter_doc(
        "A skrnn :class:`~skrnn.RNNRegressor` as an aeon regressor.",
        RNNRegressor, """
        >>> import numpy as np
        >>> from skrnn import RNNRegressor
        >>> from skrnn.aeon import RNNTimeSeriesRegressor
        >>> X = np.random.default_rng(0).normal(size=(12, 2, 10))   # (n, channels, T)
        >>> reg = RNNTimeSeriesRegressor(RNNRegressor(units=8, epochs=3), random_state=0)
        >>> reg.fit(X, X[:, 0, :].mean(axis=1)).predict(X).shape
        (12,)
        """)

    _skrnn_class = RNNRegressor
    _tags = dict(_TAGS)
