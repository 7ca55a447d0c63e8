"""win::window_mean: a 2-D grid, a loop bounded by an attribute, and an output size formula.

Triton 3.5+ cannot compile this kernel in a process that runs the Triton interpreter (its
constexpr helpers return plain values there), while it compiles without a GPU elsewhere; the
explain tests use it for both cases.
"""

# No "from __future__ import annotations": custom_op infers schemas from real annotations.

import torch
import triton
import triton.language as tl

BLOCK_C = 64


@triton.jit
def window_mean_kernel(X, Z, n_rows, n_cols, window, BLOCK_C: tl.constexpr):
    out_row = tl.program_id(0)
    cols = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    col_mask = cols < n_cols
    start = out_row * window
    acc = tl.zeros((BLOCK_C,), dtype=tl.float32)
    for r in range(0, window):
        row = start + r
        values = tl.load(
            X + row * n_cols + cols, mask=col_mask & (row < n_rows), other=0.0
        )
        acc += values.to(tl.float32)
    count = tl.minimum(window, n_rows - start)
    tl.store(
        Z + out_row * n_cols + cols, (acc / count).to(Z.dtype.element_ty), mask=col_mask
    )


@torch.library.custom_op("win::window_mean", mutates_args=())
def window_mean(x: torch.Tensor, window: int) -> torch.Tensor:
    rows, cols = x.shape
    out = x.new_empty(((rows + window - 1) // window, cols))
    grid = (out.shape[0], triton.cdiv(cols, BLOCK_C))
    window_mean_kernel[grid](x, out, rows, cols, window, BLOCK_C=BLOCK_C)
    return out


@window_mean.register_fake
def _(x: torch.Tensor, window: int) -> torch.Tensor:
    return x.new_empty(((x.shape[0] + window - 1) // window, x.shape[1]))
