import os
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# One OpenMP / MKL thread per process (PyTorch's CPU kernels): two pytest-xdist workers
# and their subprocesses share 2 cores, the tests' tiny models gain nothing from
# intra-op threads, and idle thread pools spin on CPU the other worker needs (the
# sktime/aeon suites' PyTorch process: 148 s of CPU with torch's default threads, 119 s
# with one, the same wall time alone). Subprocesses inherit it.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if os.environ["KERAS_BACKEND"] == "torch":
    # Keras (and PyTorch's compiler) before any module imports TensorFlow (aeon's checks
    # do): PyTorch's compiler crashes a process that loaded TensorFlow first.
    import keras  # noqa: F401

# sktime's and aeon's own conformance suites: run by test_adapter_suites.py in a PyTorch
# process of their own (or by hand: SKRNN_PEER_SUITES=1 python -m pytest -n0 tests/peer).
collect_ignore = [] if os.environ.get("SKRNN_PEER_SUITES") == "1" else ["peer"]


@pytest.fixture
def quiet_convergence():
    """For modules of tiny fits, whose epoch budget always ends before convergence
    (``pytestmark = pytest.mark.usefixtures("quiet_convergence")``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
