"""Data-dependent output shapes (issue 10, item 1).

A fake kernel that sizes an output with ``torch.library.get_ctx().new_dynamic_size()`` (a
nonzero-like or "keep the values above a threshold" op) becomes the plugin ``ns::op-sizes-N``:
the output is allocated at the size's upper bound, a QDP size tensor (``trtp.size_tensor``)
carries the actual size, and the engine uses Torch-TensorRT's output allocator. The bound comes
from the fake kernel: ``torch._check(n <= ...)`` or ``new_dynamic_size(max=...)``; without one the
node stays in PyTorch and the message says which check to add. Before, every such op stayed in
PyTorch ("output 0's shape depends on data").
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import pytest
import torch
from support import engines, models
from support import registry as support_registry


def _keep(x: torch.Tensor, t: float) -> torch.Tensor:
    return x[x > t]


def _fake_checked(x, t):
    n = torch.library.get_ctx().new_dynamic_size()
    torch._check(n <= x.shape[0])
    return x.new_empty(n)


def _fake_max(x, t):
    return x.new_empty(torch.library.get_ctx().new_dynamic_size(max=1000))


def _fake_unbounded(x, t):
    return x.new_empty(torch.library.get_ctx().new_dynamic_size())


def _fake_doubled(x, t):
    n = torch.library.get_ctx().new_dynamic_size()
    torch._check(n <= x.shape[0])
    return x.new_empty(2 * n)


def _keep_op(ops, handles, namespace, fake):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname = f"{namespace}::keep"
    packet = ops.custom_packet(qualname, _keep, fake)
    handles.append(custom_op(qualname))
    return qualname, packet


class _Model(torch.nn.Module):
    def __init__(self, packet, threshold):
        super().__init__()
        self.packet, self.threshold = packet, threshold

    def forward(self, x):
        return self.packet(x * 1.0, self.threshold) * 2 - 1


@pytest.mark.parametrize("bound", ["torch_check", "max"])
@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_keep_values_above_a_threshold_matches_eager(
    trt_backend, ops, handles, fresh_qdp_namespace, device, bound, dynamic
):
    import torch_tensorrt

    fake = _fake_checked if bound == "torch_check" else _fake_max
    qualname, packet = _keep_op(ops, handles, fresh_qdp_namespace, fake)
    model = _Model(packet, 0.25).eval()
    if dynamic:
        inputs = [
            torch_tensorrt.Input(min_shape=(1,), opt_shape=(64,), max_shape=(1000,))
        ]
    else:
        inputs = [torch.randn(300, device=device)]
    compiled = models.compile_model(model, inputs)
    assert not models.runs_in_pytorch(compiled, packet)
    (built,) = engines.built_plugins(compiled)
    assert built.kind == "jit" and built.name == "keep-sizes-1"
    assert built.num_outputs == 2  # the values, then the size tensor
    for n in (1, 77, 300, 1000) if dynamic else (300,):
        for threshold_shift in (
            0.0,
            100.0,
        ):  # some kept, then none kept (an empty output)
            x = torch.randn(n, device=device) - threshold_shift
            got, expected = compiled(x), model(x)
            assert got.shape == expected.shape
            torch.testing.assert_close(got, expected)
    implementations = support_registry.implementations(qualname)
    assert set(implementations.values()) == {"JIT (data-dependent sizes: size tensors)"}


def test_without_a_bound_the_node_stays_in_pytorch_and_says_which_check_to_add(
    trt_backend, ops, handles, fresh_qdp_namespace, device
):
    from torch_tensorrt.dynamo.conversion.plugins import plugin_status

    qualname, packet = _keep_op(ops, handles, fresh_qdp_namespace, _fake_unbounded)

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x * 3.0, 0.0)

    model = Model().eval()
    x = torch.randn(40, device=device)
    compiled = models.compile_model(model, [x])
    assert models.runs_in_pytorch(compiled, packet)
    torch.testing.assert_close(compiled(x), model(x))
    (reason,) = plugin_status(qualname).not_converted.values()
    assert "has no upper bound" in reason
    assert "Add torch._check(n <= x.numel())" in reason


def test_a_size_computed_from_a_data_dependent_size_is_refused(
    trt_backend, ops, handles, fresh_qdp_namespace, device
):
    from torch_tensorrt.dynamo.conversion.plugins import plugin_status

    qualname, packet = _keep_op(ops, handles, fresh_qdp_namespace, _fake_doubled)
    model = _Model(packet, 0.0).eval()
    x = torch.randn(40, device=device)
    compiled = models.compile_model(model, [x])
    assert models.runs_in_pytorch(compiled, packet)
    (reason,) = plugin_status(qualname).not_converted.values()
    assert "TensorRT's size tensors take no arithmetic" in reason


def test_a_result_beyond_the_bound_fails_loudly(
    trt_backend, ops, handles, fresh_qdp_namespace, device
):
    """The fake kernel promises at most 4 values; the op returns more: an error, never a
    truncated output."""

    def fake(x, t):
        n = torch.library.get_ctx().new_dynamic_size(max=4)
        return x.new_empty(n)

    qualname, packet = _keep_op(ops, handles, fresh_qdp_namespace, fake)
    model = _Model(packet, -100.0).eval()  # keeps everything
    with pytest.raises(
        Exception
    ) as raised:  # at the build's enqueue, or at the first call
        compiled = models.compile_model(model, [torch.randn(9, device=device)])
        compiled(torch.randn(9, device=device))
    chain, error = [], raised.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__ or error.__context__
    assert any("does not fit TensorRT's buffer" in e for e in chain), chain


def test_explain_shows_the_bound_and_the_sizes_plugin(
    trt_backend, ops, handles, fresh_qdp_namespace
):
    from torch_tensorrt.dynamo.conversion.plugins import explain

    qualname, _ = _keep_op(ops, handles, fresh_qdp_namespace, _fake_checked)
    report = explain(qualname, {"x": "float32[1..4096]"}, {"t": 0.5})
    assert report.jit_plugin == f"{fresh_qdp_namespace}::keep-sizes-1"
    assert report.outputs[0].text == ("n <= x.size(0) (data-dependent)",)
