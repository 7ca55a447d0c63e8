"""CUDA graphs: Torch-TensorRT's CUDA-graph runtime with engines holding our plugins (issue 10, item 4).

``torch_tensorrt.runtime.enable_cudagraphs`` captures ``execute_async_v3`` into a CUDA graph on the
first call of every input shape and replays it afterwards. The plugins' enqueue runs inside that
capture: the JIT direct launch must do nothing a capture forbids (no allocation, no
synchronisation, no host read of device data), and what it cannot do there is done before.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import pytest
import torch
import triton
import triton.language as tl
from support import child, engines, models
from support import registry as support_registry


@triton.jit
def _axpb_kernel(X, Z, n, a, b, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * a + b, mask=mask)


def _axpb(x: torch.Tensor, a: float, b: float) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _axpb_kernel[(triton.cdiv(n, 128),)](x, z, n, a, b, BLOCK=128)
    return z


COLS = 37


def _inputs():
    import torch_tensorrt

    return [
        torch_tensorrt.Input(
            min_shape=(1, COLS), opt_shape=(8, COLS), max_shape=(300, COLS)
        )
    ]


def _replay(compiled, reference, rows_seq):
    import torch_tensorrt

    with torch_tensorrt.runtime.enable_cudagraphs(compiled) as graphed:
        for rows in rows_seq:
            x = torch.randn(rows, COLS, device="cuda")
            got = graphed(x)
            torch.testing.assert_close(got, reference(x))
            # A replay reads the new input: same shape, other values.
            x2 = torch.randn(rows, COLS, device="cuda")
            torch.testing.assert_close(graphed(x2), reference(x2))


@pytest.mark.gpu
@pytest.mark.parametrize("aot", [False, True], ids=["jit", "aot"])
def test_replayed_graph_matches_eager(
    aot, trt_backend, ops, handles, fresh_qdp_namespace
):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    qualname = f"{fresh_qdp_namespace}::axpb"
    packet = ops.custom_packet(qualname, _axpb, lambda x, a, b: torch.empty_like(x))
    handles.append(custom_op(qualname, use_aot_if_available=aot))

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(torch.relu(x), 0.5, -1.25) * 3

    model = Model().eval()
    compiled = models.compile_model(model, _inputs())
    (built,) = engines.built_plugins(compiled)
    assert built.kind == ("aot" if aot else "jit")
    # 16 and 32 rows: n = rows * 37 is a multiple of 16, a Triton specialisation the build's enqueue
    # (8 rows) did not compile, so its first launch compiles and loads inside the capture.
    _replay(compiled, model, (5, 5, 129, 1, 16, 129, 300, 32))
    if not aot:
        status = plugin_status(qualname)
        assert set(status.jit_strategies.values()) == {"launch"}
        graphs = status.cuda_graphs
        assert graphs.keys() == status.jit_strategies.keys()
        assert all(v.startswith("capture-safe") for v in graphs.values()), graphs
        # shapes the build never enqueued are first seen inside Torch-TensorRT's capture
        assert any("chosen inside a CUDA graph capture" in v for v in graphs.values())


def test_plugin_status_says_which_strategies_a_capture_allows(
    trt_backend, ops, handles, fresh_qdp_namespace, device, monkeypatch
):
    """plugin_status(op).cuda_graphs: the captured Triton launch is capture-safe; a body run in
    PyTorch ('copy') is not known to be; a strategy chosen inside a capture says so."""
    from torch_tensorrt.dynamo.conversion.plugins import (
        _runtime,
        custom_op,
        plugin_status,
    )

    launch_name, copy_name = (f"{fresh_qdp_namespace}::{n}" for n in ("axpb", "cube"))
    axpb = ops.custom_packet(launch_name, _axpb, lambda x, a, b: torch.empty_like(x))

    def cube(x: torch.Tensor) -> torch.Tensor:
        return x * x * x

    cube_op = ops.custom_packet(copy_name, cube, lambda x: torch.empty_like(x))
    handles.append(custom_op(launch_name, use_aot_if_available=False))
    handles.append(custom_op(copy_name))

    class Model(torch.nn.Module):
        def forward(self, x):
            return cube_op(axpb(x, 0.5, -1.25))

    model = Model().eval()
    compiled = models.compile_model(model, _inputs())
    x = torch.randn(5, COLS, device=device)
    torch.testing.assert_close(compiled(x), model(x))

    def at(qualname, rows):
        graphs = plugin_status(qualname).cuda_graphs
        (found,) = [v for k, v in graphs.items() if f"[({rows}, {COLS})" in k]
        return found

    launch, copied = at(launch_name, 5), at(copy_name, 5)
    assert launch.startswith("capture-safe: the captured Triton launch"), launch
    assert copied.startswith("not known to be capture-safe: 'copy'"), copied
    assert "chosen inside" not in launch + copied
    # The choice for a new shape made while TensorRT's stream is being captured is reported.
    monkeypatch.setattr(_runtime.JitRuntime, "capturing", lambda self: True)
    x = torch.randn(11, COLS, device=device)
    torch.testing.assert_close(compiled(x), model(x))
    assert at(launch_name, 11).endswith("(chosen inside a CUDA graph capture)")
    assert at(launch_name, 5) == launch


def test_a_capture_failure_is_reported_until_the_strategy_is_chosen_again(
    trt_backend, ops, handles, fresh_qdp_namespace, device, monkeypatch
):
    """An enqueue a capture made fail is reported, and the next enqueue of that identity chooses
    its strategy again, so plugin_status does not keep showing the failure after it ran.
    """
    from torch_tensorrt.dynamo.conversion.plugins import (
        _runtime,
        custom_op,
        plugin_status,
    )

    failing = {"on": False}

    def twice(x: torch.Tensor) -> torch.Tensor:
        if failing["on"]:
            raise RuntimeError("operation not permitted when stream is capturing")
        return x * 2

    qualname = f"{fresh_qdp_namespace}::twice"
    packet = ops.custom_packet(qualname, twice, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    x = torch.randn(3, COLS, device=device)
    compiled = models.compile_fn(lambda t: packet(t) + 1, [x])
    monkeypatch.setattr(_runtime.JitRuntime, "capturing", lambda self: True)
    failing["on"] = True
    with pytest.raises(Exception, match="inside a CUDA graph capture"):
        compiled(x)
    (failed,) = plugin_status(qualname).cuda_graphs.values()
    assert failed.startswith("failed inside a CUDA graph capture: RuntimeError"), failed
    failing["on"] = False
    torch.testing.assert_close(compiled(x), x * 2 + 1)
    (now,) = plugin_status(qualname).cuda_graphs.values()
    assert now.startswith("not known to be capture-safe: 'copy'"), now
    assert now.endswith("(chosen inside a CUDA graph capture)"), now


@pytest.mark.gpu
def test_autotuned_jit_needs_its_tuning_outside_the_capture():
    """Triton's autotuner benchmarks on the first enqueue of a shape new to its cache, which a
    capture forbids: that enqueue fails with the reason and the fix (before touching the GPU), and
    after one call of that shape outside the capture the graph is captured and replayed. In a
    child process (support.cudagraph_failures): a failed capture poisons torch's CUDA generator.
    """
    facts = child.run_json("cudagraph_failures.py", "FAILURE", ["autotune"])
    assert "cannot enqueue inside a CUDA graph capture" in facts["error"], facts
    assert (
        "Run the compiled module once for these shapes before capturing"
        in facts["error"]
    )
    assert facts["after_warmup"] is True
    assert any(
        g.startswith("failed inside a CUDA graph capture") for g in facts["graphs"]
    ), facts["graphs"]


@pytest.mark.gpu
def test_op_body_breaking_the_capture_names_the_cause():
    """An op whose body reads device data on the host cannot run inside a capture; the error
    says it ran inside a CUDA graph capture, which strategy ran the body, and what to do.
    """
    facts = child.run_json("cudagraph_failures.py", "FAILURE", ["host_sync"])
    assert "inside a CUDA graph capture" in facts["error"], facts
    assert "'copy'" in facts["error"] and "single Triton launch" in facts["error"]
    assert any(
        g.startswith("failed inside a CUDA graph capture") for g in facts["graphs"]
    ), facts["graphs"]
