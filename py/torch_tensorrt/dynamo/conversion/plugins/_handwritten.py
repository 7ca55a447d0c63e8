"""Hand-written ``@trtp.aot_impl`` functions: their PTX must take exactly TensorRT's AOT arguments.

NOTE: [Hand-written PTX parameters]
TensorRT launches an AOT plugin's kernel with exactly its inputs, the int32 extras the aot_impl
returns and its outputs, and never checks that against the kernel. PTX from ``triton.compile``
(Triton >= 3.3) declares two more trailing parameters, ``global_scratch`` and ``profile_scratch``:
on real TensorRT such a launch reads past the parameter array (undefined behaviour that usually
works because the kernel never loads them). Upstream's own AOT tutorial does this.

For every hand-written aot_impl a converter uses, this module

* wraps the function QDP calls (``install``): the PTX it returns is checked, and declared
  parameters beyond inputs + extras + outputs are removed when the kernel never references them
  (logged at INFO); a kernel that does read them fails the build with a message that says why;
* probes it before the layer is added (``probe``), with the dtype-and-rank descriptors QDP itself
  uses for dtype queries, so that a kernel that reads its scratch parameters keeps the call site
  on the JIT implementation (or in PyTorch, for a plugin without one) instead of failing the build.
  A probe that cannot run (the function needs real sizes, or a GPU) decides nothing.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Optional, Sequence, Tuple

import torch

from . import _dtypes
from ._modes import callback_context
from ._triton_aot import AOTUnavailable, strip_unused_trailing_parameters

_LOGGER = logging.getLogger(__name__)

_WRAPPED = "torch_tensorrt_ptx_checked"


def _fixed(op: str, plugin_id: str, result: Any, n_inputs: int, n_outputs: int) -> Any:
    if not isinstance(result, tuple) or len(result) != 4:
        return result  # QDP reports a malformed result itself
    name, ptx, launch, extras = result
    if not isinstance(name, (str, bytes)) or not isinstance(ptx, (str, bytes)):
        return result
    text_name = name.decode() if isinstance(name, bytes) else name
    try:
        text = ptx.decode() if isinstance(ptx, bytes) else ptx
    except UnicodeDecodeError:  # a CUBIN: nothing to rewrite
        return result
    expected = n_inputs + len(extras) + n_outputs
    fixed, removed = strip_unused_trailing_parameters(text, text_name, expected)
    if removed:
        _LOGGER.info(
            "%s: removed the unused trailing PTX parameters %s of %s's kernel %s (TensorRT passes %d: "
            "inputs, int32 extras, outputs)",
            op,
            removed,
            plugin_id,
            text_name,
            expected,
        )
        return name, fixed.encode() if isinstance(ptx, bytes) else fixed, launch, extras
    return result


def install(op: str, plugin_id: str) -> None:
    """Wrap ``plugin_id``'s hand-written aot_impl so that its PTX fits TensorRT's launch (idempotent)."""
    from tensorrt.plugin._lib import QDP_REGISTRY

    plugin_def = QDP_REGISTRY.get(plugin_id)
    fn = getattr(plugin_def, "aot_impl_func", None)
    if (
        fn is None
        or getattr(fn, _WRAPPED, False)
        or getattr(fn, "generated_by_torch_tensorrt", False)
    ):
        return

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        outputs = args[-2] if len(args) >= 2 else kwargs.get("outputs", ())
        n_inputs = len(plugin_def.input_tensor_names)
        with callback_context():
            return _fixed(op, plugin_id, fn(*args, **kwargs), n_inputs, len(outputs))

    setattr(checked, _WRAPPED, True)
    plugin_def.aot_impl_func = checked


def original(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The user's function behind ``install``'s wrapper."""
    return getattr(fn, "__wrapped__", fn) if getattr(fn, _WRAPPED, False) else fn


def probe(
    op: str,
    plugin_id: str,
    inputs: Sequence[Tuple[torch.dtype, int]],
    attributes: Sequence[Any],
) -> Optional[str]:
    """Why ``plugin_id``'s hand-written aot_impl cannot serve this call site (None when it can or
    when that cannot be told before the build). ``inputs``: (dtype, rank) per plugin input;
    ``attributes``: the values QDP will pass, in registration order."""
    import tensorrt.plugin as trtp
    from tensorrt.plugin._lib import QDP_REGISTRY
    from tensorrt.plugin._tensor import ShapeExprs

    plugin_def = QDP_REGISTRY.get(plugin_id)
    fn = getattr(plugin_def, "aot_impl_func", None)
    if fn is None:
        return None
    try:
        with callback_context():
            descs = []
            for dtype, rank in inputs:
                desc = trtp.TensorDesc()
                desc.dtype = _dtypes.to_trt(dtype)
                desc.shape_expr = ShapeExprs(rank, _is_dummy=True)
                desc._immutable = True
                descs.append(desc)
            names = list(plugin_def.input_attrs)
            out = plugin_def.register_func(*descs, **dict(zip(names, attributes)))
            outputs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
            result = original(fn)(*descs, *attributes, outputs, 0)
            _fixed(op, plugin_id, result, len(descs), len(outputs))
    except AOTUnavailable as e:
        return f"{op}: the hand-written aot_impl of {plugin_id} cannot be launched by TensorRT: {e}"
    except Exception as e:  # needs real sizes or a GPU: the build decides
        _LOGGER.debug(
            "%s: could not probe the aot_impl of %s before the build (%s: %s)",
            op,
            plugin_id,
            type(e).__name__,
            e,
        )
    return None
