"""Small models for op tests, compiled with Torch-TensorRT.

Models around a function of the inputs (``One``, ``Two``), and small realistic blocks with a custom
op inside (``MLP``, ``AttentionBlock``) that a tutorial can reuse.
"""

import math
from typing import Any, Callable, Sequence, Tuple

import torch


class One(torch.nn.Module):
    """``forward(x) = fn(x)``."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> Any:
        return self.fn(x)


class Two(One):
    """``forward(x, y) = fn(x, y)``."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> Any:
        return self.fn(x, y)


def compile_fn(fn: Callable[..., Any], inputs: Sequence[Any], **settings: Any) -> Any:
    """``torch_tensorrt.compile`` of a model computing ``fn`` of one or two inputs (dynamo IR unless given)."""
    import torch_tensorrt

    settings.setdefault("ir", "dynamo")
    model = {1: One, 2: Two}[len(inputs)](fn).eval()
    return torch_tensorrt.compile(
        model, inputs=list(inputs), min_block_size=1, **settings
    )


def dynamic(
    lo: Tuple[int, ...],
    opt: Tuple[int, ...],
    hi: Tuple[int, ...],
    dtype: torch.dtype = torch.float32,
) -> Any:
    """A dynamic-shape ``torch_tensorrt.Input``."""
    import torch_tensorrt

    return torch_tensorrt.Input(min_shape=lo, opt_shape=opt, max_shape=hi, dtype=dtype)


def runs_in_pytorch(compiled: Any, packet: Any) -> bool:
    """Whether any graph of the compiled module (engine-less submodules included) still calls the op."""
    targets = {packet, *(getattr(packet, o) for o in packet.overloads())}
    return any(
        node.op == "call_function" and node.target in targets
        for module in compiled.modules()
        if isinstance(module, torch.fx.GraphModule)
        for node in module.graph.nodes
    )


def compile_model(
    model: torch.nn.Module, inputs: Sequence[Any], **settings: Any
) -> Any:
    """``torch_tensorrt.compile`` of ``model`` (dynamo IR unless given, no minimum block size)."""
    import torch_tensorrt

    settings.setdefault("ir", "dynamo")
    settings.setdefault("min_block_size", 1)
    return torch_tensorrt.compile(model.eval(), inputs=list(inputs), **settings)


ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "silu")


def _activate(x: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return torch.relu(x)
    if activation == "gelu":
        return torch.nn.functional.gelu(x)
    if activation == "gelu_tanh":
        return torch.nn.functional.gelu(x, approximate="tanh")
    if activation == "silu":
        return torch.nn.functional.silu(x)
    raise ValueError(
        f"activation {activation!r} is not one of {ACTIVATIONS}; pick one of them"
    )


class MLP(torch.nn.Module):
    """``Linear -> op -> activation -> Linear``: a feed-forward block with a custom op inside.

    Args:
        op: the custom op (any ``Tensor -> Tensor`` callable of the hidden activations).
        sizes: input, hidden and output features (odd by default: no block size divides them).
        activation: one of ``ACTIVATIONS``.

    Example:
        >>> model = MLP(torch.ops.my_ns.silu, activation="gelu")
    """

    def __init__(
        self,
        op: Callable[[torch.Tensor], torch.Tensor],
        sizes: Tuple[int, int, int] = (13, 29, 7),
        activation: str = "relu",
    ) -> None:
        super().__init__()
        _activate(torch.zeros(1), activation)  # reject an unknown name now
        self.op = op
        self.activation = activation
        self.up = torch.nn.Linear(sizes[0], sizes[1])
        self.down = torch.nn.Linear(sizes[1], sizes[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(_activate(self.op(self.up(x)), self.activation))


def skip_unless_sdpa_converts() -> None:
    """Skip where Torch-TensorRT cannot put ``scaled_dot_product_attention`` in one engine.

    Torch-TensorRT 2.11 (the GPU tier's) lowers the op to ``aten._safe_softmax``, which it has no
    converter for: the graph breaks into two engines and the second receives the batch size as a
    shape-tensor input, which the stand-in does not model. That is upstream's partitioning, the same
    with real TensorRT; 2.13 converts the op whole.
    """
    import pytest
    import torch_tensorrt

    if tuple(int(p) for p in torch_tensorrt.__version__.split(".")[:2]) < (2, 13):
        pytest.skip(
            "Torch-TensorRT < 2.13 breaks scaled_dot_product_attention out of the engine "
            f"(no aten._safe_softmax converter; this is {torch_tensorrt.__version__})"
        )


class AttentionBlock(torch.nn.Module):
    """A post-norm multi-head self-attention block with a custom op on the merged heads.

    ``x [batch, sequence, dim]``: q, k, v projections; heads split by ``view`` + ``permute``;
    ``softmax(q k^T / sqrt(head_dim)) v`` written out (``fused=False``) or as
    ``scaled_dot_product_attention`` (``fused=True``); heads merged, ``op``, output projection,
    residual, LayerNorm.

    Args:
        op: the custom op applied to the merged heads ``[batch, sequence, dim]``.
        dim: model width; ``heads`` must divide it (20 / 4 = 5 by default: odd head size).
        heads: number of attention heads.
        fused: use ``torch.nn.functional.scaled_dot_product_attention``.

    Example:
        >>> block = AttentionBlock(torch.ops.my_ns.silu, dim=20, heads=4)
    """

    def __init__(
        self,
        op: Callable[[torch.Tensor], torch.Tensor],
        dim: int = 20,
        heads: int = 4,
        fused: bool = False,
    ) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(
                f"AttentionBlock: heads={heads} must divide dim={dim}; pick a divisor"
            )
        self.op = op
        self.heads = heads
        self.fused = fused
        self.q = torch.nn.Linear(dim, dim)
        self.k = torch.nn.Linear(dim, dim)
        self.v = torch.nn.Linear(dim, dim)
        self.out = torch.nn.Linear(dim, dim)
        self.norm = torch.nn.LayerNorm(dim)

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        batch, seq, dim = t.shape
        return t.view(batch, seq, self.heads, dim // self.heads).permute(0, 2, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, dim = x.shape
        q, k, v = self._split(self.q(x)), self._split(self.k(x)), self._split(self.v(x))
        if self.fused:
            heads = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(dim // self.heads)
            heads = torch.softmax(scores, dim=-1) @ v
        merged = heads.permute(0, 2, 1, 3).reshape(batch, seq, dim)
        return self.norm(x + self.out(self.op(merged)))
