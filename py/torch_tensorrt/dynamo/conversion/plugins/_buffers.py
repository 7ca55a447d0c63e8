"""TensorRT buffers as torch tensors, without __cuda_array_interface__'s dtype limits.

``tensorrt.plugin.Tensor.__cuda_array_interface__`` refuses BF16, FP8 and INT4 (defect 10 in
../shared/notes/no-tensorrt-here.md). A TensorRT buffer is plain device memory, so it is wrapped
here as bytes (``|u1``) and viewed as the tensor's dtype and strides: any dtype torch has works.
"""

from __future__ import annotations

import ctypes
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch


class _DeviceBytes:
    """__cuda_array_interface__ of ``nbytes`` bytes at ``address`` (the only attribute torch reads)."""

    __slots__ = ("__cuda_array_interface__",)

    def __init__(self, address: int, nbytes: int, stream: int) -> None:
        self.__cuda_array_interface__ = {
            "shape": (nbytes,),
            "typestr": "|u1",
            "data": (address, False),
            "version": 3,
            "strides": None,
            # None: TensorRT orders the buffer with its own stream, torch must not synchronise.
            "stream": None,
        }


_ITEMSIZE: Dict[torch.dtype, int] = {}


def _itemsize(dtype: torch.dtype) -> int:
    size = _ITEMSIZE.get(dtype)
    if size is None:
        size = _ITEMSIZE[dtype] = torch.empty(0, dtype=dtype).element_size()
    return size


def extent(shape: Sequence[int], strides: Sequence[int]) -> int:
    """Elements spanned by a (shape, strides) view: 1 + sum((n - 1) * stride); 0 if empty."""
    if any(int(n) == 0 for n in shape):
        return 0
    return 1 + sum((int(n) - 1) * int(s) for n, s in zip(shape, strides))


def tensor_from_buffer(
    address: int,
    shape: Sequence[int],
    strides: Sequence[int],
    dtype: torch.dtype,
    device: torch.device,
    stream: int = 0,
) -> torch.Tensor:
    """A torch tensor viewing TensorRT's buffer at ``address`` (no copy)."""
    shape_t: Tuple[int, ...] = tuple(int(n) for n in shape)
    strides_t: Tuple[int, ...] = tuple(int(s) for s in strides)
    elements = extent(shape_t, strides_t)
    if elements == 0:
        return torch.empty(shape_t, dtype=dtype, device=device)
    raw = torch.as_tensor(
        _DeviceBytes(int(address), elements * _itemsize(dtype), stream), device=device
    )
    return raw.view(dtype).as_strided(shape_t, strides_t)


def trt_tensor_as_torch(
    t: Any, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """A ``tensorrt.plugin.Tensor`` (input or output of enqueue) as a torch tensor view."""
    return tensor_from_buffer(
        t.data_ptr, tuple(t.shape), tuple(t.strides), dtype, device
    )


def trt_device(address: Optional[int] = None) -> torch.device:
    """The CUDA device that owns TensorRT's buffer at ``address`` (the driver's pointer
    attribute), whatever the current device is; the current device when that cannot be asked.
    """
    if address:
        ordinal = pointer_device(int(address))
        if ordinal is not None:
            return torch.device("cuda", ordinal)
    return torch.device("cuda", torch.cuda.current_device())


_CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9  # cuda.h, CUpointer_attribute
_DRIVER: List[Any] = []


def pointer_device(address: int) -> Optional[int]:
    """Device ordinal of the device memory at ``address`` (None: not device memory, or no driver)."""
    if not _DRIVER:
        try:
            _DRIVER.append(ctypes.CDLL("libcuda.so.1").cuPointerGetAttribute)
        except OSError:
            _DRIVER.append(None)
    query = _DRIVER[0]
    if query is None:
        return None
    ordinal = ctypes.c_int(-1)
    status = query(
        ctypes.byref(ordinal),
        ctypes.c_int(_CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL),
        ctypes.c_uint64(address),
    )
    return int(ordinal.value) if status == 0 and ordinal.value >= 0 else None
