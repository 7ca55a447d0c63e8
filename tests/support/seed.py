"""The seed example: a Triton elementwise kernel wrapped as a custom op, compiled with its plugin.

As the seed document writes it: an unmasked kernel (correct only when the element count is a
multiple of BLOCK_SIZE), ``b`` passed by keyword, ``custom_op`` then ``torch_tensorrt.compile`` with
``min_block_size=1`` on 64x64 inputs, 300 runs compared with eager. ``define(device)`` registers
``torchtrt_ex::elementwise_scale_mul``; on a CPU-only torch the only changes are the device of the
inputs and the device assertion in the op (the op asserts ``is_cuda`` on a GPU).
"""

# No "from __future__ import annotations": custom_op infers its schema from real annotations.

from typing import Any, Optional

import torch
import triton
import triton.language as tl


@triton.jit
def elementwise_scale_mul_kernel(X, Y, Z, a, b, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    x_vals = tl.load(X + offsets)
    y_vals = tl.load(Y + offsets)
    z_vals = x_vals * y_vals * a + b
    tl.store(Z + offsets, z_vals)


_DEFINED: Optional[str] = None


def define(device: str) -> Any:
    """Register the seed op for ``device`` ("cuda" or "cpu"); returns torch.ops.torchtrt_ex."""
    global _DEFINED
    if _DEFINED is not None:
        assert _DEFINED == device, "the seed op is defined once per process"
        return torch.ops.torchtrt_ex

    @torch.library.custom_op("torchtrt_ex::elementwise_scale_mul", mutates_args=())
    def elementwise_scale_mul(
        X: torch.Tensor, Y: torch.Tensor, b: float = 0.2, a: int = 2
    ) -> torch.Tensor:
        if device == "cuda":
            assert X.is_cuda and Y.is_cuda, "Tensors must be on CUDA device."
        else:
            assert (
                X.device.type == "cpu" and Y.device.type == "cpu"
            ), "Tensors must be on the CPU here."
        assert X.shape == Y.shape, "Tensors must have the same shape."
        Z = torch.empty_like(X)
        BLOCK_SIZE = 1024
        grid = lambda meta: (
            X.numel() // meta["BLOCK_SIZE"],
        )  # noqa: E731 - as the seed writes it
        elementwise_scale_mul_kernel[grid](X, Y, Z, a, b, BLOCK_SIZE=BLOCK_SIZE)
        return Z

    @torch.library.register_fake("torchtrt_ex::elementwise_scale_mul")
    def _(x: torch.Tensor, y: torch.Tensor, b: float = 0.2, a: int = 2) -> torch.Tensor:
        return x

    _DEFINED = device
    return torch.ops.torchtrt_ex


class MyModel(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z = torch.add(x, y)
        res = torch.ops.torchtrt_ex.elementwise_scale_mul.default(x, z, b=0.5)
        return res
