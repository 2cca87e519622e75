"""skrnn.load trusts nothing: every check comes before anything is built or allocated,
every failure is one SavingError (a ValueError) naming the file, and save is atomic.

Each test here is one of the defects of issue 29 (a file that once drove memory past
gigabytes, raised a raw zipfile / zlib / KeyError / RecursionError, or loaded although it
contradicted itself), plus a hypothesis fuzz over mutated files.
"""

import io
import json
import os
import struct
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from helpers import ragged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skrnn
from skrnn import RNNClassifier, RNNRegressor, SavingError, Seq2SeqTransformer

TINY = dict(units=3, epochs=1, batch_size=8, random_state=0, conv_filters=None)
#: what loading any hostile variant of the tiny files below may allocate (NumPy and
#: Python, traced): the tiny model needs well under 1 MiB.
MEMORY_BOUND = 48 * 2**20


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(classifier file, its X) and a regressor's and a seq2seq's files."""
    X, labels = ragged(16, hi=6)
    folder = tmp_path_factory.mktemp("good")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier = RNNClassifier(**TINY).fit(X, labels)
        regressor = RNNRegressor(**TINY).fit(X, np.array([x[:, 0].mean() for x in X]))
        words = ["abc", "ba", "cab", "bca"] * 4
        seq2seq = Seq2SeqTransformer(units=3, epochs=1, random_state=0).fit(
            words, [w[::-1] for w in words])
    paths = {}
    for name, est in [("classifier", classifier), ("regressor", regressor),
                      ("seq2seq", seq2seq)]:
        paths[name] = folder / f"{name}.skrnn"
        est.save(paths[name])
    return paths, X


def members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def npz(data):
    with np.load(io.BytesIO(data)) as f:
        return {k: f[k] for k in f.files}


def write(path, document=None, arrays=None, base=None, raw_arrays=None):
    parts = members(base)
    if document is not None:
        parts["skrnn.json"] = json.dumps(document).encode()
    if arrays is not None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        parts["arrays.npz"] = buffer.getvalue()
    if raw_arrays is not None:
        parts["arrays.npz"] = raw_arrays
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def edited(saved, tmp_path, which="classifier", document=None, arrays=None):
    """The saved file with ``document(doc)`` / ``arrays(doc, arrays)`` applied."""
    base = saved[0][which]
    parts = members(base)
    doc, arr = json.loads(parts["skrnn.json"]), npz(parts["arrays.npz"])
    if document is not None:
        document(doc)
    if arrays is not None:
        arrays(doc, arr)
    return write(tmp_path / "edited.skrnn", doc, arr, base=base)


def refused(path, match):
    """Load ``path``: a SavingError naming the file and matching ``match``, within the
    memory bound."""
    tracemalloc.start()
    try:
        with pytest.raises(SavingError, match=match) as info:
            skrnn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert peak < MEMORY_BOUND, peak
    return info.value


# --------------------------------------------------------- 1. sizes before building
def test_a_spec_promising_a_huge_network_is_refused_before_it_is_built(saved, tmp_path):
    def huge(doc):
        doc["state"]["_spec"]["fields"]["units"] = {"__tuple__": [12000]}
        doc["params"]["units"] = 12000
    refused(edited(saved, tmp_path, document=huge),
            r"the saved variables hold \d+ values; the network the specification "
            r"describes holds between 576\d+ and")


def test_a_huge_compressed_array_is_refused_before_it_is_decompressed(saved, tmp_path):
    def bomb(doc, arrays):  # 256 MiB of zeros: about 1.1 MB compressed
        arrays["a0"] = np.zeros(2**26, np.float32)
    path = edited(saved, tmp_path, arrays=bomb)
    assert os.path.getsize(path) < 2**21
    refused(path, r"arrays.npz declares \d+ bytes, more than the network its "
                  r"specification describes can need")


def test_an_array_header_larger_than_its_data_is_refused_before_allocation(saved,
                                                                            tmp_path):
    parts = members(saved[0]["classifier"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(npz_bytes := io.BytesIO(), "w") as inner:
        with zipfile.ZipFile(io.BytesIO(parts["arrays.npz"])) as original:
            for info in original.infolist():
                data = original.read(info)
                if info.filename == "variable0.npy":  # claims 4 GB, holds a few bytes
                    np.lib.format.write_array_header_1_0(
                        buffer, {"descr": "<f4", "fortran_order": False,
                                 "shape": (2**30,)})
                    data = buffer.getvalue() + data[-16:]
                inner.writestr(info.filename, data)
    path = write(tmp_path / "h.skrnn", raw_arrays=npz_bytes.getvalue(),
                 base=saved[0]["classifier"])
    refused(path, r"array 'variable0' declares shape \(1073741824,\) of float32 "
                  r"\(4294967296 bytes\) but holds")


# -------------------------------------------------- 2. every failure one SavingError
def test_corrupted_bytes_raise_the_loading_error(saved, tmp_path):
    """A sample of the single-byte corruptions that raised BadZipFile, zlib.error or
    NotImplementedError: every position of the file, a few values each."""
    good = saved[0]["classifier"].read_bytes()
    outcomes = set()
    for position in range(0, len(good), max(1, len(good) // 150)):
        for value in (0, 0xFF, good[position] ^ 0x01):
            data = bytearray(good)
            data[position] = value
            path = tmp_path / "c.skrnn"
            path.write_bytes(bytes(data))
            try:
                skrnn.load(path)
                outcomes.add("loaded")
            except SavingError as exc:
                assert str(path) in str(exc)
                outcomes.add("refused")
    assert "refused" in outcomes


@pytest.mark.parametrize("change, match", [
    (lambda d: d.update(state=None), "state must be a JSON object, not NoneType"),
    (lambda d: d.update(params=[]), "params must be a JSON object"),
    (lambda d: d.update({"class": ["RNNClassifier"]}), "unknown estimator class"),
    (lambda d: d.update(n_variables="3"), "n_variables = '3'"),
    (lambda d: d["state"]["_spec"]["fields"].update(cell="evil"),
     r"specification field cell = 'evil'"),
    (lambda d: d["state"]["_spec"]["fields"].update(n_outputs=0),
     r"specification field n_outputs = 0"),
    (lambda d: d["state"].update(n_iter_={"__objects__": [1, 2], "shape": [5, 5]}),
     "cannot be loaded"),
    (lambda d: d["state"]["_spec"].update(__spec__="Seq2SeqSpec"),
     "unknown specification|needs a ModelSpec|fields differ"),
])
def test_malformed_documents_raise_the_loading_error(saved, tmp_path, change, match):
    refused(edited(saved, tmp_path, document=change), match)


def test_deeply_nested_json_is_refused_before_parsing(saved, tmp_path):
    parts = members(saved[0]["classifier"])
    text = parts["skrnn.json"].decode()
    deep = "[" * 900 + "]" * 900
    text = text.replace('"history_":', f'"deep": {deep}, "history_":', 1)
    path = tmp_path / "deep.skrnn"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("skrnn.json", text)
        z.writestr("arrays.npz", parts["arrays.npz"])
    refused(path, "nests deeper than 64 levels")


def test_a_missing_file_names_it(tmp_path):
    refused(tmp_path / "nowhere.skrnn", "is not an skrnn estimator file")


# ------------------------------------------------------ 3. files that contradict themselves
def _array_of(doc, key):
    return doc["state"][key]["__array__"]


def test_more_classes_than_outputs_is_refused(saved, tmp_path):
    def three(doc, arrays):
        arrays[_array_of(doc, "classes_")] = np.array([0, 1, 2])
        arrays[doc["state"]["_label_encoder"]["__label_encoder__"]["__array__"]] = \
            np.array([0, 1, 2])
        if doc["state"].get("_class_weights") is not None:
            arrays[_array_of(doc, "_class_weights")] = np.ones(3)
    refused(edited(saved, tmp_path, arrays=three),
            r"the network's n_outputs is 2, the fitted state and parameters make it 3")


def test_scaling_of_the_wrong_shape_is_refused(saved, tmp_path):
    def square(doc, arrays):
        arrays[_array_of(doc, "scaling_mean_")] = np.zeros((7, 7))
    refused(edited(saved, tmp_path, arrays=square),
            r"scaling_mean_ must be finite floats of shape \(2,\)")


def test_target_statistics_must_be_positive_and_finite(saved, tmp_path):
    def zero(doc, arrays):
        arrays[_array_of(doc, "_y_scale")] = np.zeros(1)
    refused(edited(saved, tmp_path, "regressor", arrays=zero),
            r"the target scale must be finite floats of shape \(1,\), all positive")


def test_a_seq2seq_vocabulary_that_disagrees_with_its_network_is_refused(saved, tmp_path):
    def shorter(doc):
        vocabulary = doc["state"]["target_vocabulary_"]["__vocabulary__"]
        vocabulary.pop()
        doc["state"]["_end"] -= 1
        doc["state"]["_start"] -= 1
    refused(edited(saved, tmp_path, "seq2seq", document=shorter),
            "the network's target_vocabulary_size is")


@pytest.mark.parametrize("value, match", [
    (lambda v: np.full(v.shape, "x"), r"variable 0 holds <U1 values"),
    (lambda v: v.astype(np.complex64), r"holds complex64; skrnn saves real numbers"),
    (lambda v: np.full(v.shape, 1e300), r"dtype float64, the network .* float32"),
    (lambda v: np.full(v.shape, np.nan, np.float32), r"array 'variable0' holds NaN"),
])
def test_variables_must_be_finite_numbers_of_the_network_dtype(saved, tmp_path, value,
                                                               match):
    def change(doc, arrays):
        arrays["variable0"] = value(arrays["variable0"])
    refused(edited(saved, tmp_path, arrays=change), match)


# ------------------------------------------------------------------ 4. atomic save
def test_a_failed_save_leaves_the_previous_file(saved, tmp_path, monkeypatch):
    est = skrnn.load(saved[0]["classifier"])
    path = tmp_path / "model.skrnn"
    est.save(path)
    before = path.read_bytes()
    real = zipfile.ZipFile.writestr

    def disk_full(self, name, data, *args, **kwargs):
        if name == "arrays.npz":
            raise OSError(28, "No space left on device")
        return real(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    with pytest.raises(OSError, match="No space left"):
        est.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.skrnn"]  # no temporary file left behind
    skrnn.load(path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_a_subclass_is_not_saved_as_its_parent(saved, tmp_path):
    class Mine(RNNClassifier):
        pass

    est = Mine(**TINY)
    est.__dict__.update(skrnn.load(saved[0]["classifier"]).__dict__)
    with pytest.raises(TypeError, match="Mine cannot be saved"):
        est.save(tmp_path / "m.skrnn")


# ------------------------------------------------------------- fuzzing over files
def _flip(data, draw):
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _declare(data, draw):
    """A local or central zip header's sizes set to something huge."""
    data = bytearray(data)
    spots = [i for i in range(len(data) - 4) if data[i:i + 4] in (b"PK\x03\x04",
                                                                  b"PK\x01\x02")]
    at = draw(st.sampled_from(spots))
    field = 18 if data[at:at + 4] == b"PK\x03\x04" else 20  # compressed, then size
    offset = at + field + 4 * draw(st.integers(0, 1))
    struct.pack_into("<I", data, offset, draw(st.sampled_from([2**31, 2**32 - 1, 10**9])))
    return bytes(data)


def _json_edit(doc, draw):
    """Set one value somewhere in the document to another JSON value."""
    node, key = doc, None
    for _ in range(draw(st.integers(1, 5))):
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) \
            if isinstance(node, list) else []
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)) or draw(st.booleans()):
            break
        node = node[key]
    if key is not None:
        node[key] = draw(st.one_of(st.none(), st.booleans(), st.integers(-2, 10**12),
                                   st.floats(allow_nan=False), st.text(max_size=5),
                                   st.just([]), st.just({}),
                                   st.just({"__tuple__": [10**6]})))
    return doc


@st.composite
def hostile_files(draw, files):
    which = draw(st.sampled_from(sorted(files)))
    parts = members(files[which])
    how = draw(st.sampled_from(["flip", "declare", "swap", "json", "arrays", "truncate"]))
    if how == "json":
        doc = _json_edit(json.loads(parts["skrnn.json"]), draw)
        parts["skrnn.json"] = json.dumps(doc).encode()
    elif how == "swap":
        parts = {"skrnn.json": parts["arrays.npz"], "arrays.npz": parts["skrnn.json"]}
    elif how == "arrays":
        parts["arrays.npz"] = _flip(parts["arrays.npz"], draw)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    data = buffer.getvalue()
    if how == "flip":
        data = _flip(data, draw)
    elif how == "declare":
        data = _declare(data, draw)
    elif how == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    return how, data


FILE_FUZZ = settings(max_examples=int(os.environ.get("SKRNN_FUZZ_EXAMPLES", 40)),
                     deadline=None, derandomize="SKRNN_FUZZ_EXAMPLES" not in os.environ,
                     suppress_health_check=[HealthCheck.too_slow,
                                            HealthCheck.function_scoped_fixture,
                                            HealthCheck.data_too_large])


@FILE_FUZZ
@given(data=st.data())
def test_mutated_files_load_or_raise_the_loading_error(saved, tmp_path, data):
    how, content = data.draw(hostile_files(saved[0]))
    path = tmp_path / "fuzzed.skrnn"
    path.write_bytes(content)
    tracemalloc.start()
    try:
        skrnn.load(path)
    except SavingError as exc:
        assert str(path) in str(exc), (how, exc)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, (how, peak)
