"""generate_plugin_converter: the Torch-TensorRT converter that puts an op's plugin in the engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch.fx.node import Node
from torch_tensorrt.dynamo._settings import CompilationSettings
from torch_tensorrt.dynamo.conversion._ConverterRegistry import (
    DYNAMO_ATEN_CONVERTERS,
    ConverterPriority,
    dynamo_tensorrt_converter,
)

from . import _compiles, _converter, _functional, _registry
from ._errors import user_error
from ._qdp import qdp_required
from ._registry import RegistrationHandle, caller_location
from ._schema import OpSpec, parse_qualname, resolve_op, spec_from_op

_LOGGER = logging.getLogger(__name__)

API = "generate_plugin_converter"


class ConverterHandle(RegistrationHandle):
    """Handle of a generated converter; calling it calls the converter (upstream returned the function)."""

    def __init__(
        self,
        description: str,
        undo: Callable[[], None],
        converter: Callable[..., Any],
        is_active: Callable[[], bool],
    ) -> None:
        super().__init__(description, undo, is_active=is_active)
        self.converter = converter

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.converter(*args, **kwargs)


@dataclass(frozen=True)
class ConverterOptions:
    """The arguments a converter was generated with (compared to decide whether a call repeats it)."""

    capability_validator: Optional[Callable[[Node, CompilationSettings], bool]]
    priority: ConverterPriority
    supports_dynamic_shapes: Optional[bool]
    requires_output_allocator: bool
    use_aot_if_available: bool


class ConverterRecord:
    """One registered converter: for which op object, with which options, from where."""

    def __init__(
        self,
        spec: OpSpec,
        op: torch._ops.OpOverload,
        options: ConverterOptions,
        own: bool,
    ) -> None:
        self.spec = spec
        self.op = op
        self.options = options
        self.own = (
            own  # converts this package's generated plugin (else a hand-written one)
        )
        self.source = caller_location()
        self.converter: Callable[..., Any] = lambda *a, **k: None
        #: Converters for other targets: the functionalized form of an in-place op (``_functional``).
        self.functional: List[Tuple[Any, Callable[..., Any]]] = []
        self.live = True
        self.handle = ConverterHandle(
            f"converter {spec.display}",
            lambda: _remove(self),
            self._call,
            lambda: self.live,
        )

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        return self.converter(*args, **kwargs)


#: "ns::name.overload" -> the live converter record.
CONVERTERS: Dict[str, ConverterRecord] = {}


def _remove(record: ConverterRecord) -> None:
    if not record.live:
        return
    record.live = False
    for target, converter in [(record.op, record.converter), *record.functional]:
        supports = DYNAMO_ATEN_CONVERTERS.get(target, [])
        remaining = [
            s
            for s in supports
            if getattr(s, "converter_implementation", None) is not converter
        ]
        if remaining:
            DYNAMO_ATEN_CONVERTERS[target] = remaining
        else:
            DYNAMO_ATEN_CONVERTERS.pop(target, None)
    if CONVERTERS.get(record.spec.key) is record:
        del CONVERTERS[record.spec.key]


def remove_converters_of(key: str) -> bool:
    """Remove the converter generated for op ``key`` (used when its plugin is removed)."""
    record = CONVERTERS.get(key)
    if record is None or not record.own:
        return False
    _remove(record)
    return True


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

    ``_api`` names the public function the user called, for error messages. A call that repeats
    the live registration (same op definition, same options) returns its handle; any other call
    for the same op overload replaces it (logged).
    """
    API = _api  # noqa: N806 - the name every message below uses
    qualname = f"{namespace}::{op_name}" + (
        f".{overload}" if overload and overload != "default" else ""
    )
    op = resolve_op(API, qualname)
    spec = spec_from_op(API, op)
    options = ConverterOptions(
        capability_validator,
        priority,
        supports_dynamic_shapes,
        requires_output_allocator,
        use_aot_if_available,
    )
    own = _registry.PLUGINS.get(spec.key)
    existing = CONVERTERS.get(spec.key)
    if (
        existing is not None
        and existing.op is op
        and existing.options == options
        and existing.own == (own is not None)
    ):
        return existing.handle
    plugin_def = None
    if own is None:
        from tensorrt.plugin._lib import QDP_REGISTRY

        plugin_def = QDP_REGISTRY.get(spec.plugin_id())
        if plugin_def is None:
            raise user_error(
                API,
                spec.display,
                "no TensorRT plugin is registered for this op",
                expected=f"a plugin made by generate_plugin (or a hand-written tensorrt.plugin.register named {spec.plugin_id()!r})",
                fix=f'Call generate_plugin("{spec.display}") first, or use custom_op("{spec.display}") for both',
            )
    record = ConverterRecord(spec, op, options, own is not None)
    if own is not None:
        converter = _converter.make_own_converter(
            spec.key, spec.display, use_aot_if_available
        )
        validator: Optional[Callable[[Node, Any], bool]] = _converter.make_validator(
            spec.key, spec.display, capability_validator
        )
        dynamic = True if supports_dynamic_shapes is None else supports_dynamic_shapes
    else:
        use_aot = bool(
            use_aot_if_available
            and getattr(plugin_def, "aot_impl_func", None) is not None
        )
        converter = _converter.make_foreign_converter(spec, plugin_def, use_aot)
        validator = _converter.make_foreign_validator(
            spec, plugin_def, use_aot, capability_validator
        )
        dynamic = bool(supports_dynamic_shapes)
    if existing is not None:
        _LOGGER.info(
            "%s: %s replaces the converter generated at %s",
            spec.display,
            API,
            existing.source,
        )
        _remove(existing)
    record.converter = converter
    dynamo_tensorrt_converter(
        op,
        capability_validator=validator,
        priority=priority,
        supports_dynamic_shapes=dynamic,
        requires_output_allocator=requires_output_allocator,
    )(converter)
    if own is not None and spec.mutated:
        # The exported graph holds an in-place op in functionalized form (see _functional).
        for hop in _functional.hops():
            functional = _converter.make_functional_converter(
                spec.key, spec.display, use_aot_if_available
            )
            dynamo_tensorrt_converter(
                hop,
                capability_validator=_converter.make_functional_validator(
                    spec.key, spec.display, capability_validator
                ),
                priority=priority,
                supports_dynamic_shapes=dynamic,
                requires_output_allocator=requires_output_allocator,
            )(functional)
            record.functional.append((hop, functional))
    CONVERTERS[spec.key] = record
    _compiles.install()
    return record.handle


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

    Calling it again with the same arguments for the same op returns the live registration; with
    other arguments (or after the op was redefined) it replaces the converter and logs it.

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
        A handle whose ``remove()`` unregisters the converter; calling the handle calls the
        converter.

    Raises:
        ValueError: Malformed name, unknown op, or no plugin registered for the op.

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
