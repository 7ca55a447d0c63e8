"""The stand-in's own torch work stands for TensorRT's C++, which never sees Python's torch modes.

Real TensorRT allocates its buffers and runs its layers in C++. When Torch-TensorRT builds an engine
while a FakeTensorMode is active on the thread (its ``torch_compile`` paths), TensorRT's memory is
still real; only Python code that TensorRT calls back into (plugin callbacks) runs under the
thread's modes, because those are thread state the C++ side leaves alone. The stand-in does its
"C++" work with torch, so it must reproduce both halves: ``native()`` around its own work takes the
caller's modes off the thread, ``python_callback()`` around every call into plugin code puts them
back for that call (assumption ``callbacks-see-thread-modes``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any, Callable, Iterator, List, TypeVar, cast

from torch.utils._python_dispatch import (
    _len_torch_dispatch_stack,
    _pop_mode,
    _push_mode,
)

from ..assumptions import assumed

_SAVED = threading.local()


def _stack() -> List[List[object]]:
    stack = getattr(_SAVED, "stack", None)
    if stack is None:
        stack = _SAVED.stack = []
    return stack


@contextlib.contextmanager
def native() -> Iterator[None]:
    """Run the enclosed stand-in work without the caller's torch dispatch modes."""
    popped = [_pop_mode() for _ in range(_len_torch_dispatch_stack())]
    stack = _stack()
    # Nested native work (the builder driving the plugin host) keeps the outermost caller's modes.
    stack.append(popped if popped or not stack else stack[-1])
    try:
        yield
    finally:
        stack.pop()
        for mode in reversed(popped):
            _push_mode(mode)


@contextlib.contextmanager
def python_callback() -> Iterator[None]:
    """Call into plugin (Python) code with the caller's torch modes active again."""
    assumed("callbacks-see-thread-modes")
    stack = _stack()
    modes = stack[-1] if stack else []
    for mode in reversed(modes):
        _push_mode(mode)
    try:
        yield
    finally:
        for _ in modes:
            _pop_mode()


F = TypeVar("F", bound=Callable[..., Any])


def native_entry(fn: F) -> F:
    """Decorator: ``fn`` is an entry point into the stand-in's "C++" (runs under ``native()``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with native():
            return fn(*args, **kwargs)

    return cast(F, wrapper)
