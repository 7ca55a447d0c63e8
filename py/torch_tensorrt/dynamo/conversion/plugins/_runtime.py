"""The JIT implementation: run the op for TensorRT's ``enqueue``, on TensorRT's stream.

For each (attributes, input shapes) the runtime picks once, then reuses, the cheapest way to get
the op's result into TensorRT's output buffers:

1. a captured Triton launch (``_capture``): when the op's body is a single Triton kernel launch,
   the kernel is launched directly with TensorRT's buffer pointers; nothing is allocated or copied;
2. the op's ``out=`` overload, called with TensorRT's output buffers as ``out``;
3. otherwise the op is called and its results are copied into TensorRT's output buffers (one
   allocation and one device copy per output per call; logged once per op at INFO).

Before the first run for given shapes, the output shapes TensorRT evaluated are compared with the
fake kernel's for exactly those shapes: a plugin must never fill a buffer whose shape is wrong.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from . import _attributes, _buffers, _dtypes
from ._symbolic import TensorSignature, _call_arguments
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)

#: How one (attributes, shapes) combination is executed: (inputs, outputs, stream) -> None.
Strategy = Callable[[Sequence[Any], Sequence[Any], int], None]


class PluginRuntimeError(RuntimeError):
    """The op cannot run correctly for the shapes TensorRT gave (see message)."""


def out_overload_for(variant: PluginVariant) -> Optional[torch._ops.OpOverload]:
    """The op's ``out=`` overload if TensorRT's output buffer can be passed to it, else None.

    Usable only when the op has one output and ``ns::op.out`` takes exactly the default overload's
    arguments (same names and types, in order) plus one keyword-only ``Tensor(a!) out``. Any other
    ``out`` overload is ignored (with a DEBUG log line saying why) and the copy strategy is used.
    """
    spec = variant.spec
    packet = getattr(getattr(torch.ops, spec.namespace), spec.name)
    if spec.num_outputs != 1 or "out" not in packet.overloads():
        return None
    overload: torch._ops.OpOverload = packet.out
    base = [(a.name, str(a.type), a.kwarg_only) for a in variant.op._schema.arguments]
    args = list(overload._schema.arguments)
    last = args[-1] if args else None
    fits = (
        last is not None
        and last.name == "out"
        and last.kwarg_only
        and str(last.type) == "Tensor"
        and last.alias_info is not None
        and last.alias_info.is_write
        and [(a.name, str(a.type), a.kwarg_only) for a in args[:-1]] == base
    )
    if not fits:
        _LOGGER.debug(
            "%s: ignoring %s (expected the default overload's arguments plus '*, Tensor(a!) out'); "
            "enqueue will copy the op's result instead", variant.plugin_id, overload._schema,
        )
        return None
    return overload


class JitRuntime:
    """Callable given to QDP's impl: ``runtime(inputs, raw_attributes, outputs, stream)``."""

    MAX_STRATEGIES = 1024

    def __init__(self, variant: PluginVariant, plans: Optional[Any] = None) -> None:
        self.variant = variant
        self._plans = plans  # _capture.LaunchPlans, or None to never use direct launches
        self._decoded: Dict[Tuple[Any, ...], Tuple[Any, ...]] = {}
        self._last_raw: Optional[Tuple[Tuple[Any, ...], Tuple[Any, ...]]] = None
        self._strategies: Dict[Tuple[Any, ...], Strategy] = {}
        self._streams: Dict[Tuple[int, int], Any] = {}
        self._lock = threading.Lock()
        self._copy_logged = False
        self._out_overload = out_overload_for(variant)
        #: Strategy names chosen so far (for tests and logs): key -> "launch" | "out" | "copy".
        self.chosen: Dict[Tuple[Any, ...], str] = {}

    # -- entry point ------------------------------------------------------------------------
    def __call__(self, inputs: Sequence[Any], raw_attributes: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
        attributes = self._decode(raw_attributes)
        shapes = tuple(tuple(t.shape) for t in inputs)
        key = (attributes, shapes)
        strategy = self._strategies.get(key)
        if strategy is None:
            strategy = self._choose(key, attributes, shapes, inputs, outputs)
        strategy(inputs, outputs, stream)

    def _decode(self, raw_attributes: Sequence[Any]) -> Tuple[Any, ...]:
        # QDP passes the same attribute objects on every enqueue of a plugin: check identity first.
        last = self._last_raw
        if last is not None and len(last[0]) == len(raw_attributes) and all(a is b for a, b in zip(last[0], raw_attributes)):
            return last[1]
        cache_key = tuple(r.tobytes() if hasattr(r, "tobytes") else r for r in raw_attributes)
        decoded = self._decoded.get(cache_key)
        if decoded is None:
            decoded = _attributes.decode_all(self.variant.attributes, raw_attributes)
            self._decoded[cache_key] = decoded
        self._last_raw = (tuple(raw_attributes), decoded)
        return decoded

    # -- choosing a strategy ----------------------------------------------------------------
    def _choose(
        self, key: Tuple[Any, ...], attributes: Tuple[Any, ...], shapes: Tuple[Tuple[int, ...], ...],
        inputs: Sequence[Any], outputs: Sequence[Any],
    ) -> Strategy:
        with self._lock:
            if key in self._strategies:
                return self._strategies[key]
            dtypes = [_dtypes.to_torch(t.dtype) for t in inputs]
            trace_key, program = self._program_for(attributes, shapes, dtypes)
            self._check_shapes(program, shapes, outputs)
            strategy: Optional[Strategy] = None
            name = "copy"
            if self._plans is not None:
                plan = self._plans.plan(self.variant, trace_key, program, shapes)
                if plan is not None:
                    strategy, name = plan.strategy(self), "launch"
            if strategy is None and self._out_overload is not None:
                strategy, name = self._out_strategy(attributes), "out"
            if strategy is None:
                strategy = self._copy_strategy(attributes)
                if not self._copy_logged:
                    self._copy_logged = True
                    _LOGGER.info(
                        "%s: TensorRT enqueue runs the op and copies its outputs into TensorRT's buffers "
                        "(no single captured Triton launch and no out= overload)", self.variant.plugin_id,
                    )
            if len(self._strategies) >= self.MAX_STRATEGIES:  # bounded for workloads with many shapes
                oldest = next(iter(self._strategies))
                del self._strategies[oldest]
                self.chosen.pop(oldest, None)
            self._strategies[key] = strategy
            self.chosen[key] = name
            return strategy

    def _program_for(
        self, attributes: Tuple[Any, ...], shapes: Tuple[Tuple[int, ...], ...], dtypes: Sequence[torch.dtype]
    ) -> Tuple[Any, Any]:
        """(trace key, program) covering these concrete shapes: a cached one whose static sizes and
        guards fit (normally the one the engine was built from), else a trace for exactly them."""
        slots = self.variant.tensor_slots()
        all_shapes = [None if s is None else shapes[s] for s in slots]
        all_dtypes = tuple(None if s is None else dtypes[s] for s in slots)
        found = self.variant.programs.matching(self.variant.op_name, attributes, all_dtypes, all_shapes)
        if found is not None:
            return found
        key = self.variant.trace_key([TensorSignature(dt, tuple(s)) for dt, s in zip(dtypes, shapes)], attributes)
        return key, self.variant.programs.get_or_trace("generate_plugin", self.variant.spec, self.variant.op, key)

    def _check_shapes(self, program: Any, shapes: Tuple[Tuple[int, ...], ...], outputs: Sequence[Any]) -> None:
        """TensorRT's output buffers must have the shapes the fake kernel gives for these inputs.

        Once per (attributes, shapes): ``program`` covers these shapes (its guards hold for them),
        so its output shapes are the fake kernel's; TensorRT's must equal them.
        """
        slots = self.variant.tensor_slots()
        expected = program.concrete_shapes([None if s is None else shapes[s] for s in slots])
        got = tuple(tuple(int(d) for d in o.shape) for o in outputs)
        if tuple(expected) != got:
            raise PluginRuntimeError(
                f"{self.variant.plugin_id}: TensorRT computed output shapes {list(got)} for input shapes "
                f"{list(shapes)}, but the fake kernel gives {list(expected)} for them; the engine's shape "
                "formula does not hold for these sizes. Rebuild with an optimization profile whose sizes "
                "satisfy the fake kernel's conditions, or make the fake kernel general."
            )

    # -- strategies -------------------------------------------------------------------------
    def device(self) -> torch.device:
        return _buffers.trt_device()

    def as_torch(self, t: Any) -> torch.Tensor:
        return _buffers.trt_tensor_as_torch(t, _dtypes.to_torch(t.dtype), self.device())

    @staticmethod
    def torch_dtype(t: Any) -> torch.dtype:
        return _dtypes.to_torch(t.dtype)

    def stream_context(self, stream: int) -> Any:
        """Context that makes torch work on TensorRT's stream (a no-op off CUDA)."""
        device = self.device()
        if device.type != "cuda":
            return _NullContext()
        key = (device.index or 0, int(stream))
        s = self._streams.get(key)
        if s is None:
            s = self._streams[key] = torch.cuda.ExternalStream(int(stream), device=device)  # type: ignore[no-untyped-call]
        return torch.cuda.stream(s)

    def _call_op(self, attributes: Tuple[Any, ...], inputs: Sequence[Any], **extra: Any) -> Any:
        tensors: List[Optional[torch.Tensor]] = []
        it = iter(inputs)
        for slot in self.variant.tensor_slots():
            tensors.append(None if slot is None else self.as_torch(next(it)))
        args, kwargs = _call_arguments(self.variant.spec, tensors, attributes)
        kwargs.update(extra)
        return args, kwargs

    def _out_strategy(self, attributes: Tuple[Any, ...]) -> Strategy:
        out_overload = self._out_overload
        assert out_overload is not None

        def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
            with self.stream_context(stream):
                args, kwargs = self._call_op(attributes, inputs, out=self.as_torch(outputs[0]))
                out_overload(*args, **kwargs)

        return run

    def _copy_strategy(self, attributes: Tuple[Any, ...]) -> Strategy:
        op = self.variant.op
        n_out = self.variant.spec.num_outputs

        def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
            with self.stream_context(stream):
                args, kwargs = self._call_op(attributes, inputs)
                result = op(*args, **kwargs)
                results = result if n_out > 1 else (result,)
                for dst, src in zip(outputs, results):
                    self.as_torch(dst).copy_(src)

        return run


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None
