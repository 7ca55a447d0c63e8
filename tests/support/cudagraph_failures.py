"""Enqueues that a CUDA graph capture forbids, each in this process of its own, as JSON on stdout.

    PYTHONPATH=tests python tests/support/cudagraph_failures.py autotune|host_sync

A capture that fails leaves torch's CUDA random generator in capture mode for the rest of the
process ("Offset increment outside graph capture"), so these run away from the test process.
GPU only. Prints ``FAILURE {"error": ..., "graphs": ..., "after_warmup": ...}``: the text of the
error (with its causes), ``plugin_status(op).cuda_graphs`` right after it, and, for ``autotune``,
whether replays match eager once each shape ran outside a capture.
"""

# No "from __future__ import annotations": torch.library.custom_op infers schemas from annotations.

import json
import sys

import torch

COLS = 37


def _host_sync(x: torch.Tensor) -> torch.Tensor:
    if (
        float(x.abs().max()) > 1e30
    ):  # a host read of device data: forbidden while capturing
        raise ValueError("too large")
    return x * 2


def _chain(error):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def _compile(model):
    import torch_tensorrt

    spec = torch_tensorrt.Input(
        min_shape=(1, COLS), opt_shape=(8, COLS), max_shape=(300, COLS)
    )
    return torch_tensorrt.compile(model, ir="dynamo", inputs=[spec], min_block_size=1)


def main() -> None:
    which = sys.argv[1]
    import torch_tensorrt
    from support import autotuned
    from torch_tensorrt.dynamo.conversion.plugins import custom_op, plugin_status
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()
    if which == "autotune":
        qualname = autotuned.QUALNAME
        custom_op(qualname, use_aot_if_available=False)

        class Model(torch.nn.Module):
            def forward(self, x):
                return torch.ops.autotuned.scale(x, alpha=0.75) + 1

        reference = lambda x: x * 0.75 + 1  # noqa: E731
        rows = 211  # a shape neither the build nor the autotuner has seen
    else:
        qualname = "cgfail::host_sync"
        torch.library.custom_op(qualname, mutates_args=())(_host_sync)
        torch.library.register_fake("cgfail::host_sync")(lambda x: torch.empty_like(x))
        custom_op("cgfail::host_sync")

        class Model(torch.nn.Module):  # type: ignore[no-redef]
            def forward(self, x):
                return torch.ops.cgfail.host_sync(x) + 1

        reference = lambda x: x * 2 + 1  # noqa: E731
        rows = 10
    compiled = _compile(Model().eval())
    error = ""
    try:
        with torch_tensorrt.runtime.enable_cudagraphs(compiled) as graphed:
            graphed(torch.randn(rows, COLS, device="cuda"))
    except Exception as e:
        error = " | ".join(f"{type(x).__name__}: {x}" for x in _chain(e))
    graphs = sorted(plugin_status(qualname).cuda_graphs.values())
    after_warmup = None
    if which == "autotune":
        compiled = _compile(Model().eval())
        for n in (rows, 7):  # outside any capture: Triton's autotuner tunes here
            x = torch.randn(n, COLS, device="cuda")
            torch.testing.assert_close(compiled(x), reference(x))
        torch.cuda.synchronize()
        after_warmup = True
        with torch_tensorrt.runtime.enable_cudagraphs(compiled) as graphed:
            for n in (rows, 7, rows):
                x = torch.randn(n, COLS, device="cuda")
                after_warmup = after_warmup and bool(
                    torch.allclose(graphed(x), reference(x), rtol=1e-5, atol=1e-5)
                )
    facts = {"error": error, "graphs": graphs, "after_warmup": after_warmup}
    print("FAILURE " + json.dumps(facts))


if __name__ == "__main__":
    main()
