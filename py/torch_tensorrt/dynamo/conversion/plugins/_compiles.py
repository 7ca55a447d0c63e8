"""Which ``torch_tensorrt.compile`` a capability check or conversion belongs to, and what every
compile should know about the ops this package converts.

One lowering pass, added to Torch-TensorRT's post-lowering pass list the first time a plugin is
generated (never at import), sees each graph before it is partitioned. It

* numbers the compile (``plugin_status`` reports what happened per compile, so nodes of one model
  never mix with another's);
* warns about nodes of an op that was redefined after its plugin was generated: Torch-TensorRT has
  no converter for the new OpOverload object, so those nodes would run in PyTorch silently;
* turns engine-cache reuse off for the compile when reuse cannot be verified for plugin layers
  (see NOTE [Engine cache] in ``_engine_cache``).
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from typing import Any, Dict, Iterator, Optional, Tuple

import torch
from torch.fx.node import Node

_LOGGER = logging.getLogger(__name__)

_COUNTER: Iterator[int] = itertools.count(1)
_GRAPHS: "weakref.WeakKeyDictionary[torch.fx.Graph, int]" = weakref.WeakKeyDictionary()
_CURRENT = threading.local()
_LOCK = threading.Lock()
_INSTALLED = False


def begin(graph: Optional[torch.fx.Graph]) -> int:
    """Start a new compile for ``graph`` on this thread; returns its number."""
    with _LOCK:
        number = next(_COUNTER)
        if graph is not None:
            _GRAPHS[graph] = number
    _CURRENT.number = number
    return number


def compile_of(node: Optional[Node]) -> int:
    """The compile ``node`` belongs to: its graph's, else the compile in progress on this thread.

    (Conversions run on the partitioned submodules of the graph the lowering pass saw.)
    """
    if node is not None:
        number = _GRAPHS.get(node.graph)
        if number is not None:
            return number
    current: Optional[int] = getattr(_CURRENT, "number", None)
    if current is not None:
        return current
    return begin(node.graph if node is not None else None)


def _targets(
    gm: torch.fx.GraphModule,
) -> Iterator[Tuple[Node, torch._ops.OpOverload]]:
    """Each call of an op overload, direct or functionalized (in-place ops), with the op."""
    from ._functional import mutable_op

    for node in gm.graph.nodes:
        if node.op != "call_function":
            continue
        if isinstance(node.target, torch._ops.OpOverload):
            yield node, node.target
        else:
            op = mutable_op(node.target, node.args)
            if op is not None:
                yield node, op


def observe_graph(
    gm: torch.fx.GraphModule, settings: Any = None
) -> torch.fx.GraphModule:
    """The lowering pass (see the module docstring); returns ``gm`` unchanged."""
    from . import _engine_cache, _registry

    number = begin(gm.graph)
    digests: Dict[str, str] = {}
    stale: Dict[str, Any] = {}
    for node, target in _targets(gm):
        key = f"{target._schema.name}.{target._overloadname}"
        record = _registry.PLUGINS.get(key)
        if record is None:
            continue
        if record.op is not target:
            stale.setdefault(key, []).append(node.name)
            continue
        digests[node.name] = _node_digest(record, node, settings)
    for key, nodes in stale.items():
        record = _registry.PLUGINS[key]
        reason = (
            f"{record.display} was redefined after its plugin was generated (at {record.source}); Torch-TensorRT has no "
            f'converter for the new definition, so these nodes run in PyTorch. Call custom_op("{record.display}") '
            "(or generate_plugin and generate_plugin_converter) again to convert it"
        )
        report = record.report(number)
        for name in nodes:
            report.not_converted[name] = reason
        _LOGGER.warning(
            "%s: nodes %s stay in PyTorch: %s", record.display, nodes, reason
        )
    if settings is not None and digests:
        _engine_cache.check_graph(gm, settings, digests)
    else:
        _engine_cache.forget_graph()
    return gm


def _node_digest(record: Any, node: Node, settings: Any) -> str:
    """The engine-cache identity of one plugin node (its binding failing is an identity too)."""
    from . import _engine_cache
    from ._binding import bind
    from ._converter import _is_fx_constant, _is_fx_tensor, node_shapes
    from ._functional import op_arguments

    try:
        node_args, node_kwargs = op_arguments(record.spec, node)
        call = bind(
            "torch_tensorrt.compile",
            record.spec,
            node_args,
            node_kwargs,
            is_tensor=_is_fx_tensor,
            is_constant=_is_fx_constant,
        )
        shapes = node_shapes(call, bool(getattr(settings, "truncate_double", False)))
        return _engine_cache.node_digest(record, call.attributes, shapes.signatures)
    except (
        Exception
    ) as e:  # the validator reports it; the digest still changes with the node
        return f"unbound: {type(e).__name__}: {e}"


def install() -> None:
    """Add ``observe_graph`` to Torch-TensorRT's post-lowering passes (once per process)."""
    global _INSTALLED
    if _INSTALLED:
        return
    with _LOCK:
        if _INSTALLED:
            return
        try:
            from torch_tensorrt.dynamo.lowering.passes._aten_lowering_pass import (
                ATEN_POST_LOWERING_PASSES,
            )
        except ImportError:  # pragma: no cover - every supported Torch-TensorRT has it
            _LOGGER.debug(
                "Torch-TensorRT has no post-lowering pass list; compiles are not numbered"
            )
            _INSTALLED = True
            return
        ATEN_POST_LOWERING_PASSES.add_pass_with_index(observe_graph, None)
        _INSTALLED = True
