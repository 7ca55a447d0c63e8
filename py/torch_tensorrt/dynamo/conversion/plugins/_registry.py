"""One registry of generated plugins and converters, keyed by op overload, with handles that undo them.

NOTE: [Lifecycle]
Notebook users run cells again, drop handles and redefine things; the registry keeps its own
bookkeeping, QDP's registry and Torch-TensorRT's converter table in agreement through all of it:

* every registry is keyed by the op overload (``"ns::name.overload"``), never by ``"ns::name"``;
* ``generate_plugin`` / ``custom_op`` on an op whose live registration was made for the same
  definition (``_identity.Definition``) returns that registration's handle; for a redefined op,
  fake kernel or body it replaces the plugin (and, for ``custom_op``, the converter) and logs what
  changed. A hand-written ``@trtp.aot_impl`` attached to the old plugin is carried over;
* removing a plugin removes the converters generated for it as well (a converter cannot work
  without it), so nothing can silently register the plugin again;
* every QDP plugin id this package registers is recorded in ``_qdp.OWNED`` and removed again by
  the same code, so an id QDP holds is either ours (and in this registry) or somebody else's.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple

import torch

from . import _handwritten, _qdp
from ._capture import CaptureCache
from ._errors import user_error
from ._identity import Definition, definition_of
from ._launch import LaunchPlans
from ._runtime import JitRuntime
from ._schema import OpSpec, parse_qualname
from ._symbolic import ProgramCache
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def caller_location() -> str:
    """``file:line`` of the first frame outside this package (where the user called us)."""
    frame = sys._getframe(1)
    while (
        frame is not None
        and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class RegistrationHandle:
    """Undoes one registration (``remove()``); also a context manager that removes on exit."""

    def __init__(
        self,
        description: str,
        undo: Callable[[], None],
        *,
        is_active: Optional[Callable[[], bool]] = None,
    ) -> None:
        self.description = description
        self._undo: Optional[Callable[[], None]] = undo
        self._is_active = is_active

    def remove(self) -> None:
        """Undo the registration (idempotent; a no-op once it was replaced or removed otherwise)."""
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    @property
    def active(self) -> bool:
        """Whether the registration this handle stands for is still in effect."""
        return self._undo is not None and (self._is_active is None or self._is_active())

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


class PluginRecord:
    """A generated plugin family for one op overload and one definition of it.

    Holds the caches made for it (traces, captures, launch plans, AOT state), its QDP variants,
    what happened at each compile (``reports``) and the handle ``generate_plugin`` returned.
    """

    MAX_REPORTS = 16

    def __init__(
        self,
        spec: OpSpec,
        op: torch._ops.OpOverload,
        definition: Definition,
        source: str,
        verify: bool,
    ) -> None:
        self.spec = spec
        self.op = op
        self.definition = definition
        self.source = source
        self.verify = verify
        self.programs = ProgramCache()
        self.captures = CaptureCache(spec)
        #: Bodies with 2 to 4 launches, for chains of AOT layers (NOTE [Launch chains]).
        self.chains = CaptureCache(spec, several=True)
        self.launch_plans = LaunchPlans(self.captures)
        self.aot: Any = None  # _aot.AOTState, made on first use
        self.variants: Dict[FrozenSet[str], VariantEntry] = {}
        #: JIT plugins with outputs beyond the op's: by (absent tensors, hidden outputs for the
        #: kernel's scratch tensors, size tensors for data-dependent sizes).
        self.hidden_variants: Dict[Tuple[FrozenSet[str], int, int], VariantEntry] = {}
        #: Saved programs prepare_load prepared for this op -> plugin ids it registered for them.
        self.prepared: Dict[str, List[str]] = {}
        #: What each compile did with this op: compile number -> _status.CompileReport.
        self.reports: "collections.OrderedDict[int, Any]" = collections.OrderedDict()
        #: Layer names per (plugin id, attribute encodings), for run-time error messages.
        self.layers: Dict[Any, List[str]] = {}
        self.live = True
        self.handle = RegistrationHandle(
            f"plugin {spec.display}",
            lambda: remove_plugin(self),
            is_active=lambda: self.live,
        )

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def display(self) -> str:
        return self.spec.display

    def variant(self, absent: FrozenSet[str] = frozenset()) -> PluginVariant:
        """The JIT plugin for this pattern of absent optional tensors, registered on first use."""
        entry = self.variants.get(absent)
        if entry is None:
            with _LOCK:
                self.require_live("generate_plugin")
                entry = self.variants.get(absent)
                if entry is None:
                    entry = _register_variant(self, absent)
                    self.variants[absent] = entry
        return entry.variant

    def hidden_variant(
        self, absent: FrozenSet[str], hidden: int, sizes: int = 0
    ) -> PluginVariant:
        """The JIT plugin ``ns::op-hidden-N`` / ``ns::op-sizes-M`` of ``absent``: its kernel's
        ``hidden`` scratch tensors (see ``_hidden``), then ``sizes`` size tensors (data-dependent
        output sizes), are plugin outputs after the op's own; registered on first use.
        """
        key = (absent, hidden, sizes)
        entry = self.hidden_variants.get(key)
        if entry is None:
            with _LOCK:
                self.require_live("generate_plugin_converter")
                entry = self.hidden_variants.get(key)
                if entry is None:
                    entry = _register_variant(self, absent, hidden, sizes)
                    self.hidden_variants[key] = entry
        return entry.variant

    def entries(self) -> List[VariantEntry]:
        """Every JIT plugin of this family registered so far."""
        return list(self.variants.values()) + list(self.hidden_variants.values())

    def runtime(self, absent: FrozenSet[str] = frozenset()) -> JitRuntime:
        self.variant(absent)
        return self.variants[absent].runtime

    def require_live(self, api: str) -> None:
        """Raise a clear error when this record was removed or replaced."""
        if not self.live:
            current = PLUGINS.get(self.key)
            raise user_error(
                api,
                self.display,
                "its generated plugin was removed"
                + (" and generated again" if current is not None else ""),
                fix=(
                    f'Call custom_op("{self.display}") (or generate_plugin then generate_plugin_converter) again'
                    if current is None
                    else "Use the registration returned by the latest generate_plugin call"
                ),
            )

    def report(self, number: int) -> Any:
        """The compile report for compile ``number`` (created on first use; the oldest are dropped)."""
        from ._status import CompileReport

        with _LOCK:
            found = self.reports.get(number)
            if found is None:
                found = self.reports[number] = CompileReport(number)
                while len(self.reports) > self.MAX_REPORTS:
                    self.reports.popitem(last=False)
            return found


_LOCK = threading.RLock()
PLUGINS: Dict[str, PluginRecord] = {}  # "ns::name.overload" -> record


def lookup(api: str, name: str) -> Optional[PluginRecord]:
    """The live record for ``"ns::name"`` / ``"ns::name.overload"`` (None if there is none)."""
    namespace, op, overload = parse_qualname(api, name)
    return PLUGINS.get(f"{namespace}::{op}.{overload}")


def _register_variant(
    record: PluginRecord, absent: FrozenSet[str], hidden: int = 0, sizes: int = 0
) -> VariantEntry:
    from . import _hidden

    variant = PluginVariant(
        record.spec,
        record.op,
        absent,
        record.programs,
        hidden_outputs=hidden,
        size_tensors=sizes,
    )
    _refuse_foreign(record, variant.plugin_id)
    runtime = JitRuntime(variant, record)
    _qdp.register(
        variant,
        _qdp.make_register_function(
            variant, _hidden.outputs_fn(record, variant) if hidden else None
        ),
        _qdp.make_impl_function(variant, runtime),
    )
    return VariantEntry(variant, runtime)


def _refuse_foreign(record: PluginRecord, plugin_id: str) -> None:
    existing = _qdp.registered_elsewhere(plugin_id)
    if existing is not None:
        raise user_error(
            "generate_plugin",
            record.display,
            f"a TensorRT plugin named {plugin_id!r} is already registered by other code",
            got=existing,
            expected="no other tensorrt.plugin registration under that name",
            fix="Remove the hand-written trtp.register, or use generate_plugin_converter alone to convert with it",
        )


def add_plugin(
    api: str, spec: OpSpec, op: torch._ops.OpOverload, *, verify: bool = False
) -> PluginRecord:
    """The live record for ``op``: the existing one when it was made for the same definition,
    else a new one (replacing a record made for an earlier definition; see NOTE [Lifecycle]).
    """
    definition = definition_of(op)
    with _LOCK:
        existing = PLUGINS.get(spec.key)
        if (
            existing is not None
            and existing.definition == definition
            and definition.is_current()
        ):
            if verify and not existing.verify:
                existing.verify = True
            _LOGGER.debug(
                "%s: %s again: returning the live plugin generated at %s",
                spec.display,
                api,
                existing.source,
            )
            return existing
        carried: Dict[str, Callable[..., Any]] = {}
        if existing is not None:
            carried = {
                plugin_id: _handwritten.original(fn)
                for plugin_id, fn in _qdp.handwritten_aot_impls(
                    [e.variant.plugin_id for e in existing.variants.values()]
                ).items()
            }
            _LOGGER.info(
                "%s: %s replaces the plugin generated at %s: %s",
                spec.display,
                api,
                existing.source,
                "; ".join(definition.changes_from(existing.definition))
                or "the op was redefined",
            )
            _retire(existing)
        record = PluginRecord(spec, op, definition, caller_location(), verify)
        PLUGINS[spec.key] = record
        try:
            record.variant(frozenset())
        except Exception:
            _retire(record)
            raise
        for plugin_id, fn in carried.items():
            _qdp.reattach_aot_impl(spec.display, plugin_id, fn)
        return record


def _retire(record: PluginRecord) -> None:
    """Unregister everything ``record`` put into QDP and forget it (its converters stay)."""
    from . import _aot

    record.live = False
    if PLUGINS.get(record.key) is record:
        del PLUGINS[record.key]
    _aot.remove(record)
    for entry in record.entries():
        _qdp.unregister(entry.variant.plugin_id)
    record.variants.clear()
    record.hidden_variants.clear()


def remove_plugin(record: PluginRecord) -> None:
    """Undo ``generate_plugin`` for ``record`` and the converters generated for its op."""
    from ._generate_plugin_converter import remove_converters_of

    with _LOCK:
        if not record.live:
            return
        _retire(record)
        removed = remove_converters_of(record.key)
        if removed:
            _LOGGER.info(
                "%s: removed its converter as well (it cannot work without the plugin)",
                record.display,
            )


def live_record(api: str, key: str, display: str) -> PluginRecord:
    """The live record for ``key``; a clear error when its plugin was removed."""
    record = PLUGINS.get(key)
    if record is None:
        raise user_error(
            api,
            display,
            "the op has a generated converter but no generated plugin any more",
            fix=f'Call custom_op("{display}") (or generate_plugin then generate_plugin_converter) again',
        )
    return record


def require(api: str, name: str) -> PluginRecord:
    """The live record for ``name`` or a PluginGenerationError listing the generated ops."""
    record = lookup(api, name)
    if record is None:
        raise user_error(
            api,
            name,
            "no plugin was generated for this op",
            expected=f"one of {sorted(r.display for r in PLUGINS.values())}",
            fix="Call generate_plugin or custom_op first",
        )
    return record
