"""Ahead-of-time plugins: the op's Triton launch as PTX, so the engine runs without Python.

For each call site the converter asks ``chooser(record)``: capture the op's body symbolically for
the call's dtypes, static sizes and attributes (``_capture``), prove the capture's size guards for
every shape the exported graph allows, compile it to PTX in TensorRT's parameter order
(``_triton_aot``) for the GPU the engine is built on, and register the variant's AOT plugin
(``"<op>__aot"``: same shape function, an ``aot_impl``, no JIT impl). Any failure keeps the call
site on the JIT plugin; the reason is logged once (INFO for the expected cases, WARNING for an
unexpected error, e.g. Triton failing to compile the kernel) and kept in ``AOTState.reasons``
(``plugin_status(op).aot_unavailable``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Optional, Sequence, Tuple

import torch
from torch.fx.node import Node

from . import _qdp, _triton_aot
from ._binding import BoundCall
from ._capture import CaptureUnavailable, CapturedLaunch, capture
from ._registry import PluginRecord
from ._symbolic import TraceKey, unproven_guards
from ._triton_aot import AOTUnavailable, CompiledKernel
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)


@dataclass
class AOTState:
    """Per plugin family: captures, compiled kernels, registered AOT variants, reasons."""

    captures: Dict[TraceKey, CapturedLaunch] = field(default_factory=dict)
    kernels: Dict[Tuple[TraceKey, int, Optional[int]], CompiledKernel] = field(default_factory=dict)
    variants: Dict[FrozenSet[str], PluginVariant] = field(default_factory=dict)
    undo: Dict[FrozenSet[str], Callable[[], None]] = field(default_factory=dict)
    #: Why call sites stay JIT: "<node or plugin id>" -> reason.
    reasons: Dict[str, str] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def state_of(record: PluginRecord) -> AOTState:
    state = record.extras.get("aot")
    if state is None:
        state = record.extras["aot"] = AOTState()
    return state


def target_capability() -> Optional[int]:
    """Compute capability (e.g. 90) of the GPU engines are built for: the current CUDA device.

    None without a CUDA device: an AOT kernel is only chosen where the engine can run it.
    """
    if not torch.cuda.is_available():
        return None
    major, minor = torch.cuda.get_device_capability()
    return int(major) * 10 + int(minor)


def _compile(record: PluginRecord, variant: PluginVariant, key: TraceKey, captured: CapturedLaunch) -> CompiledKernel:
    target = target_capability()
    if target is None:
        raise AOTUnavailable(f"{record.qualname}: no CUDA device to compile the kernel for")
    driver = _triton_aot.current_driver_version()
    state = state_of(record)
    cache_key = (key, target, driver)
    kernel = state.kernels.get(cache_key)
    if kernel is None:
        program = record.programs.get_or_trace("generate_plugin", record.spec, record.op, key)
        input_dtypes = [t.dtype for t in key.tensors if t is not None]
        kernel = _triton_aot.compile_launch(
            record.qualname, captured, input_dtypes, [o.dtype for o in program.outputs],
            target=target, driver_version=driver,
        )
        state.kernels[cache_key] = kernel
    return kernel


def aot_variant(record: PluginRecord, variant: PluginVariant) -> PluginVariant:
    """The AOT plugin of ``variant`` (registered on first use)."""
    state = state_of(record)
    with state.lock:
        existing = state.variants.get(variant.absent)
        if existing is not None:
            return existing
        aot = PluginVariant(variant.spec, variant.op, variant.absent, variant.programs, aot=True)

        def kernel_for(descs: Sequence[Any], attributes: Tuple[Any, ...]) -> Tuple[CompiledKernel, Any]:
            key = aot.trace_key([_qdp.signature_of(d) for d in descs], attributes)
            captured = state.captures.get(key)
            if captured is None:
                program = record.programs.get_or_trace("generate_plugin", record.spec, record.op, key)
                captured = capture(record.spec, key, program)
                if captured.guards:
                    raise AOTUnavailable(
                        f"{aot.plugin_id}: the captured launch holds only under size guards that were not checked"
                    )
                state.captures[key] = captured
            return _compile(record, aot, key, captured), captured.symbols

        undo = _qdp.register(
            aot, _qdp.make_register_function(aot), None, _qdp.make_aot_impl_function(aot, kernel_for)
        )
        state.variants[variant.absent] = aot
        state.undo[variant.absent] = undo
        return aot


def remove(record: PluginRecord) -> None:
    state = record.extras.get("aot")
    if state is None:
        return
    for undo in state.undo.values():
        undo()
    state.undo.clear()
    state.variants.clear()


def chooser(record: PluginRecord) -> Callable[[Any, Any, BoundCall], Optional[str]]:
    """For the converter: the AOT plugin id to use for a call site, or None for JIT."""
    from ._converter import _is_fx_constant, _is_fx_tensor, itensor_signature, node_shapes
    from ._binding import bind

    state = state_of(record)

    def choose(ctx: Any, variant: PluginVariant, call: BoundCall) -> Optional[str]:
        node: Optional[Node] = getattr(ctx, "current_node", None)
        label = node.name if node is not None else variant.plugin_id
        try:
            itensors = [t for t in call.tensors if t is not None]
            signatures = [itensor_signature(t) if hasattr(t, "shape") and not isinstance(t, torch.Tensor) else None for t in itensors]
            if any(s is None for s in signatures):
                raise AOTUnavailable(f"{record.qualname}: a tensor input is a constant, not a network tensor")
            key = variant.trace_key(signatures, call.attributes)  # type: ignore[arg-type]
            exprs: Dict[Tuple[int, int], Any] = {}
            hints: Dict[Tuple[int, int], int] = {}
            shape_env = None
            if node is not None:
                node_call = bind("generate_plugin_converter", record.spec, node.args, node.kwargs,
                                 is_tensor=_is_fx_tensor, is_constant=_is_fx_constant)
                shapes = node_shapes(node_call)
                exprs, hints, shape_env = shapes.exprs, shapes.hints, shapes.shape_env
            program = record.programs.get_or_trace("generate_plugin", record.spec, record.op, key, hints)
            with state.lock:
                captured = state.captures.get(key)
                if captured is None:
                    captured = capture(record.spec, key, program, hints)
                    if captured.guards:
                        if not exprs:
                            raise AOTUnavailable(
                                f"{record.qualname}: the launch holds only under size guards and the graph's "
                                "shape information is not available to check them"
                            )
                        launch_program = type(program)(program.outputs, captured.symbols, captured.guards)
                        unproven = unproven_guards(launch_program, exprs, shape_env)
                        if unproven:
                            raise AOTUnavailable(
                                f"{record.qualname}: the captured launch holds only when {' and '.join(unproven)}"
                            )
                    state.captures[key] = captured
            _compile(record, variant, key, captured)
            return aot_variant(record, variant).plugin_id
        except (CaptureUnavailable, AOTUnavailable) as e:
            if label not in state.reasons:
                _LOGGER.info("%s: %s stays JIT: %s", record.qualname, label, e)
            state.reasons[label] = str(e)
            return None
        except Exception as e:  # e.g. triton.compile failed: the JIT plugin still works
            reason = f"{record.qualname}: AOT compilation failed ({type(e).__name__}: {e})"
            if label not in state.reasons:
                _LOGGER.warning("%s: %s stays JIT: %s", record.qualname, label, reason)
            state.reasons[label] = reason
            return None

    return choose
