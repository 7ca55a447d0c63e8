"""Ops for the saved-program tests: defined here, with no plugin generated at import.

Importing this module defines ``saved::scale`` (plain launch), ``saved::affine`` (an optional
tensor: its plugin ``affine-without-bias`` when bias is None) and ``saved::row_center`` (a kernel
writing a scratch tensor: plugin ``row_center-hidden-1``). ``Model`` uses all three, so a compiled
program needs three JIT plugin variants. ``reference`` is the model in plain torch.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

from typing import Optional

import torch
import triton
import triton.language as tl
from support import kernels

COLS = 24


@triton.jit
def _scale_kernel(X, Z, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * a, mask=mask)


@triton.jit
def _affine_kernel(X, B, Z, n, cols, a, HAS_BIAS: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    y = tl.load(X + offs, mask=mask) * a
    if HAS_BIAS:
        y += tl.load(B + offs % cols, mask=mask)
    tl.store(Z + offs, y, mask=mask)


@torch.library.custom_op("saved::scale", mutates_args=())
def scale(x: torch.Tensor, a: float) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _scale_kernel[(triton.cdiv(n, 64),)](x, z, n, a, BLOCK=64)
    return z


@scale.register_fake
def _(x, a):
    return torch.empty_like(x)


@torch.library.custom_op("saved::affine", mutates_args=())
def affine(x: torch.Tensor, bias: Optional[torch.Tensor], a: float) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _affine_kernel[(triton.cdiv(n, 64),)](
        x,
        bias if bias is not None else x,
        z,
        n,
        x.shape[-1],
        a,
        HAS_BIAS=bias is not None,
        BLOCK=64,
    )
    return z


@affine.register_fake
def _(x, bias, a):
    return torch.empty_like(x)


row_center = torch.library.custom_op(
    "saved::row_center", kernels.row_center, mutates_args=()
)


@row_center.register_fake
def _(x):
    return torch.empty_like(x)


OP_NAMES = ("saved::scale", "saved::affine", "saved::row_center")
PLUGIN_IDS = (
    "saved::affine-without-bias",
    "saved::row_center-hidden-1",
    "saved::scale",
)


class Model(torch.nn.Module):
    def forward(self, x):
        y = torch.ops.saved.affine(x, None, 0.5)
        return torch.ops.saved.row_center(torch.ops.saved.scale(y, 3.0)) + 1


def reference(x: torch.Tensor) -> torch.Tensor:
    y = x * 0.5 * 3.0
    return y - y[:, :1] + 1
