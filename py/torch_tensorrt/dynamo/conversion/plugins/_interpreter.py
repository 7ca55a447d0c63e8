"""The Torch-TensorRT interpreter a converter runs under, and the FX node it is converting.

Converters receive a ConversionContext; from Torch-TensorRT 2.13 on it carries ``current_node``,
in 2.11 only the interpreter knows it (``_cur_node``). Both are found here, the interpreter by
walking the call stack (converters have no other handle on it), so that every version gets the
node's shape information (hints, ranges) for the plugin's call identity.
"""

from __future__ import annotations

import sys
from typing import Any, Optional, Tuple

from torch.fx.node import Node

#: Torch-TensorRT functions that re-run converters to refit a cached engine.
_REFIT_FUNCTIONS = ("construct_refit_mapping", "_refit_single_trt_engine_with_gm")


def current() -> Tuple[Any, bool]:
    """(the TRTInterpreter converting now or None, whether it refits a cached engine)."""
    try:
        from torch_tensorrt.dynamo.conversion._TRTInterpreter import TRTInterpreter
    except ImportError:  # pragma: no cover - every supported Torch-TensorRT has it
        return None, False
    frame = sys._getframe(1)
    interpreter = None
    refit = False
    while frame is not None:
        if interpreter is None:
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, TRTInterpreter):
                interpreter = candidate
        if frame.f_code.co_name in _REFIT_FUNCTIONS:
            refit = True
        frame = frame.f_back  # type: ignore[assignment]
    return interpreter, refit


def current_node(ctx: Any) -> Optional[Node]:
    """The FX node being converted: ``ctx.current_node`` (2.13+), else the interpreter's."""
    node = getattr(ctx, "current_node", None)
    if isinstance(node, Node):
        return node
    interpreter, _ = current()
    node = getattr(interpreter, "_cur_node", None)
    return node if isinstance(node, Node) else None
