"""Dimension expressions: the algebra behind IDimensionExpr / IExprBuilder.

An expression is an immutable tuple tree (picklable, hashable, comparable):

* ``("const", value)``
* ``("input", tensor_index, axis)``: a dimension of a plugin input, unknown at build time
* ``("op", operation_value, lhs, rhs)`` with DimensionOperation values
* ``("size", output_index, opt, upper)``: a size tensor declared by a plugin (data-dependent)

Operations on two constants are folded (ASSUMPTIONS: "expr-constant-folding"); nothing else is
simplified. ``evaluate`` gives the integer value for concrete input shapes.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..assumptions import assumed

Node = Tuple

SUM, PROD, MAX, MIN, SUB, EQUAL, LESS, FLOOR_DIV, CEIL_DIV = range(9)

_SYMBOL = {SUM: "+", PROD: "*", SUB: "-", FLOOR_DIV: "//", EQUAL: "==", LESS: "<"}


def _floor_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("FLOOR_DIV by zero in a dimension expression")
    return a // b


def _ceil_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("CEIL_DIV by zero in a dimension expression")
    return -((-a) // b)


_APPLY: Dict[int, Callable[[int, int], int]] = {
    SUM: lambda a, b: a + b,
    PROD: lambda a, b: a * b,
    MAX: max,
    MIN: min,
    SUB: lambda a, b: a - b,
    EQUAL: lambda a, b: int(a == b),
    LESS: lambda a, b: int(a < b),
    FLOOR_DIV: _floor_div,
    CEIL_DIV: _ceil_div,
}


def const(value: int) -> Node:
    return ("const", int(value))


def input_dim(tensor_index: int, axis: int) -> Node:
    return ("input", int(tensor_index), int(axis))


def size_tensor(output_index: int, opt: Node, upper: Node) -> Node:
    return ("size", int(output_index), opt, upper)


_FOLDING = assumed("expr-constant-folding")


def operation(op: int, lhs: Node, rhs: Node) -> Node:
    if op not in _APPLY:
        raise ValueError(f"unknown DimensionOperation value {op}")
    if lhs[0] == "const" and rhs[0] == "const":
        return const(_APPLY[op](lhs[1], rhs[1]))
    return ("op", op, lhs, rhs)


def is_constant(node: Node) -> bool:
    return node[0] == "const"


def evaluate(
    node: Node,
    input_shapes: Sequence[Sequence[int]],
    size_values: Optional[Mapping[int, int]] = None,
) -> int:
    """Integer value of ``node`` for concrete input shapes (and size-tensor values)."""
    kind = node[0]
    if kind == "const":
        return int(node[1])
    if kind == "input":
        return int(input_shapes[node[1]][node[2]])
    if kind == "op":
        return _APPLY[node[1]](
            evaluate(node[2], input_shapes, size_values),
            evaluate(node[3], input_shapes, size_values),
        )
    if kind == "size":
        if size_values is None or node[1] not in size_values:
            raise ValueError(
                f"size tensor of output {node[1]} has no value yet (data-dependent shape)"
            )
        return int(size_values[node[1]])
    raise ValueError(f"not a dimension expression: {node!r}")


def evaluate_upper(node: Node, input_shapes: Sequence[Sequence[int]]) -> int:
    """``node`` with every size tensor at its upper bound (what TensorRT allocates for it)."""
    kind = node[0]
    if kind == "size":
        return evaluate_upper(node[3], input_shapes)
    if kind == "op":
        return _APPLY[node[1]](
            evaluate_upper(node[2], input_shapes), evaluate_upper(node[3], input_shapes)
        )
    return evaluate(node, input_shapes)


def size_outputs(node: Node) -> List[int]:
    """The outputs (indices) of the size tensors ``node`` uses."""
    if node[0] == "size":
        return [int(node[1])]
    if node[0] == "op":
        return size_outputs(node[2]) + size_outputs(node[3])
    return []


def bind_inputs(node: Node, input_shapes: Sequence[Sequence[Optional[int]]]) -> Node:
    """Replace input dimensions that are known (not None / -1) by constants and fold."""
    kind = node[0]
    if kind == "input":
        value = input_shapes[node[1]][node[2]]
        return node if value is None or value < 0 else const(value)
    if kind == "op":
        return operation(
            node[1],
            bind_inputs(node[2], input_shapes),
            bind_inputs(node[3], input_shapes),
        )
    if kind == "size":
        return size_tensor(
            node[1],
            bind_inputs(node[2], input_shapes),
            bind_inputs(node[3], input_shapes),
        )
    return node


def uses_size_tensor(node: Node) -> bool:
    if node[0] == "size":
        return True
    if node[0] == "op":
        return uses_size_tensor(node[2]) or uses_size_tensor(node[3])
    return False


def to_str(node: Node) -> str:
    kind = node[0]
    if kind == "const":
        return str(node[1])
    if kind == "input":
        return f"in{node[1]}[{node[2]}]"
    if kind == "size":
        return f"size_tensor(out{node[1]})"
    op, lhs, rhs = node[1], to_str(node[2]), to_str(node[3])
    if op in _SYMBOL:
        return f"({lhs} {_SYMBOL[op]} {rhs})"
    name = {MAX: "max", MIN: "min", CEIL_DIV: "cdiv"}[op]
    return f"{name}({lhs}, {rhs})"
