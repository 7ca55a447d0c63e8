"""One rank of the torchrun test (issue 12): a custom op between two all-reduce steps.

    torchrun --nproc_per_node 2 tests/support/multi_gpu_rank.py OUT_DIR

Each rank takes cuda:<rank>, joins an NCCL process group, generates the op's plugin, compiles the
op (dynamic batch) for its device, and runs ``all_reduce -> compiled op -> all_reduce`` on fresh
random inputs, compared with the same steps in eager PyTorch. Writes OUT_DIR/rank<N>.json.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import json
import os
import sys

import torch
import torch.distributed as dist
import triton
import triton.language as tl

COLS = 37


@triton.jit
def _affine_kernel(X, Z, n, a, b, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) * a + b, mask=mask)


@torch.library.custom_op("multi_gpu::affine", mutates_args=())
def affine(x: torch.Tensor, a: float, b: float) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _affine_kernel[(triton.cdiv(n, 128),)](x, z, n, a, b, BLOCK=128)
    return z


@affine.register_fake
def _(x, a, b):
    return torch.empty_like(x)


class Step(torch.nn.Module):
    def forward(self, x):
        return torch.ops.multi_gpu.affine(x, 0.5, 1.0) * 2


def main() -> None:
    out_dir = sys.argv[1]
    rank = int(os.environ["RANK"])
    torch.cuda.set_device(rank)
    device = torch.device("cuda", rank)
    dist.init_process_group("nccl", device_id=device)
    try:  # the GPU tier's TensorRT stand-in; real TensorRT needs nothing here
        from trt_standin import upstream_compat

        upstream_compat.reenable_qdp_on_standin()
    except ImportError:
        pass
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status

    custom_op("multi_gpu::affine")
    model = Step().eval().to(device)
    spec = torch_tensorrt.Input(
        min_shape=(1, COLS), opt_shape=(8, COLS), max_shape=(64, COLS)
    )
    compiled = torch_tensorrt.compile(
        model, ir="dynamo", inputs=[spec], min_block_size=1, device=device
    )
    matches = []
    for rows in (3, 8, 64):
        torch.manual_seed(1000 * rows + rank)
        x = torch.randn(rows, COLS, device=device)
        eager = x.clone()
        dist.all_reduce(x)
        dist.all_reduce(eager)
        y = compiled(x)
        expected = model(eager)
        dist.all_reduce(y)
        dist.all_reduce(expected)
        matches.append(bool(torch.allclose(y, expected, rtol=1e-5, atol=1e-5)))
    status = plugin_status("multi_gpu::affine")
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(
            {
                "rank": rank,
                "matches": matches,
                "implementations": sorted(set(status.implementations.values())),
                "strategies": sorted(status.jit_strategies),
            },
            f,
        )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
