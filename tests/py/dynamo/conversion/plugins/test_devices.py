"""Device plumbing (issue 12): the device of TensorRT's buffers, not the current device.

The classic multi-GPU bugs: a kernel launched on the current device instead of the buffers' one,
a stream of the wrong device, an AOT kernel compiled for one device and reused for another, a
cache shared across devices. These CPU-tier tests check the plumbing; the two-GPU runs
(two engines on cuda:0 and cuda:1, torchrun) need the device tool's two-GPU machine.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import ctypes

import pytest
import torch
import triton
import triton.language as tl
from support import registry as support_registry
from torch_tensorrt.dynamo.conversion.plugins import _aot, _buffers


def test_pointer_device_asks_the_driver(monkeypatch):
    """trt_device(address) is the device owning the memory, whatever the current device is."""
    calls = []

    def fake_cu_pointer_get_attribute(value, attribute, address):
        calls.append((attribute.value, address.value))
        ctypes.cast(value, ctypes.POINTER(ctypes.c_int))[0] = 1
        return 0  # CUDA_SUCCESS

    monkeypatch.setattr(_buffers, "_DRIVER", [fake_cu_pointer_get_attribute])
    assert _buffers.pointer_device(0x7F0000001000) == 1
    assert calls == [(9, 0x7F0000001000)]  # CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL

    def failing(value, attribute, address):
        return 1  # CUDA_ERROR_INVALID_VALUE: not device memory

    monkeypatch.setattr(_buffers, "_DRIVER", [failing])
    assert _buffers.pointer_device(0x1000) is None
    monkeypatch.setattr(_buffers, "_DRIVER", [None])  # no libcuda
    assert _buffers.pointer_device(0x1000) is None


@triton.jit
def _twice_kernel(X, Z, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * 2, mask=mask)


def _twice(x: torch.Tensor) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _twice_kernel[(triton.cdiv(n, 64),)](x, z, n, BLOCK=64)
    return z


@pytest.fixture
def twice(trt_backend, ops, handles, fresh_qdp_namespace):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname = f"{fresh_qdp_namespace}::twice"
    ops.custom_packet(qualname, _twice, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    return qualname


def test_aot_kernels_are_per_device(twice, monkeypatch):
    """Engines built for two devices of different compute capability in one process get a
    kernel each (the device is part of KernelKey), never the other device's kernel."""
    from torch_tensorrt.dynamo.conversion.plugins._identity import TensorSignature

    capability = {0: 90, 1: 80}
    monkeypatch.setattr(
        _aot, "target_capability", lambda device=None: capability[device or 0]
    )
    record = support_registry.record(twice)
    key = record.variant().call_key([TensorSignature(torch.float32, (None, 37))], ())
    program = record.programs.get_or_trace("t", record.spec, record.op, key)
    captured = record.captures.get(key, program)
    on_0 = _aot._compile(record, key, captured, device=0)
    on_1 = _aot._compile(record, key, captured, device=1)
    assert _aot._compile(record, key, captured, device=0) is on_0  # cached per device
    assert ".target sm_90" in on_0.ptx and ".target sm_80" in on_1.ptx
    devices = sorted(k.device for k in _aot.state_of(record).kernels)
    assert devices == [0, 1]


def test_engine_device_comes_from_the_compile_settings():
    class Device:
        gpu_id = 1

    class Settings:
        device = Device()

    class Ctx:
        compilation_settings = Settings()

    assert _aot.engine_device(Ctx()) == 1


@pytest.mark.skipif(
    torch.cuda.is_available(),
    reason="CPU tier: it names CPU tensors 'cpu:0' and 'cpu:1' as two devices; on a CUDA machine the "
    "stand-in host takes only device buffers, and test_multi_gpu.py runs two real devices",
)
@pytest.mark.parametrize("visible", [1, 2])
def test_jit_strategies_are_chosen_per_device(twice, monkeypatch, visible):
    """Two engines on two devices enqueue the same layer shapes: a strategy each, keyed by the
    device of TensorRT's buffers (a compiled Triton kernel is loaded per device). With one visible
    device the device is asked once per stream; with several at every enqueue, since a destroyed
    stream's handle can come back as a stream of another device."""
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from trt_standin.host import InputSpec, PluginHost

    namespace, name = twice.split("::")
    asked = []
    by_stream = {11: torch.device("cpu", 0), 22: torch.device("cpu", 1)}
    current_stream = []

    def device_of(address=None):
        stream = current_stream[-1] if current_stream else None
        asked.append(stream)
        return by_stream.get(stream, torch.device("cpu"))

    monkeypatch.setattr(_buffers, "trt_device", device_of)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: visible)
    itensor = trt.ITensor._make(None, "x", trt.float32, (-1, 37))
    built = PluginHost().build(
        getattr(getattr(trtp.op, namespace), name)(itensor),
        [InputSpec.dynamic(trt.float32, (1, 37), (4, 37), (64, 37))],
    )
    runtime_plugin = built.runtime()
    x = torch.randn(5, 37)
    for stream in (11, 22, 11, 22):
        current_stream.append(stream)
        (out,) = runtime_plugin.enqueue([x], stream=stream)
        torch.testing.assert_close(out, x * 2)
    record = support_registry.record(twice)
    keys = [k for k in record.runtime()._entries if k[1] == ((5, 37),)]
    assert sorted(str(k[3]) for k in keys) == ["cpu:0", "cpu:1"]
    per_stream = (
        1 if visible == 1 else 2
    )  # once per stream, or at each of its 2 enqueues
    assert asked.count(11) == per_stream and asked.count(22) == per_stream
