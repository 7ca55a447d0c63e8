"""What a cache entry was made for: one frozen identity type, built in one place.

NOTE: [Call identity]
Everything this package caches (fake-kernel traces, shape programs, JIT strategies and launch plans,
captured launches, AOT kernels) is made for one *call identity* and keyed by it:

* the op overload (``"ns::name.overload"``) and its **definition**: the OpOverload object, the fake
  kernel and the Python body registered for it right now. Re-registering a fake kernel, redefining
  the op or its body (a notebook cell run again) makes a new definition, so entries made for the old
  one are never found again;
* each tensor argument's dtype and shape (static sizes by value, dynamic ones as ``None``), ``None``
  for an absent ``Tensor?``;
* each attribute by **exact encoding**: the schema kind and the bytes of the QDP attribute the value
  becomes (``_attributes.encode``). Floats therefore compare by their bits: ``-0.0`` is not ``0.0``,
  a NaN is equal to itself and NaN payloads stay distinct; ``True``, ``1`` and ``1.0`` can only
  meet where the schema gives them the same kind (and then they are the same value for the op).

The attribute *values* travel with the key (to call the op and to print it) but take no part in
its equality or hash. Device-specific entries (AOT kernels) add the target to this key
(``_aot.KernelKey``); nothing builds a cache key any other way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import torch

from . import _attributes
from ._schema import ArgSpec, OpSpec


@dataclass(frozen=True)
class AttributeKey:
    """One attribute value by exact encoding (see NOTE [Call identity])."""

    kind: str
    encoding: Union[str, bytes]

    @staticmethod
    def of(arg: ArgSpec, value: Any) -> "AttributeKey":
        return AttributeKey.from_encoded(arg, _attributes.encode(arg, value))

    @staticmethod
    def from_encoded(arg: ArgSpec, encoded: Any) -> "AttributeKey":
        data = encoded if isinstance(encoded, str) else bytes(encoded.tobytes())
        return AttributeKey(arg.type_str, data)


def attribute_keys(
    args: Sequence[ArgSpec], values: Sequence[Any]
) -> Tuple[AttributeKey, ...]:
    """Exact keys of canonical attribute values, one per attribute argument (schema order)."""
    return tuple(AttributeKey.of(a, v) for a, v in zip(args, values))


@dataclass(frozen=True)
class TensorSignature:
    """dtype and shape of one present input; None marks a dynamic dimension."""

    dtype: torch.dtype
    dims: Tuple[Optional[int], ...]


@dataclass(frozen=True)
class Definition:
    """The op as it is defined right now: the OpOverload object, its fake kernel and Python body.

    Fields compare by identity (functions and OpOverloads have identity equality), so any
    re-registration makes a different Definition.
    """

    op: torch._ops.OpOverload
    fake: Optional[Callable[..., Any]]
    body: Optional[Callable[..., Any]]

    def is_current(self) -> bool:
        """Whether the op, its fake kernel and its body are still the registered ones."""
        return definition_of(self.op) == self and _live_op(self.op) is self.op

    def changes_from(self, older: "Definition") -> List[str]:
        """What differs from ``older``, in words (for logs)."""
        changed = []
        if self.op is not older.op:
            changed.append("the op was redefined")
        if self.fake is not older.fake:
            changed.append("its fake kernel was registered again")
        if self.body is not older.body:
            changed.append("its Python body was redefined")
        return changed


def _live_op(op: torch._ops.OpOverload) -> Optional[torch._ops.OpOverload]:
    """The OpOverload torch resolves the op's name to now (None when it is gone)."""
    namespace, name = op._schema.name.split("::", 1)
    try:
        packet = getattr(getattr(torch.ops, namespace), name)
        found: torch._ops.OpOverload = getattr(packet, op._overloadname)
        return found
    except (AttributeError, RuntimeError):
        return None


def op_name(op: torch._ops.OpOverload) -> str:
    """``OpOverload.name()``: ``"ns::name"``, or ``"ns::name.overload"`` for a named overload."""
    return str(op.name())  # type: ignore[no-untyped-call]


def _opdef(qualname: str) -> Any:
    from torch._library.custom_ops import OPDEFS

    return OPDEFS.get(qualname)


def fake_kernel(qualname: str) -> Optional[Callable[..., Any]]:
    """The function registered as the op's fake kernel (None if there is none).

    ``qualname`` is ``OpOverload.name()``: ``"ns::name"``, or ``"ns::name.overload"``.
    """
    opdef = _opdef(qualname)
    if opdef is not None:
        fn: Optional[Callable[..., Any]] = opdef._abstract_fn
        return fn
    from torch._library.simple_registry import singleton

    kernel = singleton.find(qualname).fake_impl.kernel
    return getattr(kernel, "func", None) if kernel is not None else None


def body_function(qualname: str) -> Optional[Callable[..., Any]]:
    """The Python function implementing a ``torch.library.custom_op`` on CUDA (or everywhere).

    None for ops defined otherwise (``Library.define`` + ``impl``): their bodies are dispatcher
    kernels this package only calls, never inspects.
    """
    opdef = _opdef(qualname)
    if opdef is None:
        return None
    backend = getattr(opdef, "_backend_fns", {}) or {}
    body: Optional[Callable[..., Any]] = backend.get("cuda") or opdef._init_fn
    return body


def definition_of(op: torch._ops.OpOverload) -> Definition:
    name = op_name(op)
    return Definition(op, fake_kernel(name), body_function(name))


@dataclass(frozen=True)
class CallKey:
    """One call identity (see NOTE [Call identity])."""

    op: str  # "ns::name.overload"
    definition: Definition
    tensors: Tuple[
        Optional[TensorSignature], ...
    ]  # tensor arguments in schema order; None = absent
    attribute_keys: Tuple[AttributeKey, ...]
    attributes: Tuple[Any, ...] = field(compare=False)  # canonical values, schema order
    _hash: int = field(init=False, compare=False, repr=False)
    #: Everything but the sizes (the ProgramCache index); with the hash, computed once: keys are
    #: looked up on every TensorRT shape query.
    sizeless: Tuple[Any, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_hash",
            hash((self.op, self.definition, self.tensors, self.attribute_keys)),
        )
        dtypes = tuple(None if t is None else t.dtype for t in self.tensors)
        ranks = tuple(None if t is None else len(t.dims) for t in self.tensors)
        object.__setattr__(
            self,
            "sizeless",
            (self.op, self.definition, self.attribute_keys, dtypes, ranks),
        )

    def __hash__(self) -> int:
        return self._hash

    @staticmethod
    def make(
        spec: OpSpec,
        definition: Definition,
        tensors: Sequence[Optional[TensorSignature]],
        attributes: Sequence[Any],
    ) -> "CallKey":
        """The key of a call: tensors one per tensor argument (None = absent), canonical attributes."""
        values = tuple(attributes)
        return CallKey(
            spec.key,
            definition,
            tuple(tensors),
            attribute_keys(spec.attribute_args, values),
            values,
        )

    @property
    def dtypes(self) -> Tuple[Optional[torch.dtype], ...]:
        return tuple(None if t is None else t.dtype for t in self.tensors)

    @property
    def ranks(self) -> Tuple[Optional[int], ...]:
        return tuple(None if t is None else len(t.dims) for t in self.tensors)

    def with_tensors(self, tensors: Sequence[Optional[TensorSignature]]) -> "CallKey":
        """The same op, definition and attributes for other tensor signatures."""
        return CallKey(
            self.op,
            self.definition,
            tuple(tensors),
            self.attribute_keys,
            self.attributes,
        )

    def describe(self, spec: Optional[OpSpec] = None) -> str:
        """Human-readable key; with the spec, inputs and attributes are named."""

        def one(t: Optional[TensorSignature]) -> str:
            if t is None:
                return "absent"
            dims = ", ".join("?" if d is None else str(d) for d in t.dims)
            return f"{str(t.dtype).replace('torch.', '')}[{dims}]"

        if spec is None:
            return f"inputs ({', '.join(one(t) for t in self.tensors)}), attributes {self.attributes}"
        tensors = ", ".join(
            f"{a.name}: {one(t)}" for a, t in zip(spec.tensor_args, self.tensors)
        )
        attrs = ", ".join(
            f"{a.name}={v!r}" for a, v in zip(spec.attribute_args, self.attributes)
        )
        return f"inputs ({tensors})" + (f", attributes ({attrs})" if attrs else "")


class DefinitionWatch:
    """A cheap test, for the enqueue hot path, that a Definition is still the registered one.

    ``Definition.is_current`` resolves the op through ``torch.ops``; at enqueue only the fake kernel
    and body can change under a live op (a redefined op gets a new OpOverload, whose nodes a
    rebuilt engine uses), so this compares just those two by identity.
    """

    __slots__ = ("definition", "_name", "_opdef")

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self._name = op_name(definition.op)
        self._opdef = _opdef(self._name)

    def holds(self) -> bool:
        opdef = self._opdef
        if opdef is not None:
            body = opdef._backend_fns.get("cuda") or opdef._init_fn
            return bool(
                opdef._abstract_fn is self.definition.fake
                and body is self.definition.body
            )
        return fake_kernel(self._name) is self.definition.fake
