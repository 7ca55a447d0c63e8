"""Run plugin callbacks outside any fake or dispatch mode of the calling thread.

TensorRT calls a plugin's shape, dtype, enqueue and AOT callbacks on the thread that builds or runs
the engine. Torch-TensorRT's ``torch_compile`` paths build engines while a FakeTensorMode is active
on that thread, so torch calls inside a callback would make FakeTensors of TensorRT's buffers (a
direct launch then cannot read their addresses, a copy writes into nothing). Every callback body
runs under ``callback_context()``, which switches the thread's modes off for its duration; when no
mode is active (the normal case at enqueue) it costs one C++ call.
"""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch
from torch.utils._python_dispatch import _disable_current_modes

_NULL: ContextManager[None] = contextlib.nullcontext()


def callback_context() -> ContextManager[None]:
    """A context with no torch dispatch mode (fake, functional, debug...) active on this thread."""
    if torch._C._len_torch_dispatch_stack() == 0:
        return _NULL
    return _disable_current_modes()
