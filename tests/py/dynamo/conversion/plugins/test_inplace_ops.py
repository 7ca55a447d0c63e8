"""In-place ops (``mutates_args``) become plugins (issue 10, item 2).

The exported graph holds an in-place op in functionalized form (``auto_functionalized_v2`` and the
``getitem`` nodes after it). The op's plugin takes the mutated argument as an input and gives its
new value as an extra output; its JIT implementation copies the argument into that output and
runs the op there, so TensorRT's input buffer is never written. Before, ``custom_op`` refused such
ops ("argument 'x' is mutated by the op") and they ran in PyTorch.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import pytest
import torch
import triton
import triton.language as tl
from support import engines, models
from support import registry as support_registry

COLS = 37  # not a multiple of the block: the kernels mask


@triton.jit
def _scale_inplace_kernel(X, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(X + offs, tl.load(X + offs, mask=mask) * a, mask=mask)


@triton.jit
def _scale_then_add_kernel(X, B, Z, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(X + offs, mask=mask) * a
    tl.store(X + offs, x, mask=mask)
    tl.store(Z + offs, x + tl.load(B + offs, mask=mask), mask=mask)


def _scale_(x: torch.Tensor, a: float) -> None:
    n = x.numel()
    _scale_inplace_kernel[(triton.cdiv(n, 64),)](x, n, a, BLOCK=64)


def _scale_then_add_(x: torch.Tensor, b: torch.Tensor, a: float) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _scale_then_add_kernel[(triton.cdiv(n, 64),)](x, b, z, n, a, BLOCK=64)
    return z


@pytest.fixture
def inplace_ops(trt_backend, ops, handles, fresh_qdp_namespace):
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    ns = fresh_qdp_namespace
    scale_ = ops.custom_packet(
        f"{ns}::scale_", _scale_, lambda x, a: None, mutates_args=("x",)
    )
    scale_then_add_ = ops.custom_packet(
        f"{ns}::scale_then_add_",
        _scale_then_add_,
        lambda x, b, a: torch.empty_like(x),
        mutates_args=("x",),
    )
    handles.append(custom_op(f"{ns}::scale_"))
    handles.append(custom_op(f"{ns}::scale_then_add_"))
    return ns, scale_, scale_then_add_


def _inputs(dynamic, n_inputs):
    import torch_tensorrt

    if not dynamic:
        return None
    return [
        torch_tensorrt.Input(
            min_shape=(1, COLS), opt_shape=(6, COLS), max_shape=(64, COLS)
        )
        for _ in range(n_inputs)
    ]


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_inplace_scale_matches_eager(inplace_ops, device, dynamic):
    """The model returns the mutated tensor itself and a value computed after the mutation."""
    ns, scale_, _ = inplace_ops

    class Model(torch.nn.Module):
        def forward(self, x):
            y = x * 1.0
            scale_(y, -1.5)
            return y, y + 1

    model = Model().eval()
    example = torch.randn(6, COLS, device=device)
    compiled = models.compile_model(model, _inputs(dynamic, 1) or [example])
    assert not models.runs_in_pytorch(compiled, scale_)
    (built,) = engines.built_plugins(compiled)
    assert built.kind == "jit" and built.num_outputs == 1  # the new value of x
    for rows in (1, 6, 64) if dynamic else (6,):
        x = torch.randn(rows, COLS, device=device)
        before = x.clone()
        got, expected = compiled(x), model(x.clone())
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e)
        torch.testing.assert_close(x, before)  # the model's input was not mutated


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_op_mutating_one_input_and_returning_another(inplace_ops, device, dynamic):
    ns, _, scale_then_add_ = inplace_ops

    class Model(torch.nn.Module):
        def forward(self, x, b):
            y = x + 0.0
            z = scale_then_add_(y, b, 2.0)
            return z * 3, y

    model = Model().eval()
    examples = [torch.randn(6, COLS, device=device) for _ in range(2)]
    compiled = models.compile_model(model, _inputs(dynamic, 2) or examples)
    assert not models.runs_in_pytorch(compiled, scale_then_add_)
    (built,) = engines.built_plugins(compiled)
    assert built.num_outputs == 2  # z, then the new value of x
    for rows in (1, 9, 64) if dynamic else (6,):
        x, b = (torch.randn(rows, COLS, device=device) for _ in range(2))
        got, expected = compiled(x, b), model(x.clone(), b)
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e)
    implementations = support_registry.implementations(f"{ns}::scale_then_add_")
    assert set(implementations.values()) == {"JIT (in-place op: new values as outputs)"}
    from torch_tensorrt.dynamo.conversion.plugins import plugin_status

    status = plugin_status(f"{ns}::scale_then_add_")
    assert status.mutated == ("x",) and "in-place op: writes x" in str(status)


def test_mutating_a_view_stays_in_pytorch_with_the_reason(inplace_ops, device):
    from torch_tensorrt.dynamo.conversion.plugins import plugin_status

    ns, scale_, _ = inplace_ops

    class Model(torch.nn.Module):
        def forward(self, x):
            y = x * 1.0
            scale_(y[:, :10], 4.0)  # a slice of y: a view the plugin cannot write
            return y

    model = Model().eval()
    x = torch.randn(6, COLS, device=device)
    compiled = models.compile_model(model, [x])
    torch.testing.assert_close(compiled(x), model(x))
    reasons = plugin_status(f"{ns}::scale_").not_converted
    assert any(
        "which is a view of another tensor" in r for r in reasons.values()
    ), reasons


def test_schema_refuses_mutated_optional_tensors(trt_backend, ops, fresh_qdp_namespace):
    from typing import Optional

    from torch_tensorrt.dynamo.conversion.plugins import UnsupportedOpError, custom_op

    def body(x: torch.Tensor, w: Optional[torch.Tensor]) -> torch.Tensor:
        return x.clone()

    ops.custom_packet(
        f"{fresh_qdp_namespace}::opt_",
        body,
        lambda x, w: torch.empty_like(x),
        mutates_args=("w",),
    )
    with pytest.raises(
        UnsupportedOpError, match="mutated by the op and is not a plain Tensor"
    ):
        custom_op(f"{fresh_qdp_namespace}::opt_")


@pytest.mark.parametrize("state", ["buffer", "input"])
def test_mutating_model_state_warns(inplace_ops, device, state, caplog):
    """An in-place op on a model buffer (a KV cache, running statistics) or on a model input:
    Torch-TensorRT does not write such mutations back, with or without our converter (checked
    here: the node converted gives what the op run in PyTorch between engines gives), so the
    conversion warns with the reason instead of passing silently."""
    import logging

    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    ns, scale_, _ = inplace_ops

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("acc", torch.ones(4, COLS, device=device))

        def forward(self, x):
            if state == "buffer":
                scale_(self.acc, 2.0)
                return x + self.acc
            scale_(x, 2.0)
            return x * 3

    x0 = torch.randn(4, COLS, device=device)
    with caplog.at_level(logging.WARNING):
        converted = models.compile_model(Model().eval(), [x0.clone()])
    assert not models.runs_in_pytorch(converted, scale_)
    what = "a model buffer or parameter" if state == "buffer" else "a model input"
    assert any(
        what in r.getMessage()
        and "does not write such mutations back" in r.getMessage()
        for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    # The same model with the op left to PyTorch (its converter removed): the same results.
    custom_op(f"{ns}::scale_").remove()
    in_pytorch = models.compile_model(Model().eval(), [x0.clone()])
    eager = Model().eval()
    for call in range(3):
        got = [m(x0.clone()) for m in (converted, in_pytorch)]
        torch.testing.assert_close(got[0], got[1])
        if call == 0:
            torch.testing.assert_close(got[0], eager(x0.clone()))
