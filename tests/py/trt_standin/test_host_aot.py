"""A hand-written AOT plugin (register + aot_impl compiling a Triton kernel) on the plugin host."""

# No "from __future__ import annotations": QDP inspects real annotation objects.

import pytest
import torch
from support.handwritten import define_double_aot, entry_params

pytestmark = pytest.mark.standin


@pytest.fixture
def double(fresh_qdp_namespace):
    return define_double_aot(fresh_qdp_namespace)


def _build(qualname, spec):
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from trt_standin.host import PluginHost

    namespace, name = qualname.split("::")
    itensor = trt.ITensor._make(None, "x", trt.float32, spec.shape)
    factory = getattr(getattr(trtp.op, namespace), name)(itensor, block=256)
    return PluginHost().build(factory, [spec], aot=True)


def test_aot_build_and_launch_parameters(double):
    import tensorrt as trt
    from trt_standin.host import InputSpec

    built = _build(double, InputSpec.dynamic(trt.float32, (1, 3), (64, 3), (4096, 3)))
    assert built.kind == "aot"
    assert built.fields == []  # AOT plugins serialise no attributes
    kernel = built.aot
    assert kernel.name == "double_kernel"
    params = entry_params(kernel.ptx.decode(), kernel.name)
    # TensorRT's order: input pointer, int32 extra, output pointer; nothing after.
    assert [p.split()[1] for p in params] == [".u64", ".u32", ".u64"]
    for rows in (
        1,
        7,
        85,
        4096,
    ):  # 3 * rows elements: not multiples of 256 except by chance
        config = kernel.launch_config([(rows, 3)])
        n = rows * 3
        assert config["grid_x"] == -(-n // 256)
        assert (config["grid_y"], config["grid_z"]) == (1, 1)
        assert config["block_x"] == 128  # 4 warps
        assert config["extra_args"] == [n]


@pytest.mark.gpu
def test_aot_kernel_launches_through_the_driver(double):
    import tensorrt as trt
    from trt_standin.host import InputSpec

    built = _build(double, InputSpec.dynamic(trt.float32, (1, 3), (64, 3), (4096, 3)))
    runtime = built.runtime()
    stream = torch.cuda.Stream()
    for rows in (1, 85, 4096):
        x = torch.randn(rows, 3, device="cuda")
        out = torch.full_like(x, float("nan"))
        # x and the NaN fill are queued on the current stream: TensorRT's stream must wait for them.
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            runtime.enqueue([x], [out], stream=stream.cuda_stream)
        stream.synchronize()
        torch.testing.assert_close(out, (x.double() * 2).float())
