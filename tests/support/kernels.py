"""Triton kernels the tests use (kept in a file: Triton needs source to compile ahead of time)."""

import triton
import triton.language as tl


@triton.jit
def double_kernel(x_ptr, n_elements, y_ptr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) * 2.0, mask=mask)
