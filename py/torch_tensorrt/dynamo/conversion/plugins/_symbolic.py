"""Trace an op's fake kernel once under symbolic shapes and keep the result as a ShapeProgram.

NOTE: [One trace per key]
A trace is keyed by the call identity (``_identity.CallKey``: the op overload and its current
definition, each tensor's dtype and shape with dynamic dimensions as None, absent optional tensors,
attribute values by exact encoding): everything the output shapes and dtypes can depend on. Each dynamic input dimension is its own symbol (its hint is
the example size the exported graph recorded, so dimensions the model keeps equal trace equal). The
fake kernel's guards (specialisations, equalities, broadcasting decisions, torch._check) are kept
with the program; ``unproven_guards`` checks them against what the exported graph knows about the
dimensions (equalities and ranges, i.e. the TensorRT optimisation profile), and a program whose
guards cannot be shown to hold is not used for conversion. TensorRT shape queries never re-trace.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import sympy
import torch
from torch._dispatch.python import enable_python_dispatcher
from torch._dynamo.source import LocalSource
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.fx.experimental.symbolic_shapes import DimDynamic, ShapeEnv

from ._attributes import to_call_value
from ._errors import PluginGenerationError, UnsupportedOpError, user_error
from ._identity import CallKey
from ._schema import OpSpec
from ._shape_program import DimSymbol, OutputShape, ShapeProgram

_LOGGER = logging.getLogger(__name__)

#: Hint for dynamic dimensions nothing else gives a size for (>= 2: 0 and 1 would be specialised).
DEFAULT_HINT = 8


def _fake_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def trace(
    api: str,
    spec: OpSpec,
    op: torch._ops.OpOverload,
    key: CallKey,
    hints: Optional[Mapping[Tuple[int, int], int]] = None,
) -> ShapeProgram:
    """Run the fake kernel on symbolic inputs described by ``key`` and return its ShapeProgram.

    ``hints`` maps (tensor index, dim) of dynamic dimensions to example sizes; missing ones get
    DEFAULT_HINT. Raises PluginGenerationError naming the op when the fake kernel is missing or
    fails, or when an output shape depends on data.
    """
    env = ShapeEnv()
    # The Python dispatcher runs torch's Python meta kernels and decompositions, which keep sizes
    # symbolic; without it some C++ kernels read concrete sizes and specialise (as export avoids).
    with strict_fake_mode(env), enable_python_dispatcher():
        fake_inputs, symbols = symbolic_inputs(env, spec, key, hints)
        args, kwargs = _call_arguments(spec, fake_inputs, key.attributes)
        try:
            result = op(*args, **kwargs)
        except Exception as e:
            raise _fake_kernel_error(api, spec, key, e) from e
    if spec.num_returns == 0:
        returned: Tuple[Any, ...] = () if result is None else (result,)
    else:
        returned = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(returned) != spec.num_returns or not all(
        isinstance(o, torch.Tensor) for o in returned
    ):
        raise user_error(
            api,
            spec.qualname,
            "the fake kernel's result does not match the schema's returns",
            got=f"{type(result).__name__} of {len(returned)}",
            expected=f"{spec.num_returns} tensor(s)",
            fix="Make the register_fake function return what the op returns",
        )
    # A mutated argument's new value is a plugin output too, shaped like the argument.
    by_name = {a.name: t for a, t in zip(spec.tensor_args, fake_inputs)}
    outputs = returned + tuple(by_name[name] for name in spec.mutated)
    shapes = []
    sizes: List[sympy.Symbol] = []  # data-dependent sizes, in order of appearance
    bounds: List[sympy.Expr] = []
    dependent: List[Tuple[int, int, int]] = []
    for index, out in enumerate(outputs):
        dims = []
        for axis, d in enumerate(out.shape):
            expr = (
                env.simplify(d.node.expr)
                if isinstance(d, torch.SymInt)
                else sympy.Integer(int(d))
            )
            unknown = [s for s in expr.free_symbols if s not in symbols]
            if unknown:
                if not (expr.is_Symbol and index < spec.num_returns):
                    raise user_error(
                        api,
                        spec.qualname,
                        f"output {index}'s size {axis} is computed from a data-dependent size "
                        f"({program_render(expr, symbols)})",
                        got=f"{program_render(expr, symbols)}",
                        expected="a data-dependent size used as a dimension as it is (TensorRT's size "
                        "tensors take no arithmetic)",
                        fix="Give the output that dimension exactly as ctx.new_dynamic_size() returned it",
                        cls=UnsupportedOpError,
                    )
                if expr not in sizes:
                    sizes.append(expr)
                    bounds.append(
                        _upper_bound(api, spec, env, expr, symbols, index, axis)
                    )
                k = sizes.index(expr)
                dependent.append((index, axis, k))
                expr = bounds[k]  # TensorRT allocates the output at the bound
            dims.append(expr)
        shapes.append(OutputShape(out.dtype, tuple(dims)))
    guards = _guards(env, symbols)
    # A size the trace only holds under a guard "size == constant" is that constant.
    fixed = _guarded_constants(guards)
    shapes = [
        OutputShape(s.dtype, tuple(fixed.get(_canonical(d), d) for d in s.dims))
        for s in shapes
    ]
    program = ShapeProgram(
        tuple(shapes),
        tuple(symbols.items()),
        tuple(guards),
        sizes=tuple(bounds),
        data_dependent=tuple(dependent),
    )
    if _LOGGER.isEnabledFor(
        logging.DEBUG
    ):  # rendering is not free: only when it is shown
        _LOGGER.debug(
            "traced %s for %s: outputs %s, guards %s",
            spec.qualname,
            key.describe(),
            [[program.render(d) for d in o.dims] for o in program.outputs],
            [program.render(g) for g in guards],
        )
    return program


def strict_fake_mode(env: ShapeEnv) -> FakeTensorMode:
    """A FakeTensorMode whose tensors refuse ``data_ptr()`` (torch only warns by default).

    Code this package runs on the user's behalf (fake kernels, op bodies during capture) must never
    hand a FakeTensor's address to anything that could launch work on the device with it.
    """
    import torch._functorch.config as functorch_config

    with functorch_config.patch(fake_tensor_allow_unsafe_data_ptr_access=False):
        return FakeTensorMode(shape_env=env, allow_non_fake_inputs=False)


def program_render(expr: sympy.Basic, symbols: Mapping[sympy.Symbol, DimSymbol]) -> str:
    from ._shape_program import python_syntax

    return python_syntax(
        expr.xreplace({s: sympy.Symbol(d.label) for s, d in symbols.items()})
    )


def symbolic_inputs(
    env: ShapeEnv,
    spec: OpSpec,
    key: CallKey,
    hints: Optional[Mapping[Tuple[int, int], int]] = None,
) -> Tuple[List[Optional[torch.Tensor]], Dict[sympy.Symbol, DimSymbol]]:
    """FakeTensors for the key's inputs (call inside a FakeTensorMode over ``env``).

    Static sizes stay ints; each dynamic size is its own symbol, hinted by ``hints`` (tensor index,
    dim) or DEFAULT_HINT. Returns the tensors (None for absent ones) and what each symbol stands for.
    """
    symbols: Dict[sympy.Symbol, DimSymbol] = {}
    inputs: List[Optional[torch.Tensor]] = []
    device = _fake_device()
    for i, (arg, sig) in enumerate(zip(spec.tensor_args, key.tensors)):
        if sig is None:
            inputs.append(None)
            continue
        sizes: List[Union[int, torch.SymInt]] = []
        for j, d in enumerate(sig.dims):
            if d is not None:
                sizes.append(int(d))
                continue
            hint = max(2, int((hints or {}).get((i, j), DEFAULT_HINT)))
            label = f"{arg.name}.size({j})"
            source = LocalSource(label)
            sym = env.create_symbol(hint, source=source, dynamic_dim=DimDynamic.DYNAMIC)
            sizes.append(env.create_symintnode(sym, hint=hint, source=source))
            if isinstance(sym, sympy.Symbol):
                symbols[sym] = DimSymbol(i, j, label)
        inputs.append(torch.empty(sizes, dtype=sig.dtype, device=device))
    return inputs, symbols


def _upper_bound(
    api: str,
    spec: OpSpec,
    env: ShapeEnv,
    size: sympy.Symbol,
    symbols: Mapping[sympy.Symbol, DimSymbol],
    index: int,
    axis: int,
) -> sympy.Expr:
    """The upper bound of data-dependent ``size`` in input sizes: from the fake kernel's
    ``torch._check(n <= expr)`` (a deferred runtime assert), else from the size's value range
    (``new_dynamic_size(max=...)``); UnsupportedOpError saying which check to add otherwise.
    """
    candidates: List[sympy.Expr] = []
    for assertion in env.deferred_runtime_asserts.get(size, []):
        relation = assertion.expr
        if isinstance(relation, (sympy.Le, sympy.Lt)) and relation.lhs == size:
            bound = relation.rhs - (1 if isinstance(relation, sympy.Lt) else 0)
        elif isinstance(relation, (sympy.Ge, sympy.Gt)) and relation.rhs == size:
            bound = relation.lhs - (1 if isinstance(relation, sympy.Gt) else 0)
        else:
            continue
        if all(s in symbols for s in bound.free_symbols):
            candidates.append(sympy.sympify(bound))
    value_range = env.var_to_range.get(size)
    upper = getattr(value_range, "upper", None)
    if upper is not None and getattr(upper, "is_finite", False) and upper.is_Integer:
        candidates.append(sympy.Integer(int(upper)))
    if candidates:
        return candidates[0]
    first = next((a.name for a in spec.tensor_args), "x")
    raise user_error(
        api,
        spec.qualname,
        f"output {index}'s size {axis} is data-dependent (ctx.new_dynamic_size()) and has no upper "
        "bound, which TensorRT needs to allocate the output",
        expected="a bound in the fake kernel",
        fix=f"Add torch._check(n <= {first}.numel()) (or another expression of the input sizes) "
        "right after n = ctx.new_dynamic_size(), or use ctx.new_dynamic_size(max=...)",
        cls=UnsupportedOpError,
    )


def _call_arguments(
    spec: OpSpec, tensors: Sequence[Optional[torch.Tensor]], attributes: Sequence[Any]
) -> Tuple[List[Any], Dict[str, Any]]:
    """(args, kwargs) for calling the op, in schema order, keyword-only arguments by name."""
    tensor_iter = iter(tensors)
    attr_iter = iter(attributes)
    args: List[Any] = []
    kwargs: Dict[str, Any] = {}
    for arg in spec.args:
        value = next(tensor_iter) if arg.is_tensor else to_call_value(next(attr_iter))
        if arg.kwarg_only:
            kwargs[arg.name] = value
        else:
            args.append(value)
    return args, kwargs


def _canonical(expr: sympy.Basic) -> sympy.Basic:
    """Divisions in one form (torch writes exact divisions as CleanDiv, guards as FloorDiv)."""
    from torch.utils._sympy.functions import CleanDiv, FloorDiv

    return expr.replace(CleanDiv, FloorDiv) if expr.has(CleanDiv) else expr


def _guarded_constants(guards: List[sympy.Basic]) -> Dict[sympy.Basic, sympy.Integer]:
    """Expressions the guards pin to a constant (``Eq(expr, c)``), in canonical form."""
    fixed: Dict[sympy.Basic, sympy.Integer] = {}
    for g in guards:
        if isinstance(g, sympy.Eq):
            lhs, rhs = g.lhs, g.rhs
            if rhs.is_Integer and not lhs.is_Integer:
                fixed[_canonical(lhs)] = rhs
            elif lhs.is_Integer and not rhs.is_Integer:
                fixed[_canonical(rhs)] = lhs
    return fixed


def _guards(
    env: ShapeEnv, symbols: Mapping[sympy.Symbol, DimSymbol]
) -> List[sympy.Basic]:
    guards: List[sympy.Basic] = []
    for sym, replacement in env.replacements.items():
        if sym in symbols:
            guards.append(sympy.Eq(sym, replacement))
    for guard in env.guards:
        guards.append(guard.expr)
    for asserts in env.deferred_runtime_asserts.values():
        for ra in asserts:
            guards.append(ra.expr)
    unique: List[sympy.Basic] = []
    for g in guards:
        mirrored = (
            type(g)(g.rhs, g.lhs) if isinstance(g, (sympy.Eq, sympy.Ne)) else None
        )
        if (
            g is sympy.true
            or g in unique
            or (mirrored is not None and mirrored in unique)
        ):
            continue
        if any(s not in symbols for s in g.free_symbols):
            # About a data-dependent size (torch._check(n <= ...)): its bound, checked against
            # what the op returns at enqueue (see _upper_bound), not a condition on input sizes.
            continue
        unique.append(g)
    return unique


def has_fake_kernel(op: torch._ops.OpOverload) -> bool:
    """Whether torch can run ``op`` on FakeTensors (register_fake / abstract impl / Meta kernel)."""
    from torch._library.custom_ops import OPDEFS

    from ._identity import fake_kernel, op_name

    name = op_name(op)
    if fake_kernel(name) is not None:
        return True
    if name in OPDEFS:  # a custom_op without register_fake
        return False
    return bool(torch._C._dispatch_has_kernel_for_dispatch_key(name, "Meta"))


def no_fake_kernel_error(api: str, spec: OpSpec) -> PluginGenerationError:
    return user_error(
        api,
        spec.display,
        "the op has no fake (meta) kernel, so its output shapes and dtypes are unknown",
        expected="a function registered with torch.library.register_fake",
        fix=f'Add @torch.library.register_fake("{spec.display}") returning empty tensors of the output shapes',
    )


def _fake_kernel_error(
    api: str, spec: OpSpec, key: CallKey, e: Exception
) -> PluginGenerationError:
    text = f"{type(e).__name__}: {e}".strip()
    if "no fake impl" in text.lower():
        return no_fake_kernel_error(api, spec)
    return user_error(
        api,
        spec.qualname,
        "the fake kernel raised while tracing output shapes",
        got=text.splitlines()[0],
        expected=f"it to accept {key.describe(spec)}",
        fix="Fix the register_fake function for these inputs (it runs on FakeTensors with symbolic sizes)",
    )


def unproven_guards(
    program: ShapeProgram,
    dims: Mapping[Tuple[int, int], Union[int, sympy.Expr]],
    env: Optional[ShapeEnv],
) -> List[str]:
    """Guards of ``program`` not shown to hold for every shape the exported graph allows.

    ``dims`` gives each input dimension (tensor index, dim) as the exported graph knows it: an int
    or an expression over the export's symbols, whose ranges and equalities ``env`` holds.
    """
    substitution = {
        s: sympy.sympify(dims[(d.input_index, d.dim)]) for s, d in program.symbols
    }
    unproven = []
    for guard in program.guards:
        value = guard.xreplace(substitution)
        if value is sympy.true:
            continue
        if value is not sympy.false and env is not None:
            try:
                static = env._maybe_evaluate_static(value)
            except Exception:  # the private API moved; treat as unknown
                static = None
            if static is sympy.true:
                continue
        unproven.append(program.render(guard))
    return unproven


class ProgramCache:
    """Shape programs by call identity (thread-safe).

    One trace per key; keys are indexed by everything but the sizes (op, definition, attributes,
    dtypes, ranks) so that the runtime can find the program a shape belongs to without tracing.
    Keys traced only for concrete run-time shapes are bounded (least recently used go first).
    """

    MAX_PROGRAMS = 4096

    def __init__(self) -> None:
        self._programs: "OrderedDict[CallKey, ShapeProgram]" = OrderedDict()
        self._index: Dict[Tuple[Any, ...], List[CallKey]] = {}
        self._lock = threading.Lock()
        self.traces = (
            0  # how many traces ran (tests check that queries do not re-trace)
        )

    @staticmethod
    def _signature(key: CallKey) -> Tuple[Any, ...]:
        return key.sizeless

    def get(self, key: CallKey) -> Optional[ShapeProgram]:
        return self._programs.get(key)

    def get_or_trace(
        self,
        api: str,
        spec: OpSpec,
        op: torch._ops.OpOverload,
        key: CallKey,
        hints: Optional[Mapping[Tuple[int, int], int]] = None,
    ) -> ShapeProgram:
        program = self._programs.get(key)
        if program is not None:
            return program
        with self._lock:
            program = self._programs.get(key)
            if program is None:
                program = trace(api, spec, op, key, hints)
                self.traces += 1
                self._programs[key] = program
                self._index.setdefault(self._signature(key), []).append(key)
                while len(self._programs) > self.MAX_PROGRAMS:
                    old, _ = self._programs.popitem(last=False)
                    self._index[self._signature(old)].remove(old)
        return program

    def candidates(self, like: CallKey) -> List[Tuple[CallKey, ShapeProgram]]:
        """Cached (key, program) pairs that differ from ``like`` at most in their sizes."""
        keys = self._index.get(self._signature(like), [])
        return [(k, self._programs[k]) for k in list(keys) if k in self._programs]

    def any_with(self, like: CallKey) -> Optional[ShapeProgram]:
        """A cached program for ``like``'s op, definition, attributes, dtypes and ranks, whatever the sizes."""
        found = self.candidates(like)
        return found[0][1] if found else None

    def general(self, key: CallKey) -> Optional[ShapeProgram]:
        """A cached program that holds for every shape of ``key``: traced with every size symbolic
        (same op, definition, attributes, dtypes, ranks) and free of guards, so it needs no trace of its own.
        """
        for other, program in self.candidates(key):
            if not program.guards and all(
                t is None or all(d is None for d in t.dims) for t in other.tensors
            ):
                return program
        return None

    def matching(
        self, like: CallKey, shapes: Sequence[Optional[Sequence[int]]]
    ) -> Optional[Tuple[CallKey, ShapeProgram]]:
        """A cached program that covers these concrete shapes: static sizes equal, guards hold."""
        for key, program in self.candidates(like):
            if (
                all(
                    sig is None or all(d is None or d == int(v) for d, v in zip(sig.dims, shape))  # type: ignore[arg-type]
                    for sig, shape in zip(key.tensors, shapes)
                )
                and program.violated_guard(shapes) is None
            ):
                return key, program
        return None
