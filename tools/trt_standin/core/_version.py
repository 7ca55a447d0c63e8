"""Which release of NVIDIA's bindings the stand-in core stands in for.

The core is served inside ``tensorrt_bindings`` (its ``__init__`` is executing when the core is
imported), so the release is read from that package's ``__init__.py``. A few names exist only in
TensorRT 10 (removed in 11: ``set_output_type``, ``BuilderFlag.FP16``, ``EXPLICIT_BATCH``...); the
core defines them only when it stands in for a 10.x binding, so that code which needs them fails
under an 11.x binding here as it would against the real one.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from typing import Optional, Tuple


def _init_file() -> Optional[str]:
    module = sys.modules.get("tensorrt_bindings")
    if module is not None and getattr(module, "__file__", None):
        return module.__file__
    spec = importlib.util.find_spec("tensorrt_bindings")
    return spec.origin if spec is not None else None


def bindings_version() -> Tuple[int, ...]:
    path = _init_file()
    if path and os.path.exists(path):
        with open(path) as f:
            m = re.search(r'^__version__\s*=\s*"([0-9.]+)"', f.read(), re.M)
        if m:
            return tuple(int(p) for p in m.group(1).split("."))
    return (11, 4, 0, 106)


VERSION = bindings_version()
#: True when standing in for a TensorRT 10 binding (names removed in TensorRT 11 exist).
TRT10 = VERSION[0] < 11
