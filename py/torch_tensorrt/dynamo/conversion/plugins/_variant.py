"""PluginVariant: one QDP plugin generated for an op overload (absent optional tensors, JIT or AOT)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, FrozenSet, List, Optional, Sequence, Tuple

import torch

from ._identity import (
    AttributeKey,
    CallKey,
    Definition,
    DefinitionWatch,
    TensorSignature,
    definition_of,
)
from ._schema import ArgKind, ArgSpec, ChainPosition, OpSpec
from ._symbolic import ProgramCache


@dataclass(frozen=True)
class PluginVariant:
    """The plugin ``spec.plugin_id(absent, aot)``: present tensors are its inputs, all attributes its attributes."""

    spec: OpSpec
    op: torch._ops.OpOverload
    absent: FrozenSet[str]
    programs: ProgramCache = field(compare=False, repr=False)
    aot: bool = (
        False  # the ahead-of-time plugin of this variant (see NOTE [Plugin names])
    )
    #: Scratch tensors the AOT kernel writes, as outputs after the op's own (the converter hides them).
    hidden_outputs: int = 0
    #: For a triton.autotune kernel: its configs, offered as TensorRT tactics 1..N (AOT only).
    tactics: int = 0
    #: Data-dependent output sizes: one size tensor output each, last (JIT only).
    size_tensors: int = 0
    #: One AOT layer of a chain made of the op's launches (NOTE [Launch chains] in ``_capture``):
    #: it takes the op's inputs, then ``chain.reads`` tensors of earlier layers, and gives the
    #: ``chain.writes`` tensors its kernel writes.
    chain: Optional[ChainPosition] = None
    #: ``tl.constexpr`` parameters computed from input sizes, with the one value they take over
    #: the engine's profile, compiled into the AOT kernel (NOTE [Constexprs over a profile]).
    constants: Tuple[Tuple[str, int], ...] = ()

    def sibling(self, **fields: Any) -> "PluginVariant":
        """Another plugin of the same op overload and absent tensors, with ``fields`` (AOT, hidden
        outputs, tactics, a chain position ...) and the defaults for the rest."""
        return PluginVariant(self.spec, self.op, self.absent, self.programs, **fields)

    @property
    def plugin_name(self) -> str:
        return self.spec.plugin_name(
            self.absent,
            self.aot,
            self.hidden_outputs,
            self.tactics,
            self.size_tensors,
            self.chain,
            self.constants,
        )

    @property
    def num_outputs(self) -> int:
        """Outputs of the plugin: the op's, then the hidden ones, then the size tensors (a chain
        layer: what its kernel writes)."""
        if self.chain is not None:
            return self.chain.writes
        return self.spec.num_outputs + self.hidden_outputs + self.size_tensors

    @property
    def plugin_id(self) -> str:
        return f"{self.spec.namespace}::{self.plugin_name}"

    @functools.cached_property
    def inputs(self) -> Tuple[ArgSpec, ...]:
        """Present tensor arguments, in schema order: the plugin's inputs (a chain layer: then the
        tensors of earlier layers it reads, named ``chain_in0``, ...)."""
        present = tuple(a for a in self.spec.tensor_args if a.name not in self.absent)
        if self.chain is None:
            return present
        taken = {a.param_name for a in self.spec.args}
        extra = []
        for i in range(self.chain.reads):
            name = f"chain_in{i}"
            while name in taken:  # an op argument already has the name
                name += "_"
            extra.append(
                ArgSpec(name, ArgKind.TENSOR, False, False, None, False, -1, name)
            )
        return present + tuple(extra)

    @property
    def attributes(self) -> Tuple[ArgSpec, ...]:
        return self.spec.attribute_args

    def tensor_slots(self) -> Tuple[Optional[int], ...]:
        """For each tensor argument in schema order, its plugin input index (None when absent)."""
        slots = self.__dict__.get("_slots")
        if slots is None:
            slots = self.__dict__["_slots"] = self._compute_slots()
        return slots

    def _compute_slots(self) -> Tuple[Optional[int], ...]:
        slots: List[Optional[int]] = []
        position = 0
        for a in self.spec.tensor_args:
            if a.name in self.absent:
                slots.append(None)
            else:
                slots.append(position)
                position += 1
        return tuple(slots)

    def call_key(
        self,
        signatures: Sequence[TensorSignature],
        attributes: Sequence[Any],
        definition: Optional[Definition] = None,
        attribute_keys: Optional[Tuple[AttributeKey, ...]] = None,
    ) -> CallKey:
        """The call identity for the present inputs' signatures (plugin order) and canonical attributes.

        ``definition`` defaults to the op's definition as registered now; ``attribute_keys`` to the
        encoding of ``attributes`` (callers that hold QDP's encoded attributes pass their keys).
        """
        it = iter(signatures)
        tensors = tuple(
            None if slot is None else next(it) for slot in self.tensor_slots()
        )
        if definition is None:
            definition = self.current_definition()
        if attribute_keys is None:
            return CallKey.make(self.spec, definition, tensors, attributes)
        return CallKey(
            self.spec.key, definition, tensors, attribute_keys, tuple(attributes)
        )

    def current_definition(self) -> Definition:
        """The op's definition as registered now (re-read only when the fake kernel or body changed)."""
        watch = self.__dict__.get("_watch")
        if watch is None or not watch.holds():
            watch = self.__dict__["_watch"] = DefinitionWatch(definition_of(self.op))
        return watch.definition
