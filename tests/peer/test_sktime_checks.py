"""sktime's conformance suite (``check_estimator``) on the sktime adapters: one sktime
test per case, every test instance (``get_test_params``) and every scenario sktime
generates; any failure raises. Collected only with SKRNN_PEER_SUITES=1 (see
tests/test_peer_suites.py)."""

from sktime.utils.estimator_checks import check_estimator, parametrize_with_checks

from skrnn.sktime import RNNForecaster, RNNTimeSeriesClassifier, RNNTimeSeriesRegressor


@parametrize_with_checks([RNNTimeSeriesClassifier, RNNTimeSeriesRegressor, RNNForecaster])
def test_sktime_check_estimator(obj, test_name):
    check_estimator(obj, tests_to_run=test_name, raise_exceptions=True, verbose=False)
