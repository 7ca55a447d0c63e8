"""Hand-written AOT implementations next to generated plugins (issue 8, item 6), on the GPU tier.

The op's body launches an NVRTC-compiled CUDA kernel by raw device addresses through cuda-python,
as upstream's nvrtc_aot_plugin tutorial does through cuda.core:

* with ``custom_op`` the capture runs the body on FakeTensors; it must stop at ``data_ptr()``
  before anything reaches the driver, and the CUDA context must stay healthy afterwards;
* with ``generate_plugin``, a hand-written ``@trtp.aot_impl`` returning the NVRTC PTX, then
  ``generate_plugin_converter`` (the tutorial's flow), the engine's layer is that hand-written kernel.

Both are compared with eager on fresh random inputs whose sizes are not multiples of the block.
"""

# No "from __future__ import annotations": custom_op infers schemas from real annotations.

from typing import Any, Tuple, Union

import pytest
import torch
from support import engines
from support import registry as support_registry

pytestmark = pytest.mark.gpu

BLOCK = 256
_SOURCE = r"""
extern "C" __global__ void sigmoid_nvrtc(const float* __restrict__ x, const int n, float* __restrict__ y) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 1.0f / (1.0f + __expf(-x[i]));
}
"""


def _nvrtc_ptx() -> bytes:
    """The kernel above compiled by NVRTC (cuda-python) for the current GPU."""
    from cuda.bindings import nvrtc

    major, minor = torch.cuda.get_device_capability()
    err, prog = nvrtc.nvrtcCreateProgram(_SOURCE.encode(), b"sigmoid.cu", 0, [], [])
    assert int(err) == 0, err
    (err,) = nvrtc.nvrtcCompileProgram(
        prog, 1, [f"--gpu-architecture=compute_{major}{minor}".encode()]
    )
    assert int(err) == 0, err
    err, size = nvrtc.nvrtcGetPTXSize(prog)
    ptx = b" " * size
    (err,) = nvrtc.nvrtcGetPTX(prog, ptx)
    assert int(err) == 0, err
    return ptx.rstrip(b"\x00 ")


def _define_sigmoid(ops: Any, qualname: str) -> Any:
    from trt_standin.cuda_launch import launch_ptx

    ptx = _nvrtc_ptx()

    def sigmoid(X: torch.Tensor) -> torch.Tensor:
        assert X.is_cuda and X.dtype == torch.float32
        Y = torch.empty_like(X)
        n = X.numel()
        launch_ptx(
            ptx,
            "sigmoid_nvrtc",
            grid=(max(1, (n + BLOCK - 1) // BLOCK), 1, 1),
            block=(BLOCK, 1, 1),
            shared_mem=0,
            pointers_before=[X.data_ptr()],
            int32_args=[n],
            pointers_after=[Y.data_ptr()],
            stream=torch.cuda.current_stream().cuda_stream,
        )
        return Y

    packet = ops.custom_packet(qualname, sigmoid, lambda X: torch.empty_like(X))
    return packet, ptx


def _context_is_healthy() -> None:
    """An illegal address launched earlier would surface here (the context is sticky-broken)."""
    torch.cuda.synchronize()
    a = torch.randn(1000, device="cuda")
    torch.testing.assert_close(
        (a * 2).sum().item(), a.sum().item() * 2, rtol=1e-4, atol=1e-3
    )


def _compile(packet: Any, x: torch.Tensor, dynamic: bool) -> Any:
    import torch_tensorrt

    class Model(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return packet(x) * 2

    spec = (
        torch_tensorrt.Input(
            min_shape=(1, x.shape[1]),
            opt_shape=tuple(x.shape),
            max_shape=(64, x.shape[1]),
        )
        if dynamic
        else x
    )
    return torch_tensorrt.compile(
        Model().eval(), ir="dynamo", inputs=[spec], min_block_size=1
    )


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_custom_op_on_a_body_that_launches_by_address(
    trt_backend, ops, handles, dynamic
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    qualname = f"hw_gpu_{int(dynamic)}::sigmoid"
    packet, _ = _define_sigmoid(ops, qualname)
    handles.append(custom_op(qualname))
    x = torch.randn(7, 333, device="cuda")
    compiled = _compile(packet, x, dynamic)
    _context_is_healthy()
    for rows in (7, 13) if dynamic else (7,):
        fresh = torch.randn(rows, 333, device="cuda")
        torch.testing.assert_close(compiled(fresh), torch.sigmoid(fresh) * 2)
    _context_is_healthy()
    reasons = plugin_status(qualname).direct_launch_unavailable
    assert any("takes a tensor's data pointer" in r for r in reasons.values()), reasons
    assert set(support_registry.record(qualname).runtime().chosen.values()) == {"copy"}


def test_generate_plugin_then_handwritten_nvrtc_aot_impl(trt_backend, ops, handles):
    """Upstream's NVRTC tutorial flow, written for this suite: the layer is the hand-written kernel."""
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion.plugins import (
        generate_plugin,
        generate_plugin_converter,
    )

    packet, ptx = _define_sigmoid(ops, "hw_gpu_nvrtc::sigmoid")
    handles.append(generate_plugin("hw_gpu_nvrtc::sigmoid"))

    @trtp.aot_impl("hw_gpu_nvrtc::sigmoid")
    def sigmoid_aot(
        X: trtp.TensorDesc, outputs: Tuple[trtp.TensorDesc], tactic: int
    ) -> Tuple[
        Union[str, bytes], Union[str, bytes], trtp.KernelLaunchParams, trtp.SymExprs
    ]:
        n = X.shape_expr.numel()
        launch = trtp.KernelLaunchParams()
        launch.grid_x = trtp.cdiv(n, BLOCK)
        launch.block_x = BLOCK
        launch.shared_mem = 0
        extras = trtp.SymIntExprs(1)
        extras[0] = trtp.SymInt32(n)
        return "sigmoid_nvrtc", ptx.decode(), launch, extras

    handles.append(
        generate_plugin_converter("hw_gpu_nvrtc::sigmoid", supports_dynamic_shapes=True)
    )
    x = torch.randn(5, 1001, device="cuda")
    compiled = _compile(packet, x, dynamic=True)
    assert support_registry.implementations("hw_gpu_nvrtc::sigmoid") == {
        "sigmoid": "AOT (hand-written)"
    }
    assert [(b.name, b.kind) for b in engines.built_plugins(compiled)] == [
        ("sigmoid", "aot")
    ]
    for rows in (5, 1, 63):
        fresh = torch.randn(rows, 1001, device="cuda")
        torch.testing.assert_close(
            compiled(fresh), torch.sigmoid(fresh) * 2, rtol=1e-5, atol=1e-5
        )
    _context_is_healthy()


def test_handwritten_triton_aot_impl_runs_with_its_scratch_parameters_removed(
    trt_backend, ops, fresh_qdp_namespace, handles
):
    """Upstream's aot_plugin tutorial flow (hand-written register + aot_impl returning
    triton.compile PTX, then generate_plugin_converter), run through the driver."""
    from support import aot_impls, kernels8
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin_converter
    from trt_standin.host import ptx_entry_param_count

    namespace = fresh_qdp_namespace
    major, minor = torch.cuda.get_device_capability()

    def add_one(x: torch.Tensor) -> torch.Tensor:
        return kernels8.add_one(x)

    packet = ops.custom_packet(
        f"{namespace}::add_one", add_one, lambda x: torch.empty_like(x)
    )
    aot_impls.handwritten_add_one(
        namespace,
        jit=False,
        ptx_of=lambda: kernels8.add_one_ptx(arch=major * 10 + minor),
    )
    handles.append(
        generate_plugin_converter(f"{namespace}::add_one", use_aot_if_available=True)
    )
    x = torch.randn(3, 250, device="cuda")
    import torch_tensorrt

    class Model(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return packet(x) - 1

    compiled = torch_tensorrt.compile(
        Model().eval(), ir="dynamo", inputs=[x], min_block_size=1
    )
    (built,) = engines.built_plugins(compiled)
    assert (
        built.kind == "aot"
        and ptx_entry_param_count(built.aot.ptx, built.aot.name) == 3
    )
    for _ in range(3):
        fresh = torch.randn(3, 250, device="cuda")
        torch.testing.assert_close(compiled(fresh), fresh, rtol=1e-6, atol=1e-6)
    _context_is_healthy()
