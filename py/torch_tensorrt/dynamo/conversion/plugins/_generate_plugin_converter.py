"""generate_plugin_converter: the Torch-TensorRT converter that puts an op's plugin in the engine."""

from __future__ import annotations

from typing import Any, Callable, Optional

from torch.fx.node import Node
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConverterRegistry import (
    DYNAMO_ATEN_CONVERTERS,
    ConverterPriority,
    dynamo_tensorrt_converter,
)

from . import _converter, _registry
from ._qdp import qdp_required
from ._errors import user_error
from ._registry import RegistrationHandle, caller_location
from ._schema import parse_qualname, resolve_op, spec_from_op

API = "generate_plugin_converter"


class ConverterHandle(RegistrationHandle):
    """Handle of a generated converter; calling it calls the converter (upstream returned the function)."""

    def __init__(self, description: str, undo: Callable[[], None], converter: Callable[..., Any]) -> None:
        super().__init__(description, undo)
        self.converter = converter

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.converter(*args, **kwargs)


def _generate_plugin_converter(
    namespace: str,
    op_name: str,
    overload: Optional[str] = None,
    capability_validator: Optional[Callable[[Node, CompilationSettings], bool]] = None,
    priority: ConverterPriority = ConverterPriority.STANDARD,
    supports_dynamic_shapes: Optional[bool] = None,
    requires_output_allocator: bool = False,
    use_aot_if_available: bool = True,
    *,
    _api: str = API,
) -> ConverterHandle:
    """Register the converter for ``namespace::op_name[.overload]``; see generate_plugin_converter.

    ``_api`` names the public function the user called, for error messages.
    """
    API = _api  # noqa: N806 - the name every message below uses
    qualname = f"{namespace}::{op_name}" + (f".{overload}" if overload and overload != "default" else "")
    op = resolve_op(API, qualname)
    spec = spec_from_op(API, op)
    key = f"{spec.qualname}.{spec.overload}"
    if key in _registry.CONVERTERS:
        raise user_error(
            API, spec.qualname, "a converter was already generated for this op", got=f"a second call at {caller_location()}",
            expected=f"one converter per op overload (the first was generated at {_registry.CONVERTERS[key]})",
            fix="Keep one call, or remove the first with the handle it returned (handle.remove())",
        )
    record = _registry.PLUGINS.get(spec.qualname)
    if record is not None:
        from . import _aot

        converter = _converter.make_own_converter(record, _aot.chooser(record) if use_aot_if_available else None)
        validator: Optional[Callable[[Node, Any], bool]] = _converter.make_validator(record, capability_validator)
        dynamic = True if supports_dynamic_shapes is None else supports_dynamic_shapes
    else:
        from tensorrt.plugin._lib import QDP_REGISTRY

        plugin_def = QDP_REGISTRY.get(spec.qualname)
        if plugin_def is None:
            raise user_error(
                API, spec.qualname, "no TensorRT plugin is registered for this op",
                expected="a plugin made by generate_plugin (or a hand-written tensorrt.plugin.register)",
                fix=f'Call generate_plugin("{spec.qualname}") first, or use custom_op("{spec.qualname}") for both',
            )
        use_aot = bool(use_aot_if_available and getattr(plugin_def, "aot_impl_func", None) is not None)
        converter = _converter.make_foreign_converter(spec, plugin_def, use_aot)
        validator = capability_validator
        dynamic = bool(supports_dynamic_shapes)
    dynamo_tensorrt_converter(
        op,
        capability_validator=validator,
        priority=priority,
        supports_dynamic_shapes=dynamic,
        requires_output_allocator=requires_output_allocator,
    )(converter)
    _registry.CONVERTERS[key] = caller_location()

    def undo() -> None:
        supports = DYNAMO_ATEN_CONVERTERS.get(op, [])
        remaining = [s for s in supports if getattr(s, "converter_implementation", None) is not converter]
        if remaining:
            DYNAMO_ATEN_CONVERTERS[op] = remaining
        else:
            DYNAMO_ATEN_CONVERTERS.pop(op, None)
        _registry.CONVERTERS.pop(key, None)

    return ConverterHandle(f"converter {key}", undo, converter)


@qdp_required
def generate_plugin_converter(
    plugin_id: str,
    capability_validator: Optional[Callable[[Node, CompilationSettings], bool]] = None,
    priority: ConverterPriority = ConverterPriority.STANDARD,
    supports_dynamic_shapes: Optional[bool] = None,
    requires_output_allocator: bool = False,
    use_aot_if_available: bool = True,
) -> ConverterHandle:
    """Register a Torch-TensorRT converter that inserts the op's TensorRT plugin into the engine.

    The converter binds each call's positional and keyword arguments against the op's schema
    (defaults applied, keyword-only attributes kept), converts list and dtype attributes, names
    layers ``"<op>/<node>"``, and uses the AOT plugin when ``use_aot_if_available`` and an AOT
    implementation exists for the call, the JIT plugin otherwise. Its capability check keeps a node
    in PyTorch, with the reason logged, when the plugin could not compute the node's output shapes
    correctly for every size in the optimization profile.

    Args:
        plugin_id: The op, ``"namespace::op_name"``; its plugin must exist (``generate_plugin``, or
            a hand-written ``tensorrt.plugin.register`` under the same name).
        capability_validator: Optional extra check ``(node, settings) -> bool``, and-ed with the
            generated one.
        priority: Priority among converters for the same op.
        supports_dynamic_shapes: Whether nodes with dynamic shapes may be converted. ``None``
            (default) means: for generated plugins, whenever the shape check proves the shapes
            right; for hand-written plugins, False (as upstream).
        requires_output_allocator: Whether the plugin needs an output allocator (data-dependent
            output shapes).
        use_aot_if_available: Use the ahead-of-time (Python-free) implementation when there is one.

    Returns:
        A handle: ``handle.remove()`` unregisters the converter; calling it calls the converter.

    Raises:
        ValueError: Malformed name, unknown op, no plugin registered, or a converter already
            generated for the op.

    Example:
        >>> import torch
        >>> from torch_tensorrt.dynamo.conversion.plugins import generate_plugin, generate_plugin_converter
        >>> @torch.library.custom_op("doc_ex2::scale", mutates_args=())
        ... def scale(x: torch.Tensor, factor: float = 2.0) -> torch.Tensor:
        ...     return x * factor
        >>> @torch.library.register_fake("doc_ex2::scale")
        ... def _(x, factor=2.0):
        ...     return torch.empty_like(x)
        >>> plugin = generate_plugin("doc_ex2::scale")
        >>> converter = generate_plugin_converter("doc_ex2::scale")
        >>> converter.remove(); plugin.remove()
    """
    namespace, name, overload = parse_qualname(API, plugin_id)
    return _generate_plugin_converter(
        namespace,
        name,
        overload,
        capability_validator=capability_validator,
        priority=priority,
        supports_dynamic_shapes=supports_dynamic_shapes,
        requires_output_allocator=requires_output_allocator,
        use_aot_if_available=use_aot_if_available,
    )
