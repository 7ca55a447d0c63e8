"""Triton kernels the tests use (kept in a file: Triton needs source to compile ahead of time)."""

import torch
import triton
import triton.language as tl


@triton.jit
def double_kernel(x_ptr, n_elements, y_ptr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) * 2.0, mask=mask)


@triton.jit
def silu_kernel(x_ptr, y_ptr, n_elements, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask).to(tl.float32)
    y = x * tl.sigmoid(x)
    tl.store(y_ptr + offsets, y.to(y_ptr.dtype.element_ty), mask=mask)


def silu(x: torch.Tensor) -> torch.Tensor:
    """``x * sigmoid(x)`` in one Triton launch (float32 math, stored in ``x``'s type)."""
    y = torch.empty_like(x)
    n = x.numel()
    silu_kernel[(triton.cdiv(n, 64),)](x, y, n, BLOCK=64)
    return y


@triton.jit
def row_center_kernel(X, M, Y, cols, BLOCK: tl.constexpr):
    """Y = X minus each row's first element; M (a scratch tensor the op does not return) gets
    those first elements, as liger-kernel's norms store RSTD for a backward pass."""
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    mask = offs < cols
    x = tl.load(X + row * cols + offs, mask=mask)
    first = tl.load(X + row * cols)
    tl.store(M + row, first)
    tl.store(Y + row * cols + offs, x - first, mask=mask)


def row_center(x: torch.Tensor) -> torch.Tensor:
    """An op body: ``x`` minus each row's first element through ``row_center_kernel``, with the
    per-row firsts in a scratch tensor it does not return and ``BLOCK`` computed from the columns.
    """
    rows, cols = x.shape
    y = torch.empty_like(x)
    firsts = torch.empty(rows, dtype=torch.float32, device=x.device)  # scratch
    row_center_kernel[(rows,)](x, firsts, y, cols, BLOCK=triton.next_power_of_2(cols))
    return y


def row_center_reference(x: torch.Tensor) -> torch.Tensor:
    return x - x[:, :1]
