"""PluginVariant: one QDP plugin generated for an op (one pattern of absent optional tensors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, FrozenSet, List, Optional, Sequence, Tuple

import torch

from ._schema import ArgSpec, OpSpec
from ._symbolic import ProgramCache, TensorSignature, TraceKey


@dataclass(frozen=True)
class PluginVariant:
    """The plugin ``spec.plugin_id(absent)``: present tensors are its inputs, all attributes its attributes."""

    spec: OpSpec
    op: torch._ops.OpOverload
    absent: FrozenSet[str]
    programs: ProgramCache = field(compare=False, repr=False)
    aot: bool = False  # the ahead-of-time plugin of this variant ("<name>__aot")

    @property
    def plugin_name(self) -> str:
        return self.spec.plugin_name(self.absent) + ("__aot" if self.aot else "")

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

    @property
    def op_name(self) -> str:
        return f"{self.spec.qualname}.{self.spec.overload}"

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

    def trace_key(
        self,
        signatures: Sequence[TensorSignature],
        attributes: Sequence[Any],
    ) -> TraceKey:
        """TraceKey from the present inputs' signatures (plugin order) and canonical attributes."""
        it = iter(signatures)
        tensors = tuple(None if slot is None else next(it) for slot in self.tensor_slots())
        return TraceKey(self.op_name, tensors, tuple(attributes))
