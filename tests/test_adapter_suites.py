"""sktime's and aeon's own conformance suites on skrnn's adapters (tests/peer), in a
fresh interpreter on Keras' PyTorch backend.

Why PyTorch: the suites fit each adapter some thousand times on tiny data, and under
TensorFlow every fit of a new network traces its graph first (1-3 s for these test
networks, against 0.05 s eagerly on PyTorch): sktime's 45 classifier tests took
6.5 minutes under TensorFlow, all of sktime's 163 and aeon's 80 checks 3 minutes on
PyTorch (2-core dev VM). The adapters' code does not depend on the backend; the
TensorFlow runs pass too (``SKRNN_PEER_SUITES=1 python -m pytest -n0 tests/peer``,
recorded in docs/sktime.md and docs/aeon.md), and the adapters' own tests
(test_sktime.py, test_aeon.py) run here, on TensorFlow.
"""

import pathlib
import re
import subprocess
import sys

import pytest
from helpers import SUBPROCESS_ENV

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sktime_and_aeon_conformance_suites_pass():
    env = {**SUBPROCESS_ENV, "KERAS_BACKEND": "torch", "SKRNN_PEER_SUITES": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n0", "-p", "no:cacheprovider",
         "tests/peer"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    passed = re.search(r"(\d+) passed", summary)
    # sktime: 163 test-instance cases of three classes; aeon: 80 checks of two
    assert passed and int(passed.group(1)) >= 243, summary
    assert not re.search(r"failed|error|skipped|xfail|deselected", summary), summary
