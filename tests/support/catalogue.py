"""A catalogue of realistic custom ops, each with a fake kernel and an eager reference.

Every op is a ``torch.library.custom_op`` in namespace ``cat`` (defined once per process, on import).
``CASES`` describes how to call each one: input makers for static and dynamic shapes (sizes that are
not multiples of any block size), the keyword arguments, and which ops have a Triton body (a single
launch: the JIT fast path and AOT apply) and which a torch body.
"""

# No "from __future__ import annotations": custom_op infers its schema from real annotations.

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import triton
import triton.language as tl

BLOCK = 128


# -- Triton kernels (masked: correct for any size) ------------------------------------------------
@triton.jit
def scale_mul_kernel(X, Y, Z, a, b, n, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    x = tl.load(X + offs, mask=mask)
    y = tl.load(Y + offs, mask=mask)
    tl.store(Z + offs, x * y * a + b, mask=mask)


@triton.jit
def row_broadcast_add_kernel(X, B, Z, n, cols, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    x = tl.load(X + offs, mask=mask)
    b = tl.load(B + offs % cols, mask=mask)
    tl.store(Z + offs, x + b, mask=mask)


@triton.jit
def to_half_kernel(X, Z, n, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask).to(tl.float16), mask=mask)


@triton.jit
def clamp_kernel(X, Z, lo, hi, n, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    x = tl.load(X + offs, mask=mask)
    tl.store(Z + offs, tl.minimum(tl.maximum(x, lo), hi), mask=mask)


@triton.jit
def axpby_kernel(X, Y, Z, alpha, beta, n, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offs < n
    x = tl.load(X + offs, mask=mask).to(tl.float32)
    y = tl.load(Y + offs, mask=mask).to(tl.float32)
    tl.store(Z + offs, (alpha * x + beta * y).to(Z.dtype.element_ty), mask=mask)


def _grid(n: int) -> Tuple[int]:
    return (triton.cdiv(n, BLOCK),)


# -- ops -------------------------------------------------------------------------------------------
@torch.library.custom_op("cat::scale_mul", mutates_args=())
def scale_mul(
    x: torch.Tensor, y: torch.Tensor, b: float = 0.2, a: int = 2
) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    scale_mul_kernel[_grid(n)](x, y, z, a, b, n, BLOCK_SIZE=BLOCK)
    return z


@torch.library.register_fake("cat::scale_mul")
def _(x, y, b=0.2, a=2):
    return torch.empty_like(x)


@torch.library.custom_op("cat::bcast_add", mutates_args=())
def bcast_add(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    row_broadcast_add_kernel[_grid(n)](x, bias, z, n, x.shape[-1], BLOCK_SIZE=BLOCK)
    return z


@torch.library.register_fake("cat::bcast_add")
def _(x, bias):
    return torch.empty(
        torch.broadcast_shapes(x.shape, bias.shape), dtype=x.dtype, device=x.device
    )


@torch.library.custom_op("cat::reduce_sum", mutates_args=())
def reduce_sum(x: torch.Tensor, dim: int, keepdim: bool = False) -> torch.Tensor:
    return x.sum(dim=dim, keepdim=keepdim)


@torch.library.register_fake("cat::reduce_sum")
def _(x, dim, keepdim=False):
    return x.sum(dim=dim, keepdim=keepdim)


@torch.library.custom_op("cat::concat2", mutates_args=())
def concat2(x: torch.Tensor, y: torch.Tensor, dim: int = 0) -> torch.Tensor:
    return torch.cat([x, y], dim=dim)


@torch.library.register_fake("cat::concat2")
def _(x, y, dim=0):
    return torch.cat([x, y], dim=dim)


@torch.library.custom_op("cat::flatten_from", mutates_args=())
def flatten_from(x: torch.Tensor, start_dim: int = 1) -> torch.Tensor:
    return x.flatten(start_dim).clone()


@torch.library.register_fake("cat::flatten_from")
def _(x, start_dim=1):
    return x.flatten(start_dim).clone()


@torch.library.custom_op("cat::argmax_last", mutates_args=())
def argmax_last(x: torch.Tensor) -> torch.Tensor:
    return x.argmax(dim=-1)


@torch.library.register_fake("cat::argmax_last")
def _(x):
    return torch.empty(x.shape[:-1], dtype=torch.int64, device=x.device)


@torch.library.custom_op("cat::to_half", mutates_args=())
def to_half(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty(x.shape, dtype=torch.float16, device=x.device)
    n = x.numel()
    to_half_kernel[_grid(n)](x, z, n, BLOCK_SIZE=BLOCK)
    return z


@torch.library.register_fake("cat::to_half")
def _(x):
    return torch.empty(x.shape, dtype=torch.float16, device=x.device)


@torch.library.custom_op("cat::min_max", mutates_args=())
def min_max(x: torch.Tensor, dim: int = -1) -> Tuple[torch.Tensor, torch.Tensor]:
    lo, hi = torch.aminmax(x, dim=dim)
    return lo, hi


@torch.library.register_fake("cat::min_max")
def _(x, dim=-1):
    shape = list(x.shape)
    del shape[dim]
    return x.new_empty(shape), x.new_empty(shape)


@torch.library.custom_op("cat::add_bias", mutates_args=())
def add_bias(
    x: torch.Tensor, bias: Optional[torch.Tensor], scale: float = 1.0
) -> torch.Tensor:
    out = x * scale
    return out + bias if bias is not None else out


@torch.library.register_fake("cat::add_bias")
def _(x, bias, scale=1.0):
    return torch.empty_like(x)


@torch.library.custom_op("cat::pad_last", mutates_args=())
def pad_last(x: torch.Tensor, pads: List[int], value: float = 0.0) -> torch.Tensor:
    return torch.nn.functional.pad(x, pads, value=value)


@torch.library.register_fake("cat::pad_last")
def _(x, pads, value=0.0):
    return torch.nn.functional.pad(x, pads, value=value)


@torch.library.custom_op("cat::clamp_kw", mutates_args=())
def clamp_kw(x: torch.Tensor, *, lo: float, hi: float = 1.0) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    clamp_kernel[_grid(n)](x, z, lo, hi, n, BLOCK_SIZE=BLOCK)
    return z


@torch.library.register_fake("cat::clamp_kw")
def _(x, *, lo, hi=1.0):
    return torch.empty_like(x)


@torch.library.custom_op("cat::cast_to", mutates_args=())
def cast_to(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return x.to(dtype)


@torch.library.register_fake("cat::cast_to")
def _(x, dtype):
    return torch.empty(x.shape, dtype=dtype, device=x.device)


@torch.library.custom_op("cat::axpby", mutates_args=())
def axpby(alpha: float, x: torch.Tensor, beta: int, y: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    axpby_kernel[_grid(n)](x, y, z, alpha, beta, n, BLOCK_SIZE=BLOCK)
    return z


@torch.library.register_fake("cat::axpby")
def _(alpha, x, beta, y):
    return torch.empty_like(x)


@torch.library.custom_op("cat::weighted_sum", mutates_args=())
def weighted_sum(
    x: torch.Tensor, weights: List[float], flags: List[bool]
) -> torch.Tensor:
    out = torch.zeros_like(x[..., 0])
    for i, (w, on) in enumerate(zip(weights, flags)):
        if on:
            out = out + w * x[..., i]
    return out


@torch.library.register_fake("cat::weighted_sum")
def _(x, weights, flags):
    return x.new_empty(x.shape[:-1])


@torch.library.custom_op("cat::fill_where", mutates_args=())
def fill_where(x: torch.Tensor, mask: torch.Tensor, value: int) -> torch.Tensor:
    return torch.where(mask, torch.full_like(x, value), x)


@torch.library.register_fake("cat::fill_where")
def _(x, mask, value):
    return torch.empty(
        torch.broadcast_shapes(x.shape, mask.shape), dtype=x.dtype, device=x.device
    )


# -- how the tests call them -------------------------------------------------------------------------
Maker = Callable[[Tuple[int, ...], str], torch.Tensor]


def randn(dtype: torch.dtype = torch.float32) -> Maker:
    return lambda shape, device: torch.randn(shape, device=device).to(dtype)


@dataclass(frozen=True)
class Case:
    """One way to call an op in a model: ``forward(*inputs) = op(*inputs-with-args)``."""

    name: str
    op: str  # "cat::name"
    call: Callable[..., Any]  # (op packet, *inputs) -> outputs
    static: Tuple[Tuple[int, ...], ...]  # input shapes
    dynamic: Tuple[
        Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]], ...
    ]  # (min, opt, max) per input
    run_shapes: Tuple[
        Tuple[Tuple[int, ...], ...], ...
    ]  # shapes to run the dynamic engine with
    makers: Tuple[Maker, ...]
    triton: bool  # body is one Triton launch
    atol: float = 1e-5
    rtol: float = 1e-5
    covers: Tuple[str, ...] = ()


def randint64() -> Maker:
    return lambda shape, device: torch.randint(
        -(2**40), 2**40, shape, dtype=torch.int64, device=device
    )


def randbool() -> Maker:
    return lambda shape, device: torch.rand(shape, device=device) < 0.5


def _f32(n: int) -> Tuple[Maker, ...]:
    return tuple(randn() for _ in range(n))


CASES: Tuple[Case, ...] = (
    Case(
        "scale_mul",
        "cat::scale_mul",
        lambda op, x, y: op(x, y, b=0.5),
        ((37, 19), (37, 19)),
        (((2, 19), (37, 19), (64, 19)),) * 2,
        (((2, 19), (2, 19)), ((61, 19), (61, 19))),
        _f32(2),
        True,
        covers=("keyword attribute b=0.5",),
    ),
    Case(
        "bcast_add",
        "cat::bcast_add",
        lambda op, x, b: op(x, b),
        ((33, 7), (1, 7)),
        (((1, 7), (33, 7), (50, 7)), ((1, 7), (1, 7), (1, 7))),
        (((1, 7), (1, 7)), ((47, 7), (1, 7))),
        _f32(2),
        True,
        covers=("broadcasting of a size-1 input",),
    ),
    Case(
        "reduce_sum",
        "cat::reduce_sum",
        lambda op, x: op(x, 1, keepdim=True),
        ((5, 13, 3),),
        (((1, 13, 3), (5, 13, 3), (9, 13, 3)),),
        (((1, 13, 3),), ((9, 13, 3),)),
        _f32(1),
        False,
        atol=1e-4,
        covers=("reduction with dim/keepdim",),
    ),
    Case(
        "concat2",
        "cat::concat2",
        lambda op, x, y: op(x, y, 1),
        ((3, 5), (3, 4)),
        (((1, 5), (3, 5), (8, 5)), ((1, 4), (3, 4), (8, 4))),
        (((1, 5), (1, 4)), ((8, 5), (8, 4))),
        _f32(2),
        False,
        covers=("concatenation of two inputs along a dim",),
    ),
    Case(
        "flatten_from",
        "cat::flatten_from",
        lambda op, x: op(x, start_dim=1),
        ((3, 4, 5),),
        (((1, 4, 5), (3, 4, 5), (7, 4, 5)),),
        (((1, 4, 5),), ((7, 4, 5),)),
        _f32(1),
        False,
        covers=("reshape/flatten",),
    ),
    Case(
        "argmax_last",
        "cat::argmax_last",
        lambda op, x: op(x),
        ((6, 11),),
        (((1, 11), (6, 11), (9, 11)),),
        (((1, 11),), ((9, 11),)),
        _f32(1),
        False,
        covers=("dtype change: argmax -> int64",),
    ),
    Case(
        "to_half",
        "cat::to_half",
        lambda op, x: op(x),
        ((29, 3),),
        (((1, 3), (29, 3), (40, 3)),),
        (((1, 3),), ((40, 3),)),
        _f32(1),
        True,
        atol=1e-3,
        rtol=1e-3,
        covers=("dtype change: cast to fp16",),
    ),
    Case(
        "min_max",
        "cat::min_max",
        lambda op, x: op(x, dim=1),
        ((4, 9),),
        (((1, 9), (4, 9), (12, 9)),),
        (((1, 9),), ((12, 9),)),
        _f32(1),
        False,
        covers=("two outputs",),
    ),
    Case(
        "add_bias",
        "cat::add_bias",
        lambda op, x, b: op(x, b, scale=2.0),
        ((6, 5), (6, 5)),
        (((1, 5), (6, 5), (8, 5)),) * 2,
        (((1, 5), (1, 5)), ((8, 5), (8, 5))),
        _f32(2),
        False,
        covers=("optional tensor present",),
    ),
    Case(
        "add_bias_absent",
        "cat::add_bias",
        lambda op, x: op(x, None, scale=3.0),
        ((6, 5),),
        (((1, 5), (6, 5), (8, 5)),),
        (((1, 5),), ((8, 5),)),
        _f32(1),
        False,
        covers=("optional tensor absent",),
    ),
    Case(
        "pad_last",
        "cat::pad_last",
        lambda op, x: op(x, [1, 2], value=-1.0),
        ((3, 4),),
        (((1, 4), (3, 4), (5, 4)),),
        (((1, 4),), ((5, 4),)),
        _f32(1),
        False,
        covers=("list attribute",),
    ),
    Case(
        "clamp_kw",
        "cat::clamp_kw",
        lambda op, x: op(x, lo=-0.25, hi=0.5),
        ((41, 3),),
        (((1, 3), (41, 3), (80, 3)),),
        (((1, 3),), ((79, 3),)),
        _f32(1),
        True,
        covers=("keyword-only attributes",),
    ),
    Case(
        "cast_to",
        "cat::cast_to",
        lambda op, x: op(x, torch.float16),
        ((7, 3),),
        (((1, 3), (7, 3), (9, 3)),),
        (((1, 3),), ((9, 3),)),
        _f32(1),
        False,
        atol=1e-3,
        rtol=1e-3,
        covers=("dtype attribute",),
    ),
    Case(
        "axpby_bf16",
        "cat::axpby",
        lambda op, x, y: op(0.5, x, 3, y),
        ((17, 9), (17, 9)),
        (((1, 9), (17, 9), (30, 9)),) * 2,
        (((1, 9), (1, 9)), ((29, 9), (29, 9))),
        (randn(torch.bfloat16), randn(torch.bfloat16)),
        True,
        atol=2e-2,
        rtol=2e-2,
        covers=("bf16 inputs", "interleaved tensor/scalar arguments"),
    ),
    Case(
        "concat2_dim0",
        "cat::concat2",
        lambda op, x, y: op(x, y, 0),
        ((3, 5), (4, 5)),
        (((1, 5), (3, 5), (8, 5)), ((4, 5), (4, 5), (4, 5))),
        (((1, 5), (4, 5)), ((8, 5), (4, 5)), ((5, 5), (4, 5))),
        _f32(2),
        False,
        covers=("output size is a sum with a dynamic size (x.size(0) + 4)",),
    ),
    Case(
        "flatten_all",
        "cat::flatten_from",
        lambda op, x: op(x, start_dim=0),
        ((3, 4, 5),),
        (((1, 4, 5), (3, 4, 5), (7, 4, 5)),),
        (((1, 4, 5),), ((7, 4, 5),), ((6, 4, 5),)),
        _f32(1),
        False,
        covers=("output size is a product with a dynamic size",),
    ),
    Case(
        "fill_where_i64_bool",
        "cat::fill_where",
        lambda op, x, m: op(x, m, -7),
        ((11, 3), (11, 3)),
        (((1, 3), (11, 3), (21, 3)),) * 2,
        (((1, 3), (1, 3)), ((21, 3), (21, 3)), ((13, 3), (13, 3))),
        (randint64(), randbool()),
        False,
        atol=0,
        rtol=0,
        covers=("int64 and bool inputs",),
    ),
    Case(
        "weighted_sum",
        "cat::weighted_sum",
        lambda op, x: op(x, [0.5, -1.0, 2.0], [True, False, True]),
        ((5, 3),),
        (((1, 3), (5, 3), (7, 3)),),
        (((1, 3),), ((7, 3),)),
        _f32(1),
        False,
        covers=("float[] and bool[] attributes",),
    ),
)

CASE_BY_NAME: Dict[str, Case] = {c.name: c for c in CASES}
OP_NAMES: Tuple[str, ...] = tuple(sorted({c.op for c in CASES}))


def model_for(case: Case) -> torch.nn.Module:
    ns, name = case.op.split("::")
    op = getattr(getattr(torch.ops, ns), name).default

    if len(case.static) == 1:

        class One(torch.nn.Module):
            def forward(self, x: torch.Tensor) -> Any:
                return case.call(op, x)

        return One().eval()

    class Two(torch.nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> Any:
            return case.call(op, x, y)

    return Two().eval()


def inputs_for(
    case: Case, shapes: Sequence[Tuple[int, ...]], device: str
) -> List[torch.Tensor]:
    return [make(shape, device) for make, shape in zip(case.makers, shapes)]
