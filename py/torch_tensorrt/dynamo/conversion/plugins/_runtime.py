"""The JIT implementation: run the op for TensorRT's ``enqueue``, on TensorRT's stream.

For each (attributes, input shapes) the runtime picks once, then reuses, the cheapest way to get
the op's result into TensorRT's output buffers:

1. a captured Triton launch (``_capture``): when the op's body is a single Triton kernel launch,
   the kernel is launched directly with TensorRT's buffer pointers; nothing is allocated or copied;
2. the op's ``out=`` overload, called with TensorRT's output buffers as ``out``;
3. otherwise the op is called and its results are copied into TensorRT's output buffers (one
   allocation and one device copy per output per call; logged once per op at INFO).

Shape guards recorded when the fake kernel was traced are checked against the actual shapes
first: a plugin must never fill a buffer whose shape it computed wrongly.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from . import _attributes, _buffers, _dtypes
from ._symbolic import _call_arguments
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)

#: How one (attributes, shapes) combination is executed: (inputs, outputs, stream) -> None.
Strategy = Callable[[Sequence[Any], Sequence[Any], int], None]


class PluginRuntimeError(RuntimeError):
    """The op cannot run correctly for the shapes TensorRT gave (see message)."""


class JitRuntime:
    """Callable given to QDP's impl: ``runtime(inputs, raw_attributes, outputs, stream)``."""

    def __init__(self, variant: PluginVariant, plans: Optional[Any] = None) -> None:
        self.variant = variant
        self._plans = plans  # _capture.LaunchPlans, or None to never use direct launches
        self._decoded: Dict[Tuple[Any, ...], Tuple[Any, ...]] = {}
        self._strategies: Dict[Tuple[Any, ...], Strategy] = {}
        self._streams: Dict[Tuple[int, int], Any] = {}
        self._lock = threading.Lock()
        self._copy_logged = False
        packet = getattr(getattr(torch.ops, variant.spec.namespace), variant.spec.name)
        self._out_overload = getattr(packet, "out", None) if variant.spec.num_outputs == 1 else None
        #: Strategy names chosen so far (for tests and logs): key -> "launch" | "out" | "copy".
        self.chosen: Dict[Tuple[Any, ...], str] = {}

    # -- entry point ------------------------------------------------------------------------
    def __call__(self, inputs: Sequence[Any], raw_attributes: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
        attributes = self._decode(raw_attributes)
        shapes = tuple(tuple(t.shape) for t in inputs)
        key = (attributes, shapes)
        strategy = self._strategies.get(key)
        if strategy is None:
            strategy = self._choose(key, attributes, shapes, inputs)
        strategy(inputs, outputs, stream)

    def _decode(self, raw_attributes: Sequence[Any]) -> Tuple[Any, ...]:
        cache_key = tuple(r.tobytes() if hasattr(r, "tobytes") else r for r in raw_attributes)
        decoded = self._decoded.get(cache_key)
        if decoded is None:
            decoded = _attributes.decode_all(self.variant.attributes, raw_attributes)
            self._decoded[cache_key] = decoded
        return decoded

    # -- choosing a strategy ----------------------------------------------------------------
    def _choose(self, key: Tuple[Any, ...], attributes: Tuple[Any, ...], shapes: Tuple[Tuple[int, ...], ...], inputs: Sequence[Any]) -> Strategy:
        with self._lock:
            if key in self._strategies:
                return self._strategies[key]
            self._check_guards(attributes, shapes, inputs)
            strategy: Optional[Strategy] = None
            name = "copy"
            if self._plans is not None:
                plan = self._plans.for_shapes(self.variant, attributes, shapes, [_dtypes.to_torch(t.dtype) for t in inputs])
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
            self._strategies[key] = strategy
            self.chosen[key] = name
            return strategy

    def _check_guards(self, attributes: Tuple[Any, ...], shapes: Tuple[Tuple[int, ...], ...], inputs: Sequence[Any]) -> None:
        dtypes = [_dtypes.to_torch(t.dtype) for t in inputs]
        slots = self.variant.tensor_slots()
        all_dtypes = tuple(None if s is None else dtypes[s] for s in slots)
        all_ranks = tuple(None if s is None else len(shapes[s]) for s in slots)
        program = self.variant.programs.any_with(self.variant.op_name, all_dtypes, all_ranks, attributes)
        if program is None:
            return
        all_shapes = [None if s is None else shapes[s] for s in slots]
        violated = program.violated_guard(all_shapes)
        if violated is not None:
            raise PluginRuntimeError(
                f"{self.variant.plugin_id}: the fake kernel's shape formula holds only when {violated}, "
                f"which the input shapes {list(shapes)} break; the engine would compute wrong output shapes. "
                "Rebuild with an optimization profile that keeps this condition, or make the fake kernel general."
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
            s = self._streams[key] = torch.cuda.ExternalStream(int(stream), device=device)
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
