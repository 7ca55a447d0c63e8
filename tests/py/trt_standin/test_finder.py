"""The stand-in serves TensorRT's native core only where the real one cannot load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.standin


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


def test_standin_is_serving_here(trt_backend: str) -> None:
    import tensorrt
    import trt_standin

    assert trt_backend == "standin"
    finder = trt_standin._finder.installed_finder()
    assert (
        finder is not None and finder.real_core_error
    )  # why the real core was not used
    assert "libnv" in finder.real_core_error or "tensorrt.so" in finder.real_core_error
    assert tensorrt.Builder.__module__.startswith("trt_standin.core")


def test_off_means_the_real_import_error() -> None:
    result = _run("import tensorrt", TRT_STANDIN="off")
    assert result.returncode != 0
    assert "ImportError" in result.stderr


def test_the_wheel_python_layers_are_nvidias_own() -> None:
    result = _run(
        "import tensorrt, tensorrt.plugin as p, tensorrt_bindings as b, inspect;"
        "print(inspect.getsourcefile(p.register)); print(b.__file__)"
    )
    assert result.returncode == 0, result.stderr
    plugin_file, init_file = result.stdout.split()
    assert plugin_file.endswith(os.path.join("tensorrt_bindings", "plugin", "_lib.py"))
    assert "site-packages" in init_file
