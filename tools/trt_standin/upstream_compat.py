"""Adjustments of released Torch-TensorRT to the stand-in (tests only; never imported by the library).

torch_tensorrt 2.11 switches Quick Deployable Plugins off for TensorRT 10.14 and 10.15 by version
string (``_features.py``: "there is a bug in tensorrt 10.14.* and 10.15.*"), which is the TensorRT
it requires. The bug lives in the native library; the stand-in has none. The GPU machine runs torch
2.11, hence torch_tensorrt 2.11 on the stand-in with bindings 10.15 (2.11 needs names TensorRT 11
removed), and the tests switch the flag back on there.
"""

from __future__ import annotations

import importlib.util


def reenable_qdp_on_standin() -> bool:
    """Turn torch_tensorrt's qdp_plugin feature on if only its version check turned it off."""
    import trt_standin
    from torch_tensorrt import _features

    if trt_standin.backend() != "standin" or _features.ENABLED_FEATURES.qdp_plugin:
        return False
    if importlib.util.find_spec("tensorrt.plugin") is None:
        return False
    _features.ENABLED_FEATURES = _features.ENABLED_FEATURES._replace(qdp_plugin=True)
    import torch_tensorrt

    # 2.11 also binds the tuple in the package namespace at import (torch_tensorrt.ENABLED_FEATURES),
    # which upstream's own tests and tutorials read.
    if hasattr(torch_tensorrt, "ENABLED_FEATURES"):
        torch_tensorrt.ENABLED_FEATURES = _features.ENABLED_FEATURES
    return True
