import numpy as np
import pytest

from skrnn.datasets import make_adding_problem, make_copy_memory


def test_adding_problem_structure_and_baseline():
    X, y = make_adding_problem(2000, 50, random_state=0)
    assert X.shape == (2000, 50, 2) and y.shape == (2000,)
    markers = X[:, :, 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :25].sum(axis=1) == 1).all()
    np.testing.assert_allclose((X[:, :, 0] * markers).sum(axis=1), y, rtol=1e-6)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.02)
    X2, _ = make_adding_problem(2000, 50, random_state=0)
    np.testing.assert_array_equal(X, X2)


def test_copy_memory_structure():
    X, Y = make_copy_memory(5, n_steps=30, n_symbols=8, n_copy=10, random_state=0)
    assert X.shape == Y.shape == (5, 50)
    np.testing.assert_array_equal(Y[:, -10:], X[:, :10])
    assert (X[:, 39] == 9).all() and (Y[:, :-10] == 0).all()
    assert X[:, :10].min() >= 1 and X[:, :10].max() <= 8
