"""What a bug report needs: versions of skrnn, its dependencies, the backend, devices."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

_PACKAGES = ("skrnn", "keras", "tensorflow", "jax", "jaxlib", "torch", "scikit-learn",
             "numpy", "scipy", "pandas", "matplotlib")


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _devices(backend: str) -> list:
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return [d.name for d in tf.config.list_logical_devices()]
        if backend == "jax":
            import jax

            return [str(d) for d in jax.devices()]
        if backend == "torch":
            import torch

            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            return ["cpu"] + gpus
    except Exception as error:  # a broken install is what the report is about
        return [f"unavailable: {type(error).__name__}: {error}"]
    return []


def versions_info() -> dict:
    """The facts :func:`show_versions` prints, as a dict."""
    import keras

    from ._version import __version__

    backend = keras.backend.backend()
    info = {
        "system": {"python": sys.version.split()[0], "executable": sys.executable,
                   "machine": platform.platform()},
        "packages": {name: _version(name) for name in _PACKAGES},
        "keras": {"backend": backend,
                  "KERAS_BACKEND": os.environ.get("KERAS_BACKEND"),
                  "devices": _devices(backend)},
    }
    info["packages"]["skrnn"] = __version__
    return info


def show_versions() -> None:
    """Print skrnn's, Keras', the backend's and the other dependencies' versions and the
    visible devices: paste it into a bug report.

    Also available as ``python -m skrnn info``.
    """
    info = versions_info()
    for section, values in info.items():
        print(f"\n{section}:")
        for key, value in values.items():
            if isinstance(value, list):
                value = ", ".join(value) or "none"
            if value is None:
                value = "not set" if key.isupper() else "not installed"
            print(f"{key:>14}: {value}")
