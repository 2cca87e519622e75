"""Every Python code block of the README and the user guide runs."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "index.md"]


def blocks():
    for path in DOCS:
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(), re.S)):
            yield pytest.param(code, id=f"{path.name}-{i}")


@pytest.mark.parametrize("code", list(blocks()))
def test_code_block_runs(code):
    exec(compile(code, "<doc>", "exec"), {})
