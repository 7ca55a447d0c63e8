#!/usr/bin/env python3
"""CUDA graphs: host time per call of a compiled model with and without Torch-TensorRT's CUDA graphs.

    python tools/perf/bench_cudagraphs.py [--layers 8 --rows 64 --cols 64] [--json out.json]

The model chains ``--layers`` calls of the seed op (one Triton launch each) with a ReLU between
them, compiled twice: JIT plugins (``use_aot_if_available=False``) and AOT plugins. For each, the
host time per ``compiled(x)`` call (median of rounds of back-to-back calls, then one synchronise)
without CUDA graphs and inside ``torch_tensorrt.runtime.enable_cudagraphs`` (captured once, then
replayed), against the same model run eagerly in PyTorch (its Triton launches from Python), all in
one run. Outputs are checked against eager first.

On the stand-in the engine's own layers run through a Python executor, so the time without CUDA
graphs is mostly the stand-in's, not TensorRT's; what the ratio shows is that the plugins'
enqueues are captured and replayed with no Python at all. Needs a CUDA device.
"""

# No "from __future__ import annotations": the seed op is a custom op.

import argparse
import json
import os
import sys
import time
from typing import Any, Dict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)

import bench_corpus  # noqa: E402
import bench_plugins  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--cols", type=int, default=64)
    parser.add_argument("--inner", type=int, default=200)
    parser.add_argument("--json", help="write raw numbers here")
    args = parser.parse_args()
    torch, cuda = bench_plugins._setup()
    if not cuda:
        sys.exit("bench_cudagraphs needs a CUDA device")
    import torch_tensorrt
    from torch_tensorrt.dynamo.conversion.plugins import custom_op

    bench_plugins.define_ops(["cg_jit", "cg_aot"], "cuda")

    def model_for(ns: str) -> Any:
        op = getattr(torch.ops, ns).scale_mul

        class Chain(torch.nn.Module):
            def forward(self, x):
                for _ in range(args.layers):
                    x = torch.relu(op(x, x, 0.5, 1))
                return x

        return Chain().eval()

    x = torch.randn(args.rows, args.cols, device="cuda")
    results: Dict[str, Any] = {}
    eager = model_for("cg_jit")
    results["eager_us"] = bench_corpus._host_us(torch, lambda: eager(x), args.inner)
    for ns, aot in (("cg_jit", False), ("cg_aot", True)):
        custom_op(f"{ns}::scale_mul", use_aot_if_available=aot)
        model = model_for(ns)
        compiled = torch_tensorrt.compile(
            model, ir="dynamo", inputs=[x], min_block_size=1
        )
        torch.testing.assert_close(compiled(x), model(x))
        plain = bench_corpus._host_us(torch, lambda: compiled(x), args.inner)
        with torch_tensorrt.runtime.enable_cudagraphs(compiled) as graphed:
            torch.testing.assert_close(graphed(x), model(x))
            y = torch.randn_like(x)
            torch.testing.assert_close(graphed(y), model(y))
            replay = bench_corpus._host_us(torch, lambda: graphed(x), args.inner)
        label = "aot" if aot else "jit"
        results[f"{label}_us"] = plain
        results[f"{label}_cudagraphs_us"] = replay
    name = torch.cuda.get_device_name()
    print(
        f"CUDA graphs, {args.layers} plugin layers, {args.rows}x{args.cols} fp32, {name}, "
        "TensorRT stand-in; host time per call, ratio to eager PyTorch in the same run"
    )
    print("| | without CUDA graphs | with CUDA graphs | with / without |")
    print("|---|---|---|---|")
    base = results["eager_us"]
    print(f"| eager PyTorch (baseline) | {base:.1f} us (1.00x) | | |")
    for label in ("jit", "aot"):
        plain, graph = results[f"{label}_us"], results[f"{label}_cudagraphs_us"]
        print(
            f"| {label.upper()} plugins | {plain:.1f} us ({plain / base:.2f}x) | "
            f"{graph:.1f} us ({graph / base:.2f}x) | {graph / plain:.3f} |"
        )
    results.update(
        command=" ".join(sys.argv),
        device=name,
        tensorrt="TensorRT stand-in",
        date=time.strftime("%Y-%m-%d"),
        layers=args.layers,
        shape=[args.rows, args.cols],
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
