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
