"""One registry of generated plugins and converters, keyed by op, with handles that undo them."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, Optional

import torch

from . import _qdp
from ._errors import user_error
from ._runtime import JitRuntime
from ._schema import OpSpec
from ._symbolic import ProgramCache
from ._variant import PluginVariant

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def caller_location() -> str:
    """``file:line`` of the first frame outside this package (where the user called us)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class RegistrationHandle:
    """Undoes one registration (``remove()``); also a context manager that removes on exit."""

    def __init__(self, description: str, undo: Callable[[], None]) -> None:
        self.description = description
        self._undo: Optional[Callable[[], None]] = undo

    def remove(self) -> None:
        """Undo the registration (idempotent)."""
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    @property
    def active(self) -> bool:
        return self._undo is not None

    def __enter__(self) -> "RegistrationHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RegistrationHandle {self.description}{'' if self.active else ' (removed)'}>"


@dataclass(frozen=True)
class VariantEntry:
    variant: PluginVariant
    runtime: JitRuntime
    undo: Callable[[], None]


@dataclass(frozen=True)
class PluginRecord:
    """A generated plugin family: the op, where it was generated, its traces and QDP variants."""

    spec: OpSpec
    op: torch._ops.OpOverload
    source: str
    programs: ProgramCache = field(default_factory=ProgramCache)
    variants: Dict[FrozenSet[str], VariantEntry] = field(default_factory=dict)
    #: Why nodes were not converted: node name -> reason (latest per node).
    rejections: Dict[str, str] = field(default_factory=dict)
    #: Extension slots filled by other modules (e.g. the launch capture): name -> object.
    extras: Dict[str, Any] = field(default_factory=dict)

    @property
    def qualname(self) -> str:
        return self.spec.qualname

    def variant(self, absent: FrozenSet[str] = frozenset()) -> PluginVariant:
        """The QDP plugin for this pattern of absent optional tensors, registered on first use."""
        entry = self.variants.get(absent)
        if entry is None:
            with _LOCK:
                entry = self.variants.get(absent)
                if entry is None:
                    entry = _register_variant(self, absent)
                    self.variants[absent] = entry
        return entry.variant

    def runtime(self, absent: FrozenSet[str] = frozenset()) -> JitRuntime:
        self.variant(absent)
        return self.variants[absent].runtime


_LOCK = threading.RLock()
PLUGINS: Dict[str, PluginRecord] = {}
CONVERTERS: Dict[str, str] = {}  # "ns::name.overload" -> where the converter was generated

def _register_variant(record: PluginRecord, absent: FrozenSet[str]) -> VariantEntry:
    variant = PluginVariant(record.spec, record.op, absent, record.programs)
    existing = _qdp.registered_elsewhere(variant.plugin_id)
    if existing is not None:
        raise user_error(
            "generate_plugin", record.qualname,
            f"a TensorRT plugin named {variant.plugin_id!r} is already registered", got=existing,
            expected="no other tensorrt.plugin registration under that name",
            fix="Remove the hand-written trtp.register, or use generate_plugin_converter alone to convert with it",
        )
    runtime = JitRuntime(variant, record.extras.get("launch_plans"))
    undo = _qdp.register(variant, _qdp.make_register_function(variant), _qdp.make_impl_function(variant, runtime))
    return VariantEntry(variant, runtime, undo)


def add_plugin(api: str, spec: OpSpec, op: torch._ops.OpOverload) -> PluginRecord:
    with _LOCK:
        existing = PLUGINS.get(spec.qualname)
        if existing is not None:
            raise user_error(
                api, spec.qualname, "a plugin was already generated for this op", got=f"a second call at {caller_location()}",
                expected=f"one generate_plugin per op (the first was at {existing.source})",
                fix="Keep one call, or remove the first with the handle it returned (handle.remove())",
            )
        from ._launch import LaunchPlans

        record = PluginRecord(spec, op, caller_location())
        record.extras["launch_plans"] = LaunchPlans()
        PLUGINS[spec.qualname] = record
        try:
            record.variant(frozenset())
        except Exception:
            del PLUGINS[spec.qualname]
            raise
        return record


def remove_plugin(qualname: str) -> None:
    with _LOCK:
        record = PLUGINS.pop(qualname, None)
        if record is None:
            return
        from . import _aot

        _aot.remove(record)
        for entry in record.variants.values():
            entry.undo()
        record.variants.clear()
