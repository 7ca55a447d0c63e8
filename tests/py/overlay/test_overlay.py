"""torch_tensorrt.dynamo.conversion.plugins resolves to this checkout, whatever upstream ships."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
PLUGINS = REPO / "py" / "torch_tensorrt" / "dynamo" / "conversion" / "plugins"


def test_plugins_package_comes_from_py() -> None:
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion import plugins

    assert pathlib.Path(plugins.__file__).resolve() == PLUGINS / "__init__.py"
    assert list(plugins.__path__) == [str(PLUGINS)]
    # The released package itself is still upstream's.
    assert "site-packages" in torch_tensorrt.__file__


def test_upstream_copy_is_never_imported() -> None:
    import torch_tensorrt

    upstream_dir = (
        pathlib.Path(torch_tensorrt.__file__).parent
        / "dynamo"
        / "conversion"
        / "plugins"
    )
    loaded_from_upstream = [
        name
        for name, mod in list(sys.modules.items())
        if getattr(mod, "__file__", None)
        and pathlib.Path(mod.__file__).parent == upstream_dir
    ]
    assert loaded_from_upstream == []
    for name, mod in list(sys.modules.items()):
        if name.startswith("torch_tensorrt.dynamo.conversion.plugins"):
            assert str(PLUGINS) in str(mod.__file__), name


def test_upstream_importers_get_ours() -> None:
    """Upstream modules that import the package at import time (kernels._register) see our names."""
    import importlib
    import importlib.util

    from torch_tensorrt.dynamo.conversion import plugins

    if importlib.util.find_spec("torch_tensorrt.kernels") is None:
        pytest.skip(
            "this Torch-TensorRT release has no torch_tensorrt.kernels (added in 2.13)"
        )
    register = importlib.import_module("torch_tensorrt.kernels._register")
    assert register.custom_op is plugins.custom_op


def test_overlay_can_be_switched_off() -> None:
    code = (
        "import os, torch\n"
        "if not torch.cuda.is_available():\n"
        "    from trt_standin import cpu_torch; cpu_torch.apply()\n"
        "from torch_tensorrt.dynamo.conversion import plugins; print(plugins.__file__)\n"
    )
    env = dict(os.environ, TORCH_TRT_PLUGINS_OVERLAY="0")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "site-packages" in result.stdout.strip().splitlines()[-1]
