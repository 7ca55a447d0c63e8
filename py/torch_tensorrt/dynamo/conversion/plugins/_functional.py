"""In-place ops in the exported graph: ``auto_functionalized`` and ``auto_functionalized_v2`` nodes.

An op declared with ``mutates_args`` reaches Torch-TensorRT in functionalized form: a node
``auto_functionalized_v2(op, _all_bases=[t], _x_base_index=0, a=2.0)`` (``auto_functionalized(op,
x=t, a=2.0)`` in older exports) whose result is ``(what the op returns, or None, *new values)``,
read by ``getitem`` nodes. The op's plugin takes the mutated argument as an input and gives its new
value as an extra output (``OpSpec.mutated``), so this module turns such a node into the op's
arguments and the plugin's outputs back into the node's result. A mutated argument that is a view
of another tensor (a slice, ``as_strided``) or shares its tensor with another mutated argument is
not supported: the node stays in PyTorch with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from ._schema import OpSpec

_VIEW_KEYS = (
    "size",
    "stride",
    "storage_offset",
    "slice_dim",
    "slice_start",
    "slice_end",
)


def hops() -> Tuple[Any, ...]:
    """The functionalization higher-order ops of the installed torch."""
    found = []
    for name in ("auto_functionalized", "auto_functionalized_v2"):
        hop = getattr(torch.ops.higher_order, name, None)
        if hop is not None:
            found.append(hop)
    return tuple(found)


def is_hop(target: Any) -> bool:
    return any(target is h for h in hops())


class NotFunctionalizable(Exception):
    """The node's form cannot be a plugin call (the message says why)."""


@dataclass(frozen=True)
class FunctionalCall:
    """A functionalized node as a call of its op, and where the node's results come from."""

    op: torch._ops.OpOverload
    kwargs: Dict[
        str, Any
    ]  # the op's arguments by name; a mutated one: the tensor it writes
    #: For each new value the node returns after the op's own results: the mutated argument.
    new_values: Tuple[str, ...]


def mutable_op(target: Any, args: Sequence[Any]) -> Optional[torch._ops.OpOverload]:
    """The op a functionalization node calls (None for any other node)."""
    if not is_hop(target) or not args:
        return None
    op = args[0]
    return op if isinstance(op, torch._ops.OpOverload) else None


def unwrap(
    spec: OpSpec, target: Any, args: Sequence[Any], kwargs: Dict[str, Any]
) -> FunctionalCall:
    """``target(*args, **kwargs)``, a functionalization node of ``spec``'s op, as a call of the op."""
    op = mutable_op(target, args)
    if op is None:
        raise NotFunctionalizable(
            f"{spec.display}: not a functionalized call of the op"
        )
    names = [a.name for a in spec.args]
    call = {k: v for k, v in kwargs.items() if k in names}
    if target is getattr(torch.ops.higher_order, "auto_functionalized", None):
        # v1: the mutated arguments are passed by name; new values follow in schema order.
        return FunctionalCall(op, call, spec.mutated)
    bases = list(kwargs.get("_all_bases", ()))
    owner: Dict[int, str] = {}
    for name in spec.mutated:
        index = kwargs.get(f"_{name}_base_index")
        if index is None:
            raise NotFunctionalizable(
                f"{spec.display}: mutated argument '{name}' has no tensor in the graph"
            )
        view = [k for k in _VIEW_KEYS if f"_{name}_{k}" in kwargs]
        if view:
            raise NotFunctionalizable(
                f"{spec.display}: the op mutates '{name}', which is a view of another tensor "
                f"({', '.join(view)}); the plugin writes whole tensors. Pass the op a tensor of its "
                "own (e.g. .contiguous() or .clone() before the call)"
            )
        if index in owner:
            raise NotFunctionalizable(
                f"{spec.display}: mutated arguments '{owner[index]}' and '{name}' are the same tensor"
            )
        owner[index] = name
        call[name] = bases[int(index)]
    if sorted(owner) != list(range(len(bases))):
        raise NotFunctionalizable(
            f"{spec.display}: the node updates {len(bases)} tensors for {len(owner)} mutated arguments"
        )
    return FunctionalCall(op, call, tuple(owner[i] for i in range(len(bases))))


def node_result(
    spec: OpSpec, outputs: Sequence[Any], call: FunctionalCall
) -> Tuple[Any, ...]:
    """The node's result from the plugin's outputs (returns, then mutated arguments' new values)."""
    returned = tuple(outputs[: spec.num_returns])
    new = {name: outputs[spec.num_returns + i] for i, name in enumerate(spec.mutated)}
    # An op returning nothing has None first; no graph node reads it, and Torch-TensorRT warns on
    # a None in a converter's result, so a new value stands there instead.
    leading = returned if spec.num_returns else (new[spec.mutated[0]],)
    return leading + tuple(new[name] for name in call.new_values)


def state_written(spec: OpSpec, node: Any) -> Optional[str]:
    """A warning when functionalization ``node`` mutates model state (None when it does not).

    A mutated tensor that is a model input (``placeholder``) or a buffer or parameter
    (``get_attr``): Torch-TensorRT does not write such mutations back, whether the op runs in an
    engine or in PyTorch between engines (the buffer is frozen at compile time, the caller's input
    is left unchanged), so the compiled module differs from eager from the second call on.
    """
    call = unwrap(spec, node.target, node.args, dict(node.kwargs))
    for name in spec.mutated:
        value: Any = call.kwargs.get(name)
        kind = getattr(value, "op", None)
        if kind in ("placeholder", "get_attr"):
            what = (
                "a model input"
                if kind == "placeholder"
                else "a model buffer or parameter"
            )
            return (
                f"{spec.display}: node {node.name} mutates '{name}', which is {what} "
                f"({value.name}). Torch-TensorRT does not write such mutations back, with or "
                "without this plugin (a buffer is frozen at compile time; the caller's input is "
                "not modified), so results differ from eager from the second call on. Keep such "
                "state outside the compiled module, or mutate a tensor the model computes"
            )
    return None


def op_arguments(spec: OpSpec, node: Any) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
    """(args, kwargs) of the op for an FX node: its own for a direct call, unwrapped for a
    functionalization node (NotFunctionalizable when it cannot be)."""
    if is_hop(node.target):
        call = unwrap(spec, node.target, node.args, dict(node.kwargs))
        return (), call.kwargs
    return tuple(node.args), dict(node.kwargs)
