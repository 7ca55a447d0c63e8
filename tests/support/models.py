"""Small models around a function of the inputs, compiled with Torch-TensorRT, for op tests."""

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
