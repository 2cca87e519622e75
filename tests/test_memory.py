"""Fits in one process do not accumulate: the process-wide state that TensorFlow keeps
per traced graph stays flat (the resident memory itself is measured by
bench/bench_memory.py, not asserted: it is noisy)."""

import gc

import numpy as np
import pytest

from skrnn import RNNClassifier, Seq2SeqTransformer

pytestmark = pytest.mark.xdist_group("memory")


def live_graphs() -> int:
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(isinstance(o, FuncGraph) for o in gc.get_objects())


def gradient_registry_size() -> int:
    from tensorflow.python.framework import ops

    return len(ops._gradient_registry.list())


@pytest.mark.parametrize("fit", [
    lambda X, y, s, t: RNNClassifier(units=4, epochs=1, conv_filters=(4,), conv_kernel_sizes=3,
                                     random_state=0).fit(X, y).predict(X),
    lambda X, y, s, t: Seq2SeqTransformer(units=4, epochs=1, random_state=0).fit(
        s, t).predict(s),
], ids=["RNNClassifier", "Seq2SeqTransformer"])
def test_repeated_fits_leave_no_traced_graph_behind(fit):
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(3, 9), 2) for _ in range(24)]
    y = np.arange(24) % 2
    src = ["abc", "bca", "cab", "ab"] * 6
    tgt = [w[::-1] for w in src]
    fit(X, y, src, tgt)  # the first fit may fill one-off caches
    graphs, registry = live_graphs(), gradient_registry_size()
    for _ in range(3):
        fit(X, y, src, tgt)
    # Keras' all-reduce of the gradients registers a tf.custom_gradient per trace in a
    # registry that is never cleared, keeping every traced graph alive (~6 MB a fit).
    assert gradient_registry_size() == registry
    assert live_graphs() <= graphs
