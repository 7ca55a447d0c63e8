"""Two GPUs (issue 12): engines per device in one process, and one engine per rank under torchrun.

Both need two CUDA devices (the device tool's two-GPU kind) and skip otherwise; the device
plumbing they rely on is unit-tested on the CPU tier in test_devices.py.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import json
import os
import pathlib
import subprocess
import sys

import pytest
import torch
import triton
import triton.language as tl
from support import models

needs_two_gpus = pytest.mark.skipif(
    not torch.cuda.is_available() or torch.cuda.device_count() < 2,
    reason="needs two CUDA devices (the device tool's nvidia-h200-x2)",
)
COLS = 37


@triton.jit
def _shift_kernel(X, Z, n, b, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Z + offs, tl.load(X + offs, mask=mask) + b, mask=mask)


def _shift(x: torch.Tensor, b: float) -> torch.Tensor:
    z = torch.empty_like(x)
    n = x.numel()
    _shift_kernel[(triton.cdiv(n, 128),)](x, z, n, b, BLOCK=128)
    return z


@needs_two_gpus
@pytest.mark.parametrize("aot", [False, True], ids=["jit", "aot"])
def test_two_engines_on_two_devices_run_interleaved(
    trt_backend, ops, handles, fresh_qdp_namespace, aot
):
    """The same op in an engine on cuda:0 and one on cuda:1, run interleaved from a stream on
    each device while the current device is the other one: outputs equal eager on each device.
    """
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    qualname = f"{fresh_qdp_namespace}::shift"
    packet = ops.custom_packet(qualname, _shift, lambda x, b: torch.empty_like(x))
    handles.append(custom_op(qualname, use_aot_if_available=aot))

    class Model(torch.nn.Module):
        def forward(self, x):
            return packet(x * 2, -0.5)

    spec = torch_tensorrt.Input(
        min_shape=(1, COLS), opt_shape=(8, COLS), max_shape=(64, COLS)
    )
    engines = {}
    for index in (0, 1):
        device = torch.device("cuda", index)
        engines[index] = models.compile_model(
            Model().eval().to(device), [spec], device=device
        )
    streams = {i: torch.cuda.Stream(device=i) for i in (0, 1)}
    for rows in (3, 64, 17, 64):
        for index in (0, 1):
            other = 1 - index
            torch.cuda.set_device(other)  # the current device is not the engine's
            x = torch.randn(rows, COLS, device=f"cuda:{index}")
            with torch.cuda.stream(streams[index]):
                y = engines[index](x)
            streams[index].synchronize()
            torch.testing.assert_close(y, x * 2 - 0.5)
    torch.cuda.set_device(0)


@needs_two_gpus
def test_torchrun_ranks_compile_and_match_eager(tmp_path):
    """torchrun --nproc_per_node 2: each rank compiles the op between two all-reduce steps
    (NCCL, outside the engines) and matches eager."""
    root = pathlib.Path(__file__).resolve().parents[5]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(root / "tests"), env.get("PYTHONPATH", "")]
    )
    env.pop("TRITON_INTERPRET", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            str(root / "tests" / "support" / "multi_gpu_rank.py"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=str(root),
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for rank in (0, 1):
        facts = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert facts["matches"] == [True, True, True], facts
