"""One input gate: every door (arrays, frames, ragged lists, covariates, targets,
partial_fit, backups) refuses the same bad values with an error naming the sample."""

import os

import keras
import numpy as np
import pandas as pd
import pytest

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn.data import WithCovariates, real_values

FAST = dict(units=3, epochs=1, random_state=0)
rng = np.random.RandomState(0)
X3 = rng.randn(4, 3, 2)
y = np.array([0, 1, 0, 1])


def test_real_values_names_the_sample():
    with pytest.raises(ValueError, match=r"sample 2"):
        real_values(np.array([[1.0], [2.0], [np.inf]]), "X")
    with pytest.raises(ValueError, match=r"Complex data not supported"):
        real_values(np.array([1 + 2j, 3]), "X")
    with pytest.raises(ValueError, match=r"None in sample 1"):
        real_values(np.array([[1.0], [None]], dtype=object), "X")
    with pytest.raises(ValueError, match=r"beyond float32"):
        real_values(np.array([1e39]), "X")
    assert real_values(np.array([1e39]), "y", bound=False).dtype == np.float64
    original = np.array([1, 2, 3], dtype=np.int8)
    out = real_values(original)
    out[0] = 7
    assert original[0] == 1  # a copy: nothing a user passes in is modified


@pytest.mark.parametrize("Est", [RNNClassifier, RNNRegressor])
@pytest.mark.parametrize("Xbad, exc, match", [
    # float16 inf used to pass the finite check done in float16's own dtype
    (np.where(np.arange(24).reshape(4, 3, 2) == 7, np.inf, 1).astype(np.float16),
     ValueError, r"sample 1"),
    # an object-dtype frame with a value beyond float32
    (pd.DataFrame({"a": np.array([1.0, 2.0, 1e39, 4.0], dtype=object),
                   "b": [1.0, 2.0, 3.0, 4.0]}), ValueError, r"sample 2"),
    # complex values were cut to their real part with a warning
    ([np.ones((3, 2)), np.ones((2, 2)) * (1 + 1j), np.ones((2, 2)), np.ones((4, 2))],
     ValueError, r"complex.*sample 1"),
    (np.array([[1.0, 2.0], [1.0, 2.0], [0, 1j], [1, 1]]), ValueError,
     r"complex.*sample 2|sample 2.*complex"),
])
def test_every_door_refuses_the_same(Est, Xbad, exc, match):
    kept = Xbad.copy() if hasattr(Xbad, "copy") else [np.copy(x) for x in Xbad]
    with pytest.raises(exc, match=match):
        Est(**FAST).fit(Xbad, y)
    if isinstance(Xbad, list):
        assert all(np.array_equal(a, b) for a, b in zip(Xbad, kept))


def test_complex_y_is_refused():
    with pytest.raises(ValueError, match="complex"):
        RNNRegressor(**FAST).fit(X3, np.array([1, 2, 3, 4j]))


def test_static_covariate_beyond_float32_is_refused():
    static = np.ones((4, 2))
    static[3, 1] = 1e39
    with pytest.raises(ValueError, match=r"sample 3"):
        RNNRegressor(**FAST).fit(WithCovariates(list(X3), static=static), np.arange(4.0))


def test_partial_fit_refuses_other_classes():
    est = RNNClassifier(**FAST).partial_fit(X3, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"not the same as on the first call"):
        est.partial_fit(X3, y, classes=[0, 1, 2])
    est.partial_fit(X3, y, classes=[1, 0])  # the same set, in any order


def _damaged_backup(tmp_path, change):
    backup = str(tmp_path / "b")
    keep = keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)
    RNNClassifier(**FAST, callbacks=[keep]).fit(X3, y)
    path = os.path.join(backup, "skrnn-backup.npz")
    with np.load(path) as f:
        arrays = dict(f)
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return keep, backup


@pytest.mark.parametrize("change", [
    lambda a: a.__setitem__("model_0", np.zeros((1, 1), np.float32)),
    lambda a: a.__setitem__("model_0", np.array(["x"])),
    lambda a: a.pop("optimizer_0"),
    lambda a: a.__setitem__("rng", np.zeros(3, np.uint32)),
], ids=["shape", "dtype", "missing", "rng"])
def test_a_damaged_backup_names_its_directory(tmp_path, change):
    keep, backup = _damaged_backup(tmp_path, change)
    est = RNNClassifier(**FAST, callbacks=[keep])
    with pytest.raises(ValueError, match=r"The backup in .*b.* is damaged"):
        est.fit(X3, y)
    assert not hasattr(est, "model_")


def test_seq2seq_refuses_complex_targets():
    X = [np.ones((3, 1)), np.ones((2, 1))]
    Y = [np.ones((2, 1)), np.ones((2, 1)) * 1j]
    with pytest.raises(ValueError, match="complex"):
        Seq2SeqTransformer(units=3, epochs=1, random_state=0).fit(X, Y)
