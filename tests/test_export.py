"""est.export(path): a TensorFlow SavedModel serving raw inputs (sequence-to-sequence
decoding in the graph), checked in a fresh process that imports TensorFlow alone, and
ONNX files checked in onnxruntime, against predict / predict_proba (1e-5)."""

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from helpers import SUBPROCESS_ENV, ragged
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer

TINY = dict(units=3, epochs=2, batch_size=8, random_state=0)
TOKENS = [["the", "cat"], ["a", "dog", "ran"], ["the", "dog", "sat", "down"], ["cat"]] * 5

SERVE = """
import pickle, sys
import numpy as np
import tensorflow as tf
with open(sys.argv[1], "rb") as f:
    requests = pickle.load(f)
answers = {}
for name, (path, inputs) in requests.items():
    serve = tf.saved_model.load(path).signatures["serving_default"]
    out = serve(**{k: tf.constant(v) for k, v in inputs.items()})
    answers[name] = {k: v.numpy().astype(str) if v.dtype == tf.string else v.numpy()
                     for k, v in out.items()}
answers["imported skrnn"] = "skrnn" in sys.modules
with open(sys.argv[2], "wb") as f:
    pickle.dump(answers, f)
"""


def padded(X):
    """The serving inputs of ``X``: a padded batch and its lengths (padded with values
    the served graph must ignore)."""
    if isinstance(X, np.ndarray) and X.ndim == 2:  # one vector per sample
        return {"values": X.astype(np.float32)}
    lengths = np.array([len(x) for x in X], np.int32)
    if isinstance(X[0][0], str):
        batch = np.full((len(X), lengths.max()), "pad", dtype=object)
        for i, x in enumerate(X):
            batch[i, :len(x)] = list(x)  # a string's characters, or a token list
        return {"tokens": batch.astype(str), "lengths": lengths}
    batch = np.full((len(X), lengths.max(), np.shape(X[0])[1]), 7.0, np.float32)
    for i, x in enumerate(X):
        batch[i, :len(x)] = x
    return {"values": batch, "lengths": lengths}


def cases():
    """(Sequence scaling, bidirectional layers and attention pooling are served by the
    same function as here and checked in onnxruntime by the ONNX test.)"""
    X, _ = ragged(24, hi=9)
    words = ["up" if x[:, 0].sum() > 0 else "down" for x in X]
    tags = [[t == "the" for t in s] for s in TOKENS]
    steps = [x[:, :1] * 3 + 1 for x in X]
    words = ["abc", "ba", "cab", "bca", "ab", "cc"] * 4
    vectors = np.stack([x[:2].ravel()[:3] for x in X])
    s2s = dict(units=8, epochs=1, batch_size=8, random_state=0)
    return [
        # sequence to sequence, with random weights (decoded outputs of every length;
        # one epoch of training decodes the same string for every source)
        ("seq2seq-strings-additive", Seq2SeqTransformer(attention="additive", **s2s),
         words, [w[::-1] for w in words]),
        ("seq2seq-token-lists", Seq2SeqTransformer(**s2s), TOKENS, TOKENS[::-1]),
        ("seq2seq-numeric-horizon-dot", Seq2SeqTransformer(attention="dot", **s2s), X,
         [x[:2] for x in X]),
        ("seq2seq-numeric-stop-gru", Seq2SeqTransformer(cell="gru", **s2s), X,
         [x[:i % 3 + 1, :1] for i, x in enumerate(X)]),
        ("seq2seq-vector-source", Seq2SeqTransformer(**s2s), vectors, words),
        ("conv-feature-scaling-string-labels", RNNClassifier(**TINY), X, words),
        ("tokens", RNNClassifier(cell="gru", **TINY), TOKENS, [0, 1, 2, 1] * 5),
        ("tagging", RNNClassifier(return_sequences=True, **TINY), TOKENS, tags),
        ("regressor-2-outputs-layer-norm", RNNRegressor(layer_norm=True, **TINY), X,
         np.array([[x[:, 0].sum(), x[:, 1].max() * 100] for x in X])),
        ("regressor-per-step", RNNRegressor(return_sequences=True, conv_filters=None,
                                            **TINY), X, steps),
    ]


def randomise(est):
    rng = np.random.RandomState(5)
    est.model_.set_weights([rng.normal(0, 2.0, w.shape) for w in est.model_.get_weights()])


def expected(est, X):
    if isinstance(est, Seq2SeqTransformer):
        out = est.predict(X)
        if est._target_kind != "tokens":
            return {"prediction": out, "lengths": np.array([len(o) for o in out])}
        if isinstance(out[0], str):
            return {"prediction": np.array(out)}
        return {"tokens": [np.array(o, dtype=str) for o in out],
                "lengths": np.array([len(o) for o in out])}
    if isinstance(est, RNNClassifier):
        return {"probabilities": est.predict_proba(X), "label": est.predict(X)}
    return {"prediction": est.predict(X)}


@pytest.mark.slow
def test_the_saved_model_serves_raw_inputs_like_predict(tmp_path):
    requests, fitted = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, est, X, y in cases():
            est.fit(X, y)
            if isinstance(est, Seq2SeqTransformer):
                randomise(est)
            est.export(tmp_path / name)
            fitted[name] = (est, X)
            requests[name] = (str(tmp_path / name), padded(X))
    with open(tmp_path / "requests.pkl", "wb") as f:
        pickle.dump(requests, f)
    env = {k: v for k, v in SUBPROCESS_ENV.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", SERVE, str(tmp_path / "requests.pkl"),
                           str(tmp_path / "answers.pkl")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp_path / "answers.pkl", "rb") as f:
        answers = pickle.load(f)
    assert answers.pop("imported skrnn") is False
    for name, (est, X) in fitted.items():
        want_all = expected(est, X)
        lengths = want_all.get("lengths", requests[name][1].get("lengths"))
        if "lengths" in want_all:  # decoded: as long as predict's
            np.testing.assert_array_equal(answers[name]["lengths"], lengths, err_msg=name)
            if "stop" in name:  # the stop logit ended rows at several steps
                assert len(set(lengths.tolist())) > 1, name
        if name == "seq2seq-strings-additive":
            assert len(set(want_all["prediction"].tolist())) > 1
        for key, want in want_all.items():
            got = answers[name][key]
            if isinstance(want, list):  # per step: cut the padded steps
                got = [g[:n] for g, n in zip(got, lengths)]
            else:
                got, want = [got], [want]
            for g, w in zip(got, want, strict=True):
                if w.dtype.kind in "fc":
                    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=name)
                else:
                    np.testing.assert_array_equal(g.astype(w.dtype), w, err_msg=name)


ONNX_CASES = [dict(cell="lstm"), dict(cell="gru", bidirectional=True, pooling="attention"),
              dict(cell="rnn", layer_norm=True, scaling="sequence"), dict(pooling="mean")]


@pytest.mark.slow
@pytest.mark.parametrize("kind", [RNNClassifier, RNNRegressor])
def test_onnx_runs_in_onnxruntime_like_predict(kind, tmp_path):
    """LSTM, GRU, bidirectional, attention pooling, layer-norm cells, the convolutional
    front-end (the default, in the last case) and both scalings, on ragged batches."""
    import onnxruntime

    X, labels = ragged(24, hi=9)
    y = labels if kind is RNNClassifier else np.array([x[:, 0].sum() for x in X])
    inputs = padded(X)
    for i, params in enumerate(ONNX_CASES):
        est = kind(**{**TINY, "conv_filters": None if i < 3 else "auto", **params})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y).export(tmp_path / f"{i}.onnx", format="onnx")
        session = onnxruntime.InferenceSession(str(tmp_path / f"{i}.onnx"))
        names = [o.name for o in session.get_outputs()]
        got = dict(zip(names, session.run(None, inputs)))
        for key, want in expected(est, X).items():
            if want.dtype.kind in "fc":
                np.testing.assert_allclose(got[key], want, rtol=1e-5, atol=1e-5,
                                           err_msg=str(params))
            else:
                np.testing.assert_array_equal(got[key], want, err_msg=str(params))


def test_refusals(tmp_path):
    X, y = ragged(12)
    with pytest.raises(NotFittedError):
        RNNClassifier().export(tmp_path / "m")
    clf = RNNClassifier(units=2, epochs=1, conv_filters=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    with pytest.raises(ValueError, match=r"format must be one of \('tf_saved_model', "
                                         r"'onnx'\), got 'keras'"):
        clf.export(tmp_path / "m", format="keras")
    assert not os.path.exists(tmp_path / "m")
    s2s = Seq2SeqTransformer(units=2, epochs=1).fit(["ab", "ba"] * 4, ["ba", "ab"] * 4)
    with pytest.raises(ValueError, match="format='onnx' exports RNNClassifier and "
                                         "RNNRegressor"):
        s2s.export(tmp_path / "s.onnx", format="onnx")
    tokens = RNNClassifier(units=2, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tokens.fit(TOKENS, [0, 1, 1, 0] * 5)
    with pytest.raises(ValueError, match="format='onnx' exports models of numeric "
                                         "sequences"):
        tokens.export(tmp_path / "t.onnx", format="onnx")


BAD_REQUESTS = [  # (what, change to a good padded request, the graph's rule)
    ("a NaN on a real step", lambda r: r["values"].__setitem__((0, 0, 0), np.nan),
     "values must be finite"),
    ("infinity", lambda r: r["values"].__setitem__((2, 1, 1), np.inf),
     "values must be finite"),
    ("a length of 0", lambda r: r["lengths"].__setitem__(1, 0), "every length must be"),
    ("a length beyond the steps", lambda r: r["lengths"].__setitem__(0, 99),
     "every length must be"),
    ("one length for the batch", lambda r: r.update(lengths=r["lengths"][:1]),
     "lengths must hold one row per sequence"),
]


@pytest.mark.slow
def test_the_exported_graphs_check_their_inputs(tmp_path):
    """What predict refuses, the SavedModel refuses with a message naming the rule, and
    ONNX (which cannot raise) flags in its ``valid`` output; a NaN on a padded step is
    no problem for either."""
    import onnxruntime
    import tensorflow as tf

    X, labels = ragged(12, hi=6)
    est = RNNClassifier(**TINY, conv_filters=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, labels)
    est.export(tmp_path / "sm")
    est.export(tmp_path / "m.onnx", format="onnx")
    serve = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    names = [o.name for o in session.get_outputs()]
    good = padded(X[:4])
    for i, n in enumerate(good["lengths"]):
        good["values"][i, n:] = np.nan  # padding: ignored
    assert np.isnan(good["values"]).any()
    assert serve(**good)["label"].shape == (4,)
    assert dict(zip(names, session.run(None, good)))["valid"].all()
    for what, change, rule in BAD_REQUESTS:
        request = {k: v.copy() for k, v in padded(X[:4]).items()}
        change(request)
        with pytest.raises(tf.errors.InvalidArgumentError, match=f"skrnn: .*{rule}"):
            serve(**request)
        valid = dict(zip(names, session.run(None, request)))["valid"]
        assert not valid.all(), what
        if what != "one length for the batch":  # the other rows are fine
            assert valid.sum() == 3, what
    with pytest.raises(ValueError):  # what predict says of the same
        est.predict([np.array([[np.nan, 0.0]])])
