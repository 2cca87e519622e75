"""Distribution strategies in the process a user has: many fits, one process.

The multi-device runs are in test_backends.py (fresh subprocesses with two logical CPU
devices); here ``MirroredStrategy`` has this process's one CPU, which is enough to check
that fits of different model sizes share one strategy (TensorFlow's collective keys
collide between two instances over the same GPUs) and train.
"""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skrnn import RNNClassifier
from skrnn.training import _distribute

pytestmark = pytest.mark.xdist_group("strategies")
FAST = dict(epochs=1, batch_size=16, conv_filters=None, random_state=0)


def data(n=32):
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(3, 9), 2) for _ in range(n)]
    return X, np.array([x[:, 0].mean() > 0 for x in X])


def test_fits_of_different_sizes_share_one_mirrored_strategy():
    X, y = data()
    small = RNNClassifier(units=4, strategy="mirrored", **FAST).fit(X, y)
    large = RNNClassifier(units=12, strategy="mirrored", **FAST).fit(X, y)
    search = GridSearchCV(RNNClassifier(strategy="mirrored", **FAST),
                          {"units": [3, 6]}, cv=2).fit(X, y)
    strategies = {id(small._strategy), id(large._strategy),
                  id(search.best_estimator_._strategy)}
    assert len(strategies) == 1 and small._strategy is not None
    assert type(small._strategy).__name__ == "MirroredStrategy"
    assert small.predict(X).shape == large.predict(X).shape == (32,)


def test_auto_falls_back_with_a_warning_when_an_announced_tpu_does_not_resolve(
        monkeypatch):
    import tensorflow as tf

    def unresolvable(*args, **kwargs):
        raise ValueError("Please provide a TPU Name to connect to.")

    monkeypatch.setenv("TPU_WORKER_ID", "0")
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", unresolvable)
    monkeypatch.setattr(_distribute, "_SHARED", {})
    X, y = data()
    with pytest.warns(RuntimeWarning, match="TPU_WORKER_ID announce a TPU, but it could "
                                            "not be used .*Please provide a TPU Name"):
        first = RNNClassifier(units=4, strategy="auto", **FAST).fit(X, y)
    assert first._strategy is None and first.predict(X).shape == (32,)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # probed once per process
        RNNClassifier(units=4, strategy="auto", **FAST).fit(X, y)
