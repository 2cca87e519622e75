"""Distribution strategies in the process a user has: many fits, one process.

Here ``MirroredStrategy`` has this process's one CPU, which is enough to check that fits
of different model sizes share one strategy made from a name and train. Over two devices
(two logical CPUs, fixed when TensorFlow starts, hence one subprocess running a user's
sequence of fits), new strategy instances for fits of other model sizes used to abort
("Shape mismatch in the collective instance 100": every instance numbered its
collective operations alike); skrnn now keys each instance's apart.
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


# A user's process with two devices (two logical CPUs: MirroredStrategy then all-reduces
# with collective operations, as over GPUs), fitting model after model. Devices are
# fixed when TensorFlow starts, hence the one subprocess; everything in it is one
# process's sequence of fits.
TWO_DEVICE_FITS = """
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from sklearn.model_selection import GridSearchCV
from skrnn import RNNClassifier
devices = ["/cpu:0", "/cpu:1"]
rng = np.random.RandomState(0)
X = [rng.randn(rng.randint(3, 9), 2) for _ in range(32)]
y = np.array([x[:, 0].mean() > 0 for x in X])
fast = dict(epochs=2, batch_size=16, conv_filters=None, random_state=0)
for units in (4, 12, 7):  # a new strategy instance for every fit
    strategy = tf.distribute.MirroredStrategy(devices)
    assert type(strategy.extended._collective_ops).__name__ == "CollectiveAllReduce"
    RNNClassifier(units=units, strategy=strategy, **fast).fit(X, y)
# one instance, deep-copied for every candidate by clone
search = GridSearchCV(RNNClassifier(strategy=tf.distribute.MirroredStrategy(devices),
                                    **fast), {"units": [3, 6]}, cv=2).fit(X, y)
assert search.predict(X).shape == (32,)
# the user's own Keras training beside skrnn's, with a strategy of their own
strategy = tf.distribute.MirroredStrategy(devices)
with strategy.scope():
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5),
                              keras.layers.Dense(1)])
    model.compile("adam", "mse")
model.fit(np.ones((16, 3)), np.ones(16), epochs=1, verbose=0)
RNNClassifier(units=9, strategy=strategy, **fast).fit(X, y)
print("all fits done")
"""


@pytest.mark.slow
def test_new_mirrored_strategies_of_different_model_sizes_in_one_process(tmp_path):
    import subprocess
    import sys

    from helpers import SUBPROCESS_ENV

    script = tmp_path / "fits.py"
    script.write_text(TWO_DEVICE_FITS)
    done = subprocess.run([sys.executable, str(script)], env=SUBPROCESS_ENV, text=True,
                          capture_output=True, timeout=600)
    assert done.returncode == 0 and "all fits done" in done.stdout, done.stderr[-3000:]
