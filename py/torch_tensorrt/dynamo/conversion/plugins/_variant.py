"""PluginVariant: one QDP plugin generated for an op overload (absent optional tensors, JIT or AOT)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, FrozenSet, List, Optional, Sequence, Tuple

import torch

from ._identity import CallKey, Definition, TensorSignature, definition_of
from ._schema import ArgSpec, OpSpec
from ._symbolic import ProgramCache


@dataclass(frozen=True)
class PluginVariant:
    """The plugin ``spec.plugin_id(absent, aot)``: present tensors are its inputs, all attributes its attributes."""

    spec: OpSpec
    op: torch._ops.OpOverload
    absent: FrozenSet[str]
    programs: ProgramCache = field(compare=False, repr=False)
    aot: bool = False  # the ahead-of-time plugin of this variant (see NOTE [Plugin names])

    @property
    def plugin_name(self) -> str:
        return self.spec.plugin_name(self.absent, self.aot)

    @property
    def plugin_id(self) -> str:
        return f"{self.spec.namespace}::{self.plugin_name}"

    @property
    def inputs(self) -> Tuple[ArgSpec, ...]:
        """Present tensor arguments, in schema order: the plugin's inputs."""
        return tuple(a for a in self.spec.tensor_args if a.name not in self.absent)

    @property
    def attributes(self) -> Tuple[ArgSpec, ...]:
        return self.spec.attribute_args

    def tensor_slots(self) -> Tuple[Optional[int], ...]:
        """For each tensor argument in schema order, its plugin input index (None when absent)."""
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
    ) -> CallKey:
        """The call identity for the present inputs' signatures (plugin order) and canonical attributes.

        ``definition`` defaults to the op's definition as registered now.
        """
        it = iter(signatures)
        tensors = tuple(None if slot is None else next(it) for slot in self.tensor_slots())
        return CallKey.make(self.spec, definition or definition_of(self.op), tensors, attributes)
