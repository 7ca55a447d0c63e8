"""An op whose body launches a ``triton.autotune`` kernel (four configs), for the autotune tests.

Importing this module defines ``autotuned::scale`` (``x * alpha``). ``CONFIGS[i]`` is the
(BLOCK, num_warps) of config i, which the AOT plugin offers as TensorRT tactic i + 1.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import torch
import triton
import triton.language as tl

CONFIGS = [(64, 1), (128, 2), (256, 4), (1024, 4)]
QUALNAME = "autotuned::scale"


@triton.autotune(
    configs=[triton.Config({"BLOCK": b}, num_warps=w) for b, w in CONFIGS],
    key=["n"],
)
@triton.jit
def scale_kernel(X, Z, alpha, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * alpha, mask=mask)


@torch.library.custom_op(QUALNAME, mutates_args=())
def scale(x: torch.Tensor, alpha: float = 1.5) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    scale_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, z, alpha, n)
    return z


@torch.library.register_fake(QUALNAME)
def _(x, alpha=1.5):
    return torch.empty_like(x)
