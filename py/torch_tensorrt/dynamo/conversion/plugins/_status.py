"""plugin_status: what an op became, and why anything fell back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from . import _registry
from ._errors import user_error
from ._schema import parse_qualname


@dataclass(frozen=True)
class PluginStatus:
    """A snapshot of one generated plugin family.

    Attributes:
        op: The op, ``"ns::name"``.
        generated_at: Where ``generate_plugin`` / ``custom_op`` was called.
        plugins: The QDP plugin ids registered for it (JIT variants and AOT plugins).
        traces: How many times the fake kernel was traced (once per trace key).
        jit_strategies: Per (attributes, input shapes) seen at enqueue: "launch" (the captured
            Triton launch into TensorRT's buffers), "out" (the op's out= overload) or "copy".
        direct_launch_unavailable: Why the JIT implementation could not launch directly.
        aot_unavailable: Call sites (node names) that stayed JIT, and why.
        not_converted: Nodes the capability check kept in PyTorch, and why.
    """

    op: str
    generated_at: str
    plugins: Tuple[str, ...]
    traces: int
    jit_strategies: Dict[str, str]
    direct_launch_unavailable: Dict[str, str]
    aot_unavailable: Dict[str, str]
    not_converted: Dict[str, str]

    def __str__(self) -> str:
        lines = [f"{self.op} (generated at {self.generated_at})", f"  plugins: {', '.join(self.plugins)}",
                 f"  fake-kernel traces: {self.traces}"]
        sections = (
            ("JIT enqueue strategy", self.jit_strategies),
            ("no direct Triton launch", self.direct_launch_unavailable),
            ("stayed JIT (no AOT)", self.aot_unavailable),
            ("not converted", self.not_converted),
        )
        for title, table in sections:
            if table:
                lines.append(f"  {title}:")
                lines.extend(f"    {k}: {v}" for k, v in table.items())
        return "\n".join(lines)


def plugin_status(op_name: str) -> PluginStatus:
    """Report what ``generate_plugin`` made of an op and why any call site fell back.

    Args:
        op_name: The op, ``"namespace::op_name"``, given to ``generate_plugin`` or ``custom_op``.

    Returns:
        A PluginStatus; ``print()`` it for a readable summary.

    Raises:
        ValueError: No plugin was generated for the op.

    Example:
        >>> from torch_tensorrt.dynamo.conversion.plugins import plugin_status
        >>> plugin_status("my_lib::my_op").aot_unavailable  # doctest: +SKIP
        {}
    """
    namespace, name, _ = parse_qualname("plugin_status", op_name)
    qualname = f"{namespace}::{name}"
    record = _registry.PLUGINS.get(qualname)
    if record is None:
        raise user_error(
            "plugin_status", qualname, "no plugin was generated for this op",
            expected=f"one of {sorted(_registry.PLUGINS)}", fix="Call generate_plugin or custom_op first",
        )
    plugins = [entry.variant.plugin_id for entry in record.variants.values()]
    aot = record.extras.get("aot")
    if aot is not None:
        plugins.extend(v.plugin_id for v in aot.variants.values())
    strategies: Dict[str, str] = {}
    for entry in record.variants.values():
        for (attributes, shapes), strategy in entry.runtime.chosen.items():
            strategies[f"{entry.variant.plugin_id} attrs={attributes} shapes={list(shapes)}"] = strategy
    plans = record.extras.get("launch_plans")
    return PluginStatus(
        op=qualname,
        generated_at=record.source,
        plugins=tuple(plugins),
        traces=record.programs.traces,
        jit_strategies=strategies,
        direct_launch_unavailable=dict(plans.reasons) if plans is not None else {},
        aot_unavailable=dict(aot.reasons) if aot is not None else {},
        not_converted=dict(record.rejections),
    )
