"""What loading costs: peak resident memory and time of ``skrnn.load`` on a normal file
and on hostile ones, each in a fresh process (peak RSS: the process's, and how much
of it came after importing skrnn and Keras).

Files (made from one small fitted ``RNNClassifier``, units=32):

- ``normal``: the file ``save`` wrote;
- ``units=12000``: its specification edited to promise a 12,000-unit LSTM (a 6 KB file
  that, before the loader checked sizes first, built that network: over 6 GB);
- ``2 GiB zeros``: one array replaced by 2 GiB of zeros (about 2 MB compressed; it used
  to be decompressed in full before anything refused it);
- ``npy header 4 GB``: an array whose header claims 4 GB but holds a few bytes.

Run: ``python bench/bench_loading.py`` (about a minute on a 2-core CPU). Reports, per
file, the process's peak RSS minus that of a process that imported skrnn and Keras
and loaded nothing, and the outcome.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile

import numpy as np

LOAD = """
import sys, time
import keras, skrnn
import numpy as np


def high_water():  # VmHWM: this process's peak RSS (ru_maxrss survives exec on Linux)
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))


base = high_water()
start = time.perf_counter()
try:
    skrnn.load(sys.argv[1])
    outcome = "loaded"
except skrnn.SavingError as exc:
    outcome = "SavingError: " + str(exc).split(": ", 1)[1][:70]
took = time.perf_counter() - start
peak = high_water()
print(f"{peak / 1024:.0f}\\t{(peak - base) / 1024:.1f}\\t{took:.2f}\\t{outcome}")
"""


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def _npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def main():
    from skrnn import RNNClassifier

    folder = tempfile.mkdtemp()
    rng = np.random.RandomState(0)
    X, y = rng.randn(64, 20, 3), np.arange(64) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = RNNClassifier(epochs=2, random_state=0, conv_filters=None).fit(X, y)
    files = {"normal": os.path.join(folder, "normal.skrnn")}
    est.save(files["normal"])
    members = _members(files["normal"])
    document = json.loads(members["skrnn.json"])
    with np.load(io.BytesIO(members["arrays.npz"])) as f:
        arrays = {k: f[k] for k in f.files}

    huge = json.loads(json.dumps(document))
    huge["state"]["_spec"]["fields"]["units"] = {"__tuple__": [12000]}
    huge["params"]["units"] = 12000
    files["units=12000"] = os.path.join(folder, "units.skrnn")
    _write(files["units=12000"], {"skrnn.json": json.dumps(huge), **{
        "arrays.npz": members["arrays.npz"]}})

    files["2 GiB zeros"] = os.path.join(folder, "zeros.skrnn")
    _write(files["2 GiB zeros"], {"skrnn.json": members["skrnn.json"],
                                  "arrays.npz": _npz({**arrays, "a0": np.zeros(
                                      2**29, np.float32)})})

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (2**30,)})
    inner = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as original, \
            zipfile.ZipFile(inner, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "variable0.npy":
                data = header.getvalue() + data[-16:]
            out.writestr(info.filename, data)
    files["npy header 4 GB"] = os.path.join(folder, "header.skrnn")
    _write(files["npy header 4 GB"], {"skrnn.json": members["skrnn.json"],
                                      "arrays.npz": inner.getvalue()})

    print("file\tsize (KB)\tpeak RSS (MB)\tabove the imports (MB)\tseconds\toutcome")
    for name, path in files.items():
        done = subprocess.run([sys.executable, "-c", LOAD, path], capture_output=True,
                              text=True, timeout=600)
        line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else \
            f"-\t-\t-\tfailed: {done.stderr[-200:]}"
        print(f"{name}\t{os.path.getsize(path) / 1024:.0f}\t{line}")


if __name__ == "__main__":
    main()
