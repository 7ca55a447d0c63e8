"""Test access to the plugin registry: records by op name, and what the latest compile reported."""

from typing import Any, Dict, Union

from torch_tensorrt.dynamo.conversion.plugins import _registry, plugin_status


def record(name: str) -> Any:
    """The live PluginRecord of ``"ns::name"`` (or ``"ns::name.overload"``)."""
    require = getattr(_registry, "require", None)
    if (
        require is None
    ):  # the registry before issue 8 (used when checking that regression tests fail there)
        return _registry.PLUGINS[name]
    return require("tests", name)


def _name(op: Union[str, Any]) -> str:
    return op if isinstance(op, str) else op.display


def rejections(op: Union[str, Any]) -> Dict[str, str]:
    """Nodes the latest compile kept in PyTorch, and why (by op name or record)."""
    return plugin_status(_name(op)).not_converted


def aot_reasons(op: Union[str, Any]) -> Dict[str, str]:
    """Nodes of the latest compile that stayed JIT, and why."""
    return plugin_status(_name(op)).aot_unavailable


def implementations(op: Union[str, Any]) -> Dict[str, str]:
    """Converted nodes of the latest compile and their implementation ("JIT", "AOT (automatic)", ...)."""
    return plugin_status(_name(op)).implementations
