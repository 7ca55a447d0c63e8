"""The Torch-TensorRT converter (and its capability check) for an op's QDP plugin.

``make_converter`` returns (converter, validator). The validator runs when Torch-TensorRT partitions
the graph: it binds the node's arguments, traces the fake kernel for the node's dtypes and shapes
and proves the trace's guards hold for every shape the exported graph allows; if anything fails, the
node stays in PyTorch and the reason is logged and kept in ``record.rejections``. The converter adds
the plugin layer with deterministic layer and tensor names.

Plugins this package did not generate (a hand-written ``trtp.register`` under the op's name) are
converted too: tensors and attributes are matched to the plugin's parameters by name.
"""

from __future__ import annotations

import logging
import typing
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import sympy
import torch
from torch.fx.node import Node

from . import _attributes, _dtypes
from ._binding import BoundCall, absent_names, bind
from ._errors import PluginGenerationError, user_error
from ._registry import PluginRecord
from ._schema import OpSpec
from ._symbolic import TensorSignature, unproven_guards

_LOGGER = logging.getLogger(__name__)

API = "generate_plugin_converter"

Validator = Callable[[Node, Any], bool]


def _is_fx_tensor(value: Any) -> bool:
    return isinstance(value, Node) and isinstance(value.meta.get("val"), torch.Tensor) or isinstance(value, torch.Tensor)


def _is_fx_constant(value: Any) -> bool:
    return not isinstance(value, (Node, torch.SymInt, torch.SymFloat, torch.SymBool, torch.Tensor))


def _is_trt_tensor(value: Any) -> bool:
    import tensorrt as trt

    return isinstance(value, (trt.ITensor, torch.Tensor, np.ndarray))


def _is_trt_constant(value: Any) -> bool:
    import tensorrt as trt

    return not isinstance(value, (trt.ITensor, torch.SymInt, torch.SymFloat, torch.SymBool, torch.Tensor, Node))


# -- node metadata -> trace key -----------------------------------------------------------------
@dataclass(frozen=True)
class NodeShapes:
    """What the exported graph knows about a node's tensor inputs."""

    signatures: Tuple[TensorSignature, ...]  # present inputs, plugin order
    exprs: Dict[Tuple[int, int], Union[int, sympy.Expr]]  # (tensor arg index, dim) -> size
    hints: Dict[Tuple[int, int], int]
    shape_env: Any


def node_shapes(call: BoundCall) -> NodeShapes:
    signatures, exprs, hints = [], {}, {}
    shape_env = None
    for i, value in enumerate(call.tensors):
        if value is None:
            continue
        fake = value.meta["val"] if isinstance(value, Node) else value
        dims: List[Optional[int]] = []
        for j, d in enumerate(fake.shape):
            if isinstance(d, torch.SymInt):
                expr = d.node.expr
                shape_env = shape_env or d.node.shape_env
                if expr.is_number:
                    dims.append(int(expr))
                    exprs[(i, j)] = int(expr)
                    continue
                dims.append(None)
                exprs[(i, j)] = expr
                try:
                    hints[(i, j)] = int(d.node.shape_env.size_hint(expr))
                except Exception:
                    pass
            else:
                dims.append(int(d))
                exprs[(i, j)] = int(d)
        signatures.append(TensorSignature(fake.dtype, tuple(dims)))
    return NodeShapes(tuple(signatures), exprs, hints, shape_env)


def itensor_signature(t: Any) -> TensorSignature:
    dims = tuple(None if int(d) < 0 else int(d) for d in t.shape)
    return TensorSignature(_dtypes.to_torch(t.dtype), dims)


# -- our own plugins ------------------------------------------------------------------------------
def check_node(record: PluginRecord, node: Node) -> Optional[str]:
    """Why ``node`` cannot be converted with ``record``'s plugin (None when it can)."""
    spec = record.spec
    try:
        call = bind(API, spec, node.args, node.kwargs, is_tensor=_is_fx_tensor, is_constant=_is_fx_constant)
        for value in call.tensors:
            if value is not None:
                fake = value.meta["val"] if isinstance(value, Node) else value
                _dtypes.to_trt(fake.dtype, api=API, op=spec.qualname)
        shapes = node_shapes(call)
        variant = record.variant(absent_names(spec, call))
        key = variant.trace_key(shapes.signatures, call.attributes)
        program = record.programs.get_or_trace(API, spec, record.op, key, shapes.hints)
        for out in program.outputs:
            _dtypes.to_trt(out.dtype, api=API, op=spec.qualname)
        unproven = unproven_guards(program, shapes.exprs, shapes.shape_env)
        if unproven:
            from ._errors import format_message

            return format_message(
                API, spec.qualname,
                f"node {node.name} stays in PyTorch: the fake kernel's output shapes hold only when "
                f"{' and '.join(unproven)}, which the exported graph does not guarantee",
                got=key.describe(spec),
                expected="a fake kernel whose output shapes hold for every size in the optimization profile",
                fix="Make the fake kernel general for these sizes, or narrow the profile (torch_tensorrt.Input "
                "min/max) so that the condition always holds",
            )
    except PluginGenerationError as e:
        return str(e)
    except TypeError as e:
        return str(e)
    return None


def make_validator(record: PluginRecord, user_validator: Optional[Validator]) -> Validator:
    def validator(node: Node, settings: Any = None) -> bool:
        reason = check_node(record, node)
        if reason is None and user_validator is not None and not user_validator(node, settings):
            reason = "the capability_validator passed to generate_plugin_converter returned False"
        if reason is not None:
            record.rejections[node.name] = reason
            _LOGGER.warning("%s: node %s stays in PyTorch: %s", record.qualname, node.name, reason)
            return False
        record.rejections.pop(node.name, None)
        return True

    return validator


def make_own_converter(record: PluginRecord, choose_aot: Optional[Callable[[Any, Any, BoundCall], Optional[str]]]) -> Callable[..., Any]:
    """Converter for a plugin generated by this package. ``choose_aot`` returns an AOT plugin id or None."""
    spec = record.spec

    def converter(ctx: Any, target: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], name: str) -> Any:
        import tensorrt.plugin as trtp
        from torch_tensorrt.dynamo.conversion.converter_utils import get_trt_tensor

        call = bind(API, spec, args, kwargs, is_tensor=_is_trt_tensor, is_constant=_is_trt_constant)
        absent = absent_names(spec, call)
        variant = record.variant(absent)
        itensors = [
            get_trt_tensor(ctx, value, f"{spec.qualname}/{name}/in{i}")
            for i, value in enumerate(t for t in call.tensors if t is not None)
        ]
        _ensure_program(record, variant, itensors, call, getattr(ctx, "current_node", None))
        aot_plugin_id = choose_aot(ctx, variant, call) if choose_aot is not None else None
        plugin_id = aot_plugin_id or variant.plugin_id
        namespace, plugin_name = plugin_id.split("::")
        plugin = getattr(getattr(trtp.op, namespace), plugin_name)
        attrs = _attributes.encode_all(variant.attributes, {a.name: v for a, v in zip(variant.attributes, call.attributes)})
        layer = ctx.net.add_plugin(plugin(*itensors, **attrs), aot=aot_plugin_id is not None)
        if layer is None:
            raise RuntimeError(f"{plugin_id}: TensorRT returned no plugin layer for node {name}")
        layer.name = f"{spec.qualname}/{name}"
        _LOGGER.debug("%s: node %s -> %s layer %s", spec.qualname, name, "AOT" if aot_plugin_id else "JIT", layer.name)
        return _outputs(layer, spec.num_outputs, f"{spec.qualname}/{name}")

    return converter


def _ensure_program(record: PluginRecord, variant: Any, itensors: Sequence[Any], call: BoundCall, node: Optional[Node]) -> None:
    """Trace for this layer's key now (with the node's hints) if the validator has not."""
    key = variant.trace_key([itensor_signature(t) for t in itensors], call.attributes)
    if record.programs.get(key) is not None:
        return
    hints: Dict[Tuple[int, int], int] = {}
    if node is not None:
        try:
            node_call = bind(API, record.spec, node.args, node.kwargs, is_tensor=_is_fx_tensor, is_constant=_is_fx_constant)
            hints = node_shapes(node_call).hints
        except Exception:
            hints = {}
    record.programs.get_or_trace(API, record.spec, record.op, key, hints)


def _outputs(layer: Any, num_outputs: int, prefix: str) -> Any:
    outputs = [layer.get_output(i) for i in range(num_outputs)]
    for i, t in enumerate(outputs):
        t.name = f"{prefix}/out{i}"
    return outputs[0] if num_outputs == 1 else tuple(outputs)


# -- plugins registered by hand ---------------------------------------------------------------------
def make_foreign_converter(spec: OpSpec, plugin_def: Any, use_aot: bool) -> Callable[..., Any]:
    """Converter for a hand-written QDP plugin registered under the op's name."""
    tensor_names = list(plugin_def.input_tensor_names)
    attr_annotations = dict(plugin_def.input_attrs)
    op_tensor_names = [a.name for a in spec.tensor_args]
    if sorted(tensor_names) != sorted(op_tensor_names) and len(tensor_names) != len(op_tensor_names):
        raise user_error(
            API, spec.qualname, "the registered TensorRT plugin's inputs do not match the op's tensors",
            got=tensor_names, expected=f"the op's tensor arguments {op_tensor_names}",
        )
    missing = [n for n in attr_annotations if n not in {a.name for a in spec.attribute_args}]
    if missing:
        raise user_error(
            API, spec.qualname, "the registered TensorRT plugin has attributes the op does not have",
            got=missing, expected=f"a subset of {[a.name for a in spec.attribute_args]}",
        )

    def converter(ctx: Any, target: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], name: str) -> Any:
        import tensorrt.plugin as trtp
        from torch_tensorrt.dynamo.conversion.converter_utils import get_trt_tensor

        call = bind(API, spec, args, kwargs, is_tensor=_is_trt_tensor, is_constant=_is_trt_constant)
        by_name = {a.name: t for a, t in zip(spec.tensor_args, call.tensors)}
        ordered = [by_name[n] for n in tensor_names] if set(tensor_names) <= set(by_name) else list(call.tensors)
        itensors = [get_trt_tensor(ctx, v, f"{spec.qualname}/{name}/in{i}") for i, v in enumerate(ordered)]
        values = {a.name: v for a, v in zip(spec.attribute_args, call.attributes)}
        attrs = {n: _foreign_attribute(spec, n, values[n], ann) for n, ann in attr_annotations.items()}
        plugin = getattr(getattr(trtp.op, spec.namespace), spec.name)
        layer = ctx.net.add_plugin(plugin(*itensors, **attrs), aot=use_aot)
        layer.name = f"{spec.qualname}/{name}"
        return _outputs(layer, spec.num_outputs, f"{spec.qualname}/{name}")

    return converter


def _foreign_attribute(spec: OpSpec, name: str, value: Any, annotation: Any) -> Any:
    """An attribute value in the Python or numpy type a hand-written register function declares."""
    origin = getattr(annotation, "__origin__", None)
    if annotation is np.ndarray or origin is np.ndarray or typing.get_origin(annotation) is np.ndarray:
        args = typing.get_args(annotation) or getattr(annotation, "__args__", ())
        dtype_args = typing.get_args(args[1]) if len(args) >= 2 else ()
        dtype = dtype_args[0] if dtype_args else None
        array = np.asarray(_attributes.to_call_value(value), dtype=dtype)
        return array.reshape(-1)
    if annotation in (int, float, bool, str):
        return annotation(value)
    if annotation is bytes:
        return bytes(value) if not isinstance(value, str) else value.encode()
    raise user_error(API, spec.qualname, f"cannot pass attribute '{name}' to the plugin", got=str(annotation))
