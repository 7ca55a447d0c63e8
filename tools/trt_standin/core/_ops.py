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
}


def settle(
    outputs: List[torch.Tensor], inputs: Sequence[Optional[torch.Tensor]]
) -> List[torch.Tensor]:
    """During shape inference: keep small all-concrete results concrete, the rest meta."""
    any_meta = any(is_meta(v) for v in inputs)
    settled = []
    for out in outputs:
        if is_meta(out):
            settled.append(out)
        elif any_meta or out.numel() > CONCRETE_LIMIT:
            settled.append(out.to("meta"))
        else:
            settled.append(out)
    return settled
