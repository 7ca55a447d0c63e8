"""Direct Triton launches for the JIT implementation (no torch tensors, no allocation, no copy).

For each (attributes, input shapes) seen at enqueue, the op's body is captured once on FakeTensors
of exactly those shapes (``_capture``). If it is a single capturable launch, enqueue from then on
launches that kernel with TensorRT's buffer pointers, on TensorRT's stream, with the grid and
integer arguments the body computed for those shapes.

NOTE: [Fast launch]
The first launch of a plan goes through ``JITFunction.run`` (Triton compiles and specialises the
kernel for the arguments' dtypes, integer values and pointer alignment) and keeps the
``CompiledKernel`` it returns. Later launches with the same pointer-alignment pattern call the
compiled kernel's launcher directly, exactly as ``JITFunction.run`` does in Triton 3.4 to 3.8,
skipping Triton's argument binding and cache lookup. Triton 3.2 and 3.3 call their launcher
differently (3.2 without constexpr arguments, 3.3 with hooks on ``CompiledKernel``), so there, and
wherever the launcher rejects the call, plans use ``JITFunction.run`` for every launch. Under the Triton
interpreter (CPU), launches go through the interpreter with TensorRT's buffers viewed as tensors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ._capture import CaptureCache, CapturedLaunch, CaptureUnavailable
from ._identity import CallKey, TensorSignature
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)

Strategy = Callable[[Sequence[Any], Sequence[Any], int], None]


class _Pointer:
    """What Triton's binder needs of a tensor argument: a dtype and a data pointer."""

    __slots__ = ("_ptr", "dtype")

    def __init__(self, ptr: int, dtype: torch.dtype) -> None:
        self._ptr = int(ptr)
        self.dtype = dtype

    def data_ptr(self) -> int:
        return self._ptr


@dataclass(frozen=True)
class LaunchPlan:
    """A captured launch evaluated for concrete shapes."""

    captured: CapturedLaunch
    grid: Tuple[int, int, int]
    # Per kernel parameter: ("input", i) | ("output", i) | ("value", v)
    layout: Tuple[Tuple[str, Any], ...]
    constexprs: Tuple[Tuple[str, Any], ...]
    options: Tuple[Tuple[str, Any], ...]

    @property
    def interpreted(self) -> bool:
        return type(self.captured.kernel).__name__ == "InterpretedFunction"

    def strategy(self, runtime: Any) -> Strategy:
        return (
            _interpreted_strategy(self, runtime)
            if self.interpreted
            else _compiled_strategy(self, runtime)
        )


def plan_for(
    captured: CapturedLaunch, shapes: Sequence[Optional[Sequence[int]]]
) -> LaunchPlan:
    values = captured.values(shapes)
    grid = [captured.evaluate(g, values) for g in captured.grid] + [1, 1]
    layout: List[Tuple[str, Any]] = []
    for name, source in zip(captured.arg_names, captured.args):
        if source.kind in ("input", "output"):
            layout.append((source.kind, source.index))
        elif source.kind == "int":
            layout.append(("value", captured.evaluate(source.expr, values)))
        else:
            layout.append(("value", source.value))
    constexprs = tuple(
        (n, v)
        for n, (k, v) in zip(captured.arg_names, layout)
        if n in captured.constexpr_names
    )
    return LaunchPlan(
        captured,
        (grid[0], grid[1], grid[2]),
        tuple(layout),
        constexprs,
        captured.options,
    )


def _interpreted_strategy(plan: LaunchPlan, runtime: Any) -> Strategy:
    kernel = plan.captured.kernel
    names = plan.captured.arg_names
    options = dict(plan.options)

    def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
        args = []
        for kind, value in plan.layout:
            if kind == "input":
                args.append(runtime.as_torch(inputs[value]))
            elif kind == "output":
                args.append(runtime.as_torch(outputs[value]))
            else:
                args.append(value)
        kernel[plan.grid](**dict(zip(names, args)), **options)

    return run


def _compiled_strategy(plan: LaunchPlan, runtime: Any) -> Strategy:
    try:
        from triton import knobs
    except (
        ImportError
    ):  # Triton < 3.4: another launcher convention, always use JITFunction.run
        knobs = None

    kernel = plan.captured.kernel
    names = plan.captured.arg_names
    options = dict(plan.options)
    layout = plan.layout
    g0, g1, g2 = plan.grid
    # Where TensorRT's pointers go in the argument list; everything else is fixed for the plan.
    template = [value if kind == "value" else 0 for kind, value in layout]
    input_slots = [
        (position, value)
        for position, (kind, value) in enumerate(layout)
        if kind == "input"
    ]
    output_slots = [
        (position, value)
        for position, (kind, value) in enumerate(layout)
        if kind == "output"
    ]
    state: Dict[str, Any] = {
        "compiled": None,
        "pointers": None,
        "fast": knobs is not None,
        "direct": 0,
        "dispatched": 0,
    }

    def slow(
        inputs: Sequence[Any], outputs: Sequence[Any], stream: int, values: List[Any]
    ) -> Any:
        args = list(values)
        for position, index in input_slots:
            args[position] = _Pointer(
                values[position], runtime.torch_dtype(inputs[index])
            )
        for position, index in output_slots:
            args[position] = _Pointer(
                values[position], runtime.torch_dtype(outputs[index])
            )
        with runtime.stream_context(stream):
            return kernel.run(
                grid=plan.grid, warmup=False, **dict(zip(names, args)), **options
            )

    def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
        values = list(template)
        for position, index in input_slots:
            values[position] = inputs[index].data_ptr
        for position, index in output_slots:
            values[position] = outputs[index].data_ptr
        pointers = tuple(values[p] for p, _ in input_slots) + tuple(
            values[p] for p, _ in output_slots
        )
        compiled = state["compiled"]
        if compiled is not None and state["fast"]:
            # Same specialisation as the compiling launch: same pointer alignment (16 bytes).
            if pointers == state["pointers"] or all(
                (p & 15 == 0) == a for p, a in zip(pointers, state["alignment"])
            ):
                try:
                    # Exactly the call JITFunction.run makes once it has found the kernel.
                    runtime_knobs = knobs.runtime
                    metadata = compiled.launch_metadata(plan.grid, stream, *values)
                    compiled.run(
                        g0,
                        g1,
                        g2,
                        stream,
                        compiled.function,
                        compiled.packed_metadata,
                        metadata,
                        runtime_knobs.launch_enter_hook,
                        runtime_knobs.launch_exit_hook,
                        *values,
                    )
                    state["pointers"] = pointers
                    state["direct"] += 1
                    return
                except (
                    TypeError
                ) as e:  # another Triton launcher convention: stop trying
                    state["fast"] = False
                    _LOGGER.debug(
                        "direct Triton launcher call not supported (%s); using JITFunction.run",
                        e,
                    )
        compiled = slow(inputs, outputs, stream, values)
        state["dispatched"] += 1
        if state["compiled"] is None and compiled is not None:
            state["compiled"] = compiled
            state["pointers"] = pointers
            state["alignment"] = tuple(p & 15 == 0 for p in pointers)

    run.stats = state  # type: ignore[attr-defined]  # launches taken directly vs through JITFunction.run
    return run


class LaunchPlans:
    """Launch plans of one plugin family: captures (shared ``CaptureCache``) evaluated per shape."""

    def __init__(self, captures: CaptureCache) -> None:
        self.captures = captures
        #: Why a direct launch is not used, per plugin id (latest reason).
        self.reasons: Dict[str, str] = {}

    def plan(
        self,
        variant: PluginVariant,
        key: CallKey,
        program: Any,
        shapes: Tuple[Tuple[int, ...], ...],
    ) -> Optional[LaunchPlan]:
        """The launch for these concrete shapes, from the capture of the key they belong to.

        The capture is symbolic in the key's dynamic sizes; when its own guards (Python branches on
        sizes in the op's body) do not hold for these shapes, the body is captured again for exactly
        these shapes.
        """
        slots = variant.tensor_slots()
        all_shapes = [None if s is None else shapes[s] for s in slots]
        captured = self._capture(variant, key, program)
        if captured is not None and not _holds(captured, all_shapes):
            exact = key.with_tensors(
                [None if t is None else TensorSignature(t.dtype, tuple(s)) for t, s in zip(key.tensors, all_shapes)]  # type: ignore[arg-type]
            )
            exact_program = variant.programs.get_or_trace(
                "generate_plugin", variant.spec, variant.op, exact
            )
            captured = self._capture(variant, exact, exact_program)
        return None if captured is None else plan_for(captured, all_shapes)

    def _capture(
        self, variant: PluginVariant, key: CallKey, program: Any
    ) -> Optional[CapturedLaunch]:
        try:
            captured = self.captures.get(key, program)
            if captured.scratch:
                raise CaptureUnavailable(scratch_reason(variant.spec.display, captured))
            if captured.alternatives:
                raise CaptureUnavailable(
                    autotune_reason(variant.spec.display, captured)
                )
            return captured
        except CaptureUnavailable as e:
            if self.reasons.get(variant.plugin_id) != str(e):
                self.reasons[variant.plugin_id] = str(e)
                _LOGGER.info("%s: no direct Triton launch: %s", variant.plugin_id, e)
            return None


def autotune_reason(op: str, captured: CapturedLaunch) -> str:
    """Why the JIT plugin runs an autotuned op instead of launching one config itself."""
    return (
        f"{op}: the body launches triton.autotune over {len(captured.alternatives)} configs; the JIT "
        "plugin runs the op, where Triton's autotuner picks the config (tuned once per key), and the "
        "AOT plugin offers each config as a TensorRT tactic"
    )


def scratch_reason(op: str, captured: CapturedLaunch) -> str:
    """Why the JIT plugin does not launch a kernel that writes scratch tensors itself."""
    names = [
        name
        for name, source in zip(captured.arg_names, captured.args)
        if source.kind == "scratch"
    ]
    return (
        f"{op}: the kernel writes scratch tensors the op does not return ({', '.join(names)}); the JIT "
        "plugin runs the op, the AOT plugin passes them as hidden outputs"
    )


def _holds(captured: CapturedLaunch, shapes: Sequence[Optional[Sequence[int]]]) -> bool:
    if not captured.guards:
        return True
    values = captured.values(shapes)
    return all(bool(g.xreplace(values)) for g in captured.guards)
