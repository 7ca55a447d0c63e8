"""Op attribute values <-> QDP plugin attributes.

NOTE: [Attribute encoding]
Every non-tensor argument becomes one QDP attribute. ``str`` stays a ``str`` attribute; everything
else travels as a 1-D numpy array, int64 or float64, laid out as

* scalar ``v``           -> ``[v]``
* list ``[v0, ..., vn-1]`` -> ``[n, v0, ..., vn-1]`` (never empty, so no zero-length plugin field)
* optional ``T?``        -> ``[0]`` for None, ``[1, <encoding of T>]`` otherwise
* ScalarType             -> the c10::ScalarType code, as an int

Why arrays and not QDP's ``int`` / ``float`` / ``bool`` / ``bytes`` attributes:

* bindings 10.15 and 11.0 read scalar attributes back with ``float(array_of_one)``, a TypeError
  from numpy 2.4 on (defect 1 in ../shared/notes/no-tensorrt-here.md);
* bindings 11.4 read a one-byte ``bytes`` attribute as ``bytes(np.uint8(65))``, i.e. 65 zero bytes
  (defect 2);
* QDP has no list, optional or dtype attributes at all.

The annotation QDP sees for an array attribute is a real class carrying numpy's generic-alias
fields (``__origin__``, ``__args__``). QDP recognises it as ``ndarray[Any, dtype[T]]`` in every
release, while ``numpy.typing.NDArray`` is not recognised by 11.0 (pytorch/TensorRT 4413), and,
being a class, it never reaches the unguarded ``issubclass(annotation, ...)`` calls that raise on
generic aliases under Python 3.13 (defect 9).
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple, Union

import numpy as np
import torch

from ._errors import user_error
from ._schema import _SCALAR_TYPE_BY_CODE, ArgKind, ArgSpec

_CODE_BY_SCALAR_TYPE = {dtype: code for code, dtype in _SCALAR_TYPE_BY_CODE.items()}


class Int64Array:
    """QDP annotation of an int64 array attribute (a class; see NOTE [Attribute encoding])."""

    __origin__ = np.ndarray
    __args__ = (Any, np.dtype[np.int64])


class Float64Array:
    """QDP annotation of a float64 array attribute (a class; see NOTE [Attribute encoding])."""

    __origin__ = np.ndarray
    __args__ = (Any, np.dtype[np.float64])


Encoded = Union[str, np.ndarray]


def annotation(arg: ArgSpec) -> type:
    """The QDP attribute annotation for ``arg``."""
    if arg.kind is ArgKind.STR:
        return str
    if arg.kind in (ArgKind.FLOAT, ArgKind.FLOAT_LIST):
        return Float64Array
    return Int64Array


def _numpy_dtype(arg: ArgSpec) -> Any:
    return np.float64 if annotation(arg) is Float64Array else np.int64


def canonical(api: str, op: str, arg: ArgSpec, value: Any) -> Any:
    """Check ``value`` against ``arg`` and return it in a canonical, hashable form.

    ints, floats and bools become Python scalars, lists become tuples, dtypes stay torch.dtype.
    """
    if value is None:
        if arg.optional:
            return None
        raise user_error(
            api,
            op,
            f"argument '{arg.name}' is None",
            got=None,
            expected=f"a value of type {arg.type_str}",
            cls=TypeError,
        )
    kind = arg.kind
    if kind is ArgKind.STR:
        if isinstance(value, str):
            return value
    elif kind is ArgKind.SCALAR_TYPE:
        if isinstance(value, torch.dtype) and value in _CODE_BY_SCALAR_TYPE:
            return value
        if isinstance(value, int) and value in _SCALAR_TYPE_BY_CODE:
            return _SCALAR_TYPE_BY_CODE[value]
        raise user_error(
            api,
            op,
            f"argument '{arg.name}' is not a supported dtype",
            got=value,
            expected=f"one of {sorted(str(d) for d in _CODE_BY_SCALAR_TYPE)}",
            cls=TypeError,
        )
    elif kind in (ArgKind.INT_LIST, ArgKind.FLOAT_LIST, ArgKind.BOOL_LIST):
        if isinstance(value, (list, tuple, torch.Size)):
            element = ArgSpec(
                arg.name,
                _ELEMENT[kind],
                False,
                False,
                None,
                False,
                arg.schema_index,
                arg.param_name,
            )
            return tuple(canonical(api, op, element, v) for v in value)
    elif kind is ArgKind.BOOL:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
    elif kind is ArgKind.INT:
        if isinstance(value, (int, np.integer)) and not isinstance(
            value, (bool, np.bool_)
        ):
            return int(value)
    elif kind is ArgKind.FLOAT:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)
        ):
            return float(value)
    raise user_error(
        api,
        op,
        f"argument '{arg.name}' has the wrong type",
        got=f"{value!r} ({type(value).__name__})",
        expected=f"a value of type {arg.type_str}",
        cls=TypeError,
    )


_ELEMENT = {
    ArgKind.INT_LIST: ArgKind.INT,
    ArgKind.FLOAT_LIST: ArgKind.FLOAT,
    ArgKind.BOOL_LIST: ArgKind.BOOL,
}


def _payload(kind: ArgKind, value: Any) -> List[Union[int, float]]:
    if kind is ArgKind.SCALAR_TYPE:
        return [_CODE_BY_SCALAR_TYPE[value]]
    if kind in _ELEMENT:
        return [
            len(value),
            *[int(v) if kind is ArgKind.BOOL_LIST else v for v in value],
        ]
    if kind is ArgKind.BOOL:
        return [int(value)]
    return [value]


def encode(arg: ArgSpec, value: Any) -> Encoded:
    """Canonical value -> QDP attribute value (see NOTE [Attribute encoding])."""
    if arg.kind is ArgKind.STR:
        return str(value)
    payload = (
        [0]
        if value is None
        else ([1] if arg.optional else []) + _payload(arg.kind, value)
    )
    return np.asarray(payload, dtype=_numpy_dtype(arg))


def decode(arg: ArgSpec, raw: Encoded) -> Any:
    """QDP attribute value -> canonical value (inverse of ``encode``)."""
    if arg.kind is ArgKind.STR:
        return str(raw)
    values = np.asarray(raw).tolist()
    if arg.optional:
        if not values or values[0] == 0:
            return None
        values = values[1:]
    kind = arg.kind
    if kind is ArgKind.SCALAR_TYPE:
        return _SCALAR_TYPE_BY_CODE[int(values[0])]
    if kind in _ELEMENT:
        n = int(values[0])
        items = values[1 : 1 + n]
        if kind is ArgKind.INT_LIST:
            return tuple(int(v) for v in items)
        if kind is ArgKind.BOOL_LIST:
            return tuple(bool(v) for v in items)
        return tuple(float(v) for v in items)
    if kind is ArgKind.BOOL:
        return bool(values[0])
    if kind is ArgKind.INT:
        return int(values[0])
    return float(values[0])


def to_call_value(value: Any) -> Any:
    """Canonical value -> what the op itself is called with (tuples back to lists)."""
    if isinstance(value, tuple):
        return list(value)
    return value


def decode_all(args: Sequence[ArgSpec], raws: Sequence[Encoded]) -> Tuple[Any, ...]:
    return tuple(decode(a, r) for a, r in zip(args, raws))


def encode_all(args: Sequence[ArgSpec], values: Dict[str, Any]) -> Dict[str, Encoded]:
    """Keyword arguments for ``trtp.op.<ns>.<name>(...)``, in registration order."""
    return {a.param_name: encode(a, values[a.name]) for a in args}
