"""Shape programs: output shapes as sympy expressions of input dimensions, and their lowering.

A ``ShapeProgram`` is what tracing the fake kernel once produces (``_symbolic``): for each output its
dtype and its dimensions as sympy expressions over one symbol per input dimension, plus the guards
(conditions on those symbols) under which the expressions are right. It is pure data and never
re-traced; TensorRT shape queries only *lower* it.

``lower`` walks an expression through an explicit node table and builds the value with an
``Algebra``: ``INT_ALGEBRA`` computes integers (for run-time checks and tests), the QDP adapter
supplies one that builds TensorRT shape expressions. A sympy node that is not in the table is an
error naming the node, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generic, Optional, Sequence, Tuple, TypeVar

import sympy
import torch
from torch.utils._sympy import functions as tsf

T = TypeVar("T")


class UnsupportedExpression(ValueError):
    """A sympy node the lowering table does not cover."""


@dataclass(frozen=True)
class Algebra(Generic[T]):
    """How to build values for the operations TensorRT's IExprBuilder offers."""

    const: Callable[[int], T]
    add: Callable[[T, T], T]
    sub: Callable[[T, T], T]
    mul: Callable[[T, T], T]
    floordiv: Callable[[T, T], T]
    ceildiv: Callable[[T, T], T]
    max: Callable[[T, T], T]
    min: Callable[[T, T], T]


INT_ALGEBRA: Algebra[int] = Algebra(
    const=int,
    add=lambda a, b: a + b,
    sub=lambda a, b: a - b,
    mul=lambda a, b: a * b,
    floordiv=lambda a, b: a // b,
    ceildiv=lambda a, b: -((-a) // b),
    max=max,
    min=min,
)


def _integer(expr: sympy.Basic) -> int:
    if expr.is_Integer:
        return int(expr)
    raise UnsupportedExpression(f"non-integral constant {expr} in a shape expression")


def _lower_add(
    expr: sympy.Add, rec: Callable[[sympy.Basic], Any], alg: Algebra[Any]
) -> Any:
    positive, negative = [], []
    for term in expr.args:
        coeff, rest = term.as_coeff_Mul()
        if coeff.is_negative:
            negative.append(rec(-term))
        else:
            positive.append(rec(term))
    if positive:
        total = positive[0]
        for p in positive[1:]:
            total = alg.add(total, p)
    else:
        total = alg.const(0)
    for n in negative:
        total = alg.sub(total, n)
    return total


def _lower_mul(
    expr: sympy.Mul, rec: Callable[[sympy.Basic], Any], alg: Algebra[Any]
) -> Any:
    coeff, factors = expr.as_coeff_mul()
    if not coeff.is_Integer:
        raise UnsupportedExpression(f"non-integral coefficient {coeff} in {expr}")
    values = [rec(f) for f in factors]
    if int(coeff) != 1:
        values.insert(0, alg.const(int(coeff)))
    total = values[0]
    for v in values[1:]:
        total = alg.mul(total, v)
    return total


def _lower_pow(
    expr: sympy.Pow, rec: Callable[[sympy.Basic], Any], alg: Algebra[Any]
) -> Any:
    base, exponent = expr.args
    if not (exponent.is_Integer and int(exponent) >= 1):
        raise UnsupportedExpression(f"power with a non-natural exponent: {expr}")
    value = rec(base)
    total = value
    for _ in range(int(exponent) - 1):
        total = alg.mul(total, value)
    return total


def _lower_mod(a: Any, b: Any, alg: Algebra[Any]) -> Any:
    return alg.sub(a, alg.mul(alg.floordiv(a, b), b))


def _binary(
    fn: Callable[[Algebra[Any]], Callable[[Any, Any], Any]],
) -> Callable[..., Any]:
    def lower(
        expr: sympy.Basic, rec: Callable[[sympy.Basic], Any], alg: Algebra[Any]
    ) -> Any:
        args = [rec(a) for a in expr.args]
        total = args[0]
        for a in args[1:]:
            total = fn(alg)(total, a)
        return total

    return lower


def _to_int(rounding: str) -> Callable[..., Any]:
    """``CeilToInt`` / ``FloorToInt`` / ``TruncToInt`` of a size: exact only over a true division of
    two integers (``math.ceil(n / 2)``), which is integer ceil / floor division for the non-negative
    sizes TensorRT shape expressions describe; an integer argument passes through."""

    def lower(
        expr: sympy.Basic, rec: Callable[[sympy.Basic], Any], alg: Algebra[Any]
    ) -> Any:
        (arg,) = expr.args
        if isinstance(arg, tsf.IntTrueDiv):
            a, b = (rec(x) for x in arg.args)
            return alg.ceildiv(a, b) if rounding == "ceil" else alg.floordiv(a, b)
        if arg.is_integer:
            return rec(arg)
        raise UnsupportedExpression(
            f"{type(expr).__name__}({arg}): only a division of two integer sizes can be rounded"
        )

    return lower


def _modular_indexing(
    expr: sympy.Basic, rec: Callable[[sympy.Basic], Any], alg: Algebra[Any]
) -> Any:
    base, divisor, modulus = (rec(a) for a in expr.args)
    return _lower_mod(alg.floordiv(base, divisor), modulus, alg)


#: sympy / torch node type -> how to lower it. Anything else is UnsupportedExpression.
_TABLE: Dict[type, Callable[[Any, Callable[[sympy.Basic], Any], Algebra[Any]], Any]] = {
    sympy.Add: _lower_add,
    sympy.Mul: _lower_mul,
    sympy.Pow: _lower_pow,
    tsf.PowByNatural: _lower_pow,
    tsf.FloorDiv: _binary(lambda alg: alg.floordiv),
    tsf.CleanDiv: _binary(lambda alg: alg.floordiv),
    tsf.CeilDiv: _binary(lambda alg: alg.ceildiv),
    tsf.Max: _binary(lambda alg: alg.max),
    tsf.Min: _binary(lambda alg: alg.min),
    sympy.Max: _binary(lambda alg: alg.max),
    sympy.Min: _binary(lambda alg: alg.min),
    tsf.Mod: _binary(lambda alg: lambda a, b: _lower_mod(a, b, alg)),
    tsf.PythonMod: _binary(lambda alg: lambda a, b: _lower_mod(a, b, alg)),
    sympy.Mod: _binary(lambda alg: lambda a, b: _lower_mod(a, b, alg)),
    tsf.ModularIndexing: _modular_indexing,
    tsf.Identity: lambda e, rec, alg: rec(e.args[0]),
    tsf.CeilToInt: _to_int("ceil"),
    tsf.FloorToInt: _to_int("floor"),
    tsf.TruncToInt: _to_int(
        "floor"
    ),  # truncation equals floor for the non-negative sizes here
}


def lower(
    expr: sympy.Basic, leaf: Callable[[sympy.Symbol], T], algebra: Algebra[T]
) -> T:
    """Build ``expr`` with ``algebra``; ``leaf`` gives the value of each symbol."""
    result: T = compile_expr(expr)(leaf, algebra)
    return result


Lowered = Callable[[Callable[[sympy.Symbol], Any], Algebra[Any]], Any]


def compile_expr(expr: sympy.Basic) -> Lowered:
    """``expr`` as a function of (leaf, algebra): the sympy tree is walked once, here.

    Raises UnsupportedExpression naming the first node the table does not cover.
    """

    def rec(e: sympy.Basic) -> Lowered:
        if e.is_Integer:
            value = int(e)
            return lambda leaf, alg: alg.const(value)
        if e.is_Symbol:
            return lambda leaf, alg: leaf(e)
        handler = _TABLE.get(type(e))
        if handler is None:
            raise UnsupportedExpression(
                f"{type(e).__name__} in shape expression {expr}: TensorRT shape expressions have "
                "sum, difference, product, floor/ceil division, min, max and constants"
            )
        # Run the handler with a recording algebra: each operation it performs becomes a closure.
        lowered: Lowered = handler(e, rec, _CLOSURE_ALGEBRA)
        return lowered

    return rec(sympy.sympify(expr))


def _closure_op(name: str) -> Callable[[Lowered, Lowered], Lowered]:
    def op(a: Lowered, b: Lowered) -> Lowered:
        return lambda leaf, alg: getattr(alg, name)(a(leaf, alg), b(leaf, alg))

    return op


def _closure_const(value: int) -> Lowered:
    return lambda leaf, alg: alg.const(value)


#: An Algebra over closures: lowering with it yields a function of (leaf, algebra).
_CLOSURE_ALGEBRA: Algebra[Lowered] = Algebra(
    const=_closure_const,
    add=_closure_op("add"),
    sub=_closure_op("sub"),
    mul=_closure_op("mul"),
    floordiv=_closure_op("floordiv"),
    ceildiv=_closure_op("ceildiv"),
    max=_closure_op("max"),
    min=_closure_op("min"),
)


@dataclass(frozen=True)
class DimSymbol:
    """Which input dimension a symbol stands for."""

    input_index: int
    dim: int
    label: str  # e.g. "x.size(0)"


@dataclass(frozen=True)
class OutputShape:
    dtype: torch.dtype
    dims: Tuple[sympy.Expr, ...]

    @property
    def rank(self) -> int:
        return len(self.dims)


@dataclass(frozen=True)
class ShapeProgram:
    """Output dtypes and shapes of one op for one trace key (see module docstring)."""

    outputs: Tuple[OutputShape, ...]
    symbols: Tuple[Tuple[sympy.Symbol, DimSymbol], ...]
    guards: Tuple[sympy.Basic, ...]
    #: Upper bound (over the input sizes) of each data-dependent size; ``outputs`` hold the bound
    #: where the size stands, which is what TensorRT allocates.
    sizes: Tuple[sympy.Expr, ...] = ()
    #: (output, dimension, size index) of each data-dependent dimension.
    data_dependent: Tuple[Tuple[int, int, int], ...] = ()
    # Lowering closures, built on first use (shape queries then never walk sympy trees).
    _compiled: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def symbol_map(self) -> Dict[sympy.Symbol, DimSymbol]:
        return dict(self.symbols)

    def lower_outputs(
        self, dims: Callable[[DimSymbol], T], algebra: Algebra[T]
    ) -> Tuple[Tuple[T, ...], ...]:
        """Every output's dimensions built with ``algebra``; ``dims`` gives input dimensions."""
        compiled = self._compiled.get("outputs")
        if compiled is None:
            compiled = self._compiled["outputs"] = tuple(
                tuple(compile_expr(d) for d in out.dims) for out in self.outputs
            )
            self._compiled["table"] = self.symbol_map
        table = self._compiled["table"]

        def leaf(sym: sympy.Symbol) -> T:
            if sym not in table:
                raise UnsupportedExpression(f"symbol {sym} is not an input dimension")
            return dims(table[sym])

        return tuple(tuple(fn(leaf, algebra) for fn in out) for out in compiled)

    def check_lowerable(self) -> None:
        """Raise UnsupportedExpression when an output size has no TensorRT shape expression."""
        for out in self.outputs:
            for d in out.dims:
                compile_expr(d)

    def concrete_shapes(
        self, input_shapes: Sequence[Optional[Sequence[int]]]
    ) -> Tuple[Tuple[int, ...], ...]:
        """Output shapes for concrete input shapes (None for absent inputs)."""
        return self.lower_outputs(lambda d: int(input_shapes[d.input_index][d.dim]), INT_ALGEBRA)  # type: ignore[index]

    def violated_guard(
        self, input_shapes: Sequence[Optional[Sequence[int]]]
    ) -> Optional[str]:
        """The first guard that does not hold for these shapes, rendered with input names."""
        if not self.guards:
            return None
        values = {s: int(input_shapes[d.input_index][d.dim]) for s, d in self.symbols}  # type: ignore[index]
        for guard in self.guards:
            if not bool(guard.subs(values)):
                return self.render(guard)
        return None

    def render(self, expr: sympy.Basic) -> str:
        """``expr`` in Python syntax, symbols shown as the input dimensions they stand for."""
        names = {s: sympy.Symbol(d.label) for s, d in self.symbols}
        return python_syntax(expr.xreplace(names))


_RELATIONS = {
    sympy.Eq: "==",
    sympy.Ne: "!=",
    sympy.Lt: "<",
    sympy.Le: "<=",
    sympy.Gt: ">",
    sympy.Ge: ">=",
}


#: How ``readable`` shows Triton's ``next_power_of_2`` of a size.
NEXT_POWER_OF_2 = sympy.Function("next_power_of_2")

# Sizes at which a candidate is checked against next_power_of_2 (see _next_power_of_2_of).
_SAMPLES = (1, 2, 3, 5, 17, 64, 100, 1000, 4097, 65537, 1000003)


def _power_of_2_at_least(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def _next_power_of_2_of(expr: sympy.Basic) -> Optional[sympy.Expr]:
    """``a`` when ``expr`` is ``triton.next_power_of_2(a)`` traced on a symbolic size, else None.

    Traced, the bit trick (``n - 1``, ``n |= n >> 1`` ... ``n >> 32``, ``+ 1``) is a chain of
    bitwise ors of floor divisions plus one, thousands of characters long once printed. A candidate
    ``a`` is taken from the chain's innermost ``a - 1`` and accepted only if the expression equals
    the next power of two of ``a`` at every sample size.
    """
    if not isinstance(expr, sympy.Add) or sympy.Integer(1) not in expr.args:
        return None
    rest = expr - 1
    inner = rest
    while type(inner).__name__ == "BitwiseFn_bitwise_or":
        inner = inner.args[0]
    if inner is rest:
        return None
    candidate = sympy.expand(inner + 1)
    free = list(candidate.free_symbols)
    if len(free) != 1 or not expr.free_symbols <= set(free):
        return None
    for value in _SAMPLES:
        try:
            got = int(expr.xreplace({free[0]: value}))
            size = int(candidate.xreplace({free[0]: value}))
        except (TypeError, ValueError):
            return None
        if size < 1 or got != _power_of_2_at_least(size):
            return None
    return candidate


def readable(expr: sympy.Basic) -> sympy.Basic:
    """``expr`` with traced ``triton.next_power_of_2`` bit tricks shown as ``next_power_of_2(...)``."""
    if not any(
        type(node).__name__ == "BitwiseFn_bitwise_or"
        for node in sympy.preorder_traversal(expr)
    ):
        return expr
    # Each chain (``next_power_of_2(a) - 1``) is replaced, wherever sympy moved its ``+ 1``.
    found: Dict[sympy.Basic, sympy.Basic] = {}
    seen = set()
    for node in sympy.preorder_traversal(expr):
        if type(node).__name__ == "BitwiseFn_bitwise_or" and node not in seen:
            seen.add(node)
            argument = _next_power_of_2_of(node + 1)
            if argument is not None:
                found[node] = NEXT_POWER_OF_2(argument) - 1
    return expr.xreplace(found)


def python_syntax(expr: sympy.Basic) -> str:
    """A condition or size as a Python expression (``x.size(0) != 4``, not ``Ne(x.size(0), 4)``)."""
    return _python_syntax(readable(expr))


def _python_syntax(expr: sympy.Basic) -> str:
    for kind, symbol in _RELATIONS.items():
        if isinstance(expr, kind):
            return f"{_python_syntax(expr.lhs)} {symbol} {_python_syntax(expr.rhs)}"
    if isinstance(expr, sympy.And):
        return " and ".join(f"({_python_syntax(a)})" for a in expr.args)
    if isinstance(expr, sympy.Or):
        return " or ".join(f"({_python_syntax(a)})" for a in expr.args)
    if isinstance(expr, sympy.Not):
        return f"not ({_python_syntax(expr.args[0])})"
    return str(expr)
