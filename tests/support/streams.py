"""Diagnostics for checks of a plugin's output enqueued directly through the stand-in's host.

On the H200 (8 xdist workers) such checks have intermittently found the output unwritten while
engine-level checks in the same test passed; it never reproduced alone. ``assert_written`` is
``torch.testing.assert_close`` that, on a mismatch, adds the thread's stream and mode state and
whether the values match once the device is synchronised (an ordering race) or still not (the
buffer was never written), so the next failure says which.
"""

from typing import Any

import torch


def state() -> str:
    """The calling thread's CUDA stream, capture and dispatch-mode state, in words."""
    parts = [f"dispatch modes on the stack: {torch._C._len_torch_dispatch_stack()}"]
    try:
        from trt_standin.core import _native

        parts.append(f"stand-in saved mode frames: {len(_native._stack())}")
    except ImportError:  # pragma: no cover - the stand-in is always there in tests
        pass
    if torch.cuda.is_available():
        current, default = torch.cuda.current_stream(), torch.cuda.default_stream()
        parts += [
            f"current stream {current.cuda_stream:#x} (default {default.cuda_stream:#x})",
            f"capturing: {torch.cuda.is_current_stream_capturing()}",
        ]
    return "; ".join(parts)


def assert_written(got: Any, expected: Any, **kwargs: Any) -> None:
    try:
        torch.testing.assert_close(got, expected, **kwargs)
    except AssertionError as first:
        before = state()
        after = "no device to synchronise"
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            try:
                torch.testing.assert_close(got, expected, **kwargs)
                after = "values MATCH after torch.cuda.synchronize() (an ordering race)"
            except AssertionError:
                after = (
                    "values still differ after torch.cuda.synchronize() (never written)"
                )
        raise AssertionError(f"{first}\n[{before}] {after}") from None
