"""Realistic models with a custom Triton op inside compile to one TensorRT engine.

An MLP (Linear -> custom op -> ReLU/GELU/SiLU -> Linear) and a multi-head attention block (q/k/v
projections, heads split by view + permute, softmax(q k^T / sqrt(d)) v written out or as
scaled_dot_product_attention, custom op, output projection, residual, LayerNorm), compiled with
``torch_tensorrt.compile(ir="dynamo")``: every aten op is converted (no PyTorch fallback, one
engine), the custom op becomes a plugin layer, and the compiled model matches eager PyTorch on fresh
random inputs of odd sizes, for static and dynamic batch (and sequence) sizes.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

from typing import Any, Iterable, List

import pytest
import torch
from support import engines, kernels, models
from support import registry as support_registry


@pytest.fixture
def silu_op(fresh_qdp_namespace, ops, handles):
    """``<ns>::silu`` (one Triton launch) as a custom op with a generated plugin."""
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname = f"{fresh_qdp_namespace}::silu"
    packet = ops.custom_packet(qualname, kernels.silu, lambda x: torch.empty_like(x))
    handles.append(custom_op(qualname))
    return packet


def _torch_ops_outside_engines(compiled: Any) -> List[str]:
    """Every op the compiled module still runs in PyTorch (aten or custom), and fallback modules."""
    left = []
    for name, module in compiled.named_modules():
        if name.split(".")[-1].startswith("_run_on_gpu"):
            left.append(f"submodule {name} runs in PyTorch")
        if not isinstance(module, torch.fx.GraphModule):
            continue
        for node in module.graph.nodes:
            if node.op == "call_function" and isinstance(
                node.target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)
            ):
                left.append(str(node.target))
    return left


def _engine_layer_kinds(compiled: Any) -> List[str]:
    return [
        layer.kind
        for engine in engines.engines(compiled)
        for layer in engines.ir(engine).layers
    ]


def _assert_one_engine_with_the_plugin(
    compiled: Any, packet: Any, trt_backend: str, kinds: Iterable[str]
) -> None:
    assert _torch_ops_outside_engines(compiled) == []
    assert not models.runs_in_pytorch(compiled, packet)
    assert len(engines.engines(compiled)) == 1
    # The op's one node was converted (to its plugin: "JIT" here, "AOT ..." where available).
    implementations = support_registry.implementations(packet._qualified_op_name)
    assert len(implementations) == 1, implementations
    if trt_backend == "standin":
        layer_kinds = _engine_layer_kinds(compiled)
        assert layer_kinds.count("PLUGIN_V3") == 1, layer_kinds
        assert set(kinds) <= set(layer_kinds), (sorted(kinds), layer_kinds)
        assert len(engines.built_plugins(compiled)) == 1


def _assert_matches(compiled, model, x, atol=None, rtol=None) -> None:
    with torch.no_grad():
        expected = model(x)
    got = compiled(x)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=atol, rtol=rtol)


@pytest.mark.parametrize("activation", models.ACTIVATIONS)
def test_mlp_is_one_engine_with_the_op_as_a_plugin(
    trt_backend, silu_op, device, activation
):
    model = models.MLP(silu_op, activation=activation).to(device).eval()
    example = torch.randn(5, 13, device=device)
    compiled = models.compile_model(model, [example])
    expected_kinds = {"MATRIX_MULTIPLY", "ACTIVATION"}  # SiLU lowers to sigmoid * x
    _assert_one_engine_with_the_plugin(compiled, silu_op, trt_backend, expected_kinds)
    for _ in range(3):  # fresh inputs of the compiled shape
        _assert_matches(compiled, model, torch.randn(5, 13, device=device))


def test_mlp_in_half_precision(trt_backend, silu_op, device):
    model = models.MLP(silu_op, sizes=(19, 45, 11), activation="gelu")
    model = model.to(device).half().eval()
    example = torch.randn(7, 19, device=device).half()
    compiled = models.compile_model(model, [example])
    _assert_one_engine_with_the_plugin(
        compiled, silu_op, trt_backend, {"MATRIX_MULTIPLY", "ACTIVATION"}
    )
    _assert_matches(
        compiled, model, torch.randn(7, 19, device=device).half(), atol=1e-2, rtol=1e-2
    )


def test_mlp_with_a_dynamic_batch(trt_backend, silu_op, device):
    model = models.MLP(silu_op, activation="gelu_tanh").to(device).eval()
    compiled = models.compile_model(model, [models.dynamic((1, 13), (6, 13), (33, 13))])
    _assert_one_engine_with_the_plugin(
        compiled, silu_op, trt_backend, {"MATRIX_MULTIPLY", "ACTIVATION"}
    )
    for rows in (1, 6, 17, 33):
        _assert_matches(compiled, model, torch.randn(rows, 13, device=device))


_ATTENTION_KINDS = {
    False: {"MATRIX_MULTIPLY", "SOFTMAX", "NORMALIZATION", "SHUFFLE"},
    True: {"MATRIX_MULTIPLY", "ATTENTION_OUTPUT", "NORMALIZATION", "SHUFFLE"},
}


@pytest.mark.parametrize("fused", [False, True], ids=["softmax", "sdpa"])
def test_attention_block_is_one_engine_with_the_op_as_a_plugin(
    trt_backend, silu_op, device, fused
):
    if fused:
        models.skip_unless_sdpa_converts()
    model = models.AttentionBlock(silu_op, dim=20, heads=4, fused=fused)
    model = model.to(device).eval()
    example = torch.randn(3, 7, 20, device=device)
    compiled = models.compile_model(model, [example])
    _assert_one_engine_with_the_plugin(
        compiled, silu_op, trt_backend, _ATTENTION_KINDS[fused]
    )
    for _ in range(3):
        _assert_matches(compiled, model, torch.randn(3, 7, 20, device=device))


@pytest.mark.parametrize("fused", [False, True], ids=["softmax", "sdpa"])
def test_attention_block_with_dynamic_batch_and_sequence(
    trt_backend, silu_op, device, fused
):
    if fused:
        models.skip_unless_sdpa_converts()
    model = models.AttentionBlock(silu_op, dim=20, heads=4, fused=fused)
    model = model.to(device).eval()
    compiled = models.compile_model(
        model, [models.dynamic((1, 2, 20), (3, 7, 20), (8, 11, 20))]
    )
    _assert_one_engine_with_the_plugin(
        compiled, silu_op, trt_backend, _ATTENTION_KINDS[fused]
    )
    for batch, seq in ((1, 2), (3, 7), (5, 9), (8, 11)):
        _assert_matches(compiled, model, torch.randn(batch, seq, 20, device=device))


def test_attention_block_in_half_precision(trt_backend, silu_op, device):
    models.skip_unless_sdpa_converts()
    model = models.AttentionBlock(silu_op, dim=24, heads=3, fused=True)
    model = model.to(device).half().eval()
    example = torch.randn(2, 9, 24, device=device).half()
    compiled = models.compile_model(model, [example])
    _assert_one_engine_with_the_plugin(
        compiled, silu_op, trt_backend, _ATTENTION_KINDS[True]
    )
    _assert_matches(
        compiled,
        model,
        torch.randn(2, 9, 24, device=device).half(),
        atol=1e-2,
        rtol=1e-2,
    )
