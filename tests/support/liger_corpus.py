"""Third-party Triton kernels as custom ops: forward kernels of liger-kernel (Apache-2.0).

Each op's body calls liger-kernel's own forward function, which launches liger-kernel's own Triton
kernel(s) the way liger-kernel does (block sizes from ``calculate_settings``, strides, scratch
tensors such as RSTD, size-dependent kernel choices, autotuned kernels). Nothing of liger-kernel is
copied here: the wrappers only give each forward function a ``torch.library.custom_op`` schema and
a fake kernel, as a model engineer would, and each op a plain-PyTorch reference to compare with.

Import this module to define the ops (namespace ``liger``); ``CORPUS`` describes them.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Sequence, Tuple

import torch
import torch.nn.functional as F
from liger_kernel.ops.dyt import liger_dyt_fwd
from liger_kernel.ops.fused_add_rms_norm import fused_add_rms_norm_forward
from liger_kernel.ops.geglu import geglu_forward
from liger_kernel.ops.group_norm import group_norm_forward
from liger_kernel.ops.layer_norm import layer_norm_forward
from liger_kernel.ops.poly_norm import poly_norm_forward
from liger_kernel.ops.relu_squared import relu_squared_forward
from liger_kernel.ops.rms_norm import rms_norm_forward
from liger_kernel.ops.rope import rope_forward
from liger_kernel.ops.softmax import _softmax_forward
from liger_kernel.ops.swiglu import swiglu_forward

NAMESPACE = "liger"


# -- the ops -------------------------------------------------------------------------------------
@torch.library.custom_op("liger::rms_norm", mutates_args=())
def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return rms_norm_forward(x, weight, eps, 0.0, "llama", None)[0]


@torch.library.register_fake("liger::rms_norm")
def _(x, weight, eps=1e-6):
    return torch.empty_like(x)


@torch.library.custom_op("liger::layer_norm", mutates_args=())
def layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    return layer_norm_forward(x, weight, bias, eps)[0]


@torch.library.register_fake("liger::layer_norm")
def _(x, weight, bias, eps=1e-5):
    return torch.empty_like(x)


@torch.library.custom_op("liger::softmax", mutates_args=())
def softmax(x: torch.Tensor) -> torch.Tensor:
    return _softmax_forward(x)[0]


@torch.library.register_fake("liger::softmax")
def _(x):
    return torch.empty_like(x)


@torch.library.custom_op("liger::relu_squared", mutates_args=())
def relu_squared(x: torch.Tensor) -> torch.Tensor:
    return relu_squared_forward(x)


@torch.library.register_fake("liger::relu_squared")
def _(x):
    return torch.empty_like(x)


@torch.library.custom_op("liger::geglu", mutates_args=())
def geglu(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return geglu_forward(a, b)[2]


@torch.library.register_fake("liger::geglu")
def _(a, b):
    return torch.empty_like(a)


@torch.library.custom_op("liger::swiglu", mutates_args=())
def swiglu(a: torch.Tensor, b: torch.Tensor, gate: float = 1.0) -> torch.Tensor:
    return swiglu_forward(a, b, gate)[2]


@torch.library.register_fake("liger::swiglu")
def _(a, b, gate=1.0):
    return torch.empty_like(a)


@torch.library.custom_op("liger::dyt", mutates_args=())
def dyt(
    x: torch.Tensor, alpha: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor
) -> torch.Tensor:
    return liger_dyt_fwd(x, alpha, gamma, beta)


@torch.library.register_fake("liger::dyt")
def _(x, alpha, gamma, beta):
    return torch.empty_like(x)


@torch.library.custom_op("liger::poly_norm", mutates_args=())
def poly_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    return poly_norm_forward(x, weight, bias, eps)[0]


@torch.library.register_fake("liger::poly_norm")
def _(x, weight, bias, eps=1e-6):
    return torch.empty_like(x)


@torch.library.custom_op("liger::group_norm", mutates_args=())
def group_norm(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    num_groups: int,
    eps: float = 1e-5,
) -> torch.Tensor:
    return group_norm_forward(x, x.shape[1], num_groups, weight, bias, eps)[0]


@torch.library.register_fake("liger::group_norm")
def _(x, weight, bias, num_groups, eps=1e-5):
    return torch.empty_like(x)


@torch.library.custom_op("liger::fused_add_rms_norm", mutates_args=())
def fused_add_rms_norm(
    x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6
) -> Tuple[torch.Tensor, torch.Tensor]:
    y, added = fused_add_rms_norm_forward(x, residual, weight, eps, 0.0, "llama")[:2]
    return y, added


@torch.library.register_fake("liger::fused_add_rms_norm")
def _(x, residual, weight, eps=1e-6):
    return torch.empty_like(x), torch.empty_like(x)


@torch.library.custom_op("liger::rope", mutates_args=())
def rope(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    # liger-kernel rotates q and k in place (after making them contiguous): give it copies.
    q_out, k_out = rope_forward(q.clone(), k.clone(), cos, sin)[:2]
    return q_out.contiguous(), k_out.contiguous()


@torch.library.register_fake("liger::rope")
def _(q, k, cos, sin):
    return torch.empty_like(q), torch.empty_like(k)


# -- plain-PyTorch references (float64) ------------------------------------------------------------
def _rms(x: torch.Tensor, eps: float) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def _rope_ref(q, k, cos, sin):
    def rotate(t):
        half = t.shape[-1] // 2
        return torch.cat((-t[..., half:], t[..., :half]), dim=-1)

    c, s = cos.unsqueeze(1), sin.unsqueeze(1)
    return q * c + rotate(q) * s, k * c + rotate(k) * s


def _poly_ref(x, w, b, eps):
    return (
        w[0] * _rms(x.pow(3), eps)
        + w[1] * _rms(x.pow(2), eps)
        + w[2] * _rms(x, eps)
        + b
    )


# -- the corpus -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusOp:
    """One corpus op: how to make its inputs, call it, and what PyTorch computes for it.

    ``make(rows, dtype, device[, hidden])`` returns the op's tensor inputs for ``rows`` leading rows
    (the dynamic dimension: dim 0) and, for the row-wise ops, ``hidden`` columns (default ``H``); ``call(op, *tensors)`` calls the op as a model does;
    ``reference(*tensors_as_float64)`` is the expected result. ``explain`` gives the tensor
    descriptions ``explain`` takes, with ``ROWS`` standing for the dynamic range.
    """

    name: str
    make: Callable[..., Tuple[torch.Tensor, ...]]
    call: Callable[..., Any]
    reference: Callable[..., Any]
    explain: Dict[str, str]
    attributes: Dict[str, Any] = field(default_factory=dict)
    dtypes: Tuple[torch.dtype, ...] = (torch.float32, torch.bfloat16)

    @property
    def qualname(self) -> str:
        return f"{NAMESPACE}::{self.name}"

    def op(self) -> Any:
        return getattr(getattr(torch.ops, NAMESPACE), self.name)


H = 77  # hidden size: not a power of two, so every kernel masks its last block
_EPS = 1e-6


def _randn(*shape: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype, device=device)


CORPUS: Tuple[CorpusOp, ...] = (
    CorpusOp(
        "rms_norm",
        lambda r, dt, dev, h=H: (
            _randn(r, h, dtype=dt, device=dev),
            _randn(h, dtype=dt, device=dev),
        ),
        lambda op, x, w: op(x, w, eps=_EPS),
        lambda x, w: _rms(x, _EPS) * w,
        {"x": f"ROWS, {H}", "weight": f"{H}"},
        {"eps": _EPS},
    ),
    CorpusOp(
        "layer_norm",
        lambda r, dt, dev, h=H: (
            _randn(r, h, dtype=dt, device=dev),
            _randn(h, dtype=dt, device=dev),
            _randn(h, dtype=dt, device=dev),
        ),
        lambda op, x, w, b: op(x, w, b, eps=1e-5),
        lambda x, w, b: F.layer_norm(x, (H,), w, b, 1e-5),
        {"x": f"ROWS, {H}", "weight": f"{H}", "bias": f"{H}"},
        {"eps": 1e-5},
    ),
    CorpusOp(
        "softmax",
        lambda r, dt, dev, h=H: (_randn(r, h, dtype=dt, device=dev),),
        lambda op, x: op(x),
        lambda x: torch.softmax(x, -1),
        {"x": f"ROWS, {H}"},
    ),
    CorpusOp(
        "relu_squared",
        lambda r, dt, dev, h=H: (_randn(r, h, dtype=dt, device=dev),),
        lambda op, x: op(x),
        lambda x: torch.relu(x).pow(2),
        {"x": f"ROWS, {H}"},
    ),
    CorpusOp(
        "geglu",
        lambda r, dt, dev, h=H: (
            _randn(r, h, dtype=dt, device=dev),
            _randn(r, h, dtype=dt, device=dev),
        ),
        lambda op, a, b: op(a, b),
        lambda a, b: F.gelu(a, approximate="tanh") * b,
        {"a": f"ROWS, {H}", "b": f"ROWS, {H}"},
    ),
    CorpusOp(
        "swiglu",
        lambda r, dt, dev, h=H: (
            _randn(r, h, dtype=dt, device=dev),
            _randn(r, h, dtype=dt, device=dev),
        ),
        lambda op, a, b: op(a, b, gate=0.75),
        lambda a, b: F.silu(a * 0.75) * b,
        {"a": f"ROWS, {H}", "b": f"ROWS, {H}"},
        {"gate": 0.75},
    ),
    CorpusOp(
        "dyt",
        lambda r, dt, dev, h=H: (
            _randn(r, h, dtype=dt, device=dev),
            torch.full((1,), 0.7, dtype=dt, device=dev),
            _randn(h, dtype=dt, device=dev),
            _randn(h, dtype=dt, device=dev),
        ),
        lambda op, x, alpha, gamma, beta: op(x, alpha, gamma, beta),
        lambda x, alpha, gamma, beta: gamma * torch.tanh(alpha * x) + beta,
        {"x": f"ROWS, {H}", "alpha": "1", "gamma": f"{H}", "beta": f"{H}"},
    ),
    CorpusOp(
        "poly_norm",
        lambda r, dt, dev, h=H: (
            _randn(r, h, dtype=dt, device=dev),
            _randn(3, dtype=dt, device=dev),
            _randn(1, dtype=dt, device=dev),
        ),
        lambda op, x, w, b: op(x, w, b, eps=_EPS),
        lambda x, w, b: _poly_ref(x, w, b, _EPS),
        {"x": f"ROWS, {H}", "weight": "3", "bias": "1"},
        {"eps": _EPS},
    ),
    CorpusOp(
        "group_norm",
        lambda r, dt, dev: (
            _randn(r, 6, 13, dtype=dt, device=dev),
            _randn(6, dtype=dt, device=dev),
            _randn(6, dtype=dt, device=dev),
        ),
        lambda op, x, w, b: op(x, w, b, 3, eps=1e-5),
        lambda x, w, b: F.group_norm(x, 3, w, b, 1e-5),
        {"x": "ROWS, 6, 13", "weight": "6", "bias": "6"},
        {"num_groups": 3, "eps": 1e-5},
    ),
    CorpusOp(
        "fused_add_rms_norm",
        lambda r, dt, dev, h=H: (
            _randn(r, h, dtype=dt, device=dev),
            _randn(r, h, dtype=dt, device=dev),
            _randn(h, dtype=dt, device=dev),
        ),
        lambda op, x, res, w: op(x, res, w, eps=_EPS),
        lambda x, res, w: (_rms(x + res, _EPS) * w, x + res),
        {"x": f"ROWS, {H}", "residual": f"ROWS, {H}", "weight": f"{H}"},
        {"eps": _EPS},
    ),
    CorpusOp(
        "rope",
        lambda r, dt, dev: (
            _randn(r, 4, 9, 32, dtype=dt, device=dev),
            _randn(r, 2, 9, 32, dtype=dt, device=dev),
            *_cos_sin(r, 9, 32, dt, dev),
        ),
        lambda op, q, k, cos, sin: op(q, k, cos, sin),
        _rope_ref,
        {
            "q": "ROWS, 4, 9, 32",
            "k": "ROWS, 2, 9, 32",
            "cos": "ROWS, 9, 32",
            "sin": "ROWS, 9, 32",
        },
    ),
)


def _cos_sin(
    batch: int, seq: int, dim: int, dtype: torch.dtype, device: str
) -> Tuple[torch.Tensor, torch.Tensor]:
    inv = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    angles = torch.arange(seq, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((angles, angles), dim=-1).expand(batch, seq, dim)
    return (
        emb.cos().to(dtype=dtype, device=device).contiguous(),
        emb.sin().to(dtype=dtype, device=device).contiguous(),
    )


BY_NAME = {c.name: c for c in CORPUS}


class _Model(torch.nn.Module):
    def __init__(self, case: CorpusOp) -> None:
        super().__init__()
        self.case = case

    def run(self, *tensors: torch.Tensor) -> Any:
        return self.case.call(self.case.op(), *tensors)


# torch.export takes named positional inputs (no *args): one model class per input count.
class _One(_Model):
    def forward(self, a):
        return self.run(a)


class _Two(_Model):
    def forward(self, a, b):
        return self.run(a, b)


class _Three(_Model):
    def forward(self, a, b, c):
        return self.run(a, b, c)


class _Four(_Model):
    def forward(self, a, b, c, d):
        return self.run(a, b, c, d)


def model_for(case: CorpusOp) -> torch.nn.Module:
    """A module whose forward calls ``case``'s op as a model does (eval mode)."""
    classes = {1: _One, 2: _Two, 3: _Three, 4: _Four}
    return classes[len(case.explain)](case).eval()


def explain_inputs(case: CorpusOp, dtype: str, rows: str) -> Dict[str, str]:
    """``explain``'s tensor descriptions for ``case``: ``dtype[...]`` with ``rows`` for ROWS."""
    return {
        name: f"{dtype}[{dims.replace('ROWS', rows)}]"
        for name, dims in case.explain.items()
    }


def as_float64(tensors: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
    return tuple(t.double() for t in tensors)


def tolerance(dtype: torch.dtype) -> Dict[str, float]:
    """Comparison tolerance against the float64 reference for results computed in ``dtype``."""
    if dtype == torch.bfloat16:
        return {"atol": 6e-2, "rtol": 3e-2}
    return {"atol": 2e-4, "rtol": 2e-4}


__all__ = [
    "CORPUS",
    "BY_NAME",
    "CorpusOp",
    "explain_inputs",
    "as_float64",
    "model_for",
    "tolerance",
]
