"""How each layer computes, with torch: used for execution and for shape inference.

Every runner takes the layer's parameters (a plain dict, as stored in the engine) and its input
values and returns its outputs. A value is a torch tensor; during shape inference, data tensors are
on the ``meta`` device (shape and dtype only) while small integer tensors that hold shapes stay
concrete, so shape arithmetic (shape -> gather -> concat -> reshape) gives real numbers. The same
runners execute real tensors at run time.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

# Outputs with at most this many elements are computed concretely during shape inference when all
# their inputs are concrete (shape tensors); anything larger stays on the meta device.
CONCRETE_LIMIT = 64

Runner = Callable[[Dict[str, Any], List[Optional[torch.Tensor]]], List[torch.Tensor]]

TORCH_DTYPE_BY_NAME = {
    "FLOAT": torch.float32,
    "HALF": torch.float16,
    "BF16": torch.bfloat16,
    "INT8": torch.int8,
    "INT32": torch.int32,
    "INT64": torch.int64,
    "BOOL": torch.bool,
    "UINT8": torch.uint8,
    "FP8": torch.float8_e4m3fn,
}


def is_meta(t: Optional[torch.Tensor]) -> bool:
    return t is not None and t.device.type == "meta"


def _align(values: Sequence[Optional[torch.Tensor]]) -> List[Optional[torch.Tensor]]:
    """Move all values to the meta device if any is meta (mixing concrete and meta)."""
    if any(is_meta(v) for v in values):
        return [v.to("meta") if v is not None and not is_meta(v) else v for v in values]
    return list(values)


def on_one_device(
    values: Sequence[Optional[torch.Tensor]],
) -> List[Optional[torch.Tensor]]:
    """Host values (constants, shape tensors) next to the device data they meet in a layer.

    A TensorRT engine keeps its constants in device memory; here they are built as CPU tensors, so a
    layer that combines one with a CUDA tensor (``x * 2``) gets it on the CUDA tensor's device.
    """
    device = next(
        (v.device for v in values if v is not None and v.device.type == "cuda"), None
    )
    if device is None:
        return list(values)
    return [
        v.to(device) if v is not None and v.device.type == "cpu" else v for v in values
    ]


_ELEMENTWISE: Dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "SUM": torch.add,
    "PROD": torch.mul,
    "MAX": torch.maximum,
    "MIN": torch.minimum,
    "SUB": torch.sub,
    "DIV": lambda a, b: (
        torch.div(a, b, rounding_mode="trunc")
        if not a.dtype.is_floating_point
        else torch.div(a, b)
    ),
    "POW": torch.pow,
    "FLOOR_DIV": lambda a, b: torch.div(a, b, rounding_mode="floor"),
    "AND": torch.logical_and,
    "OR": torch.logical_or,
    "XOR": torch.logical_xor,
    "EQUAL": torch.eq,
    "GREATER": torch.gt,
    "LESS": torch.lt,
}
_BOOL_RESULT = {"AND", "OR", "XOR", "EQUAL", "GREATER", "LESS"}


def run_elementwise(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    a, b = _align(inputs)
    assert a is not None and b is not None
    op = params["op"]
    out = _ELEMENTWISE[op](a, b)
    if op not in _BOOL_RESULT:
        out = out.to(a.dtype)
    return [out]


_UNARY: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "EXP": torch.exp,
    "LOG": torch.log,
    "SQRT": torch.sqrt,
    "RECIP": torch.reciprocal,
    "ABS": torch.abs,
    "NEG": torch.neg,
    "SIN": torch.sin,
    "COS": torch.cos,
    "TAN": torch.tan,
    "SINH": torch.sinh,
    "COSH": torch.cosh,
    "ASIN": torch.asin,
    "ACOS": torch.acos,
    "ATAN": torch.atan,
    "ASINH": torch.asinh,
    "ACOSH": torch.acosh,
    "ATANH": torch.atanh,
    "CEIL": torch.ceil,
    "FLOOR": torch.floor,
    "ERF": torch.erf,
    "NOT": torch.logical_not,
    "SIGN": torch.sign,
    "ROUND": torch.round,
    "ISINF": torch.isinf,
    "ISNAN": torch.isnan,
}


def run_unary(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    (x,) = inputs
    assert x is not None
    return [_UNARY[params["op"]](x)]


def run_identity(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    (x,) = inputs
    assert x is not None
    dtype = params.get("output_type")
    return [x.to(TORCH_DTYPE_BY_NAME[dtype]) if dtype else x.clone()]


def run_cast(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    (x,) = inputs
    assert x is not None
    return [x.to(TORCH_DTYPE_BY_NAME[params["to_type"]])]


def run_constant(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    value: torch.Tensor = params["value"]
    return [value.clone()]


def run_shape(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    (x,) = inputs
    assert x is not None
    return [torch.tensor(list(x.shape), dtype=torch.int64)]


def run_shuffle(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    x = inputs[0]
    assert x is not None
    shape_input = inputs[1] if len(inputs) > 1 else None
    first = params.get("first_transpose")
    if first is not None:
        x = x.permute(*first[: x.dim()]) if x.dim() else x
    reshape = None
    if shape_input is not None:
        reshape = (
            [int(v) for v in shape_input.to("cpu").tolist()]
            if not is_meta(shape_input)
            else None
        )
        if reshape is None:
            raise ValueError("reshape dimensions from a shape tensor are not known")
    elif params.get("reshape_dims") is not None:
        reshape = list(params["reshape_dims"])
    if reshape is not None:
        if params.get("zero_is_placeholder", True):
            reshape = [x.shape[i] if d == 0 else d for i, d in enumerate(reshape)]
        x = x.reshape(reshape)
    second = params.get("second_transpose")
    if second is not None:
        x = x.permute(*second[: x.dim()]) if x.dim() else x
    return [x.contiguous() if not is_meta(x) else x]


def _maybe_concrete(t: Optional[torch.Tensor]) -> Optional[List[int]]:
    if t is None or is_meta(t):
        return None
    return [int(v) for v in t.to("cpu").tolist()]


def run_slice(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    x = inputs[0]
    assert x is not None
    start = (
        _maybe_concrete(inputs[1])
        if len(inputs) > 1 and inputs[1] is not None
        else params["start"]
    )
    size = (
        _maybe_concrete(inputs[2])
        if len(inputs) > 2 and inputs[2] is not None
        else params["shape"]
    )
    stride = (
        _maybe_concrete(inputs[3])
        if len(inputs) > 3 and inputs[3] is not None
        else params["stride"]
    )
    if start is None or size is None or stride is None:
        raise ValueError("slice parameters from shape tensors are not known")
    if is_meta(x):
        return [torch.empty([int(n) for n in size], dtype=x.dtype, device="meta")]
    mode = params.get("mode", "STRICT_BOUNDS")
    out = x
    for axis, (s, n, st) in enumerate(zip(start, size, stride)):
        dim = x.shape[axis]
        if mode == "STRICT_BOUNDS" or n == 0:
            idx = [s + i * st for i in range(n)]
        elif mode == "CLAMP":
            idx = [min(max(s + i * st, 0), dim - 1) for i in range(n)]
        elif mode == "WRAP":
            idx = [(s + i * st) % dim for i in range(n)]
        else:
            raise NotImplementedError(
                f"slice mode {mode} is not implemented by the stand-in"
            )
        if idx and (min(idx) < 0 or max(idx) >= dim):
            raise IndexError(
                f"slice out of bounds on axis {axis}: {idx[0]}..{idx[-1]} of {dim}"
            )
        out = out.index_select(
            axis, torch.tensor(idx, dtype=torch.int64, device=out.device)
        )
    return [out.contiguous()]


def run_gather(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    data, indices = _align(inputs)
    assert data is not None and indices is not None
    if params.get("mode", "DEFAULT") != "DEFAULT":
        raise NotImplementedError(
            "only GatherMode.DEFAULT is implemented by the stand-in"
        )
    axis = params["axis"]
    idx = indices.to(torch.int64)
    if not is_meta(data):
        idx = torch.where(idx < 0, idx + data.shape[axis], idx)
    flat = data.index_select(axis, idx.reshape(-1))
    new_shape = list(data.shape[:axis]) + list(idx.shape) + list(data.shape[axis + 1 :])
    return [flat.reshape(new_shape)]


def run_concatenation(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    values = [v for v in _align(inputs) if v is not None]
    return [torch.cat(values, dim=params["axis"])]


def run_reduce(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    (x,) = inputs
    assert x is not None
    axes = [a for a in range(x.dim()) if params["axes"] >> a & 1]
    op = params["op"]
    keep = params["keep_dims"]
    fn = {
        "SUM": torch.sum,
        "PROD": None,
        "MAX": torch.amax,
        "MIN": torch.amin,
        "AVG": torch.mean,
    }[op]
    if fn is None:
        out = x
        for a in sorted(axes, reverse=True):
            out = torch.prod(out, dim=a, keepdim=keep)
        return [out]
    return [fn(x, dim=axes, keepdim=keep)]


def run_select(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    cond, a, b = _align(inputs)
    assert cond is not None and a is not None and b is not None
    return [torch.where(cond, a, b)]


# -- layers of realistic models (activation, matrix multiply, softmax, normalization, attention) --
# TensorRT documents what these layers compute, not in which precision; half-precision inputs are
# computed in float32 here and rounded once to the input type (assumption "half-inputs-float-math").
_FLOATING = (torch.float32, torch.float16, torch.bfloat16)


def _wide(x: torch.Tensor) -> torch.Tensor:
    """``x`` in the type the stand-in computes it in (float32 for half-precision inputs)."""
    from ..assumptions import assumed

    if x.dtype in (torch.float16, torch.bfloat16):
        assumed("half-inputs-float-math")
        return x.float()
    return x


def _require_floating(layer: str, role: str, x: torch.Tensor) -> None:
    if x.dtype not in _FLOATING:
        raise TypeError(
            f"{layer}: {role} has type {x.dtype}; TensorRT computes this layer on float32, float16 "
            f"or bfloat16 tensors only"
        )


def _thresholded_relu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    from ..assumptions import assumed

    assumed("activation-thresholded-relu")
    return torch.where(x > alpha, x, torch.zeros_like(x))


_ACTIVATIONS: Dict[str, Callable[[torch.Tensor, float, float], torch.Tensor]] = {
    "RELU": lambda x, a, b: torch.relu(x),
    "SIGMOID": lambda x, a, b: torch.sigmoid(x),
    "TANH": lambda x, a, b: torch.tanh(x),
    "LEAKY_RELU": lambda x, a, b: torch.where(x >= 0, x, a * x),
    "ELU": lambda x, a, b: torch.where(x >= 0, x, a * torch.expm1(x)),
    "SELU": lambda x, a, b: torch.where(x > 0, b * x, b * (a * torch.exp(x) - a)),
    "SOFTSIGN": lambda x, a, b: x / (1 + x.abs()),
    "SOFTPLUS": lambda x, a, b: a * torch.logaddexp(b * x, torch.zeros_like(x)),
    "CLIP": lambda x, a, b: torch.clamp(x, min=a, max=b),
    "HARD_SIGMOID": lambda x, a, b: torch.clamp(a * x + b, min=0.0, max=1.0),
    "SCALED_TANH": lambda x, a, b: a * torch.tanh(b * x),
    "THRESHOLDED_RELU": lambda x, a, b: _thresholded_relu(x, a),
    "GELU_ERF": lambda x, a, b: torch.nn.functional.gelu(x),
    "GELU_TANH": lambda x, a, b: torch.nn.functional.gelu(x, approximate="tanh"),
}


def run_activation(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    """IActivationLayer: the formula of ``params["type"]`` with the layer's alpha and beta."""
    (x,) = inputs
    assert x is not None
    kind = params["type"]
    if x.dtype in (torch.int32, torch.int64) and kind == "RELU":
        return [torch.relu(x)]  # TensorRT also takes int32/int64 inputs, for RELU only
    _require_floating(f"IActivationLayer ({kind})", "the input", x)
    out = _ACTIVATIONS[kind](_wide(x), float(params["alpha"]), float(params["beta"]))
    return [out.to(x.dtype)]


def run_matrix_multiply(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    """IMatrixMultiplyLayer: op0(A) * op1(B) over the leading (collection) dimensions.

    A VECTOR operand is a collection of vectors (its last dimension), a NONE or TRANSPOSE operand a
    collection of matrices (its last two). The collection dimensions of A and B must be equal in
    number, and each pair equal or one of them 1 (that one is broadcast).
    """
    a, b = _align(inputs)
    assert a is not None and b is not None
    ops = (params["op0"], params["op1"])
    for role, x in (("input 0", a), ("input 1", b)):
        _require_floating("IMatrixMultiplyLayer", role, x)
    if a.dtype != b.dtype:
        raise TypeError(
            f"IMatrixMultiplyLayer: inputs have types {a.dtype} and {b.dtype}; they must be the same"
        )
    batch = []
    for i, (x, op) in enumerate(zip((a, b), ops)):
        kept = 1 if op == "VECTOR" else 2
        if x.dim() < kept:
            raise ValueError(
                f"IMatrixMultiplyLayer: input {i} has rank {x.dim()}; MatrixOperation.{op} needs "
                f"rank >= {kept}"
            )
        batch.append(tuple(x.shape[: x.dim() - kept]))
    if len(batch[0]) != len(batch[1]) or any(
        p != q and 1 not in (p, q) for p, q in zip(*batch)
    ):
        raise ValueError(
            f"IMatrixMultiplyLayer: collection dimensions {list(batch[0])} (input 0, {ops[0]}) and "
            f"{list(batch[1])} (input 1, {ops[1]}) must have the same rank, and each pair must be "
            f"equal or 1"
        )
    wa, wb = _wide(a), _wide(b)
    wa = wa.unsqueeze(-2) if ops[0] == "VECTOR" else wa
    wb = wb.unsqueeze(-1) if ops[1] == "VECTOR" else wb
    wa = wa.transpose(-1, -2) if ops[0] == "TRANSPOSE" else wa
    wb = wb.transpose(-1, -2) if ops[1] == "TRANSPOSE" else wb
    if wa.shape[-1] != wb.shape[-2]:
        raise ValueError(
            f"IMatrixMultiplyLayer: inner dimensions differ: op0(input 0) has {wa.shape[-1]} "
            f"columns, op1(input 1) has {wb.shape[-2]} rows (shapes {list(a.shape)} with {ops[0]}, "
            f"{list(b.shape)} with {ops[1]})"
        )
    out = torch.matmul(wa, wb)
    if ops[0] == "VECTOR":
        out = out.squeeze(-2)
    if ops[1] == "VECTOR":
        out = out.squeeze(-1)
    return [out.to(a.dtype)]


def _one_axis(layer: str, axes: int, rank: int) -> int:
    """The single axis a bitmask names (TensorRT's softmax takes exactly one)."""
    chosen = [d for d in range(max(rank, 1)) if axes >> d & 1]
    if len(chosen) != 1 or axes >> max(rank, 1):
        raise ValueError(
            f"{layer}: axes={axes:#b} must set exactly one bit below the input rank {rank}"
        )
    return chosen[0]


def run_softmax(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    """ISoftMaxLayer: softmax along the one axis set in the ``axes`` bitmask."""
    (x,) = inputs
    assert x is not None
    _require_floating("ISoftMaxLayer", "the input", x)
    axis = _one_axis("ISoftMaxLayer", int(params["axes"]), x.dim())
    return [torch.softmax(_wide(x), dim=axis).to(x.dtype)]


def _broadcasts_to(shape: Sequence[int], target: Sequence[int]) -> bool:
    """Whether ``shape`` broadcasts to ``target`` in one direction (same rank; each dim equal or 1)."""
    return len(shape) == len(target) and all(
        s == t or s == 1 for s, t in zip(shape, target)
    )


def run_normalization(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    """INormalizationLayer: (X - Mean(X, axes)) / sqrt(Variance(X, axes) + epsilon) * S + B.

    The variance is the biased one (the mean of squared deviations). With num_groups G > 1 the
    channel axis (1) is split into G groups; each group is normalized over its channels and the
    ``axes`` (which must then exclude axes 0 and 1), and S and B are per group: shape [1, G, 1, ...]
    (add_normalization as Torch-TensorRT uses it; add_normalization_v2's per-channel S and B are
    not part of the stand-in).
    """
    x, scale, bias = _align(inputs)
    assert x is not None and scale is not None and bias is not None
    for role, t in (("the input", x), ("the scale", scale), ("the bias", bias)):
        _require_floating("INormalizationLayer", role, t)
    if tuple(scale.shape) != tuple(bias.shape) or scale.dim() != x.dim():
        raise ValueError(
            f"INormalizationLayer: scale {list(scale.shape)} and bias {list(bias.shape)} must have "
            f"the same shape, of the input's rank {x.dim()}"
        )
    axes = [d for d in range(x.dim()) if int(params["axes"]) >> d & 1]
    if not axes or int(params["axes"]) >> x.dim():
        raise ValueError(
            f"INormalizationLayer: axes={int(params['axes']):#b} must name axes of the rank-"
            f"{x.dim()} input"
        )
    eps = float(params["epsilon"])
    groups = int(params["num_groups"])
    wx, ws, wb = _wide(x), _wide(scale), _wide(bias)
    if groups == 1:
        if not _broadcasts_to(scale.shape, x.shape):
            raise ValueError(
                f"INormalizationLayer: scale and bias {list(scale.shape)} must broadcast to the "
                f"input {list(x.shape)}"
            )
        mean = wx.mean(dim=axes, keepdim=True)
        var = (wx - mean).square().mean(dim=axes, keepdim=True)
        out = (wx - mean) / torch.sqrt(var + eps) * ws + wb
        return [out.to(x.dtype)]
    channels = x.shape[1] if x.dim() > 1 else 0
    if x.dim() < 3 or 0 in axes or 1 in axes or channels % groups:
        raise ValueError(
            f"INormalizationLayer: num_groups={groups} needs an input of rank >= 3 whose channel "
            f"axis 1 ({channels}) divides into the groups, and axes without 0 and 1; got input "
            f"{list(x.shape)}, axes {axes}"
        )
    per_group = [1, groups] + [1] * (x.dim() - 2)
    if not _broadcasts_to(scale.shape, per_group):
        raise NotImplementedError(
            f"INormalizationLayer: with num_groups={groups} the stand-in takes per-group scale and "
            f"bias of shape {per_group} (add_normalization); got {list(scale.shape)}"
        )
    grouped = wx.reshape(x.shape[0], groups, channels // groups, *x.shape[2:])
    dims = [2] + [a + 1 for a in axes]
    mean = grouped.mean(dim=dims, keepdim=True)
    var = (grouped - mean).square().mean(dim=dims, keepdim=True)
    normed = (grouped - mean) / torch.sqrt(var + eps)
    # [1, G or 1, 1, ...] -> [1, G or 1, 1 (channels of a group), 1, ...]
    ws, wb = ws.unsqueeze(2), wb.unsqueeze(2)
    out = normed * ws + wb
    return [out.reshape(x.shape).to(x.dtype)]


def run_attention(
    params: Dict[str, Any], inputs: List[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    """IAttention: normalize(Q * K^T [+ mask]) * V over [batch, heads, sequence, head size].

    No scaling of Q * K^T (callers scale the query); the mask is boolean (True attends) or added
    to Q * K^T; ``causal`` lets query i attend keys 0..i (upper-left diagonal). Query heads may be
    a multiple of key/value heads: query head h reads key/value head h // (Hq / Hkv) (assumption
    "attention-gqa-head-groups").
    """
    q, k, v, mask = _align(list(inputs) + [None] * (4 - len(inputs)))
    assert q is not None and k is not None and v is not None
    for role, t in (("query", q), ("key", k), ("value", v)):
        _require_floating("IAttention", role, t)
        if t.dim() != 4:
            raise ValueError(
                f"IAttention: {role} has shape {list(t.shape)}; the stand-in takes the padded "
                f"[batch, heads, sequence, head size] form (rank 4) only"
            )
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(
            f"IAttention: query, key and value have types {q.dtype}, {k.dtype}, {v.dtype}; they "
            f"must be the same"
        )
    if (
        tuple(k.shape) != tuple(v.shape)
        or q.shape[0] != k.shape[0]
        or q.shape[3] != k.shape[3]
    ):
        raise ValueError(
            f"IAttention: key {list(k.shape)} and value {list(v.shape)} must have the same shape, "
            f"and its batch and head size must be the query's {list(q.shape)}"
        )
    if q.shape[1] % k.shape[1]:
        raise ValueError(
            f"IAttention: {q.shape[1]} query heads are not a multiple of {k.shape[1]} key/value heads"
        )
    if params["causal"] and mask is not None:
        raise ValueError(
            "IAttention: a mask cannot be set together with causal attention"
        )
    wq, wk, wv = _wide(q), _wide(k), _wide(v)
    if q.shape[1] != k.shape[1]:
        from ..assumptions import assumed

        assumed("attention-gqa-head-groups")
        repeat = q.shape[1] // k.shape[1]
        wk, wv = wk.repeat_interleave(repeat, dim=1), wv.repeat_interleave(
            repeat, dim=1
        )
    scores = torch.matmul(wq, wk.transpose(-1, -2))
    if params["causal"]:
        sq, skv = q.shape[2], k.shape[2]
        allowed = torch.ones(sq, skv, dtype=torch.bool, device=scores.device).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    if mask is not None:
        if (
            mask.dim() != 4
            or not _broadcasts_to(mask.shape[:2], scores.shape[:2])
            or tuple(mask.shape[2:]) != tuple(scores.shape[2:])
        ):
            raise ValueError(
                f"IAttention: mask {list(mask.shape)} must be [a0, a1, {scores.shape[2]}, "
                f"{scores.shape[3]}] (query length, key/value length) with a0, a1 broadcastable to "
                f"batch {scores.shape[0]} and query heads {scores.shape[1]}"
            )
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        elif mask.dtype == q.dtype:
            scores = scores + _wide(mask)
        else:
            raise TypeError(
                f"IAttention: mask has type {mask.dtype}; it must be bool or the query's type {q.dtype}"
            )
    if params["norm_op"] == "SOFTMAX":
        scores = torch.softmax(scores, dim=-1)
    return [torch.matmul(scores, wv).to(q.dtype)]


RUNNERS: Dict[str, Runner] = {
    "ELEMENTWISE": run_elementwise,
    "UNARY": run_unary,
    "IDENTITY": run_identity,
    "CAST": run_cast,
    "CONSTANT": run_constant,
    "SHAPE": run_shape,
    "SHUFFLE": run_shuffle,
    "SLICE": run_slice,
    "GATHER": run_gather,
    "CONCATENATION": run_concatenation,
    "REDUCE": run_reduce,
    "SELECT": run_select,
    "ACTIVATION": run_activation,
    "MATRIX_MULTIPLY": run_matrix_multiply,
    "SOFTMAX": run_softmax,
    "NORMALIZATION": run_normalization,
    "ATTENTION_OUTPUT": run_attention,
}


def settle(
    outputs: List[torch.Tensor], inputs: Sequence[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    """During shape inference: keep small concrete results concrete, the rest meta.

    A runner returns a concrete result for meta inputs only where the result depends on their
    shapes alone (the SHAPE layer): it stays concrete, so that shape arithmetic on a dynamic input's
    dimensions (shape -> gather -> concatenation -> the reshape input of a shuffle, as Torch-TensorRT
    emits for ``view`` with a dynamic batch) gives real numbers during shape inference.
    """
    settled = []
    for out in outputs:
        if is_meta(out):
            settled.append(out)
        elif out.numel() > CONCRETE_LIMIT:
            settled.append(out.to("meta"))
        else:
            settled.append(out)
    return settled
