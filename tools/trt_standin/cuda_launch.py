"""Launch PTX through the CUDA driver, as TensorRT launches an AOT plugin's kernel (GPU only).

Parameters are passed exactly as TensorRT passes them to an AOT plugin kernel (assumption
``aot-launch-order``): the input pointers, the int32 extra arguments, the output pointers, and
nothing else. Modules are loaded once per (device, PTX) with ``cuModuleLoadData`` into the current
(PyTorch's primary) context.
"""

from __future__ import annotations

import ctypes
import hashlib
from typing import Any, Dict, Sequence, Tuple

_MODULES: Dict[Tuple[int, str, str], Any] = {}
_MAX_STATIC_SHARED = 48 * 1024


class CudaDriverError(RuntimeError):
    pass


def _driver() -> Any:
    try:
        from cuda.bindings import driver  # type: ignore[import-not-found]
    except ImportError:  # older cuda-python
        from cuda import cuda as driver  # type: ignore[import-not-found,no-redef]
    return driver


def _check(result: Any, what: str) -> Any:
    driver = _driver()
    err = result[0] if isinstance(result, tuple) else result
    if err != driver.CUresult.CUDA_SUCCESS:
        _, text = driver.cuGetErrorString(err)
        raise CudaDriverError(
            f"{what} failed: {err} ({text.decode() if text else '?'})"
        )
    if isinstance(result, tuple):
        return result[1] if len(result) == 2 else result[1:]
    return None


def load_function(ptx: bytes, name: str) -> Any:
    """The CUfunction ``name`` of ``ptx`` in the current context (cached)."""
    import torch

    driver = _driver()
    device = torch.cuda.current_device()
    torch.cuda.init()
    key = (device, hashlib.sha256(ptx).hexdigest(), name)
    if key not in _MODULES:
        data = ptx if ptx.endswith(b"\0") else ptx + b"\0"
        module = _check(driver.cuModuleLoadData(data), "cuModuleLoadData")
        function = _check(
            driver.cuModuleGetFunction(module, name.encode()),
            f"cuModuleGetFunction({name})",
        )
        _MODULES[key] = (module, function)
    return _MODULES[key][1]


def launch_ptx(
    ptx: bytes,
    name: str,
    *,
    grid: Sequence[int],
    block: Sequence[int],
    shared_mem: int,
    pointers_before: Sequence[int],
    int32_args: Sequence[int],
    pointers_after: Sequence[int],
    stream: int,
) -> None:
    """Launch ``name`` with (pointers_before..., int32_args..., pointers_after...)."""
    driver = _driver()
    function = load_function(ptx, name)
    if shared_mem > _MAX_STATIC_SHARED:
        _check(
            driver.cuFuncSetAttribute(
                function,
                driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                int(shared_mem),
            ),
            "cuFuncSetAttribute",
        )
    values = (
        tuple(int(p) for p in pointers_before)
        + tuple(int(v) for v in int32_args)
        + tuple(int(p) for p in pointers_after)
    )
    types = (
        (ctypes.c_void_p,) * len(pointers_before)
        + (ctypes.c_int32,) * len(int32_args)
        + (ctypes.c_void_p,) * len(pointers_after)
    )
    for v in int32_args:
        if not -(2**31) <= int(v) < 2**31:
            raise CudaDriverError(f"extra argument {v} does not fit in int32")
    _check(
        driver.cuLaunchKernel(
            function,
            int(grid[0]),
            int(grid[1]),
            int(grid[2]),
            int(block[0]),
            int(block[1]),
            int(block[2]),
            int(shared_mem),
            driver.CUstream(int(stream)),
            (values, types),
            0,
        ),
        f"cuLaunchKernel({name})",
    )
