"""plugin_status: what an op became, per compile, and why anything fell back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from . import _registry
from ._identity import Definition, definition_of


@dataclass
class CompileReport:
    """What one ``torch_tensorrt.compile`` did with an op's nodes (filled while it runs).

    Attributes:
        compile: The compile's number in this process (1, 2, ...).
        implementations: Converted nodes -> "JIT", "AOT (automatic)" or "AOT (hand-written)".
        aot_unavailable: Converted nodes that stayed JIT, and why.
        not_converted: Nodes kept in PyTorch, and why.
    """

    compile: int
    implementations: Dict[str, str] = field(default_factory=dict)
    aot_unavailable: Dict[str, str] = field(default_factory=dict)
    not_converted: Dict[str, str] = field(default_factory=dict)

    def snapshot(self) -> "CompileReport":
        return CompileReport(
            self.compile,
            dict(self.implementations),
            dict(self.aot_unavailable),
            dict(self.not_converted),
        )


@dataclass(frozen=True)
class PluginStatus:
    """A snapshot of one generated plugin family (one op overload).

    Attributes:
        op: The op, ``"ns::name"`` (``"ns::name.overload"`` for a named overload).
        generated_at: Where ``generate_plugin`` / ``custom_op`` was called.
        stale: Why the plugin no longer matches the op as registered now (None when it does).
        plugins: The QDP plugin ids registered for it (JIT variants and AOT plugins).
        traces: How many times the fake kernel was traced (once per call identity).
        jit_strategies: Per call identity seen at enqueue (attributes, input dtypes and shapes):
            "launch" (the captured Triton launch into TensorRT's buffers), "out" (the op's out=
            overload) or "copy".
        direct_launch_unavailable: Why the JIT implementation could not launch directly.
        compile: The latest compile that had nodes of this op (None before any).
        implementations: That compile's converted nodes and their implementation.
        aot_unavailable: That compile's nodes that stayed JIT, and why.
        not_converted: That compile's nodes kept in PyTorch, and why.
        history: Every kept compile report, oldest first.
        mutated: The arguments the op writes in place (its plugin gives their new values as
            outputs after what it returns; empty for an ordinary op).
        prepared: Saved programs ``prepare_load`` prepared for this op -> the plugins it
            registered for them.
        cuda_graphs: Per call identity seen at enqueue (keys as in ``jit_strategies``): whether
            its JIT strategy can run inside a CUDA graph capture
            (``torch_tensorrt.runtime.enable_cudagraphs``), whether it was chosen inside one, and
            the error of an enqueue a capture made fail. AOT plugins are launched by TensorRT
            and are always capture-safe; ``implementations`` says which sites are AOT.
    """

    op: str
    generated_at: str
    stale: Optional[str]
    plugins: Tuple[str, ...]
    traces: int
    jit_strategies: Dict[str, str]
    direct_launch_unavailable: Dict[str, str]
    compile: Optional[int]
    implementations: Dict[str, str]
    aot_unavailable: Dict[str, str]
    not_converted: Dict[str, str]
    history: Tuple[CompileReport, ...]
    mutated: Tuple[str, ...] = ()
    prepared: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    cuda_graphs: Dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.op} (generated at {self.generated_at})"]
        if self.stale:
            lines.append(f"  STALE: {self.stale}")
        if self.mutated:
            lines.append(
                f"  in-place op: writes {', '.join(self.mutated)}; the plugin gives their new "
                "values as outputs"
            )
        lines += [
            f"  plugins: {', '.join(self.plugins)}",
            f"  fake-kernel traces: {self.traces}",
        ]
        sections = (
            ("JIT enqueue strategy", self.jit_strategies),
            ("CUDA graphs", self.cuda_graphs),
            ("no direct Triton launch", self.direct_launch_unavailable),
            (f"compile #{self.compile}: implementations", self.implementations),
            (f"compile #{self.compile}: stayed JIT (no AOT)", self.aot_unavailable),
            (f"compile #{self.compile}: not converted", self.not_converted),
        )
        for title, table in sections:
            if table:
                lines.append(f"  {title}:")
                lines.extend(f"    {k}: {v}" for k, v in table.items())
        for path, plugins in self.prepared.items():
            lines.append(f"  prepared for {path}: {', '.join(plugins)}")
        return "\n".join(lines)


def _stale_reason(record: "_registry.PluginRecord") -> Optional[str]:
    from ._identity import _live_op

    live = _live_op(record.op)
    if live is None:
        return f"the op {record.display} no longer exists"
    if live is not record.op:
        return (
            f"the op was redefined after its plugin was generated; its nodes run in PyTorch until "
            f'custom_op("{record.display}") (or generate_plugin) is called again'
        )
    current: Definition = definition_of(record.op)
    changes = current.changes_from(record.definition)
    if changes:
        return (
            "; ".join(changes)
            + " after the plugin was generated; the next compile and enqueue use the new "
            f'definition (call custom_op("{record.display}") again to regenerate the plugin)'
        )
    return None


def plugin_status(op_name: str) -> PluginStatus:
    """Report what ``generate_plugin`` made of an op and why any call site fell back.

    Args:
        op_name: The op, ``"namespace::op_name"`` (or ``"namespace::op_name.overload"``), given to
            ``generate_plugin`` or ``custom_op``.

    Returns:
        A PluginStatus describing the live registration; ``print()`` it for a readable summary.

    Raises:
        ValueError: No plugin is generated for the op (never generated, or removed).

    Example:
        >>> from torch_tensorrt.dynamo.conversion.plugins import plugin_status
        >>> plugin_status("my_lib::my_op").aot_unavailable  # doctest: +SKIP
        {}
    """
    record = _registry.require("plugin_status", op_name)
    plugins = [entry.variant.plugin_id for entry in record.entries()]
    if record.aot is not None:
        plugins.extend(v.plugin_id for v in record.aot.variants.values())
        plugins.extend(v.plugin_id for v in record.aot.layers.values())
    strategies: Dict[str, str] = {}
    cuda_graphs: Dict[str, str] = {}
    for entry in record.entries():
        runtime = entry.runtime
        events = dict(runtime.capture_events)
        for key, strategy in list(runtime.chosen.items()):
            label = _identity_label(entry.variant.plugin_id, key)
            strategies[label] = strategy
            cuda_graphs[label] = _capture_safety(strategy, events.pop(key, None))
        for key, event in events.items():  # failed before a strategy was kept
            cuda_graphs[_identity_label(entry.variant.plugin_id, key)] = event
    reports = tuple(r.snapshot() for r in list(record.reports.values()))
    latest = reports[-1] if reports else None
    return PluginStatus(
        op=record.display,
        generated_at=record.source,
        stale=_stale_reason(record),
        plugins=tuple(plugins),
        traces=record.programs.traces,
        jit_strategies=strategies,
        direct_launch_unavailable=dict(record.launch_plans.reasons),
        compile=latest.compile if latest else None,
        implementations=dict(latest.implementations) if latest else {},
        aot_unavailable=dict(latest.aot_unavailable) if latest else {},
        not_converted=dict(latest.not_converted) if latest else {},
        history=reports,
        mutated=record.spec.mutated,
        prepared={k: tuple(v) for k, v in record.prepared.items()},
        cuda_graphs=cuda_graphs,
    )


def _identity_label(plugin_id: str, key: Tuple[Any, ...]) -> str:
    """A JIT runtime key (attributes, shapes, dtypes, device) as plugin_status shows it."""
    attributes, shapes, dtypes, device = key
    names = [getattr(d, "name", str(d)) for d in dtypes]
    return (
        f"{plugin_id} attrs={[a if isinstance(a, str) else a.hex() for a in attributes]} "
        f"dtypes={names} shapes={list(shapes)}"
        + (f" device={device}" if device.type == "cuda" else "")
    )


def _capture_safety(strategy: str, event: Optional[str]) -> str:
    """Whether a JIT strategy can run inside a CUDA graph capture, and what a capture saw of it."""
    if event is not None and event.startswith("failed"):
        return event
    if strategy == "launch":
        verdict = "capture-safe: the captured Triton launch into TensorRT's buffers"
    else:
        verdict = (
            f"not known to be capture-safe: '{strategy}' runs the op's body in PyTorch, which "
            "may allocate, synchronise or compile inside a capture"
        )
    return verdict + (f" ({event})" if event else "")
