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
