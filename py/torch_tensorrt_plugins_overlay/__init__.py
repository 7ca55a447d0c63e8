"""Serve ``torch_tensorrt.dynamo.conversion.plugins`` from this checkout on top of a released torch_tensorrt.

NOTE: [How the overlay works]
This project replaces one package of Torch-TensorRT, ``torch_tensorrt.dynamo.conversion.plugins``,
and nothing else. The released package (full or python-only) stays installed as it is. Installing
this project (``pip install .``) adds this small module and ``torch_tensorrt_plugins_overlay.pth`` to
site-packages, with the checkout's location recorded in ``_checkout.py``; Python runs the .pth at
start-up, and it puts one meta-path finder in front of the normal ones. That finder
answers for exactly one module name, the plugins package, with a spec whose file and
``submodule_search_locations`` are this checkout's ``py/torch_tensorrt/dynamo/conversion/plugins``.
Submodules (``._custom_op``, ``._schema``...) are then found through the package's ``__path__`` by
the ordinary path finder, so they come from the checkout too. Upstream modules that import the
plugins package while ``torch_tensorrt`` loads (``dynamo/conversion/__init__.py``,
``kernels/_register.py``) therefore get this project's code, and upstream's own copy is never
imported.

Set ``TORCH_TRT_PLUGINS_OVERLAY=0`` to start an interpreter without the overlay (upstream's module
is then used), e.g. to compare against it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Optional, Sequence

PACKAGE = "torch_tensorrt.dynamo.conversion.plugins"

try:
    # Written by setup.py when the overlay is installed: the checkout's py/ folder.
    from ._checkout import PY_ROOT
except ImportError:  # running from the source tree itself
    PY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The checkout's copy of the plugins package (py/torch_tensorrt/dynamo/conversion/plugins).
PLUGINS_DIR = os.path.join(PY_ROOT, *PACKAGE.split("."))


class PluginsOverlayFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that resolves the plugins package to ``plugins_dir``."""

    def __init__(self, plugins_dir: str = PLUGINS_DIR) -> None:
        self.plugins_dir = plugins_dir

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]] = None,
        target: Optional[ModuleType] = None,
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname != PACKAGE:
            return None
        return importlib.util.spec_from_file_location(
            fullname,
            os.path.join(self.plugins_dir, "__init__.py"),
            submodule_search_locations=[self.plugins_dir],
        )

    def __repr__(self) -> str:
        return f"PluginsOverlayFinder({self.plugins_dir!r})"


def installed_finder() -> Optional[PluginsOverlayFinder]:
    """The overlay finder on ``sys.meta_path``, if any."""
    for finder in sys.meta_path:
        if isinstance(finder, PluginsOverlayFinder):
            return finder
    return None


def install() -> Optional[PluginsOverlayFinder]:
    """Put the overlay finder first on ``sys.meta_path`` (idempotent).

    Returns the finder, or None when ``TORCH_TRT_PLUGINS_OVERLAY=0`` switches the overlay off.
    """
    if os.environ.get("TORCH_TRT_PLUGINS_OVERLAY", "1") == "0":
        return None
    finder = installed_finder()
    if finder is None:
        finder = PluginsOverlayFinder()
        sys.meta_path.insert(0, finder)
    return finder
