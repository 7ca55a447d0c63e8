"""Triton kernels and op bodies for the correctness regression tests (issue 8).

They live in a module of their own because the capture follows the names an op's body uses to
reach its kernel: ``KERNEL`` below is rebound by a test to play a notebook cell that redefines
the kernel, and ``COUNTER`` is Python state read by an op body.
"""

# No "from __future__ import annotations": custom_op infers schemas from real annotations.

import itertools
from typing import Any

import torch
import triton
import triton.language as tl

BLOCK = 64


@triton.jit
def scale_kernel(X, Z, n, c, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * c, mask=mask)


@triton.jit
def times_two_kernel(X, Z, n, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * 2, mask=mask)


@triton.jit
def times_three_kernel(X, Z, n, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * 3, mask=mask)


@triton.jit
def add_seed_kernel(X, Z, n, seed, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) + seed, mask=mask)


def grid(n: int) -> Any:
    return (triton.cdiv(n, BLOCK),)


#: The kernel ``launch_current_kernel`` launches; tests rebind it (a redefined notebook cell).
KERNEL: Any = times_two_kernel


def launch_current_kernel(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    KERNEL[grid(x.numel())](x, z, x.numel(), BLOCK_SIZE=BLOCK)
    return z


#: Python state an op body reads: a fresh value for every call.
COUNTER = itertools.count(1)


def add_next_count(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    add_seed_kernel[grid(x.numel())](
        x, z, x.numel(), float(next(COUNTER)), BLOCK_SIZE=BLOCK
    )
    return z


def scale_by_dtype(x: torch.Tensor) -> torch.Tensor:
    """Picks its constant from the input dtype: 2 for float32, 3 otherwise."""
    z = torch.empty_like(x)
    c = 2.0 if x.dtype == torch.float32 else 3.0
    scale_kernel[grid(x.numel())](x, z, x.numel(), c, BLOCK_SIZE=BLOCK)
    return z


@triton.jit
def add_one_kernel(x_ptr, n_elements, y_ptr, BLOCK_SIZE: tl.constexpr):
    """Parameters already in TensorRT's AOT order: input, int32 extra, output (as upstream's tutorial)."""
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n_elements
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) + 1, mask=mask)


def add_one(x: torch.Tensor) -> torch.Tensor:
    y = torch.empty_like(x)
    add_one_kernel[grid(x.numel())](x, x.numel(), y, BLOCK_SIZE=BLOCK)
    return y


def add_one_ptx(dtype: str = "fp32", arch: int = 90) -> Any:
    """``triton.compile`` of add_one_kernel for ``arch``, as a hand-written aot_impl would do it.

    Triton >= 3.3 appends its global and profile scratch pointers to the entry's parameters.
    """
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.runtime.jit import JITFunction

    jit = (
        add_one_kernel
        if isinstance(add_one_kernel, JITFunction)
        else JITFunction(add_one_kernel.fn)
    )
    src = ASTSource(
        fn=jit,
        signature={
            "x_ptr": f"*{dtype}",
            "n_elements": "i32",
            "y_ptr": f"*{dtype}",
            "BLOCK_SIZE": "constexpr",
        },
        constexprs={"BLOCK_SIZE": BLOCK},
    )
    return triton.compile(src, target=GPUTarget("cuda", arch, 32))


def pointer_launch(x_ptr: int, y_ptr: int, n: int, record: list) -> None:
    """Stands for a launcher that takes raw device addresses (cuda.core, cuda-python, ctypes)."""
    record.append(x_ptr)
