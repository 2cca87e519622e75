"""Every Python code block of the README and of the documentation runs, and the
documentation site builds with no warning.

A page's blocks run in order in one namespace, as a reader runs them. A block preceded
by ``<!-- test: subprocess -->`` runs in a fresh interpreter (it chooses a Keras backend,
or imports PyTorch's compiler, which crashes a process that has loaded TensorFlow),
after the page's ``<!-- test: setup -->`` blocks; ``<!-- test: multi-worker -->`` marks
a script run by two TensorFlow workers on localhost, as the page tells a user to run it
on two machines.
"""

import json
import pathlib
import re
import subprocess
import sys

import pytest
from helpers import SUBPROCESS_ENV, free_ports

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(?:<!-- test: ([\w-]+) -->\n)?```python\n(.*?)```", re.S)
ENV = SUBPROCESS_ENV


def blocks(page):
    return BLOCK.findall(page.read_text())


def test_every_page_has_been_found():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"README.md", "docs/index.md", "docs/comparison.md",
            "docs/shapes/one-to-many.md"} <= names
    assert sum(len(blocks(p)) for p in PAGES) >= 25


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that save files write here
    namespace, setup = {}, ""
    for i, (mode, code) in enumerate(blocks(page)):
        where = f"{page.name}, Python block {i}"
        if mode == "subprocess":
            done = subprocess.run([sys.executable, "-c", setup + code], env=ENV,
                                  cwd=tmp_path, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"{where} failed:\n{done.stderr[-3000:]}"
        elif mode == "multi-worker":
            _run_two_workers(code, tmp_path, where)
        else:
            assert mode in ("", "setup"), f"{where}: unknown test mode {mode!r}"
            exec(compile(code, where, "exec"), namespace)
            setup += code if mode == "setup" else ""


def _run_two_workers(code, folder, where):
    (folder / "train.py").write_text(code)
    cluster = {"worker": [f"localhost:{p}" for p in free_ports(2)]}
    workers = []
    for index in (0, 1):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workdir = folder / f"worker{index}"
        workdir.mkdir()
        workers.append(subprocess.Popen(
            [sys.executable, str(folder / "train.py")], cwd=workdir,
            env={**ENV, "TF_CONFIG": config, "KERAS_BACKEND": "tensorflow"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for index, worker in enumerate(workers):
        try:
            _, err = worker.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            worker.kill()
            _, err = worker.communicate()
        assert worker.returncode == 0, f"{where}, worker {index} failed:\n{err[-3000:]}"
    assert (folder / "worker0" / "model.pkl").exists()      # the chief saved the model
    assert not (folder / "worker1" / "model.pkl").exists()


def test_documentation_site_builds_strictly(tmp_path):
    """``mkdocs build`` (strict in mkdocs.yml: a broken link, a missing figure or a
    docstring griffe cannot parse fails it), figures drawn by skrnn.plotting."""
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                          env={**ENV, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING -" not in done.stderr, done.stderr[-4000:]
    site = tmp_path / "site"
    for figure in ("history", "gradient-flow", "many-to-one", "seq2seq", "one-to-many"):
        assert (site / "figures" / f"{figure}.svg").stat().st_size > 1000
    api = (site / "api" / "index.html").read_text()
    assert "RNNClassifier" in api and "truncate_steps" in api  # docstrings rendered
