#!/usr/bin/env python3
"""Compile time of a model with K call sites of one op, each with its own float attribute.

    python tools/perf/bench_compile.py                    # GPU: K = 1, 32, 128; ours and upstream
    python tools/perf/bench_compile.py --sites 1 128 --json out.json

The model stacks ``scale_mul(x, y, b=v_i)`` for K different floats ``v_i`` (fp32 inputs 37x19, one
TensorRT engine). Each measurement is one ``torch_tensorrt.compile`` in a fresh process:

* cold: empty Triton cache (``TRITON_CACHE_DIR``) and empty AOT kernel cache
  (``TORCH_TRT_PLUGINS_CACHE``);
* warm: a second process on the caches the cold one left.

The baseline is upstream's JIT-only module (the installed Torch-TensorRT's own
``_generate_plugin.py`` and ``_generate_plugin_converter.py``, loaded by file path) measured in the
same run. Each child also checks the compiled model against the op's formula on fresh inputs and
reports how many kernels Triton compiled while ``torch_tensorrt.compile`` ran. With float
attributes passed as extras (issue 9), ours compiles one AOT kernel for every K.
"""

# No "from __future__ import annotations": custom ops below need real annotation objects.

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_plugins  # noqa: E402  (this directory, for the shared op and setup)


def _load_upstream(module: str) -> Any:
    import torch_tensorrt

    path = os.path.join(
        os.path.dirname(torch_tensorrt.__file__),
        "dynamo",
        "conversion",
        "plugins",
        f"{module}.py",
    )
    spec = importlib.util.spec_from_file_location(f"upstream_{module}", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def child(impl: str, sites: int) -> Dict[str, Any]:
    """One compile in this process; returns seconds, Triton compiles and plugin kinds."""
    torch, cuda = bench_plugins._setup()
    import torch_tensorrt
    import triton

    namespace = f"bench_{impl}"
    bench_plugins.define_ops([namespace], "cuda" if cuda else "cpu")
    qualname = f"{namespace}::scale_mul"
    if impl == "ours":
        from torch_tensorrt.dynamo.conversion.plugins import custom_op

        custom_op(qualname)
    else:
        _load_upstream("_generate_plugin")._generate_plugin(qualname)
        _load_upstream("_generate_plugin_converter").generate_plugin_converter(
            qualname, supports_dynamic_shapes=True
        )
    op = getattr(getattr(torch.ops, namespace), "scale_mul")
    values = [(i - sites // 2) / 16 for i in range(sites)]

    class Sites(torch.nn.Module):
        def forward(self, x: Any, y: Any) -> Any:
            return torch.stack([op(x, y, b=v) for v in values])

    compiles: List[Any] = []
    real_compile = triton.compile

    def counting_compile(*args: Any, **kwargs: Any) -> Any:
        compiles.append(args)
        return real_compile(*args, **kwargs)

    triton.compile = counting_compile
    device = "cuda" if cuda else "cpu"
    x, y = torch.randn(37, 19, device=device), torch.randn(37, 19, device=device)
    start = time.perf_counter()
    compiled = torch_tensorrt.compile(Sites().eval(), inputs=[x, y], min_block_size=1)
    seconds = time.perf_counter() - start
    triton_compiles = len(compiles)
    triton.compile = real_compile
    x, y = torch.randn(37, 19, device=device), torch.randn(37, 19, device=device)
    expected = torch.stack([x * y * 2 + v for v in values])
    error = float((compiled(x, y) - expected).abs().max())
    return {"seconds": seconds, "triton_compiles": triton_compiles, "error": error}


def measure(impl: str, sites: int, caches: str) -> Dict[str, Any]:
    env = dict(
        os.environ,
        TRITON_CACHE_DIR=os.path.join(caches, "triton"),
        TORCH_TRT_PLUGINS_CACHE=os.path.join(caches, "plugins"),
    )
    out = subprocess.run(
        [sys.executable, __file__, "--child", impl, str(sites)],
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(
            f"bench_compile: {impl} K={sites} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
    result: Dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[1, 32, 128])
    parser.add_argument("--json", help="write raw numbers here")
    parser.add_argument(
        "--child", nargs=2, metavar=("IMPL", "SITES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child[0], int(args.child[1]))))
        return
    import torch

    if not torch.cuda.is_available():
        raise SystemExit(
            "bench_compile: needs a CUDA device (AOT kernels are compiled for the GPU the engine is "
            "built on, and upstream's JIT plugin enqueues on CUDA streams)"
        )
    rows: Dict[str, Dict[str, Any]] = {}
    for sites in args.sites:
        for impl in ("upstream", "ours"):
            with tempfile.TemporaryDirectory() as caches:
                cold = measure(impl, sites, caches)
                warm = measure(impl, sites, caches)
            rows[f"{impl}-{sites}"] = {"cold": cold, "warm": warm}
            print(
                f"{impl} K={sites}: cold {cold['seconds']:.2f} s "
                f"({cold['triton_compiles']} Triton compiles), warm {warm['seconds']:.2f} s "
                f"({warm['triton_compiles']}), max error {max(cold['error'], warm['error']):.2e}",
                flush=True,
            )
    print()
    print(
        "| K call sites | upstream cold s | ours cold s (ours / upstream) | upstream warm s | ours warm s (ours / upstream) | ours: Triton compiles cold / warm |"
    )
    print("|---|---|---|---|---|---|")
    for sites in args.sites:
        up, us = rows[f"upstream-{sites}"], rows[f"ours-{sites}"]
        print(
            f"| {sites} | {up['cold']['seconds']:.2f} | {us['cold']['seconds']:.2f} "
            f"({us['cold']['seconds'] / up['cold']['seconds']:.2f}x) | {up['warm']['seconds']:.2f} | "
            f"{us['warm']['seconds']:.2f} ({us['warm']['seconds'] / up['warm']['seconds']:.2f}x) | "
            f"{us['cold']['triton_compiles']} / {us['warm']['triton_compiles']} |"
        )
    if args.json:
        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
        with open(args.json, "w") as f:
            json.dump(
                {
                    "rows": rows,
                    "device": device,
                    "command": " ".join(sys.argv),
                    "date": time.strftime("%Y-%m-%d"),
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
