"""Op schema -> OpSpec: every fact about an op's signature the plugin needs, parsed once.

Pure: no TensorRT import. The spec keeps the schema order (what torch calls) and the plugin order
(what QDP wants: tensors first, then attributes), so nothing downstream passes parallel lists.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import keyword
import re
from dataclasses import dataclass
from typing import Any, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import torch

from ._errors import UnsupportedOpError, user_error

_QUALNAME = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$"
)

#: QDP's own parameter names (impl / aot_impl take ``outputs``, ``stream``, ``tactic``): schema
#: arguments with these names get another plugin parameter name (see ``_param_names``).
RESERVED_PARAMETER_NAMES = frozenset({"outputs", "stream", "tactic"})

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
    #: Name of the QDP plugin parameter (input or attribute). Equal to ``name`` unless QDP cannot
    #: take it (a Python keyword, or one of QDP's own parameter names): see ``_param_names``.
    param_name: str

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
    #: Plugin outputs: what the op returns, then the new value of each argument it mutates.
    num_outputs: int
    schema: str  # the schema text, for messages
    #: Tensor arguments the op writes in place (``mutates_args``), in schema order.
    mutated: Tuple[str, ...] = ()

    @property
    def num_returns(self) -> int:
        """Tensors the op returns (the plugin's first outputs)."""
        return self.num_outputs - len(self.mutated)

    @property
    def qualname(self) -> str:
        """``"ns::name"`` (without the overload)."""
        return f"{self.namespace}::{self.name}"

    @property
    def key(self) -> str:
        """``"ns::name.overload"``: what registries and caches are keyed by (every overload is its own)."""
        return f"{self.namespace}::{self.name}.{self.overload}"

    @property
    def display(self) -> str:
        """How messages name the op: ``"ns::name"``, or ``"ns::name.overload"`` for a named overload."""
        return (
            self.qualname
            if self.overload == "default"
            else f"{self.qualname}.{self.overload}"
        )

    # (cached_property writes the instance __dict__ directly, so it works on a frozen dataclass and
    # takes no part in equality or hashing; shape queries read these on every call.)
    @functools.cached_property
    def tensor_args(self) -> Tuple[ArgSpec, ...]:
        """Tensor arguments in schema order: the plugin's inputs, in this order."""
        return tuple(a for a in self.args if a.is_tensor)

    @functools.cached_property
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

    def plugin_name(
        self,
        absent: FrozenSet[str] = frozenset(),
        aot: bool = False,
        hidden: int = 0,
        tactics: int = 0,
        sizes: int = 0,
        chain: Optional["ChainPosition"] = None,
        constants: Tuple[Tuple[str, int], ...] = (),
    ) -> str:
        """QDP plugin name of one variant of this op overload (see NOTE [Plugin names])."""
        return variant_name(
            self.name,
            self.overload,
            absent,
            aot,
            hidden,
            tactics,
            sizes,
            chain,
            constants,
        )

    def plugin_id(
        self,
        absent: FrozenSet[str] = frozenset(),
        aot: bool = False,
        hidden: int = 0,
        tactics: int = 0,
        sizes: int = 0,
    ) -> str:
        return (
            f"{self.namespace}::{self.plugin_name(absent, aot, hidden, tactics, sizes)}"
        )


# NOTE: [Plugin names]
# A QDP plugin has a fixed number of inputs and one implementation kind, so one op overload may need
# several plugins: one per pattern of absent ``Tensor?`` arguments, and an ahead-of-time one beside
# the JIT one. The JIT plugin of the default overload with every tensor present is named exactly like
# the op (``ns::op``), as upstream names it and as hand-written ``@trtp.aot_impl("ns::op")`` code
# expects. Every other variant joins fields with ``-``: ``op-overload-neg``, ``op-aot``,
# ``op-without-bias``, ``op-aot-hidden-2``, ``op-overload-neg-aot-without-a-b`` (overload first, then
# ``aot``, then ``step-K-of-N-reads-R-writes-W`` for step K of a chain of N AOT layers (NOTE [Launch
# chains] in ``_capture``) that reads R tensors of earlier steps and writes W, then ``const-NAME-V``
# for each ``tl.constexpr`` computed from input sizes that is V for every shape of the engine's
# profile (NOTE [Constexprs over a profile] in ``_aot``), then ``hidden-N`` for a kernel (AOT or JIT) that writes N scratch tensors, given to it as
# hidden outputs after the op's own, then ``tactics-N`` for a ``triton.autotune`` kernel whose N configs are
# TensorRT tactics, then the absent arguments, sorted). Torch op, overload and argument names are identifiers, which never
# contain ``-``, so a variant name can never be the name of another op's plugin, and the fields
# parse back unambiguously (``_saved.parse_plugin_name``: a saved engine names the plugins it needs).
# QDP itself only forbids ``.`` in names.


@dataclass(frozen=True)
class ChainPosition:
    """Where an AOT layer sits in the chain made of an op's launches (NOTE [Launch chains])."""

    step: int  # 1-based
    steps: int
    reads: int  # tensors of earlier steps it takes, after the op's inputs
    writes: int  # its outputs

    WORDS = ("step", "of", "reads", "writes")

    def words(self) -> List[str]:
        values = (self.step, self.steps, self.reads, self.writes)
        return [t for pair in zip(self.WORDS, map(str, values)) for t in pair]


def variant_name(
    op: str,
    overload: str,
    absent: Iterable[str] = (),
    aot: bool = False,
    hidden: int = 0,
    tactics: int = 0,
    sizes: int = 0,
    chain: Optional["ChainPosition"] = None,
    constants: Tuple[Tuple[str, int], ...] = (),
) -> str:
    """The plugin name of one variant of ``op.overload`` (see NOTE [Plugin names])."""
    parts = [op]
    if overload != "default":
        parts += ["overload", overload]
    if aot:
        parts.append("aot")
    if chain is not None:
        parts += chain.words()
    for name, value in constants:
        parts += ["const", name, str(value)]
    if hidden:
        parts += ["hidden", str(hidden)]
    if tactics:
        parts += ["tactics", str(tactics)]
    if sizes:
        parts += ["sizes", str(sizes)]
    missing: List[str] = sorted(absent)
    if missing:
        parts += ["without", *missing]
    return "-".join(parts)


def parse_qualname(api: str, qualname: Any) -> Tuple[str, str, str]:
    """Split ``"ns::name"`` or ``"ns::name.overload"`` into (namespace, name, overload)."""
    if not isinstance(qualname, str):
        raise user_error(
            api,
            repr(qualname),
            "the op must be named by a string",
            got=type(qualname).__name__,
            expected='"namespace::op_name"',
            fix='Pass the name the op was defined with, e.g. "my_lib::my_op"',
            cls=TypeError,
        )
    m = _QUALNAME.match(qualname)
    if m is None:
        raise user_error(
            api,
            qualname,
            "malformed op name",
            got=qualname,
            expected='"namespace::op_name" or "namespace::op_name.overload"',
            fix="Use the name given to torch.library.custom_op / Library.define",
        )
    return m.group(1), m.group(2), m.group(3) or "default"


def resolve_op(api: str, qualname: str) -> torch._ops.OpOverload:
    """The OpOverload named ``qualname``; a clear error if torch does not know it."""
    namespace, name, overload = parse_qualname(api, qualname)
    packet = None
    with contextlib.suppress(AttributeError, RuntimeError):
        packet = getattr(getattr(torch.ops, namespace), name)
    if packet is None:
        raise user_error(
            api,
            qualname,
            "no such op is registered with torch",
            got=qualname,
            expected=f"an op defined under torch.ops.{namespace}",
            fix="Import the module that defines the op (torch.library.custom_op) before this call",
        )
    try:
        found: torch._ops.OpOverload = getattr(packet, overload)
        return found
    except AttributeError:
        raise user_error(
            api,
            qualname,
            f"the op has no overload {overload!r}",
            got=overload,
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
        api,
        qualname,
        f"argument '{arg.name}' has a kind a TensorRT plugin cannot take",
        got=str(getattr(arg, "real_type", arg.type)),
        expected=SUPPORTED_KINDS,
        fix=fix,
        cls=UnsupportedOpError,
    )


def _param_names(names: Sequence[str]) -> Tuple[str, ...]:
    """Plugin parameter names for schema argument names, in order.

    QDP builds ``inspect.Signature`` objects from these names and gives ``outputs``, ``stream`` and
    ``tactic`` meanings of its own, so a name that is a Python keyword (``lambda``, possible through
    ``Library.define``) or one of those becomes ``<name>_`` (more underscores until it is unique).
    The op is still called with its own argument names; users never see the mapping.
    """
    taken = set(names)
    result = []
    for name in names:
        safe = name
        if (
            keyword.iskeyword(name)
            or name in RESERVED_PARAMETER_NAMES
            or not name.isidentifier()
        ):
            safe = name + "_"
            while (
                safe in taken
                or keyword.iskeyword(safe)
                or safe in RESERVED_PARAMETER_NAMES
            ):
                safe += "_"
            taken.add(safe)
        result.append(safe)
    return tuple(result)


def spec_from_op(api: str, op: torch._ops.OpOverload) -> OpSpec:
    """Parse an OpOverload's schema into an OpSpec (UnsupportedOpError for what cannot be a plugin)."""
    schema = op._schema
    namespace, name = schema.name.split("::", 1)
    qualname = f"{namespace}::{name}" + (
        f".{schema.overload_name}" if schema.overload_name else ""
    )
    param_names = _param_names([a.name for a in schema.arguments])
    args = []
    mutated: List[str] = []
    for index, arg in enumerate(schema.arguments):
        kind, optional = _kind_of(api, qualname, arg)
        alias = arg.alias_info
        if alias is not None and alias.is_write:
            if kind is not ArgKind.TENSOR or optional:
                raise user_error(
                    api,
                    qualname,
                    f"argument '{arg.name}' is mutated by the op and is not a plain Tensor",
                    got=str(arg.type),
                    expected="mutated arguments of type Tensor (not Tensor?, not a list)",
                    fix="Mutate a Tensor argument, or return a new tensor instead",
                    cls=UnsupportedOpError,
                )
            mutated.append(arg.name)
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
                param_name=param_names[index],
            )
        )
    if not schema.returns and not mutated:
        raise user_error(
            api,
            qualname,
            "the op returns nothing and mutates nothing",
            got=str(schema),
            expected="an op that returns a Tensor or a tuple of Tensors, or mutates a Tensor argument",
            cls=UnsupportedOpError,
        )
    for i, ret in enumerate(schema.returns):
        if not isinstance(ret.type, torch._C.TensorType):
            raise user_error(
                api,
                qualname,
                f"return {i} is not a Tensor",
                got=str(ret.type),
                expected="every return to be a Tensor (a plugin output)",
                cls=UnsupportedOpError,
            )
    if not any(a.is_tensor for a in args):
        raise user_error(
            api,
            qualname,
            "the op takes no tensor",
            got=str(schema),
            expected="at least one Tensor argument (a plugin needs an input)",
            cls=UnsupportedOpError,
        )
    return OpSpec(
        namespace=namespace,
        name=name,
        overload=schema.overload_name or "default",
        args=tuple(args),
        num_outputs=len(schema.returns) + len(mutated),
        schema=str(schema),
        mutated=tuple(mutated),
    )


#: c10::ScalarType codes (c10/core/ScalarType.h), which schemas use for ScalarType defaults.
_SCALAR_TYPE_BY_CODE = {
    0: torch.uint8,
    1: torch.int8,
    2: torch.int16,
    3: torch.int32,
    4: torch.int64,
    5: torch.float16,
    6: torch.float32,
    7: torch.float64,
    11: torch.bool,
    15: torch.bfloat16,
    23: torch.float8_e5m2,
    24: torch.float8_e4m3fn,
}


def _scalar_type_from_code(code: int) -> Optional[torch.dtype]:
    return _SCALAR_TYPE_BY_CODE.get(code)
