"""The Torch-TensorRT converter (and its capability check) for an op's QDP plugin.

The validator runs when Torch-TensorRT partitions the graph: it binds the node's arguments, traces
the fake kernel for the node's call identity, checks that every output size lowers to a TensorRT
shape expression and proves the trace's guards for every shape the exported graph allows; if
anything fails, the node stays in PyTorch and the reason is logged and kept in the compile's report.
The converter adds the plugin layer with deterministic layer and tensor names, choosing the
implementation in this order: a hand-written ``@trtp.aot_impl`` attached to the generated plugin,
the automatic AOT kernel, the JIT plugin (when ``use_aot_if_available``).

Both look the op's live registration up by key at every call, so a plugin regenerated for a new
definition is used at once, and a removed one gives a clear error instead of coming back.

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

from . import (
    _attributes,
    _compiles,
    _dtypes,
    _engine_cache,
    _functional,
    _handwritten,
    _hidden,
    _interpreter,
    _qdp,
    _registry,
)
from ._binding import BoundCall, absent_names, bind
from ._chain import ChainChoice, Ref
from ._errors import PluginGenerationError, format_message, user_error
from ._identity import TensorSignature
from ._registry import PluginRecord
from ._schema import OpSpec
from ._shape_program import UnsupportedExpression
from ._symbolic import unproven_guards

_LOGGER = logging.getLogger(__name__)

API = "generate_plugin_converter"

Validator = Callable[[Node, Any], bool]


def _is_fx_tensor(value: Any) -> bool:
    return (
        isinstance(value, Node)
        and isinstance(value.meta.get("val"), torch.Tensor)
        or isinstance(value, torch.Tensor)
    )


def _is_fx_constant(value: Any) -> bool:
    return not isinstance(
        value, (Node, torch.SymInt, torch.SymFloat, torch.SymBool, torch.Tensor)
    )


def _is_trt_tensor(value: Any) -> bool:
    import tensorrt as trt

    return isinstance(value, (trt.ITensor, torch.Tensor, np.ndarray))


def _is_trt_constant(value: Any) -> bool:
    import tensorrt as trt

    return not isinstance(
        value,
        (trt.ITensor, torch.SymInt, torch.SymFloat, torch.SymBool, torch.Tensor, Node),
    )


# -- node metadata -> call identity ---------------------------------------------------------------
@dataclass(frozen=True)
class NodeShapes:
    """What the exported graph knows about a node's tensor inputs."""

    signatures: Tuple[TensorSignature, ...]  # present inputs, plugin order
    exprs: Dict[
        Tuple[int, int], Union[int, sympy.Expr]
    ]  # (tensor arg index, dim) -> size
    hints: Dict[Tuple[int, int], int]
    shape_env: Any


def _size_hint(d: torch.SymInt) -> Optional[int]:
    """The example size export recorded for a symbolic size (no deprecated ShapeEnv API)."""
    node = d.node
    hint = getattr(node, "hint", None)
    if hint is not None:
        return int(hint)
    env = node.shape_env
    optimization_hint = getattr(env, "optimization_hint", None)
    try:
        if optimization_hint is not None:
            return int(optimization_hint(node.expr))
        value = node.expr.xreplace(
            getattr(env, "backed_var_to_val", None) or env.var_to_val
        )
        return int(value) if value.is_number else None
    except Exception:
        return None


def _truncated(dtype: torch.dtype, truncate_double: bool) -> torch.dtype:
    """The dtype a tensor has in the engine: float64 becomes float32 under ``truncate_double``."""
    return torch.float32 if truncate_double and dtype == torch.float64 else dtype


def node_shapes(call: BoundCall, truncate_double: bool = False) -> NodeShapes:
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
                hint = _size_hint(d)
                if hint is not None:
                    hints[(i, j)] = hint
            else:
                dims.append(int(d))
                exprs[(i, j)] = int(d)
        signatures.append(
            TensorSignature(_truncated(fake.dtype, truncate_double), tuple(dims))
        )
    return NodeShapes(tuple(signatures), exprs, hints, shape_env)


def itensor_signature(t: Any) -> TensorSignature:
    dims = tuple(None if int(d) < 0 else int(d) for d in t.shape)
    return TensorSignature(_dtypes.to_torch(t.dtype), dims)


def _truncate_double(settings: Any) -> bool:
    return bool(getattr(settings, "truncate_double", False))


# -- our own plugins ------------------------------------------------------------------------------
def check_node(record: PluginRecord, node: Node, settings: Any = None) -> Optional[str]:
    """Why ``node`` cannot be converted with ``record``'s plugin (None when it can)."""
    spec = record.spec
    try:
        record.require_live(API)
        node_args, node_kwargs = _functional.op_arguments(spec, node)
        call = bind(
            API,
            spec,
            node_args,
            node_kwargs,
            is_tensor=_is_fx_tensor,
            is_constant=_is_fx_constant,
        )
        truncate = _truncate_double(settings)
        shapes = node_shapes(call, truncate)
        for signature in shapes.signatures:
            _dtypes.to_trt(signature.dtype, api=API, op=spec.display)
        variant = record.variant(absent_names(spec, call))
        key = variant.call_key(shapes.signatures, call.attributes)
        program = record.programs.get_or_trace(API, spec, record.op, key, shapes.hints)
        for out in program.outputs:
            _dtypes.to_trt(out.dtype, api=API, op=spec.display)
        program.check_lowerable()
        unproven = unproven_guards(program, shapes.exprs, shapes.shape_env)
        if unproven:
            return format_message(
                API,
                spec.display,
                f"node {node.name} stays in PyTorch: the fake kernel's output shapes hold only when "
                f"{' and '.join(unproven)}, which the exported graph does not guarantee",
                got=key.describe(spec),
                expected="a fake kernel whose output shapes hold for every size in the optimization profile",
                fix="Make the fake kernel general for these sizes, or narrow the profile (torch_tensorrt.Input "
                "min/max) so that the condition always holds",
            )
    except UnsupportedExpression as e:
        return format_message(
            API,
            spec.display,
            f"node {node.name} stays in PyTorch: an output size is not a TensorRT shape expression",
            got=str(e),
            fix="Compute output sizes with +, -, *, // (floor), math.ceil of a division, min and max in the fake kernel",
        )
    except (PluginGenerationError, TypeError, _functional.NotFunctionalizable) as e:
        return str(e)
    return None


def make_validator(
    key: str, display: str, user_validator: Optional[Validator]
) -> Validator:
    def validator(node: Node, settings: Any = None) -> bool:
        record = _registry.PLUGINS.get(key)
        if record is None:
            _LOGGER.warning(
                "%s: node %s stays in PyTorch: its generated plugin was removed",
                display,
                node.name,
            )
            return False
        reason = check_node(record, node, settings)
        if (
            reason is None
            and user_validator is not None
            and not user_validator(node, settings)
        ):
            reason = "the capability_validator passed to generate_plugin_converter returned False"
        report = record.report(_compiles.compile_of(node))
        if reason is not None:
            report.not_converted[node.name] = reason
            _LOGGER.warning(
                "%s: node %s stays in PyTorch: %s", record.display, node.name, reason
            )
            return False
        report.not_converted.pop(node.name, None)
        return True

    return validator


def _raw_key(encoded: Dict[str, Any]) -> Tuple[Any, ...]:
    """The exact attribute key the runtime computes from QDP's attribute objects at enqueue."""
    return tuple(v.tobytes() if hasattr(v, "tobytes") else v for v in encoded.values())


def make_own_converter(
    key: str, display: str, use_aot_if_available: bool
) -> Callable[..., Any]:
    """Converter for a plugin generated by this package (looked up by ``key`` at every call)."""

    def converter(
        ctx: Any, target: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], name: str
    ) -> Any:
        import tensorrt.plugin as trtp
        from torch_tensorrt.dynamo.conversion.converter_utils import get_trt_tensor

        record = _registry.live_record(API, key, display)
        spec = record.spec
        node = _interpreter.current_node(ctx)
        report = record.report(_compiles.compile_of(node))
        call = bind(
            API,
            spec,
            args,
            kwargs,
            is_tensor=_is_trt_tensor,
            is_constant=_is_trt_constant,
        )
        variant = record.variant(absent_names(spec, call))
        itensors = [
            get_trt_tensor(ctx, value, f"{spec.display}/{name.lstrip('/')}/in{i}")
            for i, value in enumerate(t for t in call.tensors if t is not None)
        ]
        signatures = [itensor_signature(t) for t in itensors]
        _ensure_program(
            record,
            variant,
            signatures,
            call,
            node,
            getattr(ctx, "compilation_settings", None),
        )
        attrs = _attributes.encode_all(
            variant.attributes,
            {a.name: v for a, v in zip(variant.attributes, call.attributes)},
        )

        def note(label: str, reason: str, unexpected: bool) -> None:
            if report.aot_unavailable.get(label) != reason:
                (_LOGGER.warning if unexpected else _LOGGER.info)(
                    "%s: %s stays JIT: %s", display, label, reason
                )
            report.aot_unavailable[label] = reason

        call_key = variant.call_key(signatures, call.attributes)
        program = record.programs.get(call_key)  # traced by _ensure_program
        plugin_id, aot, implementation = _choose_implementation(
            record,
            variant,
            call,
            program,
            ctx,
            signatures,
            attrs,
            use_aot_if_available,
            note,
        )
        if program is not None and program.sizes:
            # Data-dependent output sizes: size tensor outputs, and the engine's output allocator.
            plugin_id = record.hidden_variant(
                variant.absent, 0, len(program.sizes)
            ).plugin_id
            ctx.requires_output_allocator = True
        elif plugin_id == variant.plugin_id and not aot:
            # A kernel writing scratch tensors gets them as hidden outputs of the JIT plugin.
            plugin_id = _hidden.jit_plugin_id(record, variant, call_key)
        label = node.name if node is not None else name.lstrip("/")
        if isinstance(plugin_id, ChainChoice):  # several launches: one AOT layer each
            report.implementations[label] = implementation
            return _add_chain(ctx, plugin_id, itensors, attrs, spec, name)
        namespace, plugin_name = plugin_id.split("::")
        plugin = getattr(getattr(trtp.op, namespace), plugin_name)
        layer = ctx.net.add_plugin(plugin(*itensors, **attrs), aot=aot)
        if layer is None:
            raise RuntimeError(
                f"{plugin_id}: TensorRT returned no plugin layer for node {name}"
            )
        layer.name = f"{spec.display}/{name.lstrip('/')}"
        report.implementations[label] = implementation
        if not aot:
            layers = record.layers.setdefault((plugin_id, _raw_key(attrs)), [])
            if layer.name not in layers:
                layers.append(layer.name)
        _engine_cache.layer_converted()
        _LOGGER.debug(
            "%s: node %s -> %s layer %s (%s)",
            display,
            name,
            implementation,
            layer.name,
            plugin_id,
        )
        return _outputs(layer, spec.num_outputs, layer.name)

    return converter


def make_functional_converter(
    key: str, display: str, use_aot_if_available: bool
) -> Callable[..., Any]:
    """Converter for the functionalized form of an in-place op (see ``_functional``)."""
    convert = make_own_converter(key, display, use_aot_if_available)

    def converter(
        ctx: Any, target: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], name: str
    ) -> Any:
        spec = _registry.live_record(API, key, display).spec
        call = _functional.unwrap(spec, target, args, dict(kwargs))
        outputs = convert(ctx, call.op, (), call.kwargs, name)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return _functional.node_result(spec, outputs, call)

    return converter


def make_functional_validator(
    key: str, display: str, user_validator: Optional[Validator]
) -> Validator:
    """Validator for functionalization nodes: only those of this op, then as ``make_validator``."""
    check = make_validator(key, display, user_validator)

    def validator(node: Node, settings: Any = None) -> bool:
        record = _registry.PLUGINS.get(key)
        op = _functional.mutable_op(node.target, node.args)
        if op is None or record is None or op is not record.op:
            return False  # another op's node (or no plugin): not ours to report
        try:
            warning = _functional.state_written(record.spec, node)
        except _functional.NotFunctionalizable:
            warning = None  # check() reports it
        if warning is not None:
            _LOGGER.warning("%s", warning)
        return check(node, settings)

    return validator


def _choose_implementation(
    record: PluginRecord,
    variant: Any,
    call: BoundCall,
    program: Any,
    ctx: Any,
    signatures: Sequence[TensorSignature],
    attrs: Dict[str, Any],
    use_aot: bool,
    note: Callable[[str, str, bool], None],
) -> Tuple[Union[str, ChainChoice], bool, str]:
    """(plugin id, aot, description): hand-written AOT > automatic AOT > JIT.

    ``program`` is the call site's shape program (None when not traced yet). A body of several
    launches made AOT gives a ``ChainChoice`` (one AOT layer per launch) instead of a plugin id.
    """
    jit_only = _jit_only(record, program)
    if not use_aot or jit_only is not None:
        if use_aot and jit_only is not None:
            node = _interpreter.current_node(ctx)
            note(
                node.name if node is not None else variant.plugin_id, jit_only[1], False
            )
        return variant.plugin_id, False, "JIT" + (jit_only[0] if jit_only else "")
    node = _interpreter.current_node(ctx)
    label = node.name if node is not None else variant.plugin_id
    if _qdp.handwritten_aot_impl(variant.plugin_id) is not None:
        reason = _handwritten.probe(
            record.display,
            variant.plugin_id,
            [(s.dtype, len(s.dims)) for s in signatures],
            list(attrs.values()),
        )
        if reason is None:
            _handwritten.install(record.display, variant.plugin_id)
            return variant.plugin_id, True, "AOT (hand-written)"
        note(label, reason, False)
        return variant.plugin_id, False, "JIT"
    from . import _aot

    aot_plugin_id = _aot.chooser(record)(ctx, variant, call, note)
    if isinstance(aot_plugin_id, ChainChoice):
        n = len(aot_plugin_id.plugin_ids)
        return aot_plugin_id, True, f"AOT (automatic: {n} launches, {n} layers)"
    if aot_plugin_id is not None:
        return aot_plugin_id, True, "AOT (automatic)"
    return variant.plugin_id, False, "JIT"


def _jit_only(record: PluginRecord, program: Any) -> Optional[Tuple[str, str]]:
    """(implementation label suffix, reason) for a call site that has no AOT plugin by design."""
    if program is not None and program.sizes:
        return (
            " (data-dependent sizes: size tensors)",
            f"{record.display}: the op's output sizes depend on data; its plugin is JIT only (it "
            "runs the op and writes the sizes into size tensors)",
        )
    if record.spec.mutated:
        return (
            " (in-place op: new values as outputs)",
            f"{record.display}: the op mutates {list(record.spec.mutated)} in place; its plugin is "
            "JIT only (it copies each mutated argument into its output and runs the op there)",
        )
    return None


def _ensure_program(
    record: PluginRecord,
    variant: Any,
    signatures: Sequence[TensorSignature],
    call: BoundCall,
    node: Optional[Node],
    settings: Any,
) -> None:
    """Trace for this layer's key now (with the node's hints) if the validator has not."""
    key = variant.call_key(signatures, call.attributes)
    if record.programs.get(key) is not None:
        return
    hints: Dict[Tuple[int, int], int] = {}
    if node is not None:
        try:
            node_args, node_kwargs = _functional.op_arguments(record.spec, node)
            node_call = bind(
                API,
                record.spec,
                node_args,
                node_kwargs,
                is_tensor=_is_fx_tensor,
                is_constant=_is_fx_constant,
            )
            hints = node_shapes(node_call, _truncate_double(settings)).hints
        except Exception:
            hints = {}
    record.programs.get_or_trace(API, record.spec, record.op, key, hints)


def _outputs(layer: Any, num_outputs: int, prefix: str) -> Any:
    outputs = [layer.get_output(i) for i in range(num_outputs)]
    for i, t in enumerate(outputs):
        t.name = output_tensor_name(prefix, i)
    return outputs[0] if num_outputs == 1 else tuple(outputs)


def _add_chain(
    ctx: Any,
    choice: ChainChoice,
    itensors: Sequence[Any],
    attrs: Dict[str, Any],
    spec: Any,
    name: str,
) -> Any:
    """One AOT plugin layer per launch (NOTE [Launch chains]); the op's outputs from their writers."""
    import tensorrt.plugin as trtp

    produced: Dict[Any, Any] = {}
    steps = choice.plan.steps
    for k, (plugin_id, step) in enumerate(zip(choice.plugin_ids, steps)):
        namespace, plugin_name = plugin_id.split("::")
        plugin = getattr(getattr(trtp.op, namespace), plugin_name)
        inputs = list(itensors) + [produced[ref] for ref in step.reads]
        layer = ctx.net.add_plugin(plugin(*inputs, **attrs), aot=True)
        if layer is None:
            raise RuntimeError(
                f"{plugin_id}: TensorRT returned no plugin layer for node {name}"
            )
        layer.name = f"{spec.display}/{name.lstrip('/')}/launch{k + 1}of{len(steps)}"
        outputs = _outputs(layer, len(step.writes), layer.name)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        for ref, tensor in zip(step.writes, outputs):
            produced[ref] = tensor
        _engine_cache.layer_converted()
    results = tuple(produced[Ref("output", j)] for j in range(spec.num_outputs))
    return results[0] if len(results) == 1 else results


def output_tensor_name(layer_name: str, index: int) -> str:
    """The name of a plugin layer's output tensor: the layer's name with ``-`` for ``_``.

    NOTE [Output names]: Torch-TensorRT 2.11 marks a network output as BOOL, whatever its real
    type, when a ``_``-separated word of the tensor's name is one of its comparison words
    (``and``, ``or``, ``not``, ``ne``, ``eq``, ``any``, ...), before it looks at the graph's output
    dtypes (``TRTInterpreter.output``). An op such as ``my_ops::mask_and_scale`` returned straight
    from the engine came back as bool. Names without ``_`` keep that rule off our tensors.
    """
    return f"{layer_name.replace('_', '-')}/out{index}"


# -- plugins registered by hand ---------------------------------------------------------------------
def make_foreign_validator(
    spec: OpSpec, plugin_def: Any, use_aot: bool, user_validator: Optional[Validator]
) -> Validator:
    """Capability check for a hand-written plugin: an AOT-only plugin whose PTX TensorRT cannot
    launch keeps the node in PyTorch (see NOTE [Hand-written PTX parameters])."""

    def validator(node: Node, settings: Any = None) -> bool:
        if user_validator is not None and not user_validator(node, settings):
            return False
        if not use_aot or plugin_def.impl_func is not None:
            return True  # a JIT implementation can always take over
        try:
            call = bind(
                API,
                spec,
                node.args,
                node.kwargs,
                is_tensor=_is_fx_tensor,
                is_constant=_is_fx_constant,
            )
            shapes = node_shapes(call, _truncate_double(settings))
        except (PluginGenerationError, TypeError) as e:
            _LOGGER.warning(
                "%s: node %s stays in PyTorch: %s", spec.display, node.name, e
            )
            return False
        values = {a.name: v for a, v in zip(spec.attribute_args, call.attributes)}
        attrs = [
            _foreign_attribute(spec, n, values[n], ann)
            for n, ann in dict(plugin_def.input_attrs).items()
        ]
        reason = _handwritten.probe(
            spec.display,
            plugin_def.plugin_id,
            [(s.dtype, len(s.dims)) for s in shapes.signatures],
            attrs,
        )
        if reason is not None:
            _LOGGER.warning(
                "%s: node %s stays in PyTorch: %s (the plugin has no JIT implementation)",
                spec.display,
                node.name,
                reason,
            )
            return False
        return True

    return validator


def make_foreign_converter(
    spec: OpSpec, plugin_def: Any, use_aot: bool
) -> Callable[..., Any]:
    """Converter for a hand-written QDP plugin registered under the op's name."""
    tensor_names = list(plugin_def.input_tensor_names)
    attr_annotations = dict(plugin_def.input_attrs)
    op_tensor_names = [a.name for a in spec.tensor_args]
    if sorted(tensor_names) != sorted(op_tensor_names) and len(tensor_names) != len(
        op_tensor_names
    ):
        raise user_error(
            API,
            spec.display,
            "the registered TensorRT plugin's inputs do not match the op's tensors",
            got=tensor_names,
            expected=f"the op's tensor arguments {op_tensor_names}",
        )
    missing = [
        n for n in attr_annotations if n not in {a.name for a in spec.attribute_args}
    ]
    if missing:
        raise user_error(
            API,
            spec.display,
            "the registered TensorRT plugin has attributes the op does not have",
            got=missing,
            expected=f"a subset of {[a.name for a in spec.attribute_args]}",
        )

    def converter(
        ctx: Any, target: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], name: str
    ) -> Any:
        import tensorrt.plugin as trtp
        from torch_tensorrt.dynamo.conversion.converter_utils import get_trt_tensor

        call = bind(
            API,
            spec,
            args,
            kwargs,
            is_tensor=_is_trt_tensor,
            is_constant=_is_trt_constant,
        )
        by_name = {a.name: t for a, t in zip(spec.tensor_args, call.tensors)}
        ordered = (
            [by_name[n] for n in tensor_names]
            if set(tensor_names) <= set(by_name)
            else list(call.tensors)
        )
        itensors = [
            get_trt_tensor(ctx, v, f"{spec.display}/{name.lstrip('/')}/in{i}")
            for i, v in enumerate(ordered)
        ]
        values = {a.name: v for a, v in zip(spec.attribute_args, call.attributes)}
        attrs = {
            n: _foreign_attribute(spec, n, values[n], ann)
            for n, ann in attr_annotations.items()
        }
        aot = use_aot
        if aot:
            reason = _handwritten.probe(
                spec.display,
                plugin_def.plugin_id,
                [(itensor_signature(t).dtype, len(t.shape)) for t in itensors],
                list(attrs.values()),
            )
            if reason is not None and plugin_def.impl_func is not None:
                _LOGGER.info(
                    "%s: node %s uses the plugin's JIT implementation: %s",
                    spec.display,
                    name,
                    reason,
                )
                aot = False
            else:
                _handwritten.install(spec.display, plugin_def.plugin_id)
        plugin = getattr(getattr(trtp.op, spec.namespace), spec.name)
        layer = ctx.net.add_plugin(plugin(*itensors, **attrs), aot=aot)
        layer.name = f"{spec.display}/{name.lstrip('/')}"
        return _outputs(layer, spec.num_outputs, layer.name)

    return converter


def _foreign_attribute(spec: OpSpec, name: str, value: Any, annotation: Any) -> Any:
    """An attribute value in the Python or numpy type a hand-written register function declares."""
    origin = getattr(annotation, "__origin__", None)
    if (
        annotation is np.ndarray
        or origin is np.ndarray
        or typing.get_origin(annotation) is np.ndarray
    ):
        args = typing.get_args(annotation) or getattr(annotation, "__args__", ())
        dtype_args = typing.get_args(args[1]) if len(args) >= 2 else ()
        dtype = dtype_args[0] if dtype_args else None
        array = np.asarray(_attributes.to_call_value(value), dtype=dtype)
        return array.reshape(-1)
    if annotation in (int, float, bool, str):
        return annotation(value)
    if annotation is bytes:
        return bytes(value) if not isinstance(value, str) else value.encode()
    raise user_error(
        API,
        spec.display,
        f"cannot pass attribute '{name}' to the plugin",
        got=str(annotation),
    )
