"""torch.dtype <-> TensorRT DataType, keyed by DataType name (no TensorRT import at module import)."""

from __future__ import annotations

from typing import Any, Dict

import torch

from ._errors import UnsupportedOpError, user_error

TORCH_BY_TRT_NAME: Dict[str, torch.dtype] = {
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
TRT_NAME_BY_TORCH: Dict[torch.dtype, str] = {v: k for k, v in TORCH_BY_TRT_NAME.items()}


def to_torch(trt_dtype: Any) -> torch.dtype:
    return TORCH_BY_TRT_NAME[trt_dtype.name]


_TRT_CACHE: Dict[torch.dtype, Any] = {}


def to_trt(dtype: torch.dtype, *, api: str = "generate_plugin", op: str = "?") -> Any:
    cached = _TRT_CACHE.get(dtype)
    if cached is not None:
        return cached
    import tensorrt as trt

    name = TRT_NAME_BY_TORCH.get(dtype)
    if name is None:
        raise user_error(
            api,
            op,
            "a tensor has a dtype TensorRT plugins cannot carry",
            got=str(dtype),
            expected=f"one of {sorted(str(d) for d in TRT_NAME_BY_TORCH)}",
            cls=UnsupportedOpError,
        )
    value = _TRT_CACHE[dtype] = getattr(trt.DataType, name)
    return value
