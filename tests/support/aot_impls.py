"""Hand-written QDP plugins and ``@trtp.aot_impl`` functions, as upstream's AOT tutorials write them."""

# No "from __future__ import annotations": QDP inspects real annotation objects.

from typing import Any, Callable

import torch
from support import kernels8


def attach_aot_impl(
    plugin_id: str, ptx_of: Callable[[], Any], extra_args: int = 1
) -> Callable[..., Any]:
    """A hand-written ``@trtp.aot_impl`` as upstream's tutorials write it (x, outputs, tactic)."""
    from typing import Tuple as T
    from typing import Union

    import tensorrt.plugin as trtp

    def aot_impl(
        x: trtp.TensorDesc, outputs: T[trtp.TensorDesc], tactic: int
    ) -> T[
        Union[str, bytes], Union[str, bytes], trtp.KernelLaunchParams, trtp.SymExprs
    ]:
        compiled = ptx_of()
        n = x.shape_expr.numel()
        launch = trtp.KernelLaunchParams()
        launch.grid_x = trtp.cdiv(n, kernels8.BLOCK)
        launch.block_x = compiled.metadata.num_warps * 32
        launch.shared_mem = compiled.metadata.shared
        extras = trtp.SymIntExprs(extra_args)
        for i in range(extra_args):
            extras[i] = trtp.SymInt32(n)
        return compiled.metadata.name, compiled.asm["ptx"], launch, extras

    return trtp.aot_impl(plugin_id)(aot_impl)


def handwritten_add_one(
    namespace: str, *, jit: bool, ptx_of: Callable[[], Any]
) -> None:
    from typing import Tuple as T

    import tensorrt.plugin as trtp

    def desc(x: trtp.TensorDesc) -> T[trtp.TensorDesc]:
        return x.like()

    trtp.register(f"{namespace}::add_one")(desc)
    if jit:

        def impl(x: trtp.Tensor, outputs: T[trtp.Tensor], stream: int) -> None:
            from torch_tensorrt.dynamo.conversion.plugins._buffers import (
                tensor_from_buffer,
            )

            device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            view = lambda t: tensor_from_buffer(
                t.data_ptr, t.shape, t.strides, torch.float32, device
            )  # noqa: E731
            view(outputs[0]).copy_(view(x) + 1)

        trtp.impl(f"{namespace}::add_one")(impl)
    attach_aot_impl(f"{namespace}::add_one", ptx_of)
