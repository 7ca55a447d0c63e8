"""Patches of CUDA-only calls for a CPU-only torch: the one place where they live. Tests only.

Released Torch-TensorRT assumes a CUDA device everywhere: it asks for the device capability at
import, for device properties when building and loading engines, for free memory before compiling,
for the current CUDA stream when executing, and moves inputs with ``.cuda()``. On a machine whose
torch has no CUDA, the test suite (and the example runner) call ``apply()`` before importing
torch_tensorrt; it replaces exactly those calls with CPU answers (a device "cuda:0" that is really the
CPU, stream handle 0). ``apply()`` refuses to run where CUDA is available, and nothing here is ever
imported by the library.
"""

from __future__ import annotations

import contextlib
import logging
import types
from typing import Any, Callable, Dict, Iterator, Tuple

import torch

#: What apply() replaced: "module.attribute" -> why.
PATCHED: Dict[str, str] = {}
_ORIGINALS: Dict[Tuple[Any, str], Any] = {}


def _patch(owner: Any, name: str, value: Any, why: str) -> None:
    key = (owner, name)
    if key not in _ORIGINALS:
        _ORIGINALS[key] = getattr(owner, name, None)
    setattr(owner, name, value)
    owner_name = getattr(owner, "__name__", type(owner).__name__)
    PATCHED[f"{owner_name}.{name}"] = why


class _FakeStream:
    """A CUDA stream stand-in: handle 0, nothing to wait for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.cuda_stream = 0
        self.device = torch.device("cpu")

    def synchronize(self) -> None:
        pass

    def wait_stream(self, other: Any) -> None:
        pass

    def wait_event(self, event: Any) -> None:
        pass

    def record_event(self, event: Any = None) -> Any:
        return _FakeEvent()

    def query(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _FakeStream)

    def __hash__(self) -> int:
        return 0


class _FakeEvent:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def record(self, stream: Any = None) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def wait(self, stream: Any = None) -> None:
        pass

    def elapsed_time(self, other: Any) -> float:
        return 0.0

    def query(self) -> bool:
        return True


@contextlib.contextmanager
def _stream_context(stream: Any = None) -> Iterator[None]:
    yield


def _device_properties(device: Any = None) -> Any:
    return types.SimpleNamespace(
        name="CPU (TensorRT stand-in)",
        major=9,
        minor=0,
        total_memory=16 << 30,
        multi_processor_count=1,
        is_integrated=False,
        uuid="00000000-0000-0000-0000-000000000000",
        L2_cache_size=0,
    )


def _patch_function_everywhere(
    module_name: str, name: str, replacement: Callable[..., Any], why: str
) -> None:
    """Replace a function in its module and in every loaded torch_tensorrt module that imported it."""
    import importlib
    import sys

    original = getattr(importlib.import_module(module_name), name)
    for mod_name, mod in list(sys.modules.items()):
        if (
            mod_name == "torch_tensorrt" or mod_name.startswith("torch_tensorrt.")
        ) and getattr(mod, name, None) is original:
            _patch(mod, name, replacement, why)


class _CudaAllocatingOnCpu:
    """``torch.cuda`` as seen by one runtime module: current_device() is the CPU."""

    def current_device(self) -> torch.device:
        return torch.device("cpu")

    def __getattr__(self, name: str) -> Any:
        return getattr(torch.cuda, name)


class _TorchAllocatingOnCpu:
    """``torch`` as seen by one runtime module (see _CudaAllocatingOnCpu); all else is torch."""

    cuda = _CudaAllocatingOnCpu()

    def __getattr__(self, name: str) -> Any:
        return getattr(torch, name)


def _allocate_on_cpu_in(module_name: str) -> None:
    """Runtime modules allocate with ``device=torch.cuda.current_device()``: make that the CPU there
    only (globally current_device() stays 0, which engines serialise as the device id).
    """
    import importlib

    module = importlib.import_module(module_name)
    _patch(
        module,
        "torch",
        _TorchAllocatingOnCpu(),
        "allocations on device=torch.cuda.current_device()",
    )


def apply_torch_tensorrt() -> None:
    """Patch the released torch_tensorrt's CUDA-only helpers (imports torch_tensorrt)."""
    import torch_tensorrt  # noqa: F401
    from torch_tensorrt._Device import Device

    original_to = Device.to

    def device_to(self: Any, t: type) -> Any:
        return torch.device("cpu") if t == torch.device else original_to(self, t)

    _patch(
        Device,
        "to",
        device_to,
        "tracer / lowering / runtime turn Device(gpu_id) into torch.device",
    )
    from torch_tensorrt.dynamo.runtime import _TorchTensorRTModule as module_file

    module_class = module_file.TorchTensorRTModule
    if hasattr(module_class, "_resolve_target_device"):  # 2.13
        _patch(
            module_class,
            "_resolve_target_device",
            lambda self: torch.device("cpu"),
            "engine target device",
        )
    for name in (
        "torch_tensorrt.dynamo.runtime._TRTEngine",  # 2.13
        "torch_tensorrt.dynamo.runtime._PythonTorchTensorRTModule",  # 2.11
    ):
        try:
            _allocate_on_cpu_in(name)
        except ImportError:
            pass
    # The runtime warns on every call that inputs are "not on a CUDA device" and "moved to CUDA":
    # here that is what the patches above arrange (CPU tensors are the engine's buffers), and the
    # message would be wrong; other messages of that logger pass.
    logging.getLogger(module_file.__name__).addFilter(_NOT_ON_CUDA)


class _NotOnCudaFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Moving it to CUDA automatically" not in record.getMessage()


_NOT_ON_CUDA = _NotOnCudaFilter()


def _host_tensor_from_buffer(
    address: int,
    shape: Any,
    strides: Any,
    dtype: torch.dtype,
    device: Any,
    stream: int = 0,
) -> torch.Tensor:
    """The plugin package's buffer wrapper for host pointers (the stand-in's buffers on a CPU)."""
    import ctypes

    from torch_tensorrt.dynamo.conversion.plugins import _buffers

    shape_t = tuple(int(n) for n in shape)
    strides_t = tuple(int(s) for s in strides)
    elements = _buffers.extent(shape_t, strides_t)
    if elements == 0:
        return torch.empty(shape_t, dtype=dtype)
    nbytes = elements * torch.empty(0, dtype=dtype).element_size()
    raw = torch.frombuffer(
        (ctypes.c_uint8 * nbytes).from_address(int(address)), dtype=torch.uint8
    )
    return raw.view(dtype).as_strided(shape_t, strides_t)


def apply_plugins_package() -> None:
    """The generated plugins wrap TensorRT's CUDA buffers; here the stand-in's buffers are host memory."""
    try:
        from torch_tensorrt.dynamo.conversion.plugins import _buffers
    except ImportError:
        return
    _patch(
        _buffers,
        "trt_device",
        lambda address=None: torch.device("cpu"),
        "TensorRT's buffers are host memory here",
    )
    _patch(
        _buffers,
        "tensor_from_buffer",
        _host_tensor_from_buffer,
        "wrap host pointers instead of CUDA pointers",
    )


def apply_triton_interpreter() -> None:
    """Float kernel arguments reach interpreted kernels as fp32 scalars, as compiled launches pass them.

    Triton's launcher types a Python float argument ``fp32`` and the kernel sees a typed scalar
    (``eps.to(tl.float32)`` works); Triton 3.6's interpreter hands the kernel the Python float, so
    kernels written for the GPU (liger-kernel's norms, for one) fail there with "'float' object has
    no attribute 'to'". This wraps the interpreter's argument conversion so a float becomes the
    fp32 scalar a compiled launch passes. Where the interpreter already converts floats, nothing
    changes.
    """
    try:
        import numpy as np
        import triton.language as tl
        from triton.runtime import interpreter
    except ImportError:
        return
    original = getattr(interpreter, "_implicit_cvt", None)
    if original is None or getattr(original, "_trt_standin_floats", False):
        return

    def implicit_cvt(arg: Any) -> Any:
        if isinstance(arg, float):
            handle = interpreter.TensorHandle(
                np.array([arg], dtype=np.float32), tl.float32
            )
            return tl.tensor(handle, tl.float32)
        return original(arg)

    implicit_cvt._trt_standin_floats = True  # type: ignore[attr-defined]
    _patch(
        interpreter,
        "_implicit_cvt",
        implicit_cvt,
        "Triton's interpreter passes float arguments as Python floats; compiled launches pass fp32",
    )
    _apply_autotuner_timing()


def _apply_autotuner_timing() -> None:
    """Triton's autotuner times configs with the CUDA driver's benchmarker, which the interpreter
    does not have ("0 active drivers"); on a CPU it times each interpreted run by wall clock.
    """
    import time

    from triton.runtime.autotuner import Autotuner

    original = Autotuner.__dict__.get("do_bench")
    if original is None or getattr(
        getattr(original, "fget", None), "_trt_standin_timing", False
    ):
        return

    def wall_clock(kernel_call: Callable[[], Any], quantiles: Any = None) -> Any:
        start = time.perf_counter()
        kernel_call()
        ms = (time.perf_counter() - start) * 1e3
        return [ms] * len(quantiles) if quantiles else ms

    def do_bench(self: Any) -> Any:
        if self._do_bench is not None:
            return self._do_bench
        return wall_clock

    prop = property(do_bench)
    prop.fget._trt_standin_timing = True  # type: ignore[attr-defined]
    _patch(
        Autotuner,
        "do_bench",
        prop,
        "Triton's autotuner benchmarks through the CUDA driver; interpreted configs are timed by wall clock",
    )


def apply() -> Dict[str, str]:
    """Patch torch's CUDA-only entry points with CPU answers; returns what was patched."""
    if torch.cuda.is_available():
        raise RuntimeError(
            "trt_standin.cpu_torch.apply() is for CPU-only torch; this torch has CUDA"
        )
    cuda = torch.cuda
    why_cap = "Torch-TensorRT asks the device capability at import (is_thor, is_tegra)"
    _patch(cuda, "get_device_capability", lambda device=None: (9, 0), why_cap)
    _patch(
        cuda,
        "get_device_properties",
        _device_properties,
        "device info for engines / settings",
    )
    _patch(
        cuda,
        "get_device_name",
        lambda device=None: "CPU (TensorRT stand-in)",
        "device info",
    )
    _patch(cuda, "current_device", lambda: 0, "default device in settings and runtime")
    _patch(cuda, "device_count", lambda: 1, "device checks in the runtime")
    _patch(cuda, "set_device", lambda device: None, "runtime selects its device")
    _patch(
        cuda,
        "mem_get_info",
        lambda device=None: (8 << 30, 16 << 30),
        "memory check before compile",
    )
    _patch(
        cuda, "synchronize", lambda device=None: None, "runtime synchronises streams"
    )
    _patch(
        cuda,
        "current_stream",
        lambda device=None: _FakeStream(),
        "runtime takes the caller stream",
    )
    _patch(
        cuda,
        "default_stream",
        lambda device=None: _FakeStream(),
        "runtime compares with default",
    )
    _patch(cuda, "Stream", _FakeStream, "runtime creates its own stream")
    _patch(cuda, "ExternalStream", _FakeStream, "runtime wraps stream handles")
    _patch(cuda, "Event", _FakeEvent, "runtime records events")
    _patch(cuda, "stream", _stream_context, "runtime enters a stream context")
    _patch(
        torch.Tensor,
        "cuda",
        lambda self, *a, **k: self,
        "runtime moves inputs with .cuda()",
    )
    if not hasattr(torch._C, "_CudaDeviceProperties"):
        _patch(
            torch._C,
            "_CudaDeviceProperties",
            type(_device_properties()),
            "annotation in runtime/_utils",
        )
    apply_torch_tensorrt()
    apply_plugins_package()
    apply_triton_interpreter()
    return dict(PATCHED)


def restore() -> None:
    """Undo apply()."""
    for (owner, name), value in _ORIGINALS.items():
        setattr(owner, name, value)
    _ORIGINALS.clear()
    PATCHED.clear()
