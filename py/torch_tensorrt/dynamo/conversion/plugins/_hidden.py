"""Scratch tensors as hidden plugin outputs, for the JIT and the AOT plugin (NOTE [Scratch tensors]).

A kernel that writes a tensor the op's body allocates and does not return (the per-row RSTD of an
RMSNorm, a workspace) gets that tensor from TensorRT as an extra output of the plugin, after the
op's own: its dtype and size formula come from the capture, symbolic in the input sizes like the
op's outputs, and the converter exposes only the op's outputs. The AOT plugin passes the hidden
outputs to its kernel as the PTX parameters they are; the JIT plugin ``ns::op-hidden-N`` launches
the kernel directly with them, so neither allocates anything per call.
"""

from __future__ import annotations

import logging
from typing import Any, List, Optional, Sequence, Tuple

import torch

from . import _dtypes, _qdp
from ._capture import CapturedLaunch, CaptureUnavailable
from ._identity import AttributeKey, CallKey, TensorSignature
from ._variant import PluginVariant

_LOGGER = logging.getLogger(__name__)


class HiddenMismatch(RuntimeError):
    """The op's body passes another number of scratch tensors than the plugin was made for."""


def mismatch(plugin: PluginVariant, captured: CapturedLaunch) -> str:
    return (
        f"{plugin.plugin_id}: the plugin was made for a kernel writing {plugin.hidden_outputs} scratch "
        f"tensors, but the op's body passes {len(captured.scratch)} for these inputs"
    )


def outputs_fn(record: Any, plugin: PluginVariant) -> _qdp.HiddenOutputs:
    """QDP shape callback part for ``plugin``'s hidden outputs: per scratch tensor its dtype and
    shape expressions over the layer's input shape expressions (None in a dtype-only query).
    """

    def hidden_outputs(
        descs: Sequence[Any],
        attributes: Tuple[Any, ...],
        attribute_keys: Tuple[AttributeKey, ...],
        fake: bool,
    ) -> List[Tuple[torch.dtype, Optional[List[Any]], int]]:
        from ._shape_program import lower

        if fake:  # a dtype query: any capture of these dtypes and attributes tells them
            like = plugin.call_key(
                [
                    TensorSignature(
                        _dtypes.to_torch(d.dtype), (None,) * len(d.shape_expr)
                    )
                    for d in descs
                ],
                attributes,
                attribute_keys=attribute_keys,
            )
            captured = record.captures.any_with(like)
            if captured is None:
                captured = _capture_for(record, like)
        else:
            key = plugin.call_key(
                [_qdp.signature_of(d) for d in descs],
                attributes,
                attribute_keys=attribute_keys,
            )
            captured = _capture_for(record, key)
        if len(captured.scratch) != plugin.hidden_outputs:
            raise HiddenMismatch(mismatch(plugin, captured))
        leaf = _qdp.input_dims(plugin, descs, captured.symbols)
        algebra = _qdp.qdp_algebra()
        return [
            (
                t.dtype,
                None if fake else [lower(d, leaf, algebra) for d in t.dims],
                len(t.dims),
            )
            for t in captured.scratch
        ]

    return hidden_outputs


def _capture_for(record: Any, key: CallKey) -> CapturedLaunch:
    program = record.programs.get_or_trace(
        "generate_plugin", record.spec, record.op, key
    )
    captured: CapturedLaunch = record.captures.get(key, program)
    return captured


def jit_plugin_id(
    record: Any,
    variant: PluginVariant,
    key: CallKey,
    hints: Any = None,
) -> str:
    """The JIT plugin for a call site: ``variant``'s own, or, when the op's kernel writes scratch
    tensors for this call's identity, its ``-hidden-N`` twin that gets them from TensorRT.
    """
    try:
        program = record.programs.get_or_trace(
            "generate_plugin", record.spec, record.op, key, hints or {}
        )
        captured = record.captures.get(key, program, hints or {})
    except CaptureUnavailable:  # the runtime says why, once, when it first enqueues
        return variant.plugin_id
    except Exception as e:  # the plain JIT plugin still works: it runs the op
        _LOGGER.warning(
            "%s: capturing the op's launch failed (%s: %s); the JIT plugin runs the op",
            record.display,
            type(e).__name__,
            e,
        )
        return variant.plugin_id
    if not captured.scratch:
        return variant.plugin_id
    hidden: PluginVariant = record.hidden_variant(variant.absent, len(captured.scratch))
    return hidden.plugin_id
