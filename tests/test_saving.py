"""est.save(path) / skrnn.load(path): one file, no code run on loading.

Every cell, pooling, layer-norm, convolution mode, input kind and sequence-to-sequence
variant round-trips to bit-identical predictions; the file written under TensorFlow
loads and predicts under JAX and PyTorch; tampered files are refused with a ValueError.
"""

import io
import json
import os
import pickle
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from helpers import SUBPROCESS_ENV, ragged
from sklearn.exceptions import NotFittedError

import skrnn
from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

TINY = dict(units=3, epochs=2, batch_size=8, random_state=0)
WORDS = ["abc", "ba", "cab", "bca", "ab", "cc"] * 3
TOKENS = [["the", "cat"], ["a", "dog", "ran"], ["the", "dog"], ["cat"]] * 5


pytestmark = pytest.mark.usefixtures("quiet_convergence")


def _series():
    X, labels = ragged(24, hi=8)
    return X, labels, np.array([[x[:, 0].mean(), x[:, 1].max()] for x in X])


def variants():
    """(name, fitted estimator, X to predict): every variant the model layer builds."""
    X, labels, values = _series()
    frame = pd.DataFrame(np.stack([x[:3, 0] for x in X]), columns=["t0", "t1", "t2"])
    tags = [[i % 2 for i in range(len(t))] for t in TOKENS]
    steps = [x[:, :1] * 2 for x in X]
    cases = [
        ("lstm-last-conv-parallel", RNNClassifier(cell="lstm", pooling="last",
                                                  conv_filters=(4,), conv_kernel_sizes=(3,),
                                                  **TINY), X, labels.astype(str)),
        ("gru-attention-bidirectional-conv-before",
         RNNClassifier(cell="gru", pooling="attention", bidirectional=True,
                       conv_filters=(4,), conv_kernel_sizes=(3,), conv_mode="before",
                       **TINY), X, labels),
        ("rnn-mean-layer-norm", RNNClassifier(cell="rnn", pooling="mean", layer_norm=True,
                                              conv_filters=None, dropout=0.1, **TINY),
         X, labels),
        ("lstm-layer-norm-identity-relu", RNNClassifier(
            cell="lstm", layer_norm=True, recurrent_initializer="identity",
            activation="relu", conv_filters=None, units=(3, 2), epochs=2, batch_size=8,
            random_state=0), X, labels),
        ("tokens", RNNClassifier(cell="gru", conv_filters=None, **TINY), TOKENS,
         [0, 1, 1, 0] * 5),
        ("tagging", RNNClassifier(return_sequences=True, conv_filters=None, **TINY), TOKENS,
         tags),
        ("regressor-frame-2-outputs", RNNRegressor(**TINY), frame, values),
        ("regressor-per-step", RNNRegressor(return_sequences=True, conv_filters=None,
                                            **TINY), X, steps),
        ("seq2seq-strings-additive", Seq2SeqTransformer(attention="additive", **TINY),
         WORDS, [w[::-1] for w in WORDS]),
        ("seq2seq-numeric-dot", Seq2SeqTransformer(attention="dot", cell="gru", **TINY),
         X, [x[:2, :1] for x in X]),
        ("seq2seq-vector-source", Seq2SeqTransformer(**TINY), values,
         (WORDS * 2)[:24]),
    ]
    return [(name, est.fit(X_, y_), X_) for name, est, X_, y_ in cases]


def outputs(est, X):
    if isinstance(est, RNNClassifier):
        return est.predict_proba(X), est.predict(X)
    return (est.predict(X),)


def same(a, b):
    for x, y in zip(a, b, strict=True):
        if isinstance(x, list):
            assert len(x) == len(y) and all(np.array_equal(p, q) for p, q in zip(x, y))
        else:
            np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return variants()


def test_every_variant_round_trips_bit_identically(fitted, tmp_path):
    for name, est, X in fitted:
        path = tmp_path / f"{name}.skrnn"
        est.save(path)
        loaded = skrnn.load(path)
        assert type(loaded) is type(est), name
        same(outputs(loaded, X), outputs(est, X))
        assert loaded.get_params() == est.get_params(), name
        assert loaded.history_ == est.history_ or all(
            np.array_equal(loaded.history_[k], est.history_[k], equal_nan=True)
            for k in est.history_ if k != "non_finite"), name
        assert loaded.n_iter_ == est.n_iter_


def test_a_loaded_estimator_warm_starts_like_the_original(tmp_path):
    X, labels, _ = _series()
    est = RNNClassifier(conv_filters=None, warm_start=True, lr_schedule="constant",
                        **TINY).fit(X, labels)
    est.save(tmp_path / "c.skrnn")
    loaded = skrnn.load(tmp_path / "c.skrnn")
    same(outputs(loaded.fit(X, labels), X), outputs(est.fit(X, labels), X))  # Adam's state
    assert loaded.history_["epoch"] == [1, 2, 3, 4]


def test_a_file_from_before_a_parameter_or_spec_field_existed_loads(good_file, tmp_path):
    """Parameters and specification fields added later take their defaults."""
    def forget(document):
        document["params"].pop("layer_norm")
        document["state"]["_spec"]["fields"].pop("layer_norm")

    old = skrnn.load(_edit_document(good_file, tmp_path, forget))
    current = skrnn.load(good_file)
    assert old.layer_norm is False and old._spec == current._spec
    X, _, _ = _series()
    np.testing.assert_array_equal(old.predict_proba(X), current.predict_proba(X))


def test_what_is_not_saved(tmp_path):
    import keras

    X, labels, _ = _series()
    est = RNNClassifier(conv_filters=None, callbacks=[keras.callbacks.TerminateOnNaN()],
                        random_state=np.random.RandomState(3), units=2, epochs=1)
    est.fit(X, labels).save(tmp_path / "c.skrnn")
    loaded = skrnn.load(tmp_path / "c.skrnn")
    assert loaded.callbacks is None
    assert isinstance(loaded.random_state, np.random.RandomState)
    with pytest.raises(NotFittedError):
        RNNClassifier().save(tmp_path / "unfitted.skrnn")


LOAD_ELSEWHERE = """
import pickle, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, skrnn
with open(sys.argv[1] + "/inputs.pkl", "rb") as f:
    inputs = pickle.load(f)
out = {}
for name, X in inputs.items():
    loaded = skrnn.load(sys.argv[1] + "/" + name + ".skrnn")
    out[name] = loaded.predict_proba(X) if hasattr(loaded, "predict_proba") else loaded.predict(X)
with open(sys.argv[2], "wb") as f:
    pickle.dump(out, f)
"""


def _close(there, here, name):
    if isinstance(here, np.ndarray) and here.dtype != object:
        np.testing.assert_allclose(there, here, rtol=1e-5, atol=1e-5, err_msg=name)
        return
    for a, b in zip(there, here, strict=True):  # per-sequence outputs, decoded strings
        if isinstance(b, str):
            assert a == b, name
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=name)


CROSS_BACKEND = ("gru-attention-bidirectional-conv-before", "tokens",
                 "regressor-frame-2-outputs", "seq2seq-strings-additive")


@pytest.mark.slow
def test_a_file_saved_under_tensorflow_predicts_under_jax_and_torch(fitted, tmp_path):
    """One variant of each kind (JAX compiles every model: all would take a minute)."""
    fitted = [v for v in fitted if v[0] in CROSS_BACKEND]
    for name, est, _ in fitted:
        est.save(tmp_path / f"{name}.skrnn")
    with open(tmp_path / "inputs.pkl", "wb") as f:
        pickle.dump({name: X for name, _, X in fitted}, f)
    running = {backend: subprocess.Popen(
        [sys.executable, "-c", LOAD_ELSEWHERE, str(tmp_path), str(tmp_path / backend)],
        env={**SUBPROCESS_ENV, "KERAS_BACKEND": backend}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for backend in ("jax", "torch")}
    for backend, process in running.items():
        _, err = process.communicate(timeout=400)
        assert process.returncode == 0, f"{backend}: {err[-3000:]}"
        with open(tmp_path / backend, "rb") as f:
            there = pickle.load(f)
        for name, est, X in fitted:
            here = (est.predict_proba(X) if hasattr(est, "predict_proba")
                    else est.predict(X))
            _close(there[name], here, f"{backend}: {name}")


# ------------------------------------------------------------------ tampered files
@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    X, labels, _ = _series()
    path = tmp_path_factory.mktemp("saved") / "c.skrnn"
    RNNClassifier(conv_filters=None, **TINY).fit(X, labels).save(path)
    return path


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _edit_document(good_file, tmp_path, change):
    members = _members(good_file)
    document = json.loads(members["skrnn.json"])
    change(document)
    members["skrnn.json"] = json.dumps(document)
    return _write(tmp_path / "edited.skrnn", members)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_members_other_than_the_two_are_refused(good_file, tmp_path, monkeypatch):
    import keras

    monkeypatch.chdir(tmp_path)
    lam = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2)])
    lam.save(tmp_path / "lambda.keras")
    for name, data in [("model.keras", (tmp_path / "lambda.keras").read_bytes()),
                       ("../../evil.json", b"{}"), ("payload.pkl", pickle.dumps(_RunsCode()))]:
        path = _write(tmp_path / "t.skrnn", {**_members(good_file), name: data})
        with pytest.raises(ValueError, match=r"an skrnn file holds exactly \['skrnn.json', "
                                             rf"'arrays.npz'\].*refused: \['{name}'\]"):
            skrnn.load(path)
    raw = tmp_path / "raw.skrnn"
    raw.write_bytes(pickle.dumps(_RunsCode()))
    with pytest.raises(ValueError, match="is not an skrnn estimator file"):
        skrnn.load(raw)
    assert not (tmp_path / "pwned").exists()


def test_a_pickled_array_is_refused(good_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    members = _members(good_file)
    with np.load(io.BytesIO(members["arrays.npz"])) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["a0"] = np.array([_RunsCode()], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = _write(tmp_path / "t.skrnn", {**members, "arrays.npz": buffer.getvalue()})
    with pytest.raises(skrnn.SavingError, match=r"array 'a0' is an object array \(pickled"):
        skrnn.load(path)
    assert not (tmp_path / "pwned").exists()


def test_wrong_shapes_are_refused(good_file, tmp_path):
    members = _members(good_file)
    with np.load(io.BytesIO(members["arrays.npz"])) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["variable0"] = arrays["variable0"][:-1]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = _write(tmp_path / "t.skrnn", {**members, "arrays.npz": buffer.getvalue()})
    with pytest.raises(ValueError, match=r"variable 0 \(.*\) has shape"):
        skrnn.load(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["state"].update(evil=1), r"unknown fitted attributes \['evil'\]"),
    (lambda d: d.update(extra=1), "skrnn.json must hold exactly"),
    (lambda d: d.update(version=99), "this skrnn reads 'skrnn-estimator' 1"),
    (lambda d: d.update({"class": "os.system"}), "unknown estimator class 'os.system'"),
    (lambda d: d["state"].update(n_iter_={"__pickle__": "Y29z"}),
     "unknown or malformed tag '__pickle__'"),
    (lambda d: d["params"].update(units=-1), "units"),
    (lambda d: d["params"].update(evil=1), r"parameters RNNClassifier does not have: "
                                           r"\['evil'\]"),
    (lambda d: d["state"]["_spec"]["fields"].update(units={"__tuple__": ["3"]}),
     "specification field units"),
    (lambda d: d["state"]["_spec"]["fields"].pop("cell"), r"specification's fields "
                                                          r"differ: unknown \[\], missing "
                                                          r"\['cell'\]"),
    (lambda d: d["state"]["_spec"]["fields"].update(head=1), r"unknown \['head'\]"),
    (lambda d: d["params"].update(learning_rate={"__keras__": {
        "module": "keras.layers", "class_name": "Lambda", "config": {
            "function": {"class_name": "__lambda__", "config": {
                "code": "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAdAB8AIMBUwApAU4pAdoFcHJpbnQp"
                        "AdoBeKkAcgIAAAD6AzxzPtoIPGxhbWJkYT4BAAAA8wAAAAA=",
                "defaults": None, "closure": None}}}}}), "learning_rate"),
])
def test_tampered_documents_are_refused(good_file, tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        skrnn.load(_edit_document(good_file, tmp_path, change))
