"""Test tiers, backend selection and the CPU-only setup.

Tiers (markers):
* default: runs everywhere (CI is a CPU machine without TensorRT: TensorRT stand-in, Triton interpreter);
* ``gpu``: needs a CUDA device (the device machine);
* ``tensorrt``: needs the real TensorRT library; skipped here, with the reason in the summary.

On a machine whose torch has no CUDA, this file (and only test machinery) applies
``trt_standin.cpu_torch`` before anything imports torch_tensorrt, and turns on the Triton
interpreter before any kernel is defined.
"""

from __future__ import annotations

import os
import sys
from typing import Iterator

import pytest

# Before torch / triton are imported by any test module.
try:
    import torch as _torch

    HAS_CUDA = bool(_torch.cuda.is_available())
except ImportError:  # pragma: no cover - the environment always has torch
    HAS_CUDA = False

if not HAS_CUDA:
    os.environ.setdefault("TRITON_INTERPRET", "1")

import trt_standin  # noqa: E402  (test machinery: tools/ is on sys.path through trt_standin.pth)

BACKEND = trt_standin.backend()  # "real", "standin" or "none"

if not HAS_CUDA:
    from trt_standin import cpu_torch

    cpu_torch.apply()

if BACKEND == "standin":
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()

DEVICE = "cuda" if HAS_CUDA else "cpu"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "gpu: needs a CUDA device (run on the device machine)"
    )
    config.addinivalue_line("markers", "tensorrt: needs the real TensorRT library")
    config.addinivalue_line(
        "markers", "standin: exercises the TensorRT stand-in itself"
    )
    config.addinivalue_line("markers", "slow: takes more than a few seconds on the CPU")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    skip_gpu = pytest.mark.skip(reason="gpu tier: no CUDA device on this machine")
    skip_trt = pytest.mark.skip(
        reason=f"tensorrt tier: the real TensorRT library is not importable here (backend: {BACKEND})"
    )
    skip_standin = pytest.mark.skip(reason="stand-in tier: real TensorRT is in use")
    for item in items:
        if (
            "tensorrt" in item.keywords and BACKEND != "real"
        ):  # the reason that matters most, first
            item.add_marker(skip_trt)
        if "gpu" in item.keywords and not HAS_CUDA:
            item.add_marker(skip_gpu)
        if "standin" in item.keywords and BACKEND != "standin":
            item.add_marker(skip_standin)


def pytest_report_header(config: pytest.Config) -> str:
    import torch

    try:
        import triton

        triton_version = triton.__version__
    except ImportError:
        triton_version = "absent"
    interp = os.environ.get("TRITON_INTERPRET", "0")
    try:
        import numpy
        import tensorrt

        bindings = (
            f"tensorrt bindings {tensorrt.__version__}, numpy {numpy.__version__}"
        )
    except ImportError:
        bindings = "tensorrt not importable"
    return (
        f"TensorRT backend: {BACKEND} ({bindings}); torch {torch.__version__} "
        f"({'CUDA ' + torch.cuda.get_device_name(0) if HAS_CUDA else 'CPU only'}); "
        f"triton {triton_version} (interpreter: {interp}); python {sys.version.split()[0]}"
    )


@pytest.fixture(autouse=True, scope="session")
def _triton_language_snapshot() -> Iterator[object]:
    """Taken before any test launches a kernel (see support.triton_interpreter)."""
    from support import triton_interpreter

    yield (
        triton_interpreter.LanguageSnapshot()
        if triton_interpreter.needs_restoring()
        else None
    )


@pytest.fixture(autouse=True)
def _restore_triton_language(_triton_language_snapshot: object) -> Iterator[None]:
    """Triton 3.2-3.5's interpreter leaves triton.language patched; undo it after each test."""
    yield
    if _triton_language_snapshot is not None:
        _triton_language_snapshot.restore()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def trt_backend() -> str:
    """Which TensorRT core the tests run against: "real" or "standin"."""
    if BACKEND == "none":
        pytest.skip("neither real TensorRT nor the stand-in is importable")
    return BACKEND


@pytest.fixture(scope="session")
def device() -> str:
    """Where test tensors live: "cuda" on the device machine, "cpu" elsewhere."""
    return DEVICE


@pytest.fixture
def fresh_qdp_namespace(request: pytest.FixtureRequest) -> Iterator[str]:
    """A plugin namespace unique to the test, removed from TensorRT's QDP registry afterwards."""
    import re

    import tensorrt.plugin as trtp
    from tensorrt.plugin import _lib

    namespace = "t_" + re.sub(r"\W", "_", request.node.name)[:40]
    yield namespace
    import tensorrt as trt

    registry = trt.get_plugin_registry()
    for key in [k for k in _lib.QDP_REGISTRY if k.startswith(namespace + "::")]:
        del _lib.QDP_REGISTRY[key]
        creator = _lib.QDP_CREATORS.pop(key, None)
        if creator is not None:
            registry.deregister_creator(creator)
    if hasattr(trtp.op, namespace):
        delattr(trtp.op, namespace)
