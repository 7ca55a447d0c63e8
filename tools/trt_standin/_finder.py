"""Redirect the import of TensorRT's native core to the stand-in when the real one cannot load.

NVIDIA's ``tensorrt_bindings`` package is a pure-Python shell (``__init__.py``, ``plugin/*.py``) around
one native module, ``tensorrt_bindings.tensorrt`` (``tensorrt.so``), which needs ``libnvinfer``. This
finder intercepts only that module name:

* ``TRT_STANDIN=auto`` (default): try the real extension first; if it loads, it is used and the
  stand-in stays out of the way. If it raises ImportError (no libnvinfer), the stand-in core is
  served under the same name, so the wheel's own ``__init__`` and QDP layer run unmodified on it.
* ``TRT_STANDIN=on``: always serve the stand-in.
* ``TRT_STANDIN=off``: never intercept.

``TRT_STANDIN_BINDINGS=<folder>`` mounts another copy of ``tensorrt_bindings`` (for example one
extracted from the 10.15 wheel) by putting ``<folder>`` first on ``sys.path``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Optional, Sequence

NATIVE_CORE = "tensorrt_bindings.tensorrt"


class _ModuleLoader(importlib.abc.Loader):
    """Loader that hands out a module object that already exists."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        return None


class NativeCoreFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder for ``tensorrt_bindings.tensorrt`` (see module docstring)."""

    def __init__(self) -> None:
        #: Why the real core was not used (None while it was not tried or when it loaded).
        self.real_core_error: Optional[str] = None
        self.served: Optional[str] = None  # "real" or "standin" once imported

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]] = None,
        target: Optional[ModuleType] = None,
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname != NATIVE_CORE:
            return None
        mode = os.environ.get("TRT_STANDIN", "auto")
        if mode == "off":
            return None
        if mode == "auto":
            real = self._load_real(fullname, path)
            if real is not None:
                self.served = "real"
                return importlib.util.spec_from_loader(fullname, _ModuleLoader(real))
        from . import core

        self.served = "standin"
        return importlib.util.spec_from_loader(fullname, _ModuleLoader(core))

    def _load_real(
        self, fullname: str, path: Optional[Sequence[str]]
    ) -> Optional[ModuleType]:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            self.real_core_error = "tensorrt_bindings/tensorrt.so not found"
            return None
        try:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except ImportError as e:
            self.real_core_error = str(e)
            return None
        return module


def installed_finder() -> Optional[NativeCoreFinder]:
    for finder in sys.meta_path:
        if isinstance(finder, NativeCoreFinder):
            return finder
    return None


def install() -> NativeCoreFinder:
    """Put the finder first on ``sys.meta_path`` and mount ``TRT_STANDIN_BINDINGS`` (idempotent)."""
    bindings = os.environ.get("TRT_STANDIN_BINDINGS")
    if bindings and bindings not in sys.path:
        sys.path.insert(0, bindings)
    finder = installed_finder()
    if finder is None:
        finder = NativeCoreFinder()
        sys.meta_path.insert(0, finder)
    return finder


def backend() -> str:
    """Which TensorRT core this process uses: "real", "standin" or "none" (not importable)."""
    try:
        import tensorrt_bindings.tensorrt  # noqa: F401
    except ImportError:
        return "none"
    finder = installed_finder()
    if finder is not None and finder.served is not None:
        return finder.served
    return "real"
