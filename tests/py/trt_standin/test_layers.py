"""The layers realistic models need, built directly through INetworkDefinition and compared with torch.

Activation, matrix multiply, softmax, normalization and attention are what released Torch-TensorRT
2.13 emits for Linear, ReLU/GELU/SiLU, softmax, LayerNorm/GroupNorm and scaled dot-product attention.
Each test builds a network, builds and deserializes the engine, executes it on fresh random inputs
(odd sizes, no multiple of any block size) and compares with eager torch, for several attribute
values. Tests of what the stand-in refuses (and how) are marked ``standin``.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import pytest
import torch

Shapes = Tuple[Tuple[int, ...], Tuple[int, ...], Tuple[int, ...]]


def _trt_dtype(dtype: torch.dtype):
    import tensorrt as trt

    return {
        torch.float32: trt.float32,
        torch.float16: trt.float16,
        torch.int32: trt.int32,
        torch.int64: trt.int64,
        torch.bool: trt.bool,
    }[dtype]


def _torch_dtype(dtype) -> torch.dtype:
    import tensorrt as trt

    return {
        trt.float32: torch.float32,
        trt.float16: torch.float16,
        trt.int32: torch.int32,
        trt.int64: torch.int64,
        trt.bool: torch.bool,
    }[dtype]


def run_network(
    build: Callable[..., Sequence[object]],
    inputs: Dict[str, torch.Tensor],
    dynamic: Optional[Dict[str, Shapes]] = None,
    runs: Sequence[Dict[str, torch.Tensor]] = (),
) -> List[List[torch.Tensor]]:
    """Build ``build(network, *input_tensors) -> outputs`` into an engine and execute it.

    ``dynamic`` gives (min, opt, max) shapes of inputs declared with -1 where min and max differ;
    the engine runs on ``inputs`` and then on each of ``runs``. Returns the outputs of every run.
    """
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.ERROR)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    config = builder.create_builder_config()
    profile = builder.create_optimization_profile() if dynamic else None
    tensors = []
    for name, value in inputs.items():
        shape = list(value.shape)
        if dynamic and name in dynamic:
            lo, opt, hi = dynamic[name]
            shape = [-1 if a != b else a for a, b in zip(lo, hi)]
            profile.set_shape(name, lo, opt, hi)
        tensors.append(network.add_input(name, _trt_dtype(value.dtype), shape))
    if profile is not None:
        config.add_optimization_profile(profile)
    outputs = list(build(network, *tensors))
    for i, out in enumerate(outputs):
        out.name = f"out{i}"
        network.mark_output(out)
    plan = builder.build_serialized_network(network, config)
    engine = trt.Runtime(logger).deserialize_cuda_engine(plan)
    context = engine.create_execution_context()
    results = []
    for values in [inputs, *runs]:
        for name, value in values.items():
            assert context.set_input_shape(name, tuple(value.shape))
            context.set_tensor_address(name, value.data_ptr())
        got = []
        for out in outputs:
            shape = tuple(context.get_tensor_shape(out.name))
            dtype = _torch_dtype(engine.get_tensor_dtype(out.name))
            device = next(iter(values.values())).device
            result = torch.empty(shape, dtype=dtype, device=device)
            context.set_tensor_address(out.name, result.data_ptr())
            got.append(result)
        assert context.execute_async_v3(0)
        results.append(got)
    return results


def run_once(build, inputs: Dict[str, torch.Tensor]) -> List[torch.Tensor]:
    return run_network(build, inputs)[0]


def _close(got: torch.Tensor, expected: torch.Tensor) -> None:
    """float32 at the default tolerance; float16 as the float32 result rounded once (and a bit)."""
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if got.dtype == torch.float16:
        torch.testing.assert_close(got, expected, atol=2e-3, rtol=2e-3)
    else:
        torch.testing.assert_close(got, expected)


def _shape_of(layer):
    """The output shape of ``layer``: where an invalid configuration is reported."""
    return layer.get_output(0).shape


@pytest.mark.standin
def test_an_invalid_layer_is_reported_when_used_or_built(trt_backend):
    """Attributes are set one at a time; the layer is checked when its output is used or built."""
    import tensorrt as trt

    builder = trt.Builder(trt.Logger())
    network = builder.create_network(0)
    a = network.add_input("a", trt.float32, (6, 4))
    b = network.add_input("b", trt.float32, (6, 9))
    none = trt.MatrixOperation.NONE
    layer = network.add_matrix_multiply(
        a, none, b, none
    )  # [6, 4] x [6, 9]: not yet valid
    layer.name = "mm"
    relu = network.add_activation(layer.get_output(0), trt.ActivationType.RELU)
    relu.name = "relu"
    with pytest.raises(
        ValueError, match="relu: mm: IMatrixMultiplyLayer: inner dimensions"
    ):
        relu.get_output(0).shape
    network.mark_output(layer.get_output(0))
    with pytest.raises(
        ValueError, match="mm: IMatrixMultiplyLayer: inner dimensions differ"
    ):
        builder.build_serialized_network(network, builder.create_builder_config())
    layer.op0 = trt.MatrixOperation.TRANSPOSE
    assert tuple(layer.get_output(0).shape) == (4, 9)
    assert tuple(relu.get_output(0).shape) == (4, 9)  # the consumer is checked again
    assert builder.build_serialized_network(network, builder.create_builder_config())


# -- activation ---------------------------------------------------------------------------------------
def _hard_sigmoid(x, a, b):
    return torch.clamp(a * x + b, 0, 1)


# (type, alpha, beta, reference on float32)
ACTIVATIONS = [
    ("RELU", None, None, torch.relu),
    ("SIGMOID", None, None, torch.sigmoid),
    ("TANH", None, None, torch.tanh),
    ("LEAKY_RELU", 0.01, None, lambda x: torch.nn.functional.leaky_relu(x, 0.01)),
    ("LEAKY_RELU", 0.3, None, lambda x: torch.nn.functional.leaky_relu(x, 0.3)),
    ("ELU", 1.0, None, lambda x: torch.nn.functional.elu(x, 1.0)),
    ("ELU", 0.4, None, lambda x: torch.nn.functional.elu(x, 0.4)),
    ("SELU", 1.6732632423543772, 1.0507009873554805, torch.nn.functional.selu),
    ("SOFTSIGN", None, None, torch.nn.functional.softsign),
    ("SOFTPLUS", 1.0, 1.0, torch.nn.functional.softplus),
    ("SOFTPLUS", 0.5, 2.0, lambda x: torch.nn.functional.softplus(x, beta=2.0)),
    ("CLIP", -0.5, 0.7, lambda x: torch.clamp(x, -0.5, 0.7)),
    ("CLIP", -6.0, 6.0, lambda x: torch.clamp(x, -6.0, 6.0)),
    ("HARD_SIGMOID", 0.2, 0.5, lambda x: _hard_sigmoid(x, 0.2, 0.5)),
    ("HARD_SIGMOID", 1 / 6, 0.5, torch.nn.functional.hardsigmoid),
    ("SCALED_TANH", 1.7159, 0.6667, lambda x: 1.7159 * torch.tanh(0.6667 * x)),
    ("THRESHOLDED_RELU", 0.3, None, lambda x: torch.nn.functional.threshold(x, 0.3, 0)),
    ("GELU_ERF", None, None, torch.nn.functional.gelu),
    (
        "GELU_TANH",
        None,
        None,
        lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
    ),
]


def _activation_id(case) -> str:
    kind, alpha, beta, _ = case
    return "-".join([kind] + [f"{v:g}" for v in (alpha, beta) if v is not None])


@pytest.mark.parametrize(
    "case", ACTIVATIONS, ids=[_activation_id(c) for c in ACTIVATIONS]
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_activation_matches_torch(trt_backend, device, case, dtype):
    import tensorrt as trt

    kind, alpha, beta, reference = case
    x = (torch.randn(3, 37, device=device) * 4).to(dtype)

    def build(network, t):
        layer = network.add_activation(t, getattr(trt.ActivationType, kind))
        if alpha is not None:
            layer.alpha = alpha
        if beta is not None:
            layer.beta = beta
        assert layer.type == getattr(trt.ActivationType, kind)
        return [layer.get_output(0)]

    (got,) = run_once(build, {"x": x})
    _close(got, reference(x.float()).to(dtype))


def test_activation_attributes_read_back_and_can_change(trt_backend, device):
    import tensorrt as trt

    x = torch.randn(5, 11, device=device)

    def build(network, t):
        layer = network.add_activation(t, trt.ActivationType.RELU)
        layer.type = trt.ActivationType.LEAKY_RELU  # changed after creation
        layer.alpha = 0.25
        layer.beta = 3.0  # LEAKY_RELU ignores beta
        assert (layer.type, layer.alpha, layer.beta) == (
            trt.ActivationType.LEAKY_RELU,
            0.25,
            3.0,
        )
        return [layer.get_output(0)]

    (got,) = run_once(build, {"x": x})
    _close(got, torch.nn.functional.leaky_relu(x, 0.25))


def test_relu_takes_integer_tensors(trt_backend, device):
    import tensorrt as trt

    x = torch.randint(-50, 50, (4, 9), dtype=torch.int32, device=device)
    (got,) = run_once(
        lambda n, t: [n.add_activation(t, trt.ActivationType.RELU).get_output(0)],
        {"x": x},
    )
    assert torch.equal(got, torch.relu(x))


@pytest.mark.standin
def test_activation_refusals_are_loud(trt_backend):
    import tensorrt as trt

    network = trt.Builder(trt.Logger()).create_network(0)
    t = network.add_input("x", trt.float32, (2, 3))
    layer = network.add_activation(t, trt.ActivationType.ELU)
    assert (layer.alpha, layer.beta) == (
        0.0,
        0.0,
    )  # assumption activation-default-alpha-beta
    with pytest.raises(ValueError, match="IActivationLayer.alpha must be finite"):
        layer.alpha = math.inf
    with pytest.raises(AttributeError, match="IActivationLayer.slope: not modelled"):
        layer.slope = 1.0
    i = network.add_input("i", trt.int32, (2, 3))
    sigmoid = network.add_activation(i, trt.ActivationType.SIGMOID)
    with pytest.raises(TypeError, match="SIGMOID.*int32.*float32, float16 or bfloat16"):
        _shape_of(sigmoid)


# -- matrix multiply ----------------------------------------------------------------------------------
def _op(x: torch.Tensor, op: str) -> torch.Tensor:
    return x.transpose(-1, -2) if op == "TRANSPOSE" else x


# (shape A, op0, shape B, op1)
MATMULS = [
    ((5, 7), "NONE", (7, 3), "NONE"),
    ((5, 7), "NONE", (3, 7), "TRANSPOSE"),  # what aten.linear emits
    ((7, 5), "TRANSPOSE", (7, 3), "NONE"),
    ((7, 5), "TRANSPOSE", (3, 7), "TRANSPOSE"),
    ((2, 3, 5, 7), "NONE", (2, 3, 7, 4), "NONE"),  # bmm with two collection dimensions
    ((2, 1, 5, 7), "NONE", (1, 3, 7, 4), "NONE"),  # both broadcast
    ((3, 5, 7), "NONE", (1, 9, 7), "TRANSPOSE"),
    ((7,), "VECTOR", (7, 3), "NONE"),
    ((2, 7), "VECTOR", (2, 7, 3), "NONE"),
    ((1, 7), "VECTOR", (4, 3, 7), "TRANSPOSE"),
    ((5, 7), "NONE", (7,), "VECTOR"),
    ((4, 5, 7), "NONE", (1, 7), "VECTOR"),
    ((4, 7), "VECTOR", (4, 7), "VECTOR"),
]


def _matmul_reference(a, op0, b, op1):
    a = a.unsqueeze(-2) if op0 == "VECTOR" else _op(a, op0)
    b = b.unsqueeze(-1) if op1 == "VECTOR" else _op(b, op1)
    out = torch.matmul(a, b)
    if op0 == "VECTOR":
        out = out.squeeze(-2)
    if op1 == "VECTOR":
        out = out.squeeze(-1)
    return out


@pytest.mark.parametrize(
    "case", MATMULS, ids=[f"{a}{o0}x{b}{o1}" for a, o0, b, o1 in MATMULS]
)
def test_matrix_multiply_matches_torch(trt_backend, device, case):
    import tensorrt as trt

    shape_a, op0, shape_b, op1 = case
    a, b = torch.randn(shape_a, device=device), torch.randn(shape_b, device=device)

    def build(network, ta, tb):
        layer = network.add_matrix_multiply(
            ta, getattr(trt.MatrixOperation, op0), tb, getattr(trt.MatrixOperation, op1)
        )
        assert layer.type == trt.LayerType.MATRIX_MULTIPLY
        assert (layer.op0.name, layer.op1.name) == (op0, op1)
        return [layer.get_output(0)]

    (got,) = run_once(build, {"a": a, "b": b})
    _close(got, _matmul_reference(a, op0, b, op1))


def test_matrix_multiply_in_half_precision(trt_backend, device):
    import tensorrt as trt

    a = torch.randn(2, 5, 33, device=device).half()
    b = torch.randn(2, 17, 33, device=device).half()
    (got,) = run_once(
        lambda n, x, y: [
            n.add_matrix_multiply(
                x, trt.MatrixOperation.NONE, y, trt.MatrixOperation.TRANSPOSE
            ).get_output(0)
        ],
        {"a": a, "b": b},
    )
    _close(got, (a.float() @ b.float().transpose(-1, -2)).half())


def test_matrix_operation_can_change_after_creation(trt_backend, device):
    import tensorrt as trt

    a, b = torch.randn(6, 4, device=device), torch.randn(6, 9, device=device)

    def build(network, x, y):
        layer = network.add_matrix_multiply(
            x, trt.MatrixOperation.NONE, y, trt.MatrixOperation.NONE
        )
        layer.op0 = trt.MatrixOperation.TRANSPOSE  # [4, 6] x [6, 9]
        return [layer.get_output(0)]

    (got,) = run_once(build, {"a": a, "b": b})
    _close(got, a.T @ b)


@pytest.mark.standin
@pytest.mark.parametrize(
    "shape_a, op0, shape_b, op1, error, match",
    [
        ((2, 5, 7), "NONE", (7, 3), "NONE", ValueError, "must have the same rank"),
        ((2, 5, 7), "NONE", (3, 7, 3), "NONE", ValueError, "each pair must be"),
        ((5, 7), "NONE", (6, 3), "NONE", ValueError, "inner dimensions differ"),
        ((7,), "NONE", (7, 3), "NONE", ValueError, "needs rank >= 2"),
    ],
)
def test_matrix_multiply_refusals_are_loud(
    trt_backend, shape_a, op0, shape_b, op1, error, match
):
    import tensorrt as trt

    network = trt.Builder(trt.Logger()).create_network(0)
    a = network.add_input("a", trt.float32, shape_a)
    b = network.add_input("b", trt.float32, shape_b)
    layer = network.add_matrix_multiply(
        a, getattr(trt.MatrixOperation, op0), b, getattr(trt.MatrixOperation, op1)
    )
    with pytest.raises(error, match=match):
        _shape_of(layer)


@pytest.mark.standin
def test_matrix_multiply_refuses_mixed_and_integer_types(trt_backend):
    import tensorrt as trt

    network = trt.Builder(trt.Logger()).create_network(0)
    a = network.add_input("a", trt.float32, (2, 3))
    h = network.add_input("h", trt.float16, (3, 2))
    i = network.add_input("i", trt.int32, (3, 2))
    none = trt.MatrixOperation.NONE
    with pytest.raises(TypeError, match="they must be the same"):
        _shape_of(network.add_matrix_multiply(a, none, h, none))
    with pytest.raises(TypeError, match="input 1 has type torch.int32"):
        _shape_of(network.add_matrix_multiply(a, none, i, none))
    layer = network.add_matrix_multiply(a, none, a, trt.MatrixOperation.TRANSPOSE)
    with pytest.raises(AttributeError, match="IMatrixMultiplyLayer.compute_precision"):
        layer.compute_precision = trt.float32


# -- softmax ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_softmax_matches_torch(trt_backend, device, axis, dtype):
    x = (torch.randn(3, 5, 7, 13, device=device) * 3).to(dtype)

    def build(network, t):
        layer = network.add_softmax(t)
        layer.axes = 1 << axis
        assert layer.axes == 1 << axis
        return [layer.get_output(0)]

    (got,) = run_once(build, {"x": x})
    _close(got, torch.softmax(x.float(), dim=axis).to(dtype))


@pytest.mark.standin
def test_softmax_default_axis_and_refusals(trt_backend):
    import tensorrt as trt

    network = trt.Builder(trt.Logger()).create_network(0)
    four = network.add_input("four", trt.float32, (2, 3, 4, 5))
    two = network.add_input("two", trt.float32, (2, 3))
    assert network.add_softmax(four).axes == 1 << 1  # assumption softmax-default-axis
    assert network.add_softmax(two).axes == 1 << 0
    layer = network.add_softmax(four)
    layer.axes = 0b0110
    with pytest.raises(ValueError, match="must set exactly one bit"):
        _shape_of(layer)
    layer.axes = 1 << 4
    with pytest.raises(
        ValueError, match="must set exactly one bit below the input rank 4"
    ):
        _shape_of(layer)
    layer.axes = 1 << 3  # valid again
    assert tuple(_shape_of(layer)) == (2, 3, 4, 5)


# -- normalization ------------------------------------------------------------------------------------
@pytest.mark.parametrize("normalized", [1, 2])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
@pytest.mark.parametrize("expand", [True, False], ids=["expanded", "broadcast"])
def test_layer_normalization_matches_torch(
    trt_backend, device, normalized, eps, expand
):
    """add_normalization over the trailing axes, as Torch-TensorRT emits layer_norm."""
    x = torch.randn(3, 5, 19, device=device) * 2 + 1
    dims = tuple(x.shape[-normalized:])
    weight, bias = torch.randn(dims, device=device), torch.randn(dims, device=device)
    lead = (1,) * (x.dim() - normalized)
    scale, shift = weight.reshape(lead + dims), bias.reshape(lead + dims)
    if expand:  # 2.13's converter expands scale and bias to the input's shape
        scale, shift = (
            scale.expand(x.shape).contiguous(),
            shift.expand(x.shape).contiguous(),
        )
    axes = sum(1 << d for d in range(x.dim() - normalized, x.dim()))

    def build(network, t, s, b):
        layer = network.add_normalization(t, s, b, axes)
        assert layer.epsilon == pytest.approx(1e-5) and layer.num_groups == 1
        layer.epsilon = eps
        assert layer.axes == axes
        return [layer.get_output(0)]

    (got,) = run_once(build, {"x": x, "s": scale, "b": shift})
    _close(got, torch.nn.functional.layer_norm(x, dims, weight, bias, eps))


def test_layer_normalization_in_half_precision(trt_backend, device):
    x = torch.randn(4, 7, 23, device=device).half()
    weight, bias = torch.randn(23, device=device), torch.randn(23, device=device)
    scale = weight.half().expand(x.shape).contiguous()
    shift = bias.half().expand(x.shape).contiguous()
    (got,) = run_once(
        lambda n, t, s, b: [n.add_normalization(t, s, b, 1 << 2).get_output(0)],
        {"x": x, "s": scale, "b": shift},
    )
    expected = torch.nn.functional.layer_norm(
        x.float(), (23,), weight.half().float(), bias.half().float()
    )
    _close(got, expected.half())


@pytest.mark.parametrize("groups", [1, 3, 6])
def test_group_normalization_matches_torch(trt_backend, device, groups):
    """Torch-TensorRT's group_norm: per-group scale/bias of ones/zeros, then per-channel affine."""
    x = torch.randn(2, 6, 5, 3, device=device)
    per_group = torch.randn(1, groups, 1, 1, device=device)
    shift = torch.randn(1, groups, 1, 1, device=device)
    axes = 0b1110 if groups == 1 else 0b1100

    def build(network, t, s, b):
        layer = network.add_normalization(t, s, b, axes)
        layer.num_groups = groups
        layer.epsilon = 1e-3
        return [layer.get_output(0)]

    (got,) = run_once(build, {"x": x, "s": per_group, "b": shift})
    normed = torch.nn.functional.group_norm(x, groups, eps=1e-3)
    channels_per_group = 6 // groups
    expected = normed * per_group.repeat_interleave(
        channels_per_group, dim=1
    ) + shift.repeat_interleave(channels_per_group, dim=1)
    _close(got, expected)


@pytest.mark.standin
def test_normalization_refusals_are_loud(trt_backend):
    import tensorrt as trt

    network = trt.Builder(trt.Logger()).create_network(0)
    x = network.add_input("x", trt.float32, (2, 6, 5, 3))
    per_channel = network.add_input("c", trt.float32, (1, 6, 1, 1))
    per_group = network.add_input("g", trt.float32, (1, 3, 1, 1))
    layer = network.add_normalization(x, per_channel, per_channel, 0b1100)
    layer.num_groups = 3
    with pytest.raises(NotImplementedError, match="per-group scale and bias of shape"):
        _shape_of(layer)
    grouped = network.add_normalization(x, per_group, per_group, 0b1110)
    grouped.num_groups = 3
    with pytest.raises(ValueError, match="axes without 0 and 1"):
        _shape_of(grouped)
    wrong = network.add_input("w", trt.float32, (1, 1, 4, 1))
    with pytest.raises(ValueError, match="must broadcast to the input"):
        _shape_of(network.add_normalization(x, wrong, wrong, 0b1000))
    with pytest.raises(ValueError, match="must name axes of the rank-4 input"):
        _shape_of(network.add_normalization(x, per_channel, per_channel, 1 << 4))


# -- attention ----------------------------------------------------------------------------------------
def _sdpa(q, k, v, **kwargs):
    return torch.nn.functional.scaled_dot_product_attention(
        q, k, v, scale=1.0, **kwargs
    )


def _attention_inputs(device, dtype=torch.float32, hq=4, hkv=4, sq=5, skv=7, d=9):
    make = lambda *s: torch.randn(*s, device=device).to(dtype)  # noqa: E731
    return make(2, hq, sq, d), make(2, hkv, skv, d), make(2, hkv, skv, d)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("sq, skv", [(5, 7), (7, 5), (6, 6)])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_torch(trt_backend, device, dtype, sq, skv, causal):
    import tensorrt as trt

    q, k, v = _attention_inputs(device, dtype, sq=sq, skv=skv)

    def build(network, tq, tk, tv):
        attention = network.add_attention(
            tq, tk, tv, trt.AttentionNormalizationOp.SOFTMAX, causal
        )
        assert attention.causal is causal and attention.decomposable is False
        attention.decomposable = True
        assert attention.num_inputs == 3 and attention.get_input(2) is tv
        return [attention.get_output(0)]

    (got,) = run_once(build, {"q": q, "k": k, "v": v})
    expected = _sdpa(q.float(), k.float(), v.float(), is_causal=causal)
    _close(got, expected.to(dtype))


@pytest.mark.parametrize(
    "mask_shape, kind",
    [((1, 1, 5, 7), "bool"), ((2, 4, 5, 7), "bool"), ((2, 1, 5, 7), "additive")],
)
def test_attention_with_a_mask_matches_torch(trt_backend, device, mask_shape, kind):
    import tensorrt as trt

    q, k, v = _attention_inputs(device)
    if kind == "bool":
        mask = torch.rand(mask_shape, device=device) > 0.3
        mask[..., 0] = True  # no fully masked row (NaN in both)
    else:
        mask = torch.randn(mask_shape, device=device)

    def build(network, tq, tk, tv, tm):
        attention = network.add_attention(
            tq, tk, tv, trt.AttentionNormalizationOp.SOFTMAX, False
        )
        attention.mask = tm
        assert attention.mask is tm and attention.num_inputs == 4
        return [attention.get_output(0)]

    (got,) = run_once(build, {"q": q, "k": k, "v": v, "m": mask})
    _close(got, _sdpa(q, k, v, attn_mask=mask))


def test_attention_with_grouped_key_value_heads(trt_backend, device):
    import tensorrt as trt

    q, k, v = _attention_inputs(device, hq=6, hkv=2)
    (got,) = run_once(
        lambda n, tq, tk, tv: [
            n.add_attention(
                tq, tk, tv, trt.AttentionNormalizationOp.SOFTMAX, False
            ).get_output(0)
        ],
        {"q": q, "k": k, "v": v},
    )
    _close(got, _sdpa(q, k, v, enable_gqa=True))


def test_attention_without_normalization(trt_backend, device):
    import tensorrt as trt

    q, k, v = _attention_inputs(device)

    def build(network, tq, tk, tv):
        attention = network.add_attention(
            tq, tk, tv, trt.AttentionNormalizationOp.SOFTMAX, False
        )
        attention.norm_op = trt.AttentionNormalizationOp.NONE
        assert attention.norm_op == trt.AttentionNormalizationOp.NONE
        return [attention.get_output(0)]

    (got,) = run_once(build, {"q": q, "k": k, "v": v})
    _close(got, (q @ k.transpose(-1, -2)) @ v)


@pytest.mark.standin
def test_attention_refusals_are_loud(trt_backend):
    import tensorrt as trt

    network = trt.Builder(trt.Logger()).create_network(0)
    q = network.add_input("q", trt.float32, (2, 4, 5, 8))
    k = network.add_input("k", trt.float32, (2, 4, 7, 8))
    m = network.add_input("m", trt.bool, (1, 1, 5, 7))
    softmax = trt.AttentionNormalizationOp.SOFTMAX
    causal = network.add_attention(q, k, k, softmax, True)
    causal.mask = m
    with pytest.raises(ValueError, match="cannot be set together with causal"):
        causal.get_output(0).shape
    attention = network.add_attention(q, k, k, softmax, False)
    with pytest.raises(NotImplementedError, match="does not quantize"):
        attention.normalization_quantize_to_type = trt.DataType.FP8
    with pytest.raises(AttributeError, match="IAttention.causal_kind: not modelled"):
        attention.causal_kind = object()
    with pytest.raises(NotImplementedError, match=r"set_input\(4"):
        attention.set_input(4, m)
    flat = network.add_input("flat", trt.float32, (2, 5, 8))
    with pytest.raises(ValueError, match="rank 4"):
        network.add_attention(flat, flat, flat, softmax, False).get_output(0).shape
    heads = network.add_input("h", trt.float32, (2, 3, 7, 8))
    with pytest.raises(ValueError, match="not a multiple of 3 key/value heads"):
        network.add_attention(q, heads, heads, softmax, False).get_output(0).shape
    wrong = network.add_input("w", trt.bool, (1, 1, 1, 7))
    attention.mask = wrong
    with pytest.raises(ValueError, match=r"must be \[a0, a1, 5, 7\]"):
        attention.get_output(0).shape
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    assert [
        layer.attention is attention
        for layer in layers
        if layer.type == trt.LayerType.ATTENTION_OUTPUT
    ] == [False, True, False, False]


# -- dynamic shapes and data-flow order ---------------------------------------------------------------
def test_layers_follow_a_dynamic_batch(trt_backend, device):
    """Linear -> GELU -> head split by a shape-tensor reshape -> attention -> softmax -> LayerNorm."""
    import tensorrt as trt

    d, heads = 12, 3
    weight = torch.randn(d, d, device=device)
    gamma, beta = torch.randn(d, device=device), torch.randn(d, device=device)

    def build(network, x, w, g, b):
        none, transpose = trt.MatrixOperation.NONE, trt.MatrixOperation.TRANSPOSE
        # [B, S, D] x [1, D, D]^T: the weight is reshaped to the input's rank first.
        w3 = network.add_shuffle(w)
        w3.reshape_dims = (1, d, d)
        h = network.add_matrix_multiply(x, none, w3.get_output(0), transpose)
        act = network.add_activation(h.get_output(0), trt.ActivationType.GELU_ERF)
        # The reshape is added first; its dimensions come from layers added after it, computed
        # from the input's dynamic shape ([B, S, heads, D / heads]), as Torch-TensorRT does.
        split = network.add_shuffle(act.get_output(0))
        shape = network.add_shape(x).get_output(0)
        index = network.add_constant((2,), trt.Weights(torch.tensor([0, 1]).numpy()))
        batch_seq = network.add_gather(shape, index.get_output(0), 0).get_output(0)
        tail = network.add_constant(
            (2,), trt.Weights(torch.tensor([heads, d // heads]).numpy())
        )
        dims = network.add_concatenation([batch_seq, tail.get_output(0)])
        split.set_input(1, dims.get_output(0))
        split.second_transpose = (0, 2, 1, 3)
        qkv = split.get_output(0)
        attention = network.add_attention(
            qkv, qkv, qkv, trt.AttentionNormalizationOp.SOFTMAX, True
        )
        soft = network.add_softmax(attention.get_output(0))
        soft.axes = 1 << 3
        norm = network.add_normalization(soft.get_output(0), g, b, 1 << 3)
        return [norm.get_output(0)]

    def expected(x):
        h = torch.nn.functional.gelu(x @ weight.T)
        qkv = h.reshape(x.shape[0], x.shape[1], heads, d // heads).permute(0, 2, 1, 3)
        att = torch.nn.functional.scaled_dot_product_attention(
            qkv, qkv, qkv, is_causal=True, scale=1.0
        )
        return torch.nn.functional.layer_norm(
            torch.softmax(att, dim=-1), (d // heads,), gamma4.flatten(), beta4.flatten()
        )

    gamma4 = gamma[: d // heads].reshape(1, 1, 1, d // heads)
    beta4 = beta[: d // heads].reshape(1, 1, 1, d // heads)
    first = torch.randn(3, 5, d, device=device)
    runs = [{"x": torch.randn(b, 5, d, device=device)} for b in (1, 7)]
    constants = {"w": weight, "g": gamma4, "b": beta4}
    results = run_network(
        build,
        {"x": first, **constants},
        dynamic={"x": ((1, 5, d), (3, 5, d), (8, 5, d))},
        runs=[{**r, **constants} for r in runs],
    )
    for values, (got,) in zip([{"x": first}, *runs], results):
        # LayerNorm over softmax outputs (values near 1/4, tiny variance) amplifies float32
        # rounding of the attention: 2e-5 differences were seen against torch's own float32.
        torch.testing.assert_close(got, expected(values["x"]), atol=1e-4, rtol=1e-4)
