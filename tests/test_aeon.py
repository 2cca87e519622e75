"""The aeon adapters as aeon users meet them: unequal-length collections as lists of
``(channels, T_i)`` arrays. aeon's own estimator checks on them: tests/peer (run by
test_peer_suites.py)."""

import numpy as np
import pytest
from helpers import ragged

from skrnn import RNNClassifier, RNNRegressor
from skrnn.aeon import RNNTimeSeriesClassifier, RNNTimeSeriesRegressor

pytestmark = pytest.mark.usefixtures("quiet_convergence")


def test_unequal_length_collection_learns():
    X, y = ragged(n=80, f=2, lo=4, hi=14, seed=3)
    collection = [s.T for s in X]  # aeon's np-list: (channels, T_i) per series
    clf = RNNTimeSeriesClassifier(RNNClassifier(units=8, conv_filters=None, epochs=40),
                                  random_state=0).fit(collection, y)
    assert clf.get_tag("capability:unequal_length")
    assert clf.score(collection, y) > 0.8
    assert list(clf.classes_) == ["neg", "pos"]
    np.testing.assert_allclose(clf.predict_proba(collection).sum(axis=1), 1, rtol=1e-6)


def test_regressor_on_equal_length_3d_array():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2, 8))  # aeon's numpy3D: (n, channels, T)
    y = X[:, 1, :].mean(axis=1)
    reg = RNNTimeSeriesRegressor(RNNRegressor(units=8, epochs=60), random_state=0).fit(X, y)
    assert reg.estimator_.n_step_features_ == 2
    assert reg.score(X, y) > 0.7


def test_missing_values_are_refused_by_aeon_before_the_network():
    X = np.random.default_rng(0).normal(size=(10, 1, 6))
    X[3, 0, 2] = np.nan
    with pytest.raises(ValueError, match="[Mm]issing"):
        RNNTimeSeriesClassifier(random_state=0).fit(X, np.array([0, 1] * 5))
