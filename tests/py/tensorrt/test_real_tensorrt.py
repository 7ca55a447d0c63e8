"""Checks that only mean something against the real TensorRT library (the ``tensorrt`` tier).

Run them where TensorRT imports: ``TRT_STANDIN=off python -m pytest tests -m tensorrt`` on a CUDA
machine. Here (no TensorRT library) they are collected and skipped with the reason; the rest of the
suite runs unchanged against real TensorRT too (see README, "Use it with real TensorRT").
"""

# No "from __future__ import annotations": custom_op infers schemas from real annotations.

import pytest
import torch

pytestmark = [pytest.mark.tensorrt, pytest.mark.gpu]


def _scale_op(ops, qualname):
    def scale(x: torch.Tensor, k: float = 2.0) -> torch.Tensor:
        return x * k

    return ops.custom_packet(qualname, scale, lambda x, k=2.0: torch.empty_like(x))


def test_generated_plugins_are_in_tensorrts_native_creator_registry(ops, handles):
    """QDP registers a creator with libnvinfer's registry; removing the handle deregisters it."""
    import tensorrt as trt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    _scale_op(ops, "real_trt_1::scale")
    handle = custom_op("real_trt_1::scale")
    registry = trt.get_plugin_registry()
    assert registry.get_creator("scale", "1", "real_trt_1") is not None
    handle.remove()
    assert registry.get_creator("scale", "1", "real_trt_1") is None


def test_engine_inspector_lists_the_plugin_layer(ops, handles):
    """The built engine holds the plugin layer under its deterministic name."""
    import json

    import tensorrt as trt
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    packet = _scale_op(ops, "real_trt_2::scale")
    handles.append(custom_op("real_trt_2::scale"))

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x, 3.0) + 1

    x = torch.randn(4, 8, device="cuda")
    compiled = torch_tensorrt.compile(
        Model().eval(),
        inputs=[x],
        min_block_size=1,
        use_python_runtime=True,
        profiling_verbosity=trt.ProfilingVerbosity.DETAILED,
    )
    torch.testing.assert_close(compiled(x), x * 3 + 1)
    engines = [m.engine for m in compiled.modules() if hasattr(m, "engine")]
    inspector = engines[0].create_engine_inspector()
    layers = json.loads(
        inspector.get_engine_information(trt.LayerInformationFormat.JSON)
    )["Layers"]
    assert any("real_trt_2::scale/" in json.dumps(layer) for layer in layers), layers
