"""Streaming (issue 30): ``est.stream()`` carries each series' state, and after every
update each id's outputs equal what ``predict`` / ``predict_proba`` give on its whole
prefix (1e-5), for every causal model skrnn builds; what cannot stream says so."""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from helpers import SUBPROCESS_ENV

import skrnn
from skrnn import RNNClassifier, RNNRegressor, Seq2SeqTransformer
from skrnn.data import WithCovariates

pytestmark = pytest.mark.usefixtures("quiet_convergence")
TOL = 1e-5
#: chunk sizes fed in turn: single steps, several, none, longer than any series
CHUNKS = (1, 3, 0, 5, 2, 100)


def _data(n=24, f=3, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.randn(rng.randint(4, 14), f) * 2 + 1 for _ in range(n)]
    y = np.array([int(s[:, 0].sum() > len(s)) for s in X])
    return X, y


def _stream_against_predict(est, series, reference, static=None, chunks=CHUNKS, **kw):
    """Feed ``series`` chunk by chunk; every output against ``reference(prefix, i)``.
    Returns the largest difference and how many outputs were compared."""
    stream = est.stream()
    ids = [f"series-{i}" for i in range(len(series))]
    pos = [0] * len(series)
    worst, count = 0.0, 0
    for c in chunks:
        parts = [s[p:p + c] for s, p in zip(series, pos)]
        X_new = parts if static is None else WithCovariates(parts, static=static)
        out = stream.update(ids, X_new, **kw)
        extra = None
        if kw:
            out, extra = out
        for i, (s, p) in enumerate(zip(series, pos)):
            assert len(out[i]) == len(parts[i])
            for j in range(len(parts[i])):
                ref = reference(s[:p + j + 1], i)
                got = out[i][j] if extra is None else (out[i][j], extra[i][j])
                ref = ref if extra is None else ref
                for g, r in zip(np.atleast_1d(got) if extra is None else got,
                                np.atleast_1d(ref) if extra is None else ref):
                    worst = max(worst, float(np.abs(np.asarray(g) - np.asarray(r)).max()))
                count += 1
        pos = [p + len(part) for p, part in zip(pos, parts)]
    assert count == sum(len(s) for s in series)
    return worst, stream


CLASSIFIERS = {
    "lstm-last": dict(conv_filters=None),
    "gru-stacked": dict(cell="gru", units=(6, 5), conv_filters=None),
    "rnn-layer-norm": dict(cell="rnn", layer_norm=True, conv_filters=None),
    "lstm-layer-norm-stacked": dict(layer_norm=True, units=(5, 4), conv_filters=None),
    "mean": dict(pooling="mean", conv_filters=None, scaling=None),
    "attention": dict(pooling="attention", conv_filters=None),
    "conv-parallel": dict(conv_filters=(4, 3), conv_kernel_sizes=(8, 3)),
    "conv-before": dict(conv_filters=(4, 3), conv_kernel_sizes=(5, 4), conv_mode="before"),
    "conv-before-mean": dict(conv_filters=(4,), conv_kernel_sizes=(4,), conv_mode="before",
                             pooling="mean"),
    "conv-before-attention": dict(conv_filters=(3,), conv_kernel_sizes=(3,),
                                  conv_mode="before", pooling="attention", cell="gru"),
    "conv-before-kernel-1": dict(conv_filters=(3,), conv_kernel_sizes=(1,),
                                 conv_mode="before"),
}


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier_stream_equals_predict_proba_on_every_prefix(name):
    X, y = _data()
    est = RNNClassifier(**{"units": 6, "epochs": 2, "random_state": 0,
                           **CLASSIFIERS[name]}).fit(X, y)
    worst, stream = _stream_against_predict(est, X[:5],
                                            lambda p, i: est.predict_proba([p])[0])
    assert worst < TOL
    ids = stream.ids
    np.testing.assert_array_equal(stream.predict(ids), est.predict(X[:5]))
    np.testing.assert_allclose(stream.predict_proba(ids), est.predict_proba(X[:5]),
                               atol=TOL)


def test_default_classifier_streams_its_convolutional_front_end():
    """The default (conv_filters="auto": LSTM-FCN's (8, 5, 3) kernels) streams exactly."""
    X, y = _data()
    est = RNNClassifier(units=6, epochs=1, random_state=0).fit(X, y)
    assert est._spec.conv_filters
    worst, _ = _stream_against_predict(est, X[:3], lambda p, i: est.predict_proba([p])[0],
                                       chunks=(1, 2, 40))
    assert worst < TOL


def test_tagging_stream_gives_the_tag_of_each_new_step():
    X, _ = _data()
    y = [(s[:, 0] > 1).astype(int) for s in X]
    est = RNNClassifier(units=6, epochs=2, random_state=0, return_sequences=True,
                        conv_filters=(3,), conv_kernel_sizes=(4,)).fit(X, y)
    worst, stream = _stream_against_predict(est, X[:4],
                                            lambda p, i: est.predict_proba([p])[0][-1])
    assert worst < TOL
    np.testing.assert_array_equal(stream.predict(stream.ids),
                                  [t[-1] for t in est.predict(X[:4])])


@pytest.mark.parametrize("loss", ["squared_error", "quantile", "gaussian"])
def test_regressor_stream_equals_predict(loss):
    X, _ = _data()
    y = np.c_[[s[:, 0].sum() for s in X], [s[:, 1].mean() for s in X]]
    est = RNNRegressor(units=6, epochs=2, random_state=0, loss=loss, pooling="mean",
                       conv_filters=(3,), conv_kernel_sizes=(3,)).fit(X, y)
    worst, stream = _stream_against_predict(est, X[:4], lambda p, i: est.predict([p])[0])
    assert worst < TOL * 10  # values in the target's units (tens)
    if loss == "quantile":
        worst, stream = _stream_against_predict(
            est, X[:3], lambda p, i: (est.predict([p])[0], est.predict_quantiles([p])[0]),
            return_quantiles=True)
        assert worst < TOL * 10
        np.testing.assert_allclose(stream.predict_quantiles(stream.ids),
                                   est.predict_quantiles(X[:3]), atol=TOL * 10)
    if loss == "gaussian":
        worst, stream = _stream_against_predict(
            est, X[:3], lambda p, i: tuple(a[0] for a in est.predict([p], return_std=True)),
            return_std=True)
        assert worst < TOL * 10
        mean, std = stream.predict(stream.ids, return_std=True)
        np.testing.assert_allclose(std, est.predict(X[:3], return_std=True)[1],
                                   atol=TOL * 10)
    else:
        with pytest.raises(ValueError, match="gaussian"):
            stream.update(["x"], [X[0][:1]], return_std=True)


def test_static_covariates_and_feature_scaling():
    X, y = _data()
    static = np.random.RandomState(1).randn(len(X), 2) * 5
    est = RNNClassifier(units=6, epochs=2, random_state=0, conv_filters=(3,),
                        conv_kernel_sizes=(5,)).fit(WithCovariates(X, static=static), y)
    worst, stream = _stream_against_predict(
        est, X[:4], lambda p, i: est.predict_proba(
            WithCovariates([p], static=static[i:i + 1]))[0], static=static[:4])
    assert worst < TOL
    # a known series may leave its static row out, but not change it
    stream.update(["series-0"], [X[0][:1]])
    with pytest.raises(ValueError, match="static covariates differ"):
        stream.update(["series-0"], WithCovariates([X[0][:1]], static=static[5:6]))
    with pytest.raises(ValueError, match="starts with its static row"):
        stream.update(["new"], [X[0][:1]])


def test_tokens_with_unknown_tokens_and_a_convolution_before():
    rng = np.random.RandomState(0)
    words = list("abcdefgh")
    T = [list(rng.choice(words, rng.randint(3, 12))) for _ in range(30)]
    y = [int(t.count("a") > 1) for t in T]
    est = RNNClassifier(units=6, epochs=2, random_state=0, pooling="attention",
                        conv_filters=(3,), conv_kernel_sizes=(3,), conv_mode="before",
                        embedding_dim=4).fit(T, y)
    series = T[:3] + [["zz", "a", "yy", "a"]]
    worst, _ = _stream_against_predict(est, series, lambda p, i: est.predict_proba([p])[0])
    assert worst < TOL


@pytest.mark.parametrize("attention", [None, "additive"])
def test_seq2seq_numeric_forecast_from_every_prefix(attention):
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(5, 12), 2) for _ in range(30)]
    Y = [np.cumsum(x[-3:], axis=0) for x in X]
    est = Seq2SeqTransformer(units=8, epochs=2, random_state=0, attention=attention,
                             cell="gru").fit(X, Y)
    stream = est.stream()
    assert stream.update([0, 1], [X[0][:0], X[1][:0]]) == [None, None]
    worst, pos = 0.0, [0, 0]
    for t in range(1, 8):
        sizes = (1, 2 if t % 2 else 0)  # series 1 skips every other update
        out = stream.update([0, 1], [X[i][pos[i]:pos[i] + k] for i, k in enumerate(sizes)])
        pos = [min(len(X[i]), p + k) for i, (p, k) in enumerate(zip(pos, sizes))]
        for i, o in enumerate(out):
            worst = max(worst, float(np.abs(o - est.predict([X[i][:pos[i]]])[0]).max()))
    assert worst < TOL


@pytest.mark.parametrize("decoding", ["greedy", "beam"])
def test_seq2seq_strings(decoding):
    rng = np.random.RandomState(0)
    src = ["".join(rng.choice(list("abcdef"), rng.randint(3, 8))) for _ in range(40)]
    est = Seq2SeqTransformer(units=8, epochs=3, random_state=0, decoding=decoding,
                             attention="dot").fit(src, [s[::-1] for s in src])
    stream = est.stream()
    for start, stop in ((0, 1), (1, 3), (3, 100)):
        out = stream.update([0, 1, 2], [s[start:stop] for s in src[:3]])
        assert out == est.predict([s[:stop] for s in src[:3]])
    assert stream.predict([0, 1, 2]) == est.predict(src[:3])
    fresh = est.stream()  # a seq2seq stream answers after the chunk either way
    assert fresh.update([0, 1], src[:2], every_step=False) == est.predict(src[:2])


# ---------------------------------------------------------------------- refusals
@pytest.mark.parametrize("params, match", [
    (dict(bidirectional=True), "bidirectional=True"),
    (dict(scaling="sequence"), "scaling='sequence'"),
])
def test_what_cannot_stream_says_so(params, match):
    X, y = _data()
    est = RNNClassifier(units=4, epochs=1, random_state=0, conv_filters=None,
                        **params).fit(X, y)
    with pytest.raises(ValueError, match=match):
        est.stream()


def test_seq2seq_that_cannot_stream_says_so():
    rng = np.random.RandomState(0)
    V = rng.randn(20, 3)
    Y = [rng.randn(4, 1) for _ in range(20)]
    est = Seq2SeqTransformer(units=4, epochs=1, random_state=0).fit(V, Y)
    with pytest.raises(ValueError, match="one vector per sample"):
        est.stream()
    X = [rng.randn(6, 2) for _ in range(20)]
    future = [rng.randn(4, 1) for _ in range(20)]
    est = Seq2SeqTransformer(units=4, epochs=1, random_state=0).fit(
        WithCovariates(X, future=future), Y)
    with pytest.raises(ValueError, match="future covariates"):
        est.stream()
    with pytest.raises(ValueError, match="bidirectional"):
        Seq2SeqTransformer(units=4, epochs=1, random_state=0,
                           bidirectional=True).fit(X, Y).stream()


def test_unfitted_estimator_cannot_stream():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RNNClassifier().stream()


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return RNNClassifier(units=4, epochs=1, random_state=0, conv_filters=(3,),
                         conv_kernel_sizes=(3,)).fit(X, y), X


def test_bad_updates_are_refused_naming_the_id(fitted):
    est, X = fitted
    stream = est.stream()
    with pytest.raises(ValueError, match="2 ids but 1 chunks"):
        stream.update(["a", "b"], [X[0]])
    with pytest.raises(ValueError, match="appears twice"):
        stream.update(["a", "a"], [X[0], X[1]])
    with pytest.raises(TypeError, match="list of keys"):
        stream.update("a", [X[0]])
    with pytest.raises(TypeError, match="hashable"):
        stream.update([["a"]], [X[0]])
    bad = X[1].copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"X_new\[1\] \(id 'b'\).*NaN"):
        stream.update(["a", "b"], [X[0], bad])
    with pytest.raises(ValueError, match=r"X_new\[0\] \(id 'a'\).*\(k, 3\)"):
        stream.update(["a"], [X[0][:, :2]])
    with pytest.raises(ValueError, match="Complex"):
        stream.update(["a"], [X[0] + 1j])
    assert len(stream) == 0  # nothing refused started a series
    stream.update(["a", "e"], [X[0][:0], np.array([])])  # empty chunks, any shape
    assert stream.update([], []) == []
    with pytest.raises(ValueError, match="no steps yet"):
        stream.predict(["a"])
    with pytest.raises(KeyError, match="zz"):
        stream.predict(["zz"])
    with pytest.raises(ValueError, match="return_std"):
        stream.update(["a"], [X[0]], return_std=True)


def test_reset_drop_len_ids_and_the_inputs_left_alone(fitted):
    est, X = fitted
    stream = est.stream()
    chunk = X[0][:4].copy()
    before = chunk.copy()
    first = stream.update(["a", "b", 3], [chunk, X[1][:2], X[2][:0]])
    np.testing.assert_array_equal(chunk, before)
    assert stream.ids == ["a", "b", 3] and len(stream) == 3 and "a" in stream
    stream.update(["a"], [X[0][4:6]])
    stream.reset(["a"])
    again = stream.update(["a"], [chunk])
    np.testing.assert_allclose(again[0], first[0], atol=1e-6)
    stream.drop(["b"])
    assert stream.ids == ["a", 3]
    out = stream.update(["b"], [X[5][:3]])  # a new series under the old id
    np.testing.assert_allclose(out[0][-1], est.predict_proba([X[5][:3]])[0], atol=TOL)
    assert "3 series" in repr(stream)


def test_a_stream_is_a_snapshot_of_the_fitted_estimator(fitted):
    est, X = fitted
    from sklearn.base import clone

    mine = clone(est).fit(X, np.arange(len(X)) % 2)
    stream = mine.stream()
    expected = mine.predict_proba([X[0][:5]])[0]
    mine.set_params(warm_start=False).fit(X[::-1], np.arange(len(X)) % 3)  # refit
    out = stream.update(["a"], [X[0][:5]])
    np.testing.assert_allclose(out[0][-1], expected, atol=TOL)


def test_many_streams_and_fits_in_one_process(fitted):
    """As in a notebook: two estimators' streams interleaved with fits keep their
    own states and each matches its own estimator."""
    est, X = fitted
    X2, y2 = _data(seed=3)
    other = RNNRegressor(units=5, epochs=1, random_state=1, conv_filters=None).fit(
        X2, [s.sum() for s in X2])
    a, b = est.stream(), other.stream()
    for t in range(1, 5):
        pa = a.update(["s"], [X[0][t - 1:t]])[0][-1]
        pb = b.update(["s"], [X2[0][t - 1:t]])[0][-1]
        RNNClassifier(units=3, epochs=1, random_state=t, conv_filters=None).fit(X, y2)
        np.testing.assert_allclose(pa, est.predict_proba([X[0][:t]])[0], atol=TOL)
        np.testing.assert_allclose(pb, other.predict([X2[0][:t]])[0], atol=1e-4)


def test_the_work_of_an_update_does_not_grow_with_the_history(fitted):
    """The network sees only the new steps (chunked for the convolution), never the
    history: the shapes the compiled step is called with after 3,000 steps."""
    est, X = fitted
    stream = est.stream()
    rng = np.random.RandomState(0)
    stream.update(["a", "b"], [rng.randn(3000, 3), rng.randn(2000, 3)])
    seen = []
    original = stream._compiled_step(False)
    stream._compiled_step = lambda last_only, single=False: lambda x, mask, state: (
        seen.append((x.shape, state.shape)),
        original(x, mask, state))[1]
    out = stream.update(["a", "b"], [rng.randn(1, 3), rng.randn(1, 3)])
    assert [shape for shape, _ in seen] == [(8, 1, 3)]
    assert seen[0][1][0] == 8 and seen[0][1][1] < 100  # every field of 8 rows
    assert len(out[0]) == 1


# ---------------------------------------------------------------------- saving
def test_saved_stream_continues_bit_identically(fitted, tmp_path):
    est, X = fitted
    stream = est.stream()
    ids = ["a", ("b", 2), 7, 2.5]
    stream.update(ids, [X[0][:5], X[1][:3], X[2][:0], X[3][:1]])
    path = tmp_path / "live.skrnn"
    stream.save(path)
    loaded = skrnn.load(path)
    assert loaded.ids == ids and type(loaded.estimator) is RNNClassifier
    np.testing.assert_array_equal(loaded.predict_proba(["a", 2.5]),
                                  stream.predict_proba(["a", 2.5]))
    for t in range(3):
        chunks = [X[0][5 + t:6 + t], X[1][3:3 + t], X[2][:2], X[3][1 + t:3 + t]]
        for a, b in zip(stream.update(ids, chunks), loaded.update(ids, chunks)):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(skrnn.SavingError, match="strings, numbers or tuples"):
        s = est.stream()
        s.update([frozenset({1})], [X[0][:1]])
        s.save(tmp_path / "bad.skrnn")


def test_saved_seq2seq_stream_with_attention(tmp_path):
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(5, 12), 2) for _ in range(30)]
    Y = [x[-2:] for x in X]
    est = Seq2SeqTransformer(units=6, epochs=1, random_state=0).fit(X, Y)
    stream = est.stream()
    stream.update([0, 1, 2], [X[0][:4], X[1][:2], X[2][:0]])
    stream.save(tmp_path / "s.skrnn")
    loaded = skrnn.load(tmp_path / "s.skrnn")
    for a, b in zip(loaded.predict([0, 1]), stream.predict([0, 1])):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(loaded.update([0, 1, 2], [X[0][4:6], X[1][2:3], X[2][:3]]),
                    stream.update([0, 1, 2], [X[0][4:6], X[1][2:3], X[2][:3]])):
        np.testing.assert_array_equal(a, b)


def _rewrite(src, dst, member, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == member:
                data = change(data)
            if data is not None:
                zout.writestr(info.filename, data)


def _npz_change(edit):
    import io

    def change(data):
        arrays = dict(np.load(io.BytesIO(data)))
        edit(arrays)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()
    return change


def _json_change(edit):
    def change(data):
        document = json.loads(data)
        edit(document)
        return json.dumps(document).encode()
    return change


@pytest.mark.parametrize("member, change, match", [
    ("stream.json", _json_change(lambda d: d["ids"].append("extra")), "stream needs"),
    ("stream.json", _json_change(lambda d: d["ids"].__setitem__(0, {"x": 1})), "an id"),
    ("stream.json", _json_change(lambda d: d["ids"].__setitem__(1, "a")), "repeat"),
    ("stream.json", _json_change(lambda d: d.update(version=9)), "version"),
    ("stream.json", _json_change(lambda d: d.update(memory_lengths=[1, 2])),
     "without attention"),
    ("stream.npz", _npz_change(lambda a: a.update(state_rnn_0_0=np.zeros((2, 99),
                                                                        np.float32))),
     "shape"),
    ("stream.npz", _npz_change(lambda a: a.update(extra=np.zeros(3))), "needs"),
    ("stream.npz", _npz_change(lambda a: a.update(state_steps=-a["state_steps"] - 1)),
     "whole numbers"),
    ("stream.npz", _npz_change(lambda a: a.update(state_steps=a["state_steps"].astype(
        np.float64))), "dtype"),
    ("stream.npz", _npz_change(lambda a: a.update(huge=np.zeros(10**7, np.float32))),
     "declares"),
    ("stream.npz", lambda data: None, "holds exactly"),
])
def test_a_damaged_stream_file_is_refused(fitted, tmp_path, member, change, match):
    est, X = fitted
    stream = est.stream()
    stream.update(["a", "b"], [X[0][:3], X[1][:2]])
    stream.save(tmp_path / "good.skrnn")
    _rewrite(tmp_path / "good.skrnn", tmp_path / "bad.skrnn", member, change)
    with pytest.raises(skrnn.SavingError, match=match):
        skrnn.load(tmp_path / "bad.skrnn")


# ---------------------------------------------------------------------- backends
BACKEND_SCRIPT = """
import sys, numpy as np, skrnn
est = skrnn.load(sys.argv[1])
data = np.load(sys.argv[2], allow_pickle=False)
stream = est.stream()
out = {}
for t, k in enumerate((1, 3, 0, 40)):
    parts = [data[f"x{i}"][data["pos"][t, i]:data["pos"][t, i] + k] for i in range(3)]
    for i, o in enumerate(stream.update([0, 1, 2], parts)):
        out[f"out{t}_{i}"] = np.asarray(o, np.float64)
np.savez(sys.argv[3], **out)
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conv-before-attention", "lstm-layer-norm-stacked",
                                  "conv-parallel", "seq2seq"])
def test_every_backend_streams_the_same(name, tmp_path):
    """A model saved on TensorFlow streams the same outputs (1e-5) on JAX and PyTorch."""
    rng = np.random.RandomState(0)
    if name == "seq2seq":
        X = [rng.randn(rng.randint(5, 12), 3) for _ in range(24)]
        est = Seq2SeqTransformer(units=6, epochs=1, random_state=0).fit(
            X, [x[-2:, :1] for x in X])
    else:
        X, y = _data()
        est = RNNClassifier(**{"units": 6, "epochs": 2, "random_state": 0,
                               **CLASSIFIERS[name]}).fit(X, y)
    est.save(tmp_path / "model.skrnn")
    series = {f"x{i}": X[i] for i in range(3)}
    pos = np.cumsum([[0, 0, 0], [1, 1, 1], [3, 3, 3], [0, 0, 0]], axis=0)
    np.savez(tmp_path / "data.npz", pos=pos, **series)
    script = tmp_path / "run.py"
    script.write_text(BACKEND_SCRIPT)
    results = {}
    for backend in ("tensorflow", "jax", "torch"):
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "model.skrnn"),
             str(tmp_path / "data.npz"), str(tmp_path / f"{backend}.npz")],
            env={**SUBPROCESS_ENV, "KERAS_BACKEND": backend}, capture_output=True,
            text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        results[backend] = dict(np.load(tmp_path / f"{backend}.npz"))
    for backend in ("jax", "torch"):
        assert set(results[backend]) == set(results["tensorflow"])
        for key, value in results["tensorflow"].items():
            np.testing.assert_allclose(results[backend][key], value, atol=TOL,
                                       err_msg=f"{backend} {key}")


@pytest.mark.parametrize("name", ["conv-parallel", "conv-before", "conv-before-mean",
                                  "conv-before-kernel-1", "attention"])
def test_a_history_fed_at_once_gives_the_last_answer(name):
    """``every_step=False`` (the convolution in one pass over the chunk) ends in the
    state, and gives the answer, that step by step gives."""
    X, y = _data()
    est = RNNClassifier(**{"units": 6, "epochs": 2, "random_state": 0,
                           **CLASSIFIERS[name]}).fit(X, y)
    fast, slow = est.stream(), est.stream()
    ids = [0, 1, 2, 3]
    series = X[:3] + [X[3][:0]]
    last = fast.update(ids, series, every_step=False)
    steps = slow.update(ids, series)
    assert last[3] is None
    for a, b, s in zip(last[:3], steps[:3], series):
        np.testing.assert_allclose(a, b[-1], atol=TOL)
        np.testing.assert_allclose(a, est.predict_proba([s])[0], atol=TOL)
    more = [X[4][:3], X[5][:2], X[6][:1], X[7][:2]]
    for a, b in zip(fast.update(ids, more), slow.update(ids, more)):
        np.testing.assert_allclose(a, b, atol=TOL)


def test_a_3d_array_of_new_steps_is_the_same_as_a_list():
    """The usual feed (one ``(n, k, F)`` array of new steps) is read at once."""
    X, y = _data()
    static = np.random.RandomState(2).randn(len(X), 2)
    est = RNNRegressor(units=5, epochs=1, random_state=0, conv_filters=(3,),
                       conv_kernel_sizes=(3,)).fit(WithCovariates(X, static=static),
                                                   [s.sum() for s in X])
    block = np.stack([s[:4] for s in X[:3]])  # (3, 4, 3)
    as_array, as_list = est.stream(), est.stream()
    for start, stop in ((0, 1), (1, 4)):
        a = as_array.update([0, 1, 2], WithCovariates(block[:, start:stop],
                                                      static=static[:3]))
        b = as_list.update([0, 1, 2], WithCovariates(list(block[:, start:stop]),
                                                     static=static[:3]))
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    np.testing.assert_allclose(as_array.predict([0, 1, 2]), est.predict(
        WithCovariates(list(block), static=static[:3])), atol=1e-4)
    bad = block[:, :1].copy()
    bad[1, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"X_new\[1\] \(id 1\)"):
        as_array.update([0, 1, 2], bad)


# ---------------------------------------------------------------------- export
EXPORTED = {
    "regressor-conv-before-mean": (RNNRegressor, dict(
        conv_filters=(3,), conv_kernel_sizes=(4,), conv_mode="before", pooling="mean",
        cell="gru")),
    "classifier-attention-conv": (RNNClassifier, dict(
        conv_filters=(3,), conv_kernel_sizes=(4,), pooling="attention")),
    "classifier-static": (RNNClassifier, dict(conv_filters=None, layer_norm=True)),
}


def _exported_case(name):
    X, y = _data()
    kind, params = EXPORTED[name]
    static = np.random.RandomState(4).randn(len(X), 2) if "static" in name else None
    target = y if kind is RNNClassifier else np.array([s.sum() for s in X])
    fit_X = X if static is None else WithCovariates(X, static=static)
    return kind(units=6, epochs=2, random_state=0, **params).fit(fit_X, target), X, static


def _feeds(X, static):
    """Three series fed 1, 3, 0 and 2 steps: the padded values and lengths per call."""
    pos = [0, 0, 0]
    for k in (1, 3, 0, 2):
        chunks = [x[p:p + k] for x, p in zip(X[:3], pos)]
        values = np.zeros((3, max(k, 1), X[0].shape[1]), np.float32)
        for i, c in enumerate(chunks):
            values[i, :len(c)] = c
        pos = [p + len(c) for p, c in zip(pos, chunks)]
        yield chunks, values, np.array([len(c) for c in chunks], np.int32)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPORTED))
def test_streaming_export_equals_the_stream(name, tmp_path):
    """``export(streaming=True)``: the SavedModel's ``step`` (loaded by TensorFlow
    alone) and the ONNX file (onnxruntime) give what ``Stream.update`` gives."""
    import onnxruntime
    import tensorflow as tf

    est, X, static = _exported_case(name)
    est.export(tmp_path / "saved", streaming=True)
    est.export(tmp_path / "step.onnx", format="onnx", streaming=True)
    served = tf.saved_model.load(str(tmp_path / "saved"))
    session = onnxruntime.InferenceSession(str(tmp_path / "step.onnx"))
    outputs = [o.name for o in session.get_outputs()]
    stream = est.stream()
    state = served.signatures["initial_state"](n=tf.constant(3))["state"].numpy()
    np.testing.assert_array_equal(state, stream.initial_state(3))
    onnx_state = state
    key = "probabilities" if isinstance(est, RNNClassifier) else "prediction"
    extra = {} if static is None else {"static": static[:3].astype(np.float32)}
    for chunks, values, lengths in _feeds(X, static):
        want = stream.update([0, 1, 2], chunks if static is None else
                             WithCovariates(chunks, static=static[:3]))
        got = served.signatures["step"](values=tf.constant(values),
                                        lengths=tf.constant(lengths),
                                        state=tf.constant(state),
                                        **{k: tf.constant(v) for k, v in extra.items()})
        state = got["new_state"].numpy()
        ran = dict(zip(outputs, session.run(None, {"values": values, "lengths": lengths,
                                                   "state": onnx_state, **extra})))
        onnx_state = ran["new_state"]
        assert ran["valid"].all()
        for i, n in enumerate(lengths):
            np.testing.assert_allclose(got[key].numpy()[i, :n], want[i], atol=TOL)
            np.testing.assert_allclose(ran[key][i, :n], want[i], atol=TOL)
    np.testing.assert_allclose(state, stream.state_of([0, 1, 2]), atol=TOL)
    with pytest.raises(tf.errors.InvalidArgumentError, match="skrnn: .*state"):
        served.signatures["step"](values=tf.constant(values), lengths=tf.constant(lengths),
                                  state=tf.constant(state[:2]),
                                  **{k: tf.constant(v) for k, v in extra.items()})


def test_streaming_export_refusals(tmp_path):
    X, y = _data()
    est = RNNClassifier(units=4, epochs=1, random_state=0, conv_filters=None,
                        bidirectional=True).fit(X, y)
    with pytest.raises(ValueError, match="streaming=True.*bidirectional"):
        est.export(tmp_path / "x", streaming=True)
    Y = [x[-2:] for x in X]
    s2s = Seq2SeqTransformer(units=4, epochs=1, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="Seq2SeqTransformer's streaming export"):
        s2s.export(tmp_path / "y", streaming=True)


def test_attention_with_scores_far_apart_streams_one_step_at_a_time():
    """Scores that can differ by more than exp() spans within a chunk: the running
    softmax takes one step per call, and stays exact."""
    X, y = _data()
    est = RNNClassifier(units=6, epochs=1, random_state=0, pooling="attention",
                        conv_filters=None).fit(X, y)
    pooling = next(layer for layer in est.model_.layers if layer.name == "attention_pooling")
    pooling.v.assign(pooling.v.numpy() * 400.0)  # ||v||_1 far beyond the safe range
    est._step = None  # predict reads the changed weights
    stream = est.stream()
    assert stream._engine.max_chunk == 1
    worst, _ = _stream_against_predict(est, X[:3], lambda p, i: est.predict_proba([p])[0],
                                       chunks=(4, 100))
    assert worst < TOL
