import os
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@pytest.fixture
def quiet_convergence():
    """For modules of tiny fits, whose epoch budget always ends before convergence
    (``pytestmark = pytest.mark.usefixtures("quiet_convergence")``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
