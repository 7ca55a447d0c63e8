"""Op schema -> OpSpec: every fact about an op's signature the plugin needs, parsed once.

Pure: no TensorRT import. The spec keeps the schema order (what torch calls) and the plugin order
(what QDP wants: tensors first, then attributes), so nothing downstream passes parallel lists.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, FrozenSet, Optional, Tuple

import torch

from ._errors import UnsupportedOpError, user_error

_QUALNAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$")

#: QDP reserves these names for impl parameters; attributes with them are renamed.
RESERVED_ATTRIBUTE_NAMES = frozenset({"outputs", "stream", "tactic"})

SUPPORTED_KINDS = (
    "Tensor, Tensor?, int, SymInt, float, bool, str, int[], SymInt[], float[], bool[], "
    "ScalarType (torch.dtype), defaults for all of them, and Optional forms of all but str"
)


class ArgKind(enum.Enum):
    """What an argument is, as far as the plugin is concerned."""

    TENSOR = "Tensor"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"
    INT_LIST = "int[]"
    FLOAT_LIST = "float[]"
    BOOL_LIST = "bool[]"
    SCALAR_TYPE = "ScalarType"


@dataclass(frozen=True)
class ArgSpec:
    """One schema argument.

    ``optional`` means None is a valid value (``Tensor?``, ``int?``...). ``has_default`` is taken
    from ``Argument.has_default_value()``: ``int? n=None`` has a default (None), ``Tensor x`` has none,
    although both report ``default_value`` None.
    """

    name: str
    kind: ArgKind
    optional: bool
    has_default: bool
    default: Any
    kwarg_only: bool
    schema_index: int
    attribute_name: str  # name of the QDP attribute (differs only for reserved names)

    @property
    def is_tensor(self) -> bool:
        return self.kind is ArgKind.TENSOR

    @property
    def type_str(self) -> str:
        return self.kind.value + ("?" if self.optional else "")


@dataclass(frozen=True)
class OpSpec:
    """An op's signature as the plugin generator needs it."""

    namespace: str
    name: str
    overload: str  # "default" for the unnamed overload
    args: Tuple[ArgSpec, ...]  # schema order
    num_outputs: int
    schema: str  # the schema text, for messages

    @property
    def qualname(self) -> str:
        return f"{self.namespace}::{self.name}"

    @property
    def tensor_args(self) -> Tuple[ArgSpec, ...]:
        """Tensor arguments in schema order: the plugin's inputs, in this order."""
        return tuple(a for a in self.args if a.is_tensor)

    @property
    def attribute_args(self) -> Tuple[ArgSpec, ...]:
        """Non-tensor arguments in schema order: the plugin's attributes, in this order."""
        return tuple(a for a in self.args if not a.is_tensor)

    @property
    def plugin_order(self) -> Tuple[int, ...]:
        """Schema index of each plugin parameter (tensors first, then attributes)."""
        return tuple(a.schema_index for a in self.tensor_args + self.attribute_args)

    def arg(self, name: str) -> ArgSpec:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)

    def plugin_name(self, absent: FrozenSet[str] = frozenset()) -> str:
        """QDP plugin name: the op's name, with the absent optional tensors named (sorted).

        A QDP plugin has a fixed number of inputs, so each pattern of absent ``Tensor?`` arguments
        is its own plugin: ``ns::op`` with all present, ``ns::op__without_bias`` without ``bias``.
        """
        if not absent:
            return self.name
        return self.name + "".join(f"__without_{n}" for n in sorted(absent))

    def plugin_id(self, absent: FrozenSet[str] = frozenset()) -> str:
        return f"{self.namespace}::{self.plugin_name(absent)}"


def parse_qualname(api: str, qualname: Any) -> Tuple[str, str, str]:
    """Split ``"ns::name"`` or ``"ns::name.overload"`` into (namespace, name, overload)."""
    if not isinstance(qualname, str):
        raise user_error(
            api, repr(qualname), "the op must be named by a string",
            got=type(qualname).__name__, expected='"namespace::op_name"',
            fix='Pass the name the op was defined with, e.g. "my_lib::my_op"', cls=TypeError,
        )
    m = _QUALNAME.match(qualname)
    if m is None:
        raise user_error(
            api, qualname, "malformed op name", got=qualname,
            expected='"namespace::op_name" or "namespace::op_name.overload"',
            fix="Use the name given to torch.library.custom_op / Library.define",
        )
    return m.group(1), m.group(2), m.group(3) or "default"


def resolve_op(api: str, qualname: str) -> torch._ops.OpOverload:
    """The OpOverload named ``qualname``; a clear error if torch does not know it."""
    namespace, name, overload = parse_qualname(api, qualname)
    packet = None
    try:
        packet = getattr(getattr(torch.ops, namespace), name)
    except (AttributeError, RuntimeError):
        pass
    if packet is None:
        raise user_error(
            api, qualname, "no such op is registered with torch", got=qualname,
            expected=f"an op defined under torch.ops.{namespace}",
            fix="Import the module that defines the op (torch.library.custom_op) before this call",
        )
    try:
        found: torch._ops.OpOverload = getattr(packet, overload)
        return found
    except AttributeError:
        raise user_error(
            api, qualname, f"the op has no overload {overload!r}", got=overload,
            expected=f"one of {sorted(packet.overloads())}",
        ) from None


def _kind_of(api: str, qualname: str, arg: Any) -> Tuple[ArgKind, bool]:
    """(kind, optional) of a schema argument, or UnsupportedOpError naming the argument."""
    t = arg.type
    real = str(getattr(arg, "real_type", t))
    optional = False
    if isinstance(t, torch._C.OptionalType):
        optional = True
        t = t.getElementType()
        real = real[len("Optional[") : -1] if real.startswith("Optional[") else real
    if real in ("ScalarType",):
        return ArgKind.SCALAR_TYPE, optional
    if isinstance(t, torch._C.TensorType):
        return ArgKind.TENSOR, optional
    if real in ("Layout", "MemoryFormat", "Device", "Generator", "Storage", "Stream"):
        kind_name = real
    elif isinstance(t, torch._C.IntType):
        return ArgKind.INT, optional
    elif isinstance(t, torch._C.FloatType):
        return ArgKind.FLOAT, optional
    elif isinstance(t, torch._C.BoolType):
        return ArgKind.BOOL, optional
    elif isinstance(t, torch._C.StringType):
        if optional:
            kind_name = "str?"
        else:
            return ArgKind.STR, optional
    elif isinstance(t, torch._C.ListType):
        element = t.getElementType()
        if isinstance(element, torch._C.IntType):
            return ArgKind.INT_LIST, optional
        if isinstance(element, torch._C.FloatType):
            return ArgKind.FLOAT_LIST, optional
        if isinstance(element, torch._C.BoolType):
            return ArgKind.BOOL_LIST, optional
        kind_name = real
    else:
        kind_name = real
    if kind_name in ("List[Tensor]", "List[Optional[Tensor]]"):
        fix = "Pass a fixed number of Tensor arguments instead of a Tensor[] list"
    elif kind_name == "str?":
        fix = f'A str attribute cannot be Optional: give it a default instead (str {arg.name}="")'
    elif kind_name == "Device":
        fix = "Remove the Device argument from the op: a TensorRT plugin runs on the device TensorRT runs on"
    elif kind_name == "Generator":
        fix = "Remove the Generator argument from the op: a TensorRT plugin cannot take a random generator"
    else:
        fix = "Change the argument to one of the supported kinds"
    raise user_error(
        api, qualname, f"argument '{arg.name}' has a kind a TensorRT plugin cannot take",
        got=str(getattr(arg, "real_type", arg.type)), expected=SUPPORTED_KINDS, fix=fix,
        cls=UnsupportedOpError,
    )


def _attribute_name(name: str, taken: FrozenSet[str]) -> str:
    renamed = name
    while renamed in RESERVED_ATTRIBUTE_NAMES or (renamed != name and renamed in taken):
        renamed += "_"
    return renamed


def spec_from_op(api: str, op: torch._ops.OpOverload) -> OpSpec:
    """Parse an OpOverload's schema into an OpSpec (UnsupportedOpError for what cannot be a plugin)."""
    schema = op._schema
    namespace, name = schema.name.split("::", 1)
    qualname = f"{namespace}::{name}"
    names = frozenset(a.name for a in schema.arguments)
    args = []
    for index, arg in enumerate(schema.arguments):
        alias = arg.alias_info
        if alias is not None and alias.is_write:
            raise user_error(
                api, qualname, f"argument '{arg.name}' is mutated by the op",
                got=str(schema), expected="an op with mutates_args=()",
                fix="Return a new tensor instead of writing into an input (in-place ops are not supported yet)",
                cls=UnsupportedOpError,
            )
        kind, optional = _kind_of(api, qualname, arg)
        has_default = bool(arg.has_default_value())
        default = arg.default_value if has_default else None
        if kind is ArgKind.SCALAR_TYPE and isinstance(default, int):
            default = _scalar_type_from_code(default)
        args.append(
            ArgSpec(
                name=arg.name,
                kind=kind,
                optional=optional,
                has_default=has_default,
                default=default,
                kwarg_only=bool(arg.kwarg_only),
                schema_index=index,
                attribute_name=arg.name if kind is ArgKind.TENSOR else _attribute_name(arg.name, names),
            )
        )
    if not schema.returns:
        raise user_error(
            api, qualname, "the op returns nothing", got=str(schema),
            expected="an op that returns a Tensor or a tuple of Tensors",
            cls=UnsupportedOpError,
        )
    for i, ret in enumerate(schema.returns):
        if not isinstance(ret.type, torch._C.TensorType):
            raise user_error(
                api, qualname, f"return {i} is not a Tensor", got=str(ret.type),
                expected="every return to be a Tensor (a plugin output)", cls=UnsupportedOpError,
            )
    if not any(a.is_tensor for a in args):
        raise user_error(
            api, qualname, "the op takes no tensor", got=str(schema),
            expected="at least one Tensor argument (a plugin needs an input)", cls=UnsupportedOpError,
        )
    return OpSpec(
        namespace=namespace,
        name=name,
        overload=schema.overload_name or "default",
        args=tuple(args),
        num_outputs=len(schema.returns),
        schema=str(schema),
    )


#: c10::ScalarType codes (c10/core/ScalarType.h), which schemas use for ScalarType defaults.
_SCALAR_TYPE_BY_CODE = {
    0: torch.uint8, 1: torch.int8, 2: torch.int16, 3: torch.int32, 4: torch.int64,
    5: torch.float16, 6: torch.float32, 7: torch.float64, 11: torch.bool, 15: torch.bfloat16,
    23: torch.float8_e5m2, 24: torch.float8_e4m3fn,
}


def _scalar_type_from_code(code: int) -> Optional[torch.dtype]:
    return _SCALAR_TYPE_BY_CODE.get(code)
