"""The seed example, end to end: custom_op then torch_tensorrt.compile, 300 runs against eager."""

import pytest
import torch
from support import registry as support_registry
from support import seed


def _run_seed(device: str, **custom_op_kwargs) -> dict:
    import torch_tensorrt

    seed.define(device)
    handle = torch_tensorrt.dynamo.conversion.plugins.custom_op(
        "torchtrt_ex::elementwise_scale_mul",
        supports_dynamic_shapes=True,
        **custom_op_kwargs,
    )
    try:
        my_model = seed.MyModel().to(device).eval()
        m = torch.randint(0, 5, (64, 64), device=device, dtype=torch.float)
        n = torch.randint(0, 5, (64, 64), device=device, dtype=torch.float)
        with torch_tensorrt.logging.errors():
            model_trt = torch_tensorrt.compile(
                my_model, inputs=[m, n], min_block_size=1
            )
            with torch.no_grad():
                for _ in range(300):
                    res = model_trt(m, n)
                    assert torch.allclose(res, my_model(m, n))
        # Fresh random inputs too (not only the small integers of the seed).
        x, y = torch.randn(64, 64, device=device), torch.randn(64, 64, device=device)
        torch.testing.assert_close(model_trt(x, y), x * (x + y) * 2 + 0.5)
        record = support_registry.record("torchtrt_ex::elementwise_scale_mul")
        runtime = record.runtime()
        stats = [
            getattr(entry.run, "stats", None) for entry in runtime._entries.values()
        ]
        graph_targets = [
            n.target for n in model_trt.graph.nodes if n.op == "call_function"
        ]
        return {
            "strategies": set(record.runtime().chosen.values()),
            "graph_breaks": [
                t for t in graph_targets if "elementwise_scale_mul" in str(t)
            ],
            "aot_unavailable": support_registry.aot_reasons(record),
            "implementations": set(support_registry.implementations(record).values()),
            "launch_stats": [s for s in stats if s is not None],
        }
    finally:
        handle.remove()


@pytest.mark.gpu
def test_seed_example_on_gpu():
    result = _run_seed("cuda")
    assert result["graph_breaks"] == []
    assert result["aot_unavailable"] == {} and result["implementations"] == {
        "AOT (automatic)"
    }  # the engine's plugin is AOT


@pytest.mark.gpu
def test_seed_example_on_gpu_jit():
    result = _run_seed("cuda", use_aot_if_available=False)
    assert result["graph_breaks"] == []
    # The body is a single Triton launch: enqueue launches it on TensorRT's buffers, no copy,
    # and after the first (compiling) launch straight through Triton's compiled launcher.
    assert result["strategies"] == {"launch"}
    (stats,) = result["launch_stats"]
    assert stats["dispatched"] == 1 and stats["direct"] >= 300, stats


def test_seed_example_on_cpu(device):
    if device != "cpu":
        pytest.skip("the CPU variant of the seed runs where torch has no CUDA")
    result = _run_seed("cpu")
    assert result["graph_breaks"] == []
    # The body is a single Triton launch: enqueue launches it on TensorRT's buffers, no copy.
    assert result["strategies"] == {"launch"}
