"""Capture the Triton launch an op's body makes, by running the body on FakeTensors.

NOTE: [Launch capture]
The op's Python body (the function given to ``torch.library.custom_op``) is called directly with
FakeTensors, while ``triton.runtime.jit.KernelInterface.__getitem__`` is intercepted for the calling
thread only and only for the duration of the call: ``kernel[grid](*args, **kwargs)`` records the
kernel, the grid and the arguments instead of launching. A ``TorchDispatchMode`` records every aten
op the body runs. The capture is usable when the body

* launches exactly one ``@triton.jit`` kernel (not an autotuner or heuristics wrapper),
* runs no torch op besides allocating its outputs and viewing its inputs,
* passes, for every tensor argument, an input or a returned output (or a view that starts at the
  same address and is contiguous),
* returns contiguous tensors whose shapes and dtypes equal the fake kernel's.

Otherwise ``CaptureUnavailable`` says why, and callers fall back (JIT: run the op; AOT: no AOT).
Integer arguments and the grid may be symbolic (SymInt from input sizes); they are kept as sympy
expressions over one symbol per input dimension, like shape programs. Shape guards the body adds
(Python branches on sizes) are kept with the capture.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import sympy
import torch
from torch._dispatch.python import enable_python_dispatcher
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.fx.experimental.symbolic_shapes import ShapeEnv
from torch.utils._python_dispatch import TorchDispatchMode

from ._errors import PluginGenerationError
from ._schema import OpSpec
from ._shape_program import DimSymbol, ShapeProgram
from ._symbolic import TraceKey, _call_arguments, _guards, symbolic_inputs

_LOGGER = logging.getLogger(__name__)

_ALLOCATIONS = {
    "aten::empty.memory_format", "aten::empty_like", "aten::new_empty", "aten::empty_strided",
    "aten::new_empty_strided", "aten::empty_permuted",
}
# Metadata queries (x.is_cuda, x.size(), ...): no kernel runs.
_METADATA = {
    "prim::device", "prim::layout", "aten::size", "aten::size.int", "aten::sym_size", "aten::sym_size.int",
    "aten::stride", "aten::stride.int", "aten::sym_stride", "aten::dim", "aten::numel", "aten::sym_numel",
    "aten::storage_offset", "aten::sym_storage_offset", "aten::is_contiguous", "aten::is_non_overlapping_and_dense",
}
_VIEWS = {
    "aten::view", "aten::reshape", "aten::_reshape_alias", "aten::flatten.using_ints",
    "aten::_unsafe_view", "aten::contiguous", "aten::alias", "aten::detach",
}


class CaptureUnavailable(PluginGenerationError):
    """The op's body is not a single capturable Triton launch (the message says why)."""


@dataclass(frozen=True)
class ArgSource:
    """Where a kernel argument comes from at launch time."""

    kind: str  # "input" | "output" | "int" | "value"
    index: int = -1  # plugin input / output index for tensors
    expr: Optional[sympy.Expr] = None  # for "int": over the capture's symbols
    value: Any = None  # for "value": a constant (float, bool, None, str, or an int literal)


@dataclass(frozen=True)
class CapturedLaunch:
    """One Triton launch of an op's body, symbolic in the input sizes."""

    kernel: Any  # the @triton.jit object the body launched (JITFunction or InterpretedFunction)
    arg_names: Tuple[str, ...]  # the kernel's parameters, in order
    args: Tuple[ArgSource, ...]  # one per parameter
    constexpr_names: Tuple[str, ...]
    grid: Tuple[sympy.Expr, ...]  # 1 to 3 expressions
    options: Tuple[Tuple[str, Any], ...]  # launch options (num_warps, num_stages, ...)
    symbols: Tuple[Tuple[sympy.Symbol, DimSymbol], ...]
    guards: Tuple[sympy.Basic, ...]

    def values(self, input_shapes: Sequence[Optional[Sequence[int]]]) -> Dict[sympy.Symbol, int]:
        return {s: int(input_shapes[d.input_index][d.dim]) for s, d in self.symbols}  # type: ignore[index]

    def evaluate(self, expr: sympy.Expr, values: Mapping[sympy.Symbol, int]) -> int:
        return int(sympy.sympify(expr).xreplace(values))


# -- the interception -----------------------------------------------------------------------------
@dataclass
class _Launch:
    kernel: Any
    grid: Any
    args: Tuple[Any, ...]
    kwargs: Dict[str, Any]


_INTERCEPT = threading.local()


def _launch_classes() -> List[type]:
    """The classes whose ``__getitem__`` starts a Triton launch.

    ``KernelInterface`` (``@triton.jit`` compiled kernels, and interpreted ones from Triton 3.4 on);
    before 3.4 the interpreter's ``InterpretedFunction`` defines its own ``__getitem__``.
    """
    from triton.runtime.jit import KernelInterface

    classes: List[type] = [KernelInterface]
    try:
        from triton.runtime.interpreter import InterpretedFunction
    except ImportError:  # pragma: no cover - every supported Triton has it
        return classes
    if "__getitem__" in vars(InterpretedFunction):
        classes.append(InterpretedFunction)
    return classes


@contextlib.contextmanager
def _intercept_triton_launches() -> Iterator[List[_Launch]]:
    """Record ``kernel[grid](...)`` calls made by this thread instead of launching them."""
    launches: List[_Launch] = []
    originals = [(cls, vars(cls)["__getitem__"]) for cls in _launch_classes()]

    def interceptor(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def getitem(self: Any, grid: Any) -> Callable[..., Any]:
            if getattr(_INTERCEPT, "launches", None) is None:
                launcher: Callable[..., Any] = original(self, grid)
                return launcher

            def record(*args: Any, **kwargs: Any) -> None:
                _INTERCEPT.launches.append(_Launch(self, grid, args, kwargs))

            return record

        return getitem

    _INTERCEPT.launches = launches
    for cls, original in originals:
        setattr(cls, "__getitem__", interceptor(original))
    try:
        yield launches
    finally:
        for cls, original in originals:
            setattr(cls, "__getitem__", original)
        _INTERCEPT.launches = None


class _RecordOps(TorchDispatchMode):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.ops: List[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.ops.append(func._schema.name + (f".{func._overloadname}" if func._overloadname != "default" else ""))
        return func(*args, **(kwargs or {}))


def body_function(spec: OpSpec) -> Optional[Callable[..., Any]]:
    """The Python function implementing the op on CUDA (or for every device), if there is one."""
    from torch._library.custom_ops import OPDEFS

    opdef = OPDEFS.get(spec.qualname)
    if opdef is None:
        return None
    backend: Dict[str, Callable[..., Any]] = getattr(opdef, "_backend_fns", {}) or {}
    body: Optional[Callable[..., Any]] = backend.get("cuda") or opdef._init_fn
    return body


_LOCK = threading.Lock()


def capture(spec: OpSpec, key: TraceKey, program: ShapeProgram, hints: Optional[Mapping[Tuple[int, int], int]] = None) -> CapturedLaunch:
    """Run the op's body on FakeTensors described by ``key`` and return its single Triton launch."""
    fn = body_function(spec)
    if fn is None:
        raise CaptureUnavailable(
            f"{spec.qualname}: the op is not a torch.library.custom_op with a Python body, so its launch cannot be captured"
        )
    env = ShapeEnv()
    recorder = _RecordOps()
    with _LOCK, FakeTensorMode(shape_env=env), enable_python_dispatcher():
        inputs, symbols = symbolic_inputs(env, spec, key, hints)
        args, kwargs = _call_arguments(spec, inputs, key.attributes)
        with _intercept_triton_launches() as launches, recorder:
            try:
                result = fn(*args, **kwargs)
            except Exception as e:
                raise CaptureUnavailable(
                    f"{spec.qualname}: running the op's body on FakeTensors failed ({type(e).__name__}: "
                    f"{str(e).splitlines()[0] if str(e) else ''}); it may depend on tensor data"
                ) from e
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        present = [t for t in inputs if t is not None]
        return _describe(spec, launches, recorder.ops, present, list(outputs), program, env, symbols)


def _storage_id(t: torch.Tensor) -> int:
    return int(t.untyped_storage()._cdata)


def _describe(
    spec: OpSpec,
    launches: Sequence[_Launch],
    ops: Sequence[str],
    inputs: Sequence[torch.Tensor],
    outputs: Sequence[Any],
    program: ShapeProgram,
    env: ShapeEnv,
    symbols: Dict[sympy.Symbol, DimSymbol],
) -> CapturedLaunch:
    from triton.runtime.jit import JITFunction

    op = spec.qualname
    if len(launches) != 1:
        raise CaptureUnavailable(f"{op}: the body launches {len(launches)} Triton kernels; a direct launch needs exactly one")
    other = [name for name in ops if name not in _ALLOCATIONS and name not in _VIEWS and name not in _METADATA]
    if other:
        raise CaptureUnavailable(f"{op}: the body runs torch ops besides allocating outputs: {sorted(set(other))}")
    launch = launches[0]
    kernel = launch.kernel
    interpreted = type(kernel).__name__ == "InterpretedFunction"
    if not (isinstance(kernel, JITFunction) or interpreted):
        raise CaptureUnavailable(
            f"{op}: the body launches a {type(kernel).__name__} (autotuner / heuristics); a direct launch needs a plain @triton.jit kernel"
        )
    for index, (out, shape) in enumerate(zip(outputs, program.outputs)):
        if not isinstance(out, torch.Tensor):
            raise CaptureUnavailable(f"{op}: output {index} is not a tensor")
        if out.dtype != shape.dtype or len(out.shape) != len(shape.dims):
            raise CaptureUnavailable(
                f"{op}: the body returns output {index} as {out.dtype}{list(out.shape)}, but the fake kernel says "
                f"{shape.dtype} of rank {len(shape.dims)}; fix one of them"
            )
        for d, expected in zip(out.shape, shape.dims):
            got = env.simplify(d.node.expr) if isinstance(d, torch.SymInt) else sympy.Integer(int(d))
            if sympy.simplify(got - expected) != 0:
                raise CaptureUnavailable(
                    f"{op}: the body's output {index} has size {got} where the fake kernel says {expected}"
                )
        if not out.is_contiguous() or out.storage_offset() != 0:
            raise CaptureUnavailable(f"{op}: output {index} is not a contiguous tensor of its own")

    arg_names = tuple(kernel.arg_names)
    bound: Dict[str, Any] = dict(zip(arg_names, launch.args))
    options = {k: v for k, v in launch.kwargs.items() if k not in arg_names}
    bound.update({k: v for k, v in launch.kwargs.items() if k in arg_names})
    params = kernel.params if hasattr(kernel, "params") else None
    constexpr_names = tuple(p.name for p in params if p.is_constexpr) if params is not None else _constexprs_of(kernel)
    for p in params or ():
        if p.name not in bound and p.has_default:
            bound[p.name] = p.default
    missing = [n for n in arg_names if n not in bound]
    if missing:
        raise CaptureUnavailable(f"{op}: the launch leaves kernel parameters {missing} unset")

    input_storages = {_storage_id(t): i for i, t in enumerate(inputs)}
    output_storages = {_storage_id(t): i for i, t in enumerate(outputs)}
    sources: List[ArgSource] = []
    for name in arg_names:
        value = bound[name]
        if isinstance(value, torch.Tensor):
            if value.storage_offset() != 0 or not value.is_contiguous():
                raise CaptureUnavailable(f"{op}: kernel argument '{name}' is a view that does not start at its tensor's address")
            sid = _storage_id(value)
            if sid in input_storages:
                sources.append(ArgSource("input", input_storages[sid]))
            elif sid in output_storages:
                sources.append(ArgSource("output", output_storages[sid]))
            else:
                raise CaptureUnavailable(
                    f"{op}: kernel argument '{name}' is a tensor the body allocates but does not return (a scratch buffer)"
                )
        elif isinstance(value, torch.SymInt):
            sources.append(ArgSource("int", expr=env.simplify(value.node.expr)))
        elif isinstance(value, (torch.SymFloat, torch.SymBool)):
            raise CaptureUnavailable(f"{op}: kernel argument '{name}' is a symbolic {type(value).__name__}")
        elif isinstance(value, int) and not isinstance(value, bool) and name not in constexpr_names:
            sources.append(ArgSource("int", expr=sympy.Integer(value)))
        else:
            sources.append(ArgSource("value", value=value))
    grid = launch.grid(bound) if callable(launch.grid) else launch.grid
    if not isinstance(grid, (tuple, list)) or not 1 <= len(grid) <= 3:
        raise CaptureUnavailable(f"{op}: the grid is {grid!r}, not a tuple of 1 to 3 sizes")
    grid_exprs = []
    for g in grid:
        if isinstance(g, torch.SymInt):
            grid_exprs.append(env.simplify(g.node.expr))
        elif isinstance(g, int):
            grid_exprs.append(sympy.Integer(g))
        else:
            raise CaptureUnavailable(f"{op}: grid size {g!r} is not an integer")
    for expr in grid_exprs + [s.expr for s in sources if s.kind == "int"]:
        unknown = [s for s in expr.free_symbols if s not in symbols]
        if unknown:
            raise CaptureUnavailable(f"{op}: launch value {expr} depends on data, not on input sizes")
    return CapturedLaunch(
        kernel=kernel,
        arg_names=arg_names,
        args=tuple(sources),
        constexpr_names=constexpr_names,
        grid=tuple(grid_exprs),
        options=tuple(sorted(options.items())),
        symbols=tuple(symbols.items()),
        guards=tuple(_guards(env, symbols)),
    )


def _constexprs_of(kernel: Any) -> Tuple[str, ...]:
    """Constexpr parameters of an interpreted kernel (from its annotations)."""
    import inspect

    names = []
    for p in inspect.signature(kernel.fn).parameters.values():
        annotation = p.annotation
        if annotation is not inspect.Parameter.empty and "constexpr" in str(annotation):
            names.append(p.name)
    return tuple(names)
