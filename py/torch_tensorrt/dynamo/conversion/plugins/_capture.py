"""Capture the Triton launch an op's body makes, by running the body on FakeTensors.

NOTE: [Launch capture]
The op's Python body (the function given to ``torch.library.custom_op``) is called directly with
FakeTensors, while ``triton.runtime.jit.KernelInterface.__getitem__`` is intercepted for the calling
thread only and only for the duration of the call: ``kernel[grid](*args, **kwargs)`` records the
kernel, the grid and the arguments instead of launching. A ``TorchDispatchMode`` records every aten
op the body runs. The capture is usable when the body

* launches exactly one ``@triton.jit`` kernel (not an autotuner or heuristics wrapper),
* runs no torch op besides allocating its outputs and viewing its inputs,
* passes, for every tensor argument, an input, a returned output, or a scratch tensor it allocates
  and does not return (each a contiguous tensor of its own, or a view that starts at the same
  address and is contiguous; see NOTE [Scratch tensors]),
* returns contiguous tensors whose shapes and dtypes equal the fake kernel's.

Otherwise ``CaptureUnavailable`` says why, and callers fall back (JIT: run the op; AOT: no AOT).
Integer arguments and the grid may be symbolic (SymInt from input sizes); they are kept as sympy
expressions over one symbol per input dimension, like shape programs. Shape guards the body adds
(Python branches on sizes) are kept with the capture.

NOTE: [Scratch tensors]
Kernels often write tensors the op does not return: liger-kernel's RMSNorm writes the per-row RSTD
for its backward pass, LayerNorm the mean and RSTD. Such a tensor is recorded as a ``ScratchSpec``
(dtype and sizes, symbolic in the input sizes like the outputs) and passed as ``ArgSource("scratch",
k)``. The AOT plugin gives each scratch tensor as a hidden output after the op's own outputs
(TensorRT allocates it, the converter does not expose it), so the kernel runs unchanged. A scratch
tensor must be exactly its allocation (contiguous, offset 0, the whole storage): a kernel handed a
view of a larger buffer might write beyond the view. Tensors made by filling ops (``torch.zeros``)
are not scratch: their initial value would be lost. The JIT plugin keeps running such an op (its
direct launch would need the same buffers per call).

NOTE: [Capture without side effects]
The body runs on the user's behalf, so it must not be able to touch the device:

* the FakeTensors refuse ``data_ptr()`` (``strict_fake_mode``): a body that launches a kernel by
  address (cuda-python, cuda.core, ctypes, cupy) fails before the launch instead of handing the
  driver a fake address;
* for the calling thread only, device synchronisation (``torch.cuda.synchronize``, stream and event
  ``synchronize``) and the launch entry points of cuda.core, cuda-python and Triton's
  ``CompiledKernel`` raise instead of running (best effort for code that imported them by name:
  the data-pointer check is what stops those);
* the body runs twice, and every value it passes to the kernel that is not a function of input
  sizes must come out the same: a random seed, a counter or a clock read by the body makes the op
  non-capturable (``CaptureUnavailable.op_wide``), because a captured launch would freeze the
  first value forever;
* a capture remembers by which names the body reached its kernel (``KernelBinding``); when a
  notebook cell redefines the kernel (or a helper function on the way to it), the capture is stale
  and is made again.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import logging
import struct
import sys
import threading
from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
)

import sympy
import torch
from torch._dispatch.python import enable_python_dispatcher
from torch.fx.experimental.symbolic_shapes import ShapeEnv
from torch.utils._python_dispatch import TorchDispatchMode

from ._errors import PluginGenerationError
from ._fingerprint import is_kernel, is_user_function, references
from ._identity import CallKey
from ._schema import OpSpec
from ._shape_program import DimSymbol, ShapeProgram
from ._symbolic import _call_arguments, _guards, strict_fake_mode, symbolic_inputs

_LOGGER = logging.getLogger(__name__)

_ALLOCATIONS = {
    "aten::empty.memory_format",
    "aten::empty_like",
    "aten::new_empty",
    "aten::empty_strided",
    "aten::new_empty_strided",
    "aten::empty_permuted",
}
# Metadata queries (x.is_cuda, x.size(), ...): no kernel runs.
_METADATA = {
    "prim::device",
    "prim::layout",
    "aten::size",
    "aten::size.int",
    "aten::sym_size",
    "aten::sym_size.int",
    "aten::stride",
    "aten::stride.int",
    "aten::sym_stride",
    "aten::dim",
    "aten::numel",
    "aten::sym_numel",
    "aten::storage_offset",
    "aten::sym_storage_offset",
    "aten::is_contiguous",
    "aten::is_non_overlapping_and_dense",
}
_VIEWS = {
    "aten::view",
    "aten::reshape",
    "aten::_reshape_alias",
    "aten::flatten.using_ints",
    "aten::_unsafe_view",
    "aten::contiguous",
    "aten::alias",
    "aten::detach",
}


class CaptureUnavailable(PluginGenerationError):
    """The op's body is not a single capturable Triton launch (the message says why).

    ``op_wide`` marks reasons that hold for every call of the op (its body reads Python state),
    not only for the call identity that was captured; ``launches`` is the number of Triton launches
    of a body refused for having more than one (0 otherwise).
    """

    def __init__(
        self, message: str, *, op_wide: bool = False, launches: int = 0
    ) -> None:
        super().__init__(message)
        self.op_wide = op_wide
        self.launches = launches


@dataclass(frozen=True, eq=False)
class KernelBinding:
    """A name through which the op's body reaches its kernel: ``namespace[name] is target``
    (a function's globals or a module's dict), or a closure cell holding ``target``."""

    namespace: Any
    name: Optional[str]
    target: Any

    def holds(self) -> bool:
        if self.name is None:
            try:
                return bool(self.namespace.cell_contents is self.target)
            except ValueError:  # an emptied cell
                return False
        return self.namespace.get(self.name, _GONE) is self.target

    def describe(self) -> str:
        label = getattr(self.target, "__name__", None) or getattr(
            getattr(self.target, "fn", None), "__name__", "?"
        )
        return f"{self.name or '<closure>'} -> {label}"


_GONE = object()


@dataclass(frozen=True)
class ArgSource:
    """Where a kernel argument comes from at launch time."""

    kind: str  # "input" | "output" | "scratch" | "int" | "value"
    index: int = -1  # plugin input / output / scratch index for tensors
    expr: Optional[sympy.Expr] = None  # for "int": over the capture's symbols
    value: Any = (
        None  # for "value": a constant (float, bool, None, str, or an int literal)
    )


@dataclass(frozen=True)
class ScratchSpec:
    """A tensor the body allocates, passes to the kernel and does not return (NOTE [Scratch tensors])."""

    dtype: torch.dtype
    dims: Tuple[sympy.Expr, ...]  # over the capture's symbols


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
    #: How the body reached the kernel (see NOTE [Capture without side effects]).
    bindings: Tuple[KernelBinding, ...] = ()
    #: Tensors the kernel writes that the op does not return (see NOTE [Scratch tensors]).
    scratch: Tuple[ScratchSpec, ...] = ()
    #: For a ``triton.autotune`` kernel: one capture per config (see NOTE [Autotuned kernels]).
    alternatives: Tuple["CapturedLaunch", ...] = ()
    #: For a ``triton.autotune`` kernel: its config objects when captured, in order.
    configs: Tuple[Any, ...] = ()

    def is_current(self) -> bool:
        """Whether the body would still reach the same kernel (no binding was redefined) with the
        same autotuner configs (a list reassigned or edited in place makes it stale)."""
        return all(b.holds() for b in self.bindings) and self.configs_current()

    def configs_current(self) -> bool:
        if not self.alternatives:
            return True
        now = getattr(self.kernel, "configs", ())
        return len(now) == len(self.configs) and all(
            a is b for a, b in zip(now, self.configs)
        )

    def values(
        self, input_shapes: Sequence[Optional[Sequence[int]]]
    ) -> Dict[sympy.Symbol, int]:
        return {s: int(input_shapes[d.input_index][d.dim]) for s, d in self.symbols}  # type: ignore[index]

    def evaluate(self, expr: sympy.Expr, values: Mapping[sympy.Symbol, int]) -> int:
        return int(sympy.sympify(expr).xreplace(values))


# NOTE: [Launch chains]
# A body that launches 2 to 4 plain ``@triton.jit`` kernels in sequence, connected through tensors
# it allocates, is captured as a ``CapturedChain`` (``capture(..., several=True)``; only the AOT
# chooser asks for it). Each step is described like a single launch, except that the tensors the
# body allocates and does not return are the chain's ``buffers``, shared by all steps (a step's
# "scratch" sources index them). Which step writes and reads which tensor is not decided here but
# from each kernel's TTIR (``_effects``), and ``_chain`` turns the steps into AOT layers.


@dataclass(frozen=True)
class CapturedChain:
    """Two to four Triton launches of an op's body, in order (see NOTE [Launch chains])."""

    steps: Tuple[CapturedLaunch, ...]  # each with ``scratch`` = ``buffers``
    buffers: Tuple[ScratchSpec, ...]
    symbols: Tuple[Tuple[sympy.Symbol, DimSymbol], ...]
    guards: Tuple[sympy.Basic, ...]
    bindings: Tuple[KernelBinding, ...] = ()

    def is_current(self) -> bool:
        """Whether the body would still reach the same kernels (no binding was redefined)."""
        return all(b.holds() for b in self.bindings)


Captured = Any  # CapturedLaunch, or CapturedChain where several launches were asked for


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
        # setattr: mypy rejects assigning a method on a variable of type `type`.
        setattr(cls, "__getitem__", interceptor(original))  # noqa: B010
    try:
        yield launches
    finally:
        for cls, original in originals:
            setattr(cls, "__getitem__", original)  # noqa: B010
        _INTERCEPT.launches = None


class _RecordOps(TorchDispatchMode):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.ops: List[str] = []

    def __torch_dispatch__(
        self, func: Any, types: Any, args: Any = (), kwargs: Any = None
    ) -> Any:
        self.ops.append(
            func._schema.name
            + (f".{func._overloadname}" if func._overloadname != "default" else "")
        )
        return func(*args, **(kwargs or {}))


_LOCK = threading.Lock()


def capture(
    spec: OpSpec,
    key: CallKey,
    program: ShapeProgram,
    hints: Optional[Mapping[Tuple[int, int], int]] = None,
    several: bool = False,
) -> Captured:
    """Run the op's body on FakeTensors described by ``key`` (twice) and return its single Triton
    launch (``several``: its chain of 2 to 4 launches, NOTE [Launch chains]).

    Raises CaptureUnavailable (see NOTE [Launch capture] and NOTE [Capture without side effects]).
    """
    fn = key.definition.body
    if fn is None:
        raise CaptureUnavailable(
            f"{spec.display}: the op is not a torch.library.custom_op with a Python body, so its launch cannot be captured"
        )
    if spec.mutated:
        raise CaptureUnavailable(
            f"{spec.display}: the op writes its argument(s) {list(spec.mutated)} in place; the plugin "
            "gives their new values as outputs, so the JIT plugin copies each into its output and "
            "runs the op there (a direct launch or AOT kernel would write TensorRT's input buffer)",
            op_wide=True,
        )
    first = _capture_once(spec, fn, key, program, hints, several)
    second = _capture_once(spec, fn, key, program, hints, several)
    difference = _difference(first, second)
    if difference is not None:
        raise CaptureUnavailable(
            f"{spec.display}: the body passes the kernel a value that changes from call to call ({difference}); "
            "it reads Python state (a random seed, a counter, a clock ...), so a captured launch or an AOT "
            "kernel would freeze one value. Pass such values as tensor inputs of the op",
            op_wide=True,
        )
    bindings = kernel_bindings(fn)
    steps = first.steps if isinstance(first, CapturedChain) else (first,)
    for step in steps:
        if not any(b.target is step.kernel for b in bindings):
            raise CaptureUnavailable(
                f"{spec.display}: the kernel the body launches ({getattr(step.kernel, '__name__', step.kernel)}) "
                "is not reachable by name from the body's globals, closures or the functions it calls, so a "
                "redefinition of it could not be noticed"
            )
    import dataclasses

    return dataclasses.replace(first, bindings=bindings)


def _capture_once(
    spec: OpSpec,
    fn: Callable[..., Any],
    key: CallKey,
    program: ShapeProgram,
    hints: Optional[Mapping[Tuple[int, int], int]],
    several: bool = False,
) -> Captured:
    env = ShapeEnv()
    recorder = _RecordOps()
    with _LOCK, strict_fake_mode(env), enable_python_dispatcher():
        inputs, symbols = symbolic_inputs(env, spec, key, hints)
        args, kwargs = _call_arguments(spec, inputs, key.attributes)
        with _intercept_triton_launches() as launches, _refuse_device_work(), recorder:
            try:
                result = fn(*args, **kwargs)
            except _Refused as e:
                raise CaptureUnavailable(
                    f"{spec.display}: the body {e} while it ran on FakeTensors; only Triton kernel launches can be "
                    "captured (nothing ran on the device)"
                ) from None
            except Exception as e:
                text = str(e).splitlines()[0] if str(e) else ""
                if "data pointer" in text:
                    raise CaptureUnavailable(
                        f"{spec.display}: the body takes a tensor's data pointer (x.data_ptr()), so it launches "
                        "something that is not a Triton kernel launch; it was stopped before the launch and nothing "
                        "ran on the device"
                    ) from e
                raise CaptureUnavailable(
                    f"{spec.display}: running the op's body on FakeTensors failed ({type(e).__name__}: {text}); "
                    "it may depend on tensor data"
                ) from e
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        present = [t for t in inputs if t is not None]
        return _describe(
            spec,
            launches,
            recorder.ops,
            present,
            list(outputs),
            program,
            env,
            symbols,
            several,
        )


# -- values that must not change between two captures ---------------------------------------------
def _exact(value: Any) -> Any:
    """A comparable form of a captured value: floats by their bits (NaN equals itself, -0.0 is not 0.0)."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, (list, tuple)):
        return tuple(_exact(v) for v in value)
    if type(value).__name__ == "constexpr":
        return ("constexpr", _exact(getattr(value, "value", value)))
    return (
        (type(value).__name__, value)
        if isinstance(value, (int, bool, str, type(None)))
        else ("object", id(value))
    )


def _launch_facts(c: CapturedLaunch) -> List[Tuple[str, Any]]:
    labels = {s: sympy.Symbol(d.label) for s, d in c.symbols}
    facts: List[Tuple[str, Any]] = [("kernel", id(c.kernel))]
    for name, source in zip(c.arg_names, c.args):
        if source.kind == "int" and source.expr is not None:
            facts.append((name, str(source.expr.xreplace(labels))))
        elif source.kind == "value":
            facts.append((name, _exact(source.value)))
        else:
            facts.append((name, (source.kind, source.index)))
    facts.append(("grid", tuple(str(g.xreplace(labels)) for g in c.grid)))
    facts.extend(
        (f"scratch {i}", (str(t.dtype), tuple(str(d.xreplace(labels)) for d in t.dims)))
        for i, t in enumerate(c.scratch)
    )
    facts.extend(
        (f"config {i}", tuple(_launch_facts(a))) for i, a in enumerate(c.alternatives)
    )
    facts.extend((f"option {k}", _exact(v)) for k, v in c.options)
    return facts


def _difference(a: Captured, b: Captured) -> Optional[str]:
    """The first launch value that differs between two captures, in words (None if none does)."""
    if isinstance(a, CapturedChain):
        if len(a.steps) != len(b.steps):
            return "the number of launches"
        for x, y in zip(a.steps, b.steps):
            found = _difference(x, y)
            if found is not None:
                return found
        return None
    for (name, x), (_, y) in zip(_launch_facts(a), _launch_facts(b)):
        if x != y:
            return (
                f"kernel argument '{name}'"
                if not name.startswith(("grid", "option", "kernel"))
                else name
            )
    return None


# -- how the body reaches its kernel ------------------------------------------------------------------
def kernel_bindings(
    fn: Callable[..., Any], depth: int = 4
) -> Tuple[KernelBinding, ...]:
    """The names (globals, module attributes, closure cells) through which ``fn`` reaches Triton
    kernels and user functions, transitively through the user functions it calls.

    A capture is valid while every one of them is still bound to the same object.
    """
    found: List[KernelBinding] = []
    seen: Set[int] = set()

    def visit(f: Callable[..., Any], level: int) -> None:
        if id(f) in seen or level > depth:
            return
        seen.add(id(f))
        for namespace, name, value in references(f):
            if is_kernel(value):
                found.append(KernelBinding(namespace, name, value))
            elif is_user_function(value):
                found.append(KernelBinding(namespace, name, value))
                visit(value, level + 1)

    visit(fn, 0)
    return tuple(found)


# -- refusing device work during a capture ----------------------------------------------------------
class _Refused(Exception):
    """Raised (and caught by ``capture``) when a captured body tries to do device work."""


_REFUSING = threading.local()

#: (module name, attribute path, what the call does) patched while a capture runs, where importable.
_DEVICE_ENTRY_POINTS = (
    ("torch.cuda", "synchronize", "synchronises the device (torch.cuda.synchronize)"),
    ("torch.cuda", "Stream.synchronize", "synchronises a stream"),
    ("torch.cuda", "Event.synchronize", "synchronises an event"),
    ("cuda.core.experimental", "launch", "launches a kernel through cuda.core"),
    ("cuda.core", "launch", "launches a kernel through cuda.core"),
    ("cuda.bindings.driver", "cuLaunchKernel", "launches a kernel through cuda-python"),
    (
        "cuda.bindings.driver",
        "cuLaunchKernelEx",
        "launches a kernel through cuda-python",
    ),
    (
        "triton.compiler.compiler",
        "CompiledKernel.__getitem__",
        "launches a precompiled Triton kernel",
    ),
)


def _refusing(original: Callable[..., Any], what: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def refuse(*args: Any, **kwargs: Any) -> Any:
        if getattr(_REFUSING, "active", False):
            raise _Refused(what)
        return original(*args, **kwargs)

    return refuse


@contextlib.contextmanager
def _refuse_device_work() -> Iterator[None]:
    """For this thread, make device synchronisation and non-Triton launches raise ``_Refused``."""
    patched: List[Tuple[Any, str, Any]] = []
    for module_name, path, what in _DEVICE_ENTRY_POINTS:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        *owner_path, attr = path.split(".")
        owner: Any = module
        for part in owner_path:
            owner = getattr(owner, part, None)
        original = getattr(owner, attr, None) if owner is not None else None
        if original is None or not callable(original):
            continue
        try:
            setattr(owner, attr, _refusing(original, what))
        except (AttributeError, TypeError):  # an immutable extension type
            continue
        patched.append((owner, attr, original))
    _REFUSING.active = True
    try:
        yield
    finally:
        _REFUSING.active = False
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


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
    several: bool = False,
) -> Captured:

    op = spec.display
    if several and not 2 <= len(launches) <= 4:
        raise CaptureUnavailable(
            f"{op}: the body launches {len(launches)} Triton kernels; a chain of AOT layers takes 2 to 4"
        )
    if not several and len(launches) != 1:
        raise CaptureUnavailable(
            f"{op}: the body launches {len(launches)} Triton kernels; a direct launch needs exactly "
            "one (and a chain of AOT layers 2 to 4)",
            launches=len(launches),
        )
    other = [
        name
        for name in ops
        if name not in _ALLOCATIONS and name not in _VIEWS and name not in _METADATA
    ]
    if other:
        raise CaptureUnavailable(
            f"{op}: the body runs torch ops besides allocating outputs: {sorted(set(other))}"
        )
    body = _Body(op, tuple(inputs), tuple(outputs), program, env, symbols)
    if several:
        return _describe_chain(body, launches)
    launch = launches[0]
    if _is_autotuner(launch.kernel):
        return _describe_autotuned(body, launch)
    return _describe_launch(body, launch)


@dataclass
class _Buffers:
    """Tensors the body allocates and passes to kernels without returning them, by storage."""

    storages: Dict[int, int] = field(default_factory=dict)
    specs: List[ScratchSpec] = field(default_factory=list)


def _describe_chain(body: _Body, launches: Sequence[_Launch]) -> CapturedChain:
    """Each launch described against the body, sharing its buffers (NOTE [Launch chains])."""
    import dataclasses

    buffers = _Buffers()
    steps = []
    for index, launch in enumerate(launches):
        if _is_autotuner(launch.kernel):
            raise CaptureUnavailable(
                f"{body.op}: launch {index + 1} of {len(launches)} goes through triton.autotune; "
                "a chain of AOT layers takes plain @triton.jit kernels"
            )
        steps.append(_describe_launch(body, launch, buffers))
    guards = tuple(_guards(body.env, body.symbols))
    scratch = tuple(buffers.specs)
    return CapturedChain(
        tuple(dataclasses.replace(s, scratch=scratch, guards=guards) for s in steps),
        scratch,
        tuple(body.symbols.items()),
        guards,
    )


@dataclass(frozen=True)
class _Body:
    """One run of the op's body on FakeTensors: what a launch is described against."""

    op: str
    inputs: Tuple[torch.Tensor, ...]
    outputs: Tuple[Any, ...]
    program: ShapeProgram
    env: ShapeEnv
    symbols: Dict[sympy.Symbol, DimSymbol]


# NOTE: [Autotuned kernels]
# A body that launches a ``@triton.autotune`` kernel is captured once per config: each config's
# keyword arguments (constexprs such as BLOCK_N) and launch options (num_warps, num_stages) are
# added to the launch as Triton's autotuner adds them, and the grid is evaluated with them. The
# capture keeps the list (``CapturedLaunch.alternatives``, in the autotuner's order); its own
# fields are those of the first config. The AOT plugin offers each config as one TensorRT tactic
# and compiles the config of the tactic TensorRT's builder asks for, so the builder times them and
# keeps the fastest in the engine. What a config list cannot be reduced to (pruning, hooks that
# reset or restore tensors, a heuristics wrapper inside) keeps the site on JIT with the reason; the
# JIT plugin runs such ops, where Triton's own autotuner picks the config.


def _is_autotuner(kernel: Any) -> bool:
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:  # pragma: no cover - every supported Triton has it
        return False
    return isinstance(kernel, Autotuner)


def _autotune_limits(op: str, tuner: Any) -> Optional[str]:
    """Why the autotuner's configs cannot be offered as tactics (None when they can)."""
    name = getattr(getattr(tuner, "base_fn", None), "__name__", "the kernel")
    unsupported = []
    if getattr(tuner, "early_config_prune", None) or getattr(tuner, "perf_model", None):
        unsupported.append("prune_configs_by (config pruning)")
    if getattr(tuner, "reset_to_zero", None):
        unsupported.append(f"reset_to_zero={list(tuner.reset_to_zero)}")
    if getattr(tuner, "restore_value", None):
        unsupported.append(f"restore_value={list(tuner.restore_value)}")
    if getattr(tuner, "user_defined_pre_hook", False) or getattr(
        tuner, "user_defined_post_hook", False
    ):
        unsupported.append("a pre_hook / post_hook")
    if any(getattr(c, "pre_hook", None) is not None for c in tuner.configs):
        unsupported.append("a config pre_hook")
    if unsupported:
        return (
            f"{op}: the body launches {name} through triton.autotune with {', '.join(unsupported)}, "
            "which TensorRT tactics cannot honour; a direct launch and AOT need a plain config list"
        )
    return None


def _describe_autotuned(body: _Body, launch: _Launch) -> CapturedLaunch:
    """One capture per autotuner config (see NOTE [Autotuned kernels])."""
    import dataclasses

    op = body.op
    tuner = launch.kernel
    reason = _autotune_limits(op, tuner)
    if reason is not None:
        raise CaptureUnavailable(reason)
    alternatives = []
    positional = set(tuple(tuner.fn.arg_names)[: len(launch.args)])
    for config in tuner.configs:
        extra = config.all_kwargs()
        clash = sorted(set(extra) & (set(launch.kwargs) | positional))
        if clash:
            raise CaptureUnavailable(
                f"{op}: the launch sets {clash}, which the autotuner's configs also set"
            )
        alternatives.append(
            _describe_launch(
                body,
                _Launch(tuner.fn, launch.grid, launch.args, {**launch.kwargs, **extra}),
            )
        )
    # Every config's grid may add size guards (a branch on the config's block size): each
    # alternative, and the capture, hold only where all of them hold.
    guards = tuple(_guards(body.env, body.symbols))
    alternatives = [dataclasses.replace(a, guards=guards) for a in alternatives]
    return dataclasses.replace(
        alternatives[0],
        kernel=tuner,
        alternatives=tuple(alternatives),
        configs=tuple(tuner.configs),
    )


def _describe_launch(
    body: _Body, launch: _Launch, buffers: Optional[_Buffers] = None
) -> CapturedLaunch:
    from triton.runtime.jit import JITFunction

    op, inputs, outputs = body.op, body.inputs, body.outputs
    program, env, symbols = body.program, body.env, body.symbols

    kernel = launch.kernel
    interpreted = type(kernel).__name__ == "InterpretedFunction"
    if not (isinstance(kernel, JITFunction) or interpreted):
        raise CaptureUnavailable(
            f"{op}: the body launches its kernel through a {type(kernel).__module__}.{type(kernel).__name__} "
            "(a heuristics or other launcher wrapping the kernel); a direct launch and AOT need a "
            "plain @triton.jit kernel or triton.autotune over one"
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
            got = (
                env.simplify(d.node.expr)
                if isinstance(d, torch.SymInt)
                else sympy.Integer(int(d))
            )
            if sympy.simplify(got - expected) != 0:
                raise CaptureUnavailable(
                    f"{op}: the body's output {index} has size {got} where the fake kernel says {expected}"
                )
        if not out.is_contiguous() or out.storage_offset() != 0:
            raise CaptureUnavailable(
                f"{op}: output {index} is not a contiguous tensor of its own"
            )

    arg_names = tuple(kernel.arg_names)
    bound: Dict[str, Any] = dict(zip(arg_names, launch.args))
    options = {k: v for k, v in launch.kwargs.items() if k not in arg_names}
    bound.update({k: v for k, v in launch.kwargs.items() if k in arg_names})
    params = kernel.params if hasattr(kernel, "params") else None
    constexpr_names = (
        tuple(p.name for p in params if p.is_constexpr)
        if params is not None
        else _constexprs_of(kernel)
    )
    for p in params or ():
        if p.name not in bound and p.has_default:
            bound[p.name] = p.default
    missing = [n for n in arg_names if n not in bound]
    if missing:
        raise CaptureUnavailable(
            f"{op}: the launch leaves kernel parameters {missing} unset"
        )

    input_storages = {_storage_id(t): i for i, t in enumerate(inputs)}
    output_storages = {_storage_id(t): i for i, t in enumerate(outputs)}
    shared = buffers if buffers is not None else _Buffers()
    scratch_storages, scratch = shared.storages, shared.specs
    sources: List[ArgSource] = []
    for name in arg_names:
        value = bound[name]
        if isinstance(value, torch.Tensor):
            if value.storage_offset() != 0 or not value.is_contiguous():
                raise CaptureUnavailable(
                    f"{op}: kernel argument '{name}' is a view that does not start at its tensor's address"
                )
            sid = _storage_id(value)
            if sid in input_storages:
                sources.append(ArgSource("input", input_storages[sid]))
            elif sid in output_storages:
                sources.append(ArgSource("output", output_storages[sid]))
            elif sid in scratch_storages:
                sources.append(ArgSource("scratch", scratch_storages[sid]))
            else:
                scratch_storages[sid] = len(scratch)
                scratch.append(_scratch_spec(op, name, value, env, symbols))
                sources.append(ArgSource("scratch", scratch_storages[sid]))
        elif isinstance(value, torch.SymInt):
            sources.append(ArgSource("int", expr=env.simplify(value.node.expr)))
        elif isinstance(value, (torch.SymFloat, torch.SymBool)):
            raise CaptureUnavailable(
                f"{op}: kernel argument '{name}' is a symbolic {type(value).__name__}"
            )
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and name not in constexpr_names
        ):
            sources.append(ArgSource("int", expr=sympy.Integer(value)))
        else:
            sources.append(ArgSource("value", value=value))
    grid = launch.grid(bound) if callable(launch.grid) else launch.grid
    if not isinstance(grid, (tuple, list)) or not 1 <= len(grid) <= 3:
        raise CaptureUnavailable(
            f"{op}: the grid is {grid!r}, not a tuple of 1 to 3 sizes"
        )
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
            raise CaptureUnavailable(
                f"{op}: launch value {expr} depends on data, not on input sizes"
            )
    return CapturedLaunch(
        kernel=kernel,
        arg_names=arg_names,
        args=tuple(sources),
        constexpr_names=constexpr_names,
        grid=tuple(grid_exprs),
        options=tuple(sorted(options.items())),
        symbols=tuple(symbols.items()),
        guards=tuple(_guards(env, symbols)),
        scratch=tuple(scratch),
    )


def _sym_expr(value: Any, env: ShapeEnv) -> sympy.Expr:
    if isinstance(value, torch.SymInt):
        return sympy.sympify(env.simplify(value.node.expr))
    return sympy.Integer(int(value))


def _scratch_spec(
    op: str,
    name: str,
    value: torch.Tensor,
    env: ShapeEnv,
    symbols: Mapping[sympy.Symbol, DimSymbol],
) -> ScratchSpec:
    """The tensor ``value`` the body allocated for kernel argument ``name`` (NOTE [Scratch tensors])."""
    from torch._subclasses.fake_tensor import FakeTensor

    if not isinstance(value, FakeTensor):
        raise CaptureUnavailable(
            f"{op}: kernel argument '{name}' is a tensor the body neither received nor allocated "
            "(a global or captured tensor); pass it as an input of the op"
        )
    dims = tuple(_sym_expr(d, env) for d in value.shape)
    numel = sympy.Integer(1)
    for d in dims:
        numel = numel * d
    nbytes = _sym_expr(value.untyped_storage().nbytes(), env)
    if sympy.simplify(nbytes - numel * value.element_size()) != 0:
        raise CaptureUnavailable(
            f"{op}: kernel argument '{name}' is a view of a larger buffer the body allocates "
            f"({nbytes} bytes for {numel} elements); pass the whole allocation"
        )
    unknown = [s for d in dims for s in d.free_symbols if s not in symbols]
    if unknown:
        raise CaptureUnavailable(
            f"{op}: scratch tensor '{name}' has sizes {list(dims)} that depend on data, not on input sizes"
        )
    return ScratchSpec(value.dtype, dims)


def _constexprs_of(kernel: Any) -> Tuple[str, ...]:
    """Constexpr parameters of an interpreted kernel (from its annotations)."""

    names = []
    for p in inspect.signature(kernel.fn).parameters.values():
        annotation = p.annotation
        if annotation is not inspect.Parameter.empty and "constexpr" in str(annotation):
            names.append(p.name)
    return tuple(names)


class CaptureCache:
    """Captured launches of one op overload by call identity, shared by the JIT runtime and AOT.

    A capture is used only while its kernel bindings hold (``CapturedLaunch.is_current``); failures
    are remembered per key, and a failure that holds for the whole op (its body reads Python state)
    is remembered for every key.
    """

    MAX_ENTRIES = 4096

    def __init__(self, spec: OpSpec, several: bool = False) -> None:
        self.spec = spec
        #: Chains of launches (NOTE [Launch chains]) instead of single launches.
        self.several = several
        self._entries: "collections.OrderedDict[CallKey, Any]" = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()
        #: Set when a capture showed that no call of this op can be captured (message).
        self.op_reason: Optional[str] = None
        self.runs = 0  # how many captures ran (tests)

    def get(
        self,
        key: CallKey,
        program: ShapeProgram,
        hints: Optional[Mapping[Tuple[int, int], int]] = None,
    ) -> Captured:
        """The capture for ``key`` (made now if there is none or it went stale); CaptureUnavailable otherwise."""
        found = self._lookup(key)
        if found is not None:
            return found
        with self._lock:
            found = self._lookup(key)
            if found is not None:
                return found
            self.runs += 1
            try:
                captured = capture(self.spec, key, program, hints, self.several)
            except CaptureUnavailable as e:
                if e.op_wide:
                    self.op_reason = str(e)
                self._store(key, (str(e), e.launches))
                raise
            self._store(key, captured)
            return captured

    def _lookup(self, key: CallKey) -> Optional[Captured]:
        if self.op_reason is not None:
            raise CaptureUnavailable(self.op_reason, op_wide=True)
        entry = self._entries.get(key)
        if isinstance(entry, tuple):  # a failure: (message, launches)
            raise CaptureUnavailable(entry[0], launches=entry[1])
        if entry is not None and entry.is_current():
            return entry
        return None

    def _store(self, key: CallKey, entry: Any) -> None:
        self._entries[key] = entry
        while len(self._entries) > self.MAX_ENTRIES:
            self._entries.popitem(last=False)

    def keys(self) -> List[CallKey]:
        return list(self._entries)

    def any_with(self, like: CallKey) -> Optional[Captured]:
        """A current capture for ``like``'s op, definition, attributes, dtypes and ranks, whatever the sizes."""
        for key, entry in list(self._entries.items()):
            if (
                key.sizeless == like.sizeless
                and not isinstance(entry, tuple)
                and entry.is_current()
            ):
                return entry
        return None
