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

from . import _dtypes
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
    #: For a ``triton.autotune`` kernel: the plan of each config (see NOTE [Autotuned JIT launch]).
    alternatives: Tuple["LaunchPlan", ...] = ()
    #: The shapes of the op's tensor arguments the plan was made for (None: absent).
    shapes: Tuple[Optional[Tuple[int, ...]], ...] = ()

    @property
    def interpreted(self) -> bool:
        kernel = self.captured.kernel
        if self.alternatives:
            kernel = self.alternatives[0].captured.kernel
        return type(kernel).__name__ == "InterpretedFunction"

    def strategy(self, runtime: Any) -> Strategy:
        if self.alternatives:
            return _autotuned_strategy(self, runtime)
        return (
            _interpreted_strategy(self, runtime)
            if self.interpreted
            else _compiled_strategy(self, runtime)
        )


def plan_for(
    captured: CapturedLaunch,
    shapes: Sequence[Optional[Sequence[int]]],
    num_outputs: int = 0,
) -> LaunchPlan:
    """The launch of ``captured`` for these shapes (scratch tensor ``i`` is plugin output
    ``num_outputs + i``: the hidden outputs follow the op's own, NOTE [Scratch tensors]).
    """
    values = captured.values(shapes)
    grid = [captured.evaluate(g, values) for g in captured.grid] + [1, 1]
    layout: List[Tuple[str, Any]] = []
    for name, source in zip(captured.arg_names, captured.args):
        if source.kind in ("input", "output"):
            layout.append((source.kind, source.index))
        elif source.kind == "scratch":
            layout.append(("output", num_outputs + source.index))
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
        tuple(plan_for(a, shapes, num_outputs) for a in captured.alternatives),
        tuple(None if s is None else tuple(int(d) for d in s) for s in shapes),
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


# NOTE: [Autotuned JIT launch]
# For a ``triton.autotune`` kernel the config is Triton's own autotuner's pick, not ours: the first
# launch of a plan goes through the autotuner (``Autotuner.run``), which looks the shape up in its
# own cache and benchmarks its configs only when the shape is new to it, then launches the best
# one. Its ``best_config`` names the config; every later launch of the plan is that config's
# direct launch (NOTE [Fast launch]), so TensorRT's enqueue never tunes again. The grid given to
# the autotuner maps each config to the grid the body computed for it. Where the pick cannot be
# told (the autotuner's config list changed since the capture), launches keep going through the
# autotuner: correct, slower, and said once at INFO.


def _autotuned_strategy(plan: LaunchPlan, runtime: Any) -> Strategy:
    tuner = plan.captured.kernel
    configs = list(tuner.configs)
    # What any config sets comes from the autotuner, not from the launch.
    set_by_config = set().union(*(c.all_kwargs() for c in configs))
    names = [n for n in plan.captured.arg_names if n not in set_by_config]
    layout = [
        entry
        for n, entry in zip(plan.captured.arg_names, plan.layout)
        if n not in set_by_config
    ]
    options = {k: v for k, v in plan.options if k not in set_by_config}
    # Each captured config's grid, found by that config's own constexpr values.
    grids = [
        ({n: v for n, v in a.constexprs if n in set_by_config}, a.grid)
        for a in plan.alternatives
    ]

    def grid(meta: Dict[str, Any]) -> Tuple[int, int, int]:
        for kwargs, g in grids:
            if all(meta.get(k) == v for k, v in kwargs.items()):
                return g
        raise RuntimeError(
            f"{tuner}: the autotuner launched a config that was not captured"
        )

    state: Dict[str, Any] = {"run": None}

    def through_autotuner(
        inputs: Sequence[Any], outputs: Sequence[Any], stream: int
    ) -> None:
        args = []
        for kind, value in layout:
            if kind == "value":
                args.append(value)
                continue
            buffer = inputs[value] if kind == "input" else outputs[value]
            args.append(
                runtime.as_torch(buffer)
                if plan.interpreted
                else _Pointer(buffer.data_ptr, runtime.torch_dtype(buffer))
            )
        named = dict(zip(names, args))
        with runtime.stream_context(stream):
            if not _tuned_already(tuner, named) and runtime.capturing():
                raise CaptureUnsafe(
                    f"the first enqueue of input shapes {plan_shapes(plan)} would run Triton's "
                    f"autotuner for {getattr(tuner.base_fn, '__name__', tuner)} (it benchmarks "
                    "its configs, which a CUDA graph capture forbids). Run the compiled module "
                    "once for these shapes before capturing (for "
                    "torch_tensorrt.runtime.enable_cudagraphs: call it once outside the "
                    "context), or compile with use_aot_if_available=True, where TensorRT "
                    "times the configs while building"
                )
            tuner.run(grid=grid, warmup=False, **named, **options)

    def run(inputs: Sequence[Any], outputs: Sequence[Any], stream: int) -> None:
        chosen = state["run"]
        if chosen is not None:
            chosen(inputs, outputs, stream)
            return
        through_autotuner(inputs, outputs, stream)
        index = _picked_config(tuner, configs, len(plan.alternatives))
        if index is None:
            _LOGGER.info(
                "%s: cannot tell which config Triton's autotuner picked; launching through it",
                getattr(tuner.base_fn, "__name__", tuner),
            )
            state["run"] = through_autotuner
        else:
            state["run"] = plan.alternatives[index].strategy(runtime)
            state["config"] = index

    run.stats = state  # type: ignore[attr-defined]  # the config index chosen ("config")
    return run


def _picked_config(tuner: Any, configs: Sequence[Any], count: int) -> Optional[int]:
    """Index of the autotuner's ``best_config`` in the captured config list (None if unknown)."""
    best = getattr(tuner, "best_config", None)
    if best is None or list(tuner.configs) != list(configs) or len(configs) != count:
        return None
    for i, c in enumerate(configs):
        if c is best:
            return i
    matches = [i for i, c in enumerate(configs) if _same_config(c, best)]
    return matches[0] if len(matches) == 1 else None


def _tuned_already(tuner: Any, named: Dict[str, Any]) -> bool:
    """Whether Triton's autotuner has a pick for these arguments in its cache (so ``run`` launches
    without benchmarking), by the key Triton 3.2-3.6 compute: the ``key`` arguments' values, then
    the dtypes of the arguments that have one. False when unsure."""
    if len(tuner.configs) <= 1:
        return True
    try:
        key = [named[k] for k in tuner.keys if k in named]
        key += [str(v.dtype) for k, v in named.items() if hasattr(v, "dtype")]
        return tuple(key) in tuner.cache
    except Exception:
        return False


def plan_shapes(plan: LaunchPlan) -> str:
    return ", ".join(str(s) for s in plan.shapes if s is not None)


class CaptureUnsafe(RuntimeError):
    """What an enqueue would have to do cannot happen inside a CUDA graph capture."""


def _same_config(a: Any, b: Any) -> bool:
    return bool(a.all_kwargs() == b.all_kwargs())


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
        outputs: Sequence[Any] = (),
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
        if captured is None:
            return None
        plan = plan_for(captured, all_shapes, variant.spec.num_outputs)
        misfit = _scratch_misfit(variant, captured, all_shapes, outputs)
        if misfit is not None:
            self._unavailable(variant, misfit)
            return None
        return plan

    def _capture(
        self, variant: PluginVariant, key: CallKey, program: Any
    ) -> Optional[CapturedLaunch]:
        try:
            captured: CapturedLaunch = self.captures.get(key, program)
            if len(captured.scratch) != variant.hidden_outputs:
                raise CaptureUnavailable(scratch_reason(variant, captured))
            return captured
        except CaptureUnavailable as e:
            self._unavailable(variant, str(e))
            return None

    def _unavailable(self, variant: PluginVariant, reason: str) -> None:
        if self.reasons.get(variant.plugin_id) != reason:
            self.reasons[variant.plugin_id] = reason
            _LOGGER.info("%s: no direct Triton launch: %s", variant.plugin_id, reason)


def scratch_reason(variant: PluginVariant, captured: CapturedLaunch) -> str:
    """Why this JIT plugin cannot launch a kernel that writes scratch tensors itself."""
    names = [
        name
        for name, source in zip(captured.arg_names, captured.args)
        if source.kind == "scratch"
    ]
    return (
        f"{variant.spec.display}: the kernel writes {len(names)} scratch tensors the op does not return "
        f"({', '.join(names) or 'none'}) for these inputs, and the plugin {variant.plugin_id} has "
        f"{variant.hidden_outputs} hidden outputs for them; the plugin runs the op instead"
    )


def _scratch_misfit(
    variant: PluginVariant,
    captured: CapturedLaunch,
    shapes: Sequence[Optional[Sequence[int]]],
    outputs: Sequence[Any],
) -> Optional[str]:
    """Why TensorRT's hidden output buffers cannot hold the kernel's scratch tensors (None: they fit)."""
    if not captured.scratch:
        return None
    values = captured.values(shapes)
    own = variant.spec.num_outputs
    for i, t in enumerate(captured.scratch):
        want = (tuple(captured.evaluate(d, values) for d in t.dims), t.dtype)
        buffer = outputs[own + i] if own + i < len(outputs) else None
        got = (
            None
            if buffer is None
            else (tuple(int(d) for d in buffer.shape), _dtypes.to_torch(buffer.dtype))
        )
        if got != want:
            return (
                f"{variant.plugin_id}: hidden output {i} is {got} but the kernel's scratch tensor is "
                f"{want} for input shapes {list(shapes)}; the plugin runs the op instead"
            )
    return None


def _holds(captured: CapturedLaunch, shapes: Sequence[Optional[Sequence[int]]]) -> bool:
    if not captured.guards:
        return True
    values = captured.values(shapes)
    return all(bool(g.xreplace(values)) for g in captured.guards)
