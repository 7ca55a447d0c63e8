"""The JIT plugin's direct Triton launch (NOTE [Fast launch] in ``_launch``), without a GPU.

Triton's objects are replaced by recorders that keep every call, so the test sees exactly what the
strategy hands to ``JITFunction.run`` (first launch, or a new pointer alignment) and to the compiled
kernel's launcher (every later launch). The GPU tier runs the same path on real kernels
(``test_seed``); the Triton release matrix (``test_triton_releases``) runs this file under every
supported Triton, where 3.2 and 3.3 must never call the launcher directly.
"""

from __future__ import annotations

import contextlib
import random
from types import SimpleNamespace

import pytest
import torch
from torch_tensorrt.dynamo.conversion.plugins import _launch

GRID = (3, 1, 1)
N = 4096
BLOCK = 64


def _fast_launch_supported() -> bool:
    """Triton 3.4 to 3.8 launch through ``knobs`` hooks and every bound argument; see the NOTE."""
    try:
        from triton import knobs  # noqa: F401
    except ImportError:
        return False
    return True


class _CompiledKernel:
    """Records launcher calls the way Triton's CompiledKernel receives them."""

    def __init__(self) -> None:
        self.function = object()
        self.packed_metadata = object()
        self.calls: list = []
        self.fail = False

    def launch_metadata(self, grid, stream, *args):
        return ("launch-metadata", tuple(grid), stream, args)

    def run(self, *args):
        if self.fail:
            raise TypeError("launcher takes another argument list")
        self.calls.append(args)


class _Kernel:
    """A @triton.jit kernel as the strategy sees it: ``run(..., grid=, warmup=)`` compiles and launches."""

    def __init__(self) -> None:
        self.compiled = _CompiledKernel()
        self.runs: list = []

    def run(self, *, grid, warmup, **kwargs):
        self.runs.append((grid, warmup, kwargs))
        return self.compiled


class _Runtime:
    streams: list = []

    @staticmethod
    def torch_dtype(buffer):
        return buffer.dtype

    def stream_context(self, stream):
        self.streams.append(stream)
        return contextlib.nullcontext()


def _buffer(ptr: int, dtype: torch.dtype = torch.float32):
    return SimpleNamespace(data_ptr=ptr, dtype=dtype)


def _strategy():
    kernel = _Kernel()
    captured = SimpleNamespace(kernel=kernel, arg_names=("x", "y", "out", "n", "BLOCK"))
    plan = _launch.LaunchPlan(
        captured=captured,  # type: ignore[arg-type]
        grid=GRID,
        layout=(
            ("input", 0),
            ("input", 1),
            ("output", 0),
            ("value", N),
            ("value", BLOCK),
        ),
        constexprs=(("BLOCK", BLOCK),),
        options=(("num_warps", 4),),
    )
    return kernel, plan.strategy(_Runtime())


def _aligned(k: int) -> int:
    return (random.randrange(1, 1 << 30) << 8) + 256 * k


def test_first_launch_goes_through_jitfunction_run_with_tensorrts_pointers():
    kernel, run = _strategy()
    x, y, out, stream = (
        _aligned(0),
        _aligned(1),
        _aligned(2),
        random.randrange(1, 1 << 40),
    )
    run([_buffer(x), _buffer(y, torch.bfloat16)], [_buffer(out)], stream)
    assert len(kernel.runs) == 1 and kernel.compiled.calls == []
    grid, warmup, kwargs = kernel.runs[0]
    assert grid == GRID and warmup is False and kwargs["num_warps"] == 4
    assert [kwargs[n].data_ptr() for n in ("x", "y", "out")] == [x, y, out]
    assert [kwargs[n].dtype for n in ("x", "y", "out")] == [
        torch.float32,
        torch.bfloat16,
        torch.float32,
    ]
    assert (kwargs["n"], kwargs["BLOCK"]) == (N, BLOCK)
    assert _Runtime.streams[-1] == stream
    assert run.stats["dispatched"] == 1 and run.stats["direct"] == 0


def test_later_launches_call_the_compiled_launcher_as_jitfunction_run_does():
    kernel, run = _strategy()
    run([_buffer(_aligned(0)), _buffer(_aligned(1))], [_buffer(_aligned(2))], 7)
    x, y, out, stream = (
        _aligned(3),
        _aligned(4),
        _aligned(5),
        random.randrange(1, 1 << 40),
    )
    run([_buffer(x), _buffer(y)], [_buffer(out)], stream)
    if not _fast_launch_supported():
        # Triton 3.2 / 3.3: another launcher convention; every launch is a JITFunction.run.
        assert kernel.compiled.calls == [] and len(kernel.runs) == 2
        assert run.stats["direct"] == 0 and run.stats["dispatched"] == 2
        return
    from triton import knobs

    assert len(kernel.runs) == 1 and len(kernel.compiled.calls) == 1
    values = (x, y, out, N, BLOCK)
    compiled = kernel.compiled
    assert kernel.compiled.calls[0] == (
        *GRID,
        stream,
        compiled.function,
        compiled.packed_metadata,
        ("launch-metadata", GRID, stream, values),
        knobs.runtime.launch_enter_hook,
        knobs.runtime.launch_exit_hook,
        *values,
    )
    assert run.stats["direct"] == 1 and run.stats["dispatched"] == 1


def test_a_pointer_with_another_alignment_is_compiled_again():
    """Triton specialises on 16-byte pointer alignment: a misaligned buffer must not reuse the kernel."""
    kernel, run = _strategy()
    run([_buffer(_aligned(0)), _buffer(_aligned(1))], [_buffer(_aligned(2))], 7)
    run([_buffer(_aligned(0) + 4), _buffer(_aligned(1))], [_buffer(_aligned(2))], 7)
    assert len(kernel.runs) == 2 and kernel.compiled.calls == []
    assert kernel.runs[1][2]["x"].data_ptr() % 16 == 4


def test_a_launcher_that_rejects_the_call_is_not_tried_again():
    kernel, run = _strategy()
    run([_buffer(_aligned(0)), _buffer(_aligned(1))], [_buffer(_aligned(2))], 7)
    kernel.compiled.fail = True
    for _ in range(3):
        run([_buffer(_aligned(0)), _buffer(_aligned(1))], [_buffer(_aligned(2))], 7)
    assert len(kernel.runs) == 4 and kernel.compiled.calls == []
    assert run.stats["fast"] is False and run.stats["dispatched"] == 4


@pytest.mark.parametrize("seed", [0, 1])
def test_launches_alternate_between_plans_without_mixing_arguments(seed):
    random.seed(seed)
    kernel_a, run_a = _strategy()
    kernel_b, run_b = _strategy()
    seen = {"a": [], "b": []}
    for i in range(6):
        which, run = (("a", run_a), ("b", run_b))[i % 2]
        ptrs = [_aligned(j) for j in range(3)]
        run([_buffer(ptrs[0]), _buffer(ptrs[1])], [_buffer(ptrs[2])], i)
        seen[which].append(ptrs)
    for kernel, key in ((kernel_a, "a"), (kernel_b, "b")):
        launched = [
            [r[2][n].data_ptr() for n in ("x", "y", "out")] for r in kernel.runs
        ]
        launched += [list(c[9:12]) for c in kernel.compiled.calls]
        assert sorted(launched) == sorted(seen[key])
