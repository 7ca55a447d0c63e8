"""TensorRT buffers as torch tensors, without __cuda_array_interface__'s dtype limits.

``tensorrt.plugin.Tensor.__cuda_array_interface__`` refuses BF16, FP8 and INT4 (defect 10 in
../shared/notes/no-tensorrt-here.md). A TensorRT buffer is plain device memory, so it is wrapped
here as bytes (``|u1``) and viewed as the tensor's dtype and strides: any dtype torch has works.
"""

from __future__ import annotations

from typing import Any, Dict, Sequence, Tuple

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


def trt_device() -> torch.device:
    """The device TensorRT executes on: the current CUDA device."""
    return torch.device("cuda", torch.cuda.current_device())
