"""aeon's estimator checks (``aeon.testing.estimator_checking``) on the aeon adapters:
every check aeon yields, for every test instance (``_get_test_params``); any failure
raises. Collected only with SKRNN_PEER_SUITES=1 (see tests/test_peer_suites.py)."""

from aeon.testing.estimator_checking import parametrize_with_checks

from skrnn.aeon import RNNTimeSeriesClassifier, RNNTimeSeriesRegressor


@parametrize_with_checks([RNNTimeSeriesClassifier, RNNTimeSeriesRegressor])
def test_aeon_check_estimator(check):
    check()
