"""Hand-written QDP plugins and converters: what a user writes today without this project.

They exercise the TensorRT stand-in (and real TensorRT where present) independently of the
project's generator: a JIT plugin (register + impl) with a matching torch custom op and
Torch-TensorRT converter, and an AOT plugin (register + aot_impl) whose Triton kernel is compiled
to PTX in TensorRT's parameter order.
"""

# No "from __future__ import annotations": QDP inspects real annotation objects.

import re
from dataclasses import dataclass
from typing import Any, Callable, List, Tuple

import numpy as np
import torch


def buffer_as_tensor(t: Any, device: str) -> torch.Tensor:
    """A torch view of a ``tensorrt.plugin.Tensor``'s buffer (CPU pointers on the stand-in)."""
    from trt_standin.core._engine import tensor_at

    return tensor_at(t.data_ptr, tuple(t.shape), t.dtype.name, torch.device(device))


@dataclass
class Registered:
    namespace: str
    op: Any  # torch.ops.<ns>.<name>.default
    undo: Callable[[], None]


def define_scale_add_jit(namespace: str, device: str) -> Registered:
    """``out = x * alpha + y`` (+ ``offset`` elementwise): torch op, QDP JIT plugin, converter.

    Attributes cover every QDP attribute kind: float, int, bool, str, bytes, numpy array.
    """
    import tensorrt.plugin as trtp
    from torch_tensorrt.dynamo.conversion._ConverterRegistry import (
        DYNAMO_ATEN_CONVERTERS,
        dynamo_tensorrt_converter,
    )

    qualname = f"{namespace}::scale_add"

    @torch.library.custom_op(qualname, mutates_args=())
    def scale_add(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
        return x * alpha + y

    @torch.library.register_fake(qualname)
    def _(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
        return torch.empty_like(x)

    def desc(
        x: trtp.TensorDesc,
        y: trtp.TensorDesc,
        alpha: float,
        repeat: int,
        negate: bool,
        tag: str,
        blob: bytes,
        offset: np.ndarray[Any, np.dtype[np.float32]],
    ) -> Tuple[trtp.TensorDesc]:
        return x.like()

    def impl(
        x: trtp.Tensor,
        y: trtp.Tensor,
        alpha: float,
        repeat: int,
        negate: bool,
        tag: str,
        blob: bytes,
        offset: np.ndarray[Any, np.dtype[np.float32]],
        outputs: Tuple[trtp.Tensor],
        stream: int,
    ) -> None:
        assert (
            tag == "scale-add"
            and blob == b"\x01\x02"
            and repeat == 1
            and negate is False
        )
        xt, yt = buffer_as_tensor(x, device), buffer_as_tensor(y, device)
        out = buffer_as_tensor(outputs[0], device)
        extra = torch.as_tensor(offset, device=device).sum()
        out.copy_(xt * alpha + yt + extra)

    trtp.register(qualname)(desc)
    trtp.impl(qualname)(impl)

    op = getattr(getattr(torch.ops, namespace), "scale_add").default

    def convert(ctx: Any, target: Any, args: Any, kwargs: Any, name: str) -> Any:
        x, y, alpha = args
        plugin = getattr(getattr(trtp.op, namespace), "scale_add")
        layer = ctx.net.add_plugin(
            plugin(
                x,
                y,
                alpha=float(alpha),
                repeat=1,
                negate=False,
                tag="scale-add",
                blob=b"\x01\x02",
                offset=np.zeros(3, dtype=np.float32),
            ),
            aot=False,
        )
        layer.name = f"{namespace}/scale_add/{name}"
        return layer.get_output(0)

    dynamo_tensorrt_converter(op, supports_dynamic_shapes=True)(convert)

    def undo() -> None:
        DYNAMO_ATEN_CONVERTERS[op] = [
            c
            for c in DYNAMO_ATEN_CONVERTERS.get(op, [])
            if c.converter_implementation is not convert
        ]
        if not DYNAMO_ATEN_CONVERTERS[op]:
            del DYNAMO_ATEN_CONVERTERS[op]

    return Registered(namespace, op, undo)


def strip_trailing_scratch_params(ptx: str, kernel: str, keep: int) -> str:
    """Keep the first ``keep`` parameters of ``.entry kernel(...)`` (drops Triton's scratch pointers)."""
    pattern = re.compile(
        r"(\.entry\s+" + re.escape(kernel) + r"\s*\()([^)]*)(\))", re.S
    )
    m = pattern.search(ptx)
    assert m, f"no .entry {kernel} in the PTX"
    params = [p.strip() for p in m.group(2).split(",") if p.strip()]
    kept = ",\n\t".join(params[:keep])
    return ptx[: m.start(2)] + "\n\t" + kept + "\n" + ptx[m.end(2) :]


def define_double_aot(namespace: str) -> str:
    """``y = 2 * x`` as an AOT plugin: the kernel's parameters are (x, n, y), TensorRT's order."""
    import tensorrt.plugin as trtp
    import triton
    from support import kernels
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.runtime.jit import JITFunction

    qualname = f"{namespace}::double"

    def desc(x: trtp.TensorDesc, block: int) -> Tuple[trtp.TensorDesc]:
        return x.like()

    def aot_impl(
        x: trtp.TensorDesc, block: int, outputs: Tuple[trtp.TensorDesc], tactic: int
    ) -> Tuple[str, str, trtp.KernelLaunchParams, trtp.SymIntExprs]:
        fn = kernels.double_kernel
        jit = fn if isinstance(fn, JITFunction) else JITFunction(fn.fn)
        src = ASTSource(
            fn=jit,
            signature={
                "x_ptr": "*fp32",
                "n_elements": "i32",
                "y_ptr": "*fp32",
                "BLOCK": "constexpr",
            },
            constexprs={"BLOCK": block},
        )
        compiled = triton.compile(src, target=GPUTarget("cuda", 90, 32))
        ptx = strip_trailing_scratch_params(
            compiled.asm["ptx"], compiled.metadata.name, keep=3
        )
        n = x.shape_expr.numel()
        params = trtp.KernelLaunchParams()
        params.grid_x = trtp.cdiv(n, block)
        params.block_x = compiled.metadata.num_warps * 32
        params.shared_mem = compiled.metadata.shared
        extra = trtp.SymIntExprs(1)
        extra[0] = trtp.SymInt32(n)
        return compiled.metadata.name, ptx, params, extra

    trtp.register(qualname)(desc)
    trtp.aot_impl(qualname)(aot_impl)
    return qualname


def entry_params(ptx: str, kernel: str) -> List[str]:
    m = re.search(r"\.entry\s+" + re.escape(kernel) + r"\s*\(([^)]*)\)", ptx, re.S)
    assert m, f"no .entry {kernel}"
    return [p.strip() for p in m.group(1).split(",") if p.strip()]
