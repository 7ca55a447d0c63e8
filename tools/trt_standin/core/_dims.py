"""Shapes and dimension expressions: Dims, DimsExprs, IDimensionExpr, IExprBuilder, tensor descriptors."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, List, Optional, Sequence, Union

from . import _expr
from ._enums import DataType, DimensionOperation, TensorFormat


class Dims:
    """A shape: up to MAX_DIMS integers (-1 marks a dynamic dimension)."""

    MAX_DIMS = 8

    def __init__(self, shape: Optional[Iterable[int]] = None) -> None:
        # pybind11 binds Dims() and Dims(shape: Sequence[int]); an int is not a sequence and is
        # rejected with TypeError, as the real binding does (QDP's Shape() calls Dims(0)).
        if shape is None:
            values: List[int] = []
        elif isinstance(shape, (int, float)) and not isinstance(shape, bool):
            raise TypeError(
                "__init__(): incompatible constructor arguments. The following argument types "
                "are supported:\n    1. tensorrt.Dims()\n    2. tensorrt.Dims(shape: "
                f"Sequence[int])\n\nInvoked with: {shape!r}"
            )
        else:
            values = [int(v) for v in shape]
        if len(values) > Dims.MAX_DIMS:
            raise ValueError(
                f"Input length {len(values)}. Max expected length is {Dims.MAX_DIMS}"
            )
        self._values = values

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, slice):
            return tuple(self._values[index])
        if not -len(self._values) <= index < len(self._values):
            raise IndexError("Out of bounds")
        return self._values[index]

    def __setitem__(self, index: int, value: int) -> None:
        if not -len(self._values) <= index < len(self._values):
            raise IndexError("Out of bounds")
        self._values[index] = int(value)

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._values))

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __eq__(self, other: object) -> bool:
        # The binding compares with lists and tuples only; Dims == Dims raises TypeError.
        if isinstance(other, (tuple, list)):
            return tuple(self._values) == tuple(other)
        raise TypeError(
            f"__eq__(): incompatible function arguments (Dims and {type(other).__name__})"
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"({', '.join(str(v) for v in self._values)})"

    __str__ = __repr__


class Dims2(Dims):
    pass


class Dims3(Dims):
    pass


class Dims4(Dims):
    pass


class DimsHW(Dims2):
    pass


def _as_dims(value: Any) -> Dims:
    return value if isinstance(value, Dims) else Dims(value)


class IDimensionExpr:
    """A symbolic dimension; only TensorRT (here: IExprBuilder) creates these."""

    __slots__ = ("_node",)

    def __init__(self, *args: Any) -> None:
        raise TypeError("tensorrt.IDimensionExpr: No constructor defined!")

    @classmethod
    def _wrap(cls, node: _expr.Node) -> "IDimensionExpr":
        self = object.__new__(cls)
        object.__setattr__(self, "_node", node)
        return self

    def is_constant(self) -> bool:
        return _expr.is_constant(self._node)

    def get_constant_value(self) -> int:
        # NvInferRuntime.h: INT64_MIN when the expression is not a build-time constant.
        return int(self._node[1]) if self.is_constant() else -(2**63)

    def is_size_tensor(self) -> bool:
        return self._node[0] == "size"

    def __repr__(self) -> str:
        return f"IDimensionExpr({_expr.to_str(self._node)})"


def _node_of(expr: Any) -> _expr.Node:
    if not isinstance(expr, IDimensionExpr):
        raise TypeError(
            f"incompatible function arguments: expected tensorrt.IDimensionExpr, got {type(expr).__name__}"
        )
    return expr._node


class IExprBuilder:
    """Creates dimension expressions inside get_output_shapes / get_launch_params."""

    def __init__(self) -> None:
        self._created = 0

    def constant(self, value: int) -> IDimensionExpr:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"constant(): expected int, got {type(value).__name__}")
        self._created += 1
        return IDimensionExpr._wrap(_expr.const(value))

    def operation(
        self, op: DimensionOperation, first: IDimensionExpr, second: IDimensionExpr
    ) -> IDimensionExpr:
        if not isinstance(op, DimensionOperation):
            raise TypeError(
                f"operation(): expected DimensionOperation, got {type(op).__name__}"
            )
        if first is None or second is None:
            raise TypeError(
                "operation(): incompatible function arguments (None is not an IDimensionExpr)"
            )
        self._created += 1
        return IDimensionExpr._wrap(
            _expr.operation(op.value, _node_of(first), _node_of(second))
        )

    def declare_size_tensor(
        self, output_index: int, opt_value: IDimensionExpr, upper_bound: IDimensionExpr
    ) -> IDimensionExpr:
        self._created += 1
        return IDimensionExpr._wrap(
            _expr.size_tensor(output_index, _node_of(opt_value), _node_of(upper_bound))
        )


class DimsExprs:
    """A shape made of IDimensionExpr."""

    def __init__(self, arg: Union[int, Sequence[IDimensionExpr], None] = None) -> None:
        if arg is None:
            self._exprs: List[Optional[IDimensionExpr]] = []
        elif isinstance(arg, int):
            if arg < 0 or arg > Dims.MAX_DIMS:
                raise ValueError(
                    f"Input length {arg}. Max expected length is {Dims.MAX_DIMS}"
                )
            self._exprs = [None] * arg
        else:
            self._exprs = list(arg)
            for e in self._exprs:
                _node_of(e)

    def __len__(self) -> int:
        return len(self._exprs)

    def __getitem__(self, index: int) -> Optional[IDimensionExpr]:
        if not -len(self._exprs) <= index < len(self._exprs):
            raise IndexError("Out of bounds")
        return self._exprs[index]

    def __setitem__(self, index: int, expr: Optional[IDimensionExpr]) -> None:
        if not -len(self._exprs) <= index < len(self._exprs):
            raise IndexError("Out of bounds")
        if expr is not None:
            _node_of(expr)
        self._exprs[index] = expr

    def __repr__(self) -> str:
        return "DimsExprs(" + ", ".join(repr(e) for e in self._exprs) + ")"


class PluginTensorDesc:
    """dims, type, format and scale of one plugin input or output."""

    def __init__(self) -> None:
        self._dims = Dims()
        self.type = DataType.FLOAT
        self.format = TensorFormat.LINEAR
        self.scale = 0.0

    @property
    def dims(self) -> Dims:
        return self._dims

    @dims.setter
    def dims(self, value: Any) -> None:
        self._dims = _as_dims(value)

    def __repr__(self) -> str:
        return f"PluginTensorDesc(dims={self._dims}, type={self.type}, format={self.format})"


class DynamicPluginTensorDesc:
    """A descriptor plus the min / opt / max of its dimensions in the optimisation profile."""

    def __init__(self) -> None:
        self.desc = PluginTensorDesc()
        self._min = Dims()
        self._opt = Dims()
        self._max = Dims()

    @property
    def min(self) -> Dims:
        return self._min

    @min.setter
    def min(self, value: Any) -> None:
        self._min = _as_dims(value)

    @property
    def opt(self) -> Dims:
        return self._opt

    @opt.setter
    def opt(self, value: Any) -> None:
        self._opt = _as_dims(value)

    @property
    def max(self) -> Dims:
        return self._max

    @max.setter
    def max(self, value: Any) -> None:
        self._max = _as_dims(value)
