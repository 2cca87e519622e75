import subprocess
import sys


def test_import_is_light():
    """``import skrnn`` must not pull in Keras / TensorFlow; fitting does."""
    code = ("import sys, skrnn, skrnn.preprocessing, skrnn.data;"
            "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_public_api():
    import skrnn

    assert {"RNNClassifier", "RNNRegressor"} <= set(skrnn.__all__)
    assert skrnn.__version__


def test_show_versions_and_python_m_skrnn_info(capsys):
    import skrnn
    from skrnn._show_versions import versions_info

    info = versions_info()
    assert info["packages"]["skrnn"] == skrnn.__version__
    assert info["packages"]["keras"] and info["keras"]["backend"] == "tensorflow"
    assert any("CPU" in d for d in info["keras"]["devices"])
    skrnn.show_versions()
    assert f"skrnn: {skrnn.__version__}" in capsys.readouterr().out
    out = subprocess.run([sys.executable, "-m", "skrnn", "info"], capture_output=True,
                         text=True, check=True).stdout
    assert "backend: tensorflow" in out and "scikit-learn:" in out and "devices:" in out
    bad = subprocess.run([sys.executable, "-m", "skrnn", "nonsense"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_the_package_has_no_import_circle():
    """No module imports (at its top or inside a function) one that imports it back,
    directly or through others: the loader finds the estimators through a registry
    they fill, and the estimators import the loader."""
    import ast
    import pathlib

    import skrnn

    root = pathlib.Path(skrnn.__file__).parent
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] \
                    if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    full = f"{module}.{alias.name}"
                    deps.add(full if full in names else module)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[name] = {d for d in deps if d in names and d != name}
    assert "skrnn.classifier" in graph["skrnn"] and graph["skrnn.serving._saving"]  # it can fail

    def reaches(start, goal, seen):
        return any(d == goal or (d not in seen and not seen.add(d)
                                 and reaches(d, goal, seen)) for d in graph[start])

    circles = sorted(n for n in graph if reaches(n, n, set()))
    assert circles == []
