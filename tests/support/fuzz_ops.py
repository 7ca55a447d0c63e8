"""Generated custom ops for the differential fuzzer (test_fuzz.py).

An ``OpCase`` describes one op: its arguments (tensors, Optional tensors, attributes of every kind
the plugin takes, defaults, keyword-only), its body (one Triton launch, torch code, or a Triton
launch fed by Python state), its fake kernel (elementwise, broadcasting, size arithmetic, a guard,
or deliberately wrong), and how a model calls it. ``define`` registers it (custom_op with an
explicit schema, or ``Library.define`` with a named overload); ``reference`` computes what the op
returns in plain torch, which the body must agree with.

The computation is the same for every case, so that every attribute reaches the result:
``z = (x [+ y]) * sign(f) * dtype_factor + off`` where ``f`` is the first float attribute (its
sign bit matters: -0.0 flips the result; NaN and inf propagate), ``off`` adds the int attribute
(mod 7), +1 / -1 by the str attribute, the sum of the list attribute and, for stateful bodies, a
counter; a bool attribute negates ``z``; a ScalarType attribute casts the result.
"""

# No "from __future__ import annotations": kept plain for torch.library.

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import triton
import triton.language as tl

BLOCK = 64

FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
OTHER_DTYPES = (torch.int32, torch.int64, torch.bool)

#: Python state read by stateful bodies (one step per call, as eager).
STATE = itertools.count(1)


@triton.jit
def fuzz_kernel(X, Y, Z, n, sign, off, HAS_Y: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    v = tl.load(X + offs, mask=mask).to(tl.float32)
    if HAS_Y:
        v = v + tl.load(Y + offs, mask=mask).to(tl.float32)
    tl.store(Z + offs, v * sign + off, mask=mask)


@dataclass(frozen=True)
class Attr:
    name: str
    kind: str  # "float" | "int" | "bool" | "str" | "int[]" | "float[]" | "ScalarType"
    value: Any  # what the model passes (ignored when ``omit`` and there is a default)
    default: Any = None
    has_default: bool = False
    kwarg_only: bool = False
    omit: bool = False  # the call site leaves it to the default
    value2: Any = None  # what the second model passes (None: the same as ``value``)

    def at(self, second: bool) -> Any:
        return self.value2 if second and self.value2 is not None else self.value


@dataclass(frozen=True)
class OpCase:
    namespace: str
    attrs: Tuple[Attr, ...]
    body: str  # "triton" | "torch" | "stateful"
    shape: str  # "elementwise" | "broadcast" | "concat" | "rows" | "guarded"
    x_dtype: torch.dtype
    second_dtype: torch.dtype  # the dtype of the second compile of the same op
    with_y: bool
    y_optional: bool
    y_passed: bool
    fake: str  # "right" | "wrong_shape" | "wrong_dtype"
    overload: bool  # defined with Library.define, plus an "alt" overload used in the same model
    dynamic: bool
    rows: int
    cols: int
    tensor_first: bool = (
        True  # tensors before attributes in the schema (else x, attrs, y)
    )

    @property
    def qualname(self) -> str:
        return f"{self.namespace}::op"

    def first(self, kind: str) -> Optional[Attr]:
        return next((a for a in self.attrs if a.kind == kind), None)

    @property
    def inconsistent(self) -> bool:
        return self.fake != "right"


# -- schema ---------------------------------------------------------------------------------------------
def _literal(kind: str, value: Any) -> str:
    if kind == "float":
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(float(value))
    if kind == "bool":
        return "True" if value else "False"
    if kind == "str":
        return f'"{value}"'
    if kind in ("int[]", "float[]"):
        return "[" + ", ".join(_literal(kind[:-2], v) for v in value) + "]"
    if kind == "ScalarType":
        return {
            torch.float32: "float",
            torch.float16: "half",
            torch.int32: "int",
            torch.int64: "long",
        }[value]
    return str(int(value))


def schema(case: OpCase) -> str:
    tensors = ["Tensor x"]
    if case.with_y:
        tensors.append("Tensor? y" if case.y_optional else "Tensor y")
    positional = [a for a in case.attrs if not a.kwarg_only]
    keyword = [a for a in case.attrs if a.kwarg_only]

    def decl(a: Attr) -> str:
        kind = {"int[]": "int[]", "float[]": "float[]"}.get(a.kind, a.kind)
        text = f"{kind} {a.name}"
        return text + (f"={_literal(a.kind, a.default)}" if a.has_default else "")

    if case.tensor_first:
        parts = tensors + [decl(a) for a in positional]
    else:
        parts = tensors[:1] + [decl(a) for a in positional] + tensors[1:]
    if keyword:
        parts += ["*"] + [decl(a) for a in keyword]
    return "(" + ", ".join(parts) + ") -> Tensor"


# -- semantics ----------------------------------------------------------------------------------------
def _scalars(
    case: OpCase, x_dtype: torch.dtype, values: Dict[str, Any], state: int
) -> Tuple[float, float]:
    f_attr, i_attr, s_attr = case.first("float"), case.first("int"), case.first("str")
    f = float(values[f_attr.name]) if f_attr is not None else 1.0
    sign = math.copysign(1.0, f) * (2.0 if x_dtype == torch.float16 else 1.0)
    off = 0.0 if f_attr is None else (f if math.isnan(f) or math.isinf(f) else 0.0)
    if i_attr is not None:
        off += float(int(values[i_attr.name]) % 7)
    if s_attr is not None:
        off += 1.0 if values[s_attr.name] == "add" else -1.0
    for kind in ("int[]", "float[]"):
        lst = case.first(kind)
        if lst is not None:
            off += float(sum(values[lst.name]))
    return sign, off + float(state)


def _finish(
    case: OpCase, z: torch.Tensor, x_dtype: torch.dtype, values: Dict[str, Any]
) -> torch.Tensor:
    b_attr, t_attr = case.first("bool"), case.first("ScalarType")
    if b_attr is not None and values[b_attr.name]:
        z = -z
    out_dtype = values[t_attr.name] if t_attr is not None else x_dtype
    if out_dtype in OTHER_DTYPES or not out_dtype.is_floating_point:
        z = (
            torch.nan_to_num(z, nan=0.0, posinf=1e4, neginf=-1e4)
            .clamp(-1e4, 1e4)
            .round()
        )
    return z.to(out_dtype)


def _combine(case: OpCase, x: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
    v = x.float()
    if y is None:
        return v
    if case.shape == "concat":
        return torch.cat([v, y.float()], 0)
    return v + y.float()


def triton_compatible(case: OpCase) -> bool:
    """Whether a Triton body computes ``reference`` with nothing but its launch: float input,
    elementwise (same-shape y), no cast or negation after the kernel."""
    return (
        case.x_dtype in FLOAT_DTYPES
        and case.second_dtype in FLOAT_DTYPES
        and case.shape == "elementwise"
        and case.first("bool") is None
        and case.first("ScalarType") is None
        and not case.overload
    )


def reference(
    case: OpCase,
    x: torch.Tensor,
    y: Optional[torch.Tensor],
    values: Dict[str, Any],
    state: int = 0,
) -> torch.Tensor:
    """What the op returns, in plain torch (``state``: the counter value a stateful body reads)."""
    sign, off = _scalars(case, x.dtype, values, state)
    z = _combine(case, x, y) * sign + off
    if case.shape == "rows":
        z = z.sum(1)
    return _finish(case, z, x.dtype, values)


def _bind(
    case: OpCase, args: Sequence[Any], kwargs: Dict[str, Any]
) -> Tuple[torch.Tensor, Optional[torch.Tensor], Dict[str, Any]]:
    names = ["x"] + (["y"] if case.with_y else [])
    positional = [a.name for a in case.attrs if not a.kwarg_only]
    order = (
        names + positional if case.tensor_first else names[:1] + positional + names[1:]
    )
    bound = dict(zip(order, args))
    bound.update(kwargs)
    for a in case.attrs:
        if a.name not in bound:
            bound[a.name] = a.default
    values = {a.name: bound[a.name] for a in case.attrs}
    return bound["x"], bound.get("y"), values


def body(case: OpCase, negate: bool = False) -> Callable[..., torch.Tensor]:
    """The op's body (``negate``: the "alt" overload's)."""

    def run(*args: Any, **kwargs: Any) -> torch.Tensor:
        x, y, values = _bind(case, args, kwargs)
        state = next(STATE) if case.body == "stateful" else 0
        if case.body == "torch":
            z = reference(case, x, y, values, state)
        else:  # one Triton launch writing the result itself (see ``triton_compatible``)
            sign, off = _scalars(case, x.dtype, values, state)
            z = torch.empty_like(x)
            n = x.numel()
            fuzz_kernel[(triton.cdiv(n, BLOCK),)](
                x,
                y if y is not None else x,
                z,
                n,
                sign,
                off,
                HAS_Y=y is not None,
                BLOCK_SIZE=BLOCK,
            )
        if negate:
            z = -z if z.dtype != torch.bool else ~z
        if case.fake == "wrong_shape":
            return z[:1].clone()
        if case.fake == "wrong_dtype":
            return (
                z.to(torch.float64) if z.dtype != torch.float64 else z.to(torch.float32)
            )
        return z

    return run


def fake(case: OpCase) -> Callable[..., torch.Tensor]:
    def run(*args: Any, **kwargs: Any) -> torch.Tensor:
        x, y, values = _bind(case, args, kwargs)
        t_attr = case.first("ScalarType")
        out_dtype = values[t_attr.name] if t_attr is not None else x.dtype
        if case.shape == "guarded" and not torch.compiler.is_exporting():
            torch._check(
                x.shape[0] >= 3
            )  # export does not see it; the plugin's trace must
        if case.shape == "concat" and y is not None:
            shape = (x.shape[0] + y.shape[0], x.shape[1])
        elif case.shape == "broadcast" and y is not None:
            shape = tuple(torch.broadcast_shapes(x.shape, y.shape))
        elif case.shape == "rows":
            shape = (x.shape[0],)
        else:
            shape = tuple(x.shape)
        return x.new_empty(shape, dtype=out_dtype)

    return run


# -- registration ------------------------------------------------------------------------------------
@dataclass
class Defined:
    case: OpCase
    packet: Any
    libraries: List[Any] = field(default_factory=list)

    def destroy(self) -> None:
        from torch._library.custom_ops import OPDEF_TO_LIB, OPDEFS

        lib = OPDEF_TO_LIB.pop(self.case.qualname, None)
        if lib is not None:
            lib._destroy()
        OPDEFS.pop(self.case.qualname, None)
        for lib in self.libraries:
            _forget_overloads(lib)
            lib._destroy()


def _forget_overloads(lib: Any) -> None:
    """Keep one definition per op name in ``lib``'s bookkeeping before ``_destroy``.

    torch <= 2.11's ``Library._destroy`` drops the cached ``torch.ops.ns.op`` once per definition;
    for a second overload of the same name (``op.alt``) it looks the packet up again after the
    library was reset, and that lookup crashed an xdist worker (segfault in
    ``torch._C._jit_get_operation`` on the H200 machine's torch 2.11). One entry per name clears the
    cache once; the definitions themselves are removed by ``self.m.reset()`` either way.
    """
    seen: Dict[str, str] = {}
    for qualname in sorted(lib._op_defs):
        seen.setdefault(qualname.split(".")[0], qualname)
    lib._op_defs = set(seen.values())


def define(case: OpCase) -> Defined:
    text = schema(case)
    if case.overload:
        lib = torch.library.Library(case.namespace, "FRAGMENT")
        lib.define("op" + text)
        lib.define("op.alt" + text)
        lib.impl("op", body(case), "CompositeExplicitAutograd")
        lib.impl("op.alt", body(case, negate=True), "CompositeExplicitAutograd")
        torch.library.register_fake(case.qualname, fake(case), lib=lib)
        torch.library.register_fake(case.qualname + ".alt", fake(case), lib=lib)
        return Defined(case, getattr(torch.ops, case.namespace).op, [lib])
    torch.library.custom_op(
        case.qualname, body(case), mutates_args=(), schema=text
    ).register_fake(fake(case))
    return Defined(case, getattr(torch.ops, case.namespace).op)


def call(
    case: OpCase,
    overload: Any,
    x: torch.Tensor,
    y: Optional[torch.Tensor],
    second: bool = False,
) -> torch.Tensor:
    """How the model calls the op (omitted attributes left to their defaults, keyword-only by name;
    ``second``: the second model's attribute values)."""
    tensors = [x] + ([y if case.y_passed else None] if case.with_y else [])
    positional = [a for a in case.attrs if not a.kwarg_only]
    args: List[Any] = list(tensors) if case.tensor_first else tensors[:1]
    kwargs: Dict[str, Any] = {}
    # A positional attribute can be left out only if everything after it is left out too.
    cut = len(positional)
    while cut > 0 and positional[cut - 1].omit and positional[cut - 1].has_default:
        cut -= 1
    args += [a.at(second) for a in positional[:cut]]
    if not case.tensor_first:
        if cut < len(positional) and case.with_y:
            kwargs["y"] = tensors[1]
        else:
            args += tensors[1:]
    for a in case.attrs:
        if a.kwarg_only and not (a.omit and a.has_default):
            kwargs[a.name] = a.at(second)
    return overload(*args, **kwargs)
