"""custom_op: generate_plugin + generate_plugin_converter in one call."""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

from torch.fx.node import Node
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConverterRegistry import ConverterPriority

from . import _registry
from ._generate_plugin import _generate_plugin
from ._generate_plugin_converter import ConverterHandle, _generate_plugin_converter
from ._qdp import qdp_required
from ._registry import PluginRecord, RegistrationHandle
from ._schema import parse_qualname

API = "custom_op"

#: "ns::name.overload" -> (plugin record, converter handle, the handle custom_op returned).
_REGISTRATIONS: Dict[str, Tuple[PluginRecord, ConverterHandle, RegistrationHandle]] = {}


@qdp_required
def custom_op(
    op_name: str,
    capability_validator: Optional[Callable[[Node, CompilationSettings], bool]] = None,
    priority: ConverterPriority = ConverterPriority.STANDARD,
    supports_dynamic_shapes: Optional[bool] = None,
    requires_output_allocator: bool = False,
    *,
    use_aot_if_available: bool = True,
    verify: bool = False,
    _aot_register: Optional[Callable[[], None]] = None,
) -> RegistrationHandle:
    """Turn a PyTorch custom op into a TensorRT plugin that ``torch_tensorrt.compile`` keeps in the engine.

    Equivalent to ``generate_plugin(op_name)`` followed by ``generate_plugin_converter(op_name, ...)``.
    Calling it again for the same op returns the live registration when nothing changed; when the
    op, its fake kernel or its body was redefined, or the arguments differ, it replaces what changed
    and logs it (see NOTE [Lifecycle] in ``_registry``).

    Args:
        op_name: The op, ``"namespace::op_name"``, with a fake kernel.
        capability_validator: Optional extra ``(node, settings) -> bool`` check.
        priority: Converter priority.
        supports_dynamic_shapes: See ``generate_plugin_converter`` (default: decided by the shape check).
        requires_output_allocator: Whether the plugin needs an output allocator.
        use_aot_if_available: Use the Python-free AOT implementation when the op allows one.
        verify: Run the op eagerly next to the first enqueue of every call identity and compare
            values (also switched on for every op by ``TORCH_TRT_PLUGINS_VERIFY=1``).
        _aot_register: Internal hook for ``torch_tensorrt.kernels``: called between the plugin and
            the converter to register a hand-written AOT implementation.

    Returns:
        A handle whose ``remove()`` unregisters both the converter and the plugin.

    Raises:
        ValueError: See ``generate_plugin`` and ``generate_plugin_converter``.

    Example:
        >>> import torch
        >>> from torch_tensorrt.dynamo.conversion.plugins import custom_op
        >>> @torch.library.custom_op("doc_ex3::scale", mutates_args=())
        ... def scale(x: torch.Tensor, factor: float = 2.0) -> torch.Tensor:
        ...     return x * factor
        >>> @torch.library.register_fake("doc_ex3::scale")
        ... def _(x, factor=2.0):
        ...     return torch.empty_like(x)
        >>> handle = custom_op("doc_ex3::scale")
        >>> handle.remove()
    """
    namespace, name, overload = parse_qualname(API, op_name)
    before = _registry.PLUGINS.get(f"{namespace}::{name}.{overload}")
    record = _generate_plugin(op_name, api=API, verify=verify)
    try:
        if _aot_register is not None:
            _aot_register()
        converter = _generate_plugin_converter(
            namespace,
            name,
            overload,
            capability_validator,
            priority,
            supports_dynamic_shapes,
            requires_output_allocator,
            use_aot_if_available,
            _api=API,
        )
    except Exception:
        if record is not before:
            record.handle.remove()
        raise
    previous = _REGISTRATIONS.get(record.key)
    if (
        previous is not None
        and previous[0] is record
        and previous[1] is converter
        and previous[2].active
    ):
        return previous[2]

    def undo() -> None:
        converter.remove()
        record.handle.remove()
        if _REGISTRATIONS.get(record.key, (None,))[0] is record:
            del _REGISTRATIONS[record.key]

    handle = RegistrationHandle(
        f"custom_op {record.display}",
        undo,
        is_active=lambda: record.live and converter.active,
    )
    _REGISTRATIONS[record.key] = (record, converter, handle)
    return handle
