#!/usr/bin/env python3
"""Benchmarks of the generated plugins, each against its baseline measured in the same run.

    python tools/perf/bench_plugins.py shape-query   # CPU or GPU: one TensorRT output-shape query
    python tools/perf/bench_plugins.py enqueue       # GPU: host time per JIT enqueue (seed op, 64x64)
    python tools/perf/bench_plugins.py aot           # GPU: AOT kernel device time and bandwidth
    bash tools/perf/charts_data.sh OUT_DIR            # GPU: the runs the charts need (JSON)
    python tools/perf/charts.py OUT_DIR               # PNG charts from those JSON files

Each prints a Markdown table (ratios first) and, with --json FILE, writes the raw numbers.
Upstream's generator is Torch-TensorRT's own installed ``_generate_plugin.py``, loaded by file path
next to this project's (the overlay serves the package name to this project).

shape-query: the plugin host builds each plugin, then ``get_output_shapes`` (what TensorRT calls for
every shape query) is timed on the built plugin object with fresh expression builders.
enqueue: the JIT plugin's ``enqueue`` is called the way TensorRT's C++ calls it (descriptors and
pointers prepared once), N times back to back; host time per call, against a raw Triton launch
``kernel[grid](...)`` from Python of the same kernel on the same tensors.
aot: device time (CUDA events, median of repeats) of the AOT kernel launched through the driver with
TensorRT's parameter order, against the same Triton kernel launched by Triton, and against a
device-to-device copy of the same data (copy bandwidth); host time per enqueue of AOT vs JIT vs
upstream-style JIT.
"""

# No "from __future__ import annotations": custom ops below need real annotation objects.

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))


def _setup() -> Tuple[Any, bool]:
    import torch

    cuda = torch.cuda.is_available()
    if not cuda:
        os.environ.setdefault("TRITON_INTERPRET", "1")
        from trt_standin import cpu_torch

        cpu_torch.apply()
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()
    return torch, cuda


def load_upstream_generate_plugin() -> Any:
    """Upstream's ``_generate_plugin`` module from the installed torch_tensorrt, under another name."""
    import torch_tensorrt

    path = os.path.join(
        os.path.dirname(torch_tensorrt.__file__),
        "dynamo",
        "conversion",
        "plugins",
        "_generate_plugin.py",
    )
    spec = importlib.util.spec_from_file_location("upstream_generate_plugin", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def define_ops(namespaces: Sequence[str], device: str) -> None:
    """The seed op (masked kernel) under several namespaces."""
    import torch
    import triton
    from support.catalogue import scale_mul_kernel

    for ns in namespaces:
        qualname = f"{ns}::scale_mul"

        def body(
            x: torch.Tensor, y: torch.Tensor, b: float = 0.2, a: int = 2
        ) -> torch.Tensor:
            z = torch.empty_like(x)
            n = x.numel()
            scale_mul_kernel[(triton.cdiv(n, 1024),)](x, y, z, a, b, n, BLOCK_SIZE=1024)
            return z

        torch.library.custom_op(qualname, mutates_args=())(body)
        torch.library.register_fake(qualname)(
            lambda x, y, b=0.2, a=2: torch.empty_like(x)
        )


def _median_us(fn: Callable[[], None], repeats: int, inner: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner * 1e6)
    return statistics.median(samples)


def _build(
    namespace: str,
    name: str,
    shape: Tuple[int, ...],
    dynamic: bool,
    time_tactics: bool = False,
) -> Any:
    import numpy as np
    import tensorrt as trt
    import tensorrt.plugin as trtp
    from trt_standin.host import InputSpec, PluginHost

    dims = tuple(-1 if dynamic else d for d in shape)
    its = [trt.ITensor._make(None, n, trt.float32, dims) for n in ("x", "y")]
    plugin = getattr(getattr(trtp.op, namespace), name)
    defs = plugin.input_attrs
    attrs = {}
    for key, value in (("b", 0.5), ("a", 2)):
        ann = defs[key]
        attrs[key] = (
            np.asarray([value], dtype=ann.__args__[1].__args__[0])
            if getattr(ann, "__origin__", None) is np.ndarray
            else ann(value)
        )
    if dynamic:
        lo = tuple(1 for _ in shape)
        spec = InputSpec.dynamic(trt.float32, lo, shape, tuple(4 * d for d in shape))
    else:
        spec = InputSpec.static(trt.float32, shape)
    return PluginHost(time_tactics=time_tactics).build(
        plugin(*its, **attrs), [spec, spec], aot=False
    )


def bench_shape_query(args: argparse.Namespace) -> Dict[str, Any]:
    torch, cuda = _setup()
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin
    from torch_tensorrt.dynamo.conversion.plugins._registry import PLUGINS
    from trt_standin import core
    from trt_standin.core import _expr
    from trt_standin.core._dims import IDimensionExpr

    define_ops(["bench_ours", "bench_upstream"], "cuda" if cuda else "cpu")
    generate_plugin("bench_ours::scale_mul")
    load_upstream_generate_plugin()._generate_plugin("bench_upstream::scale_mul")
    results: Dict[str, Any] = {}
    for dynamic in (False, True):
        per_impl = {}
        for ns in ("bench_ours", "bench_upstream"):
            built = _build(ns, "scale_mul", (64, 64), dynamic)
            plugin = built.build_plugin
            exprs = []
            for i in range(2):
                d = core.DimsExprs(2)
                for j in range(2):
                    d[j] = IDimensionExpr._wrap(
                        _expr.input_dim(i, j) if dynamic else _expr.const(64)
                    )
                exprs.append(d)

            def query() -> None:
                plugin.get_output_shapes(exprs, [], core.IExprBuilder())

            query()
            per_impl[ns] = _median_us(query, args.repeats, args.inner)
        results["dynamic" if dynamic else "static"] = per_impl
    traces = PLUGINS["bench_ours::scale_mul.default"].programs.traces
    rows = [
        (
            kind,
            r["bench_upstream"],
            r["bench_ours"],
            r["bench_upstream"] / r["bench_ours"],
        )
        for kind, r in results.items()
    ]
    print("| input dims | upstream us/query | ours us/query | upstream / ours |")
    print("|---|---|---|---|")
    for kind, up, ours, ratio in rows:
        print(f"| {kind} 64x64 | {up:.1f} | {ours:.2f} | {ratio:.0f}x |")
    print(f"\nfake-kernel traces run by ours across all queries: {traces}")
    return {"results": results, "traces": traces, "device": _device_name(torch)}


def _device_name(torch: Any) -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    import platform

    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def _enqueue_args(built: Any, x: Any, y: Any, z: Any, stream: int) -> Tuple[Any, ...]:
    from trt_standin import core

    def desc(t: Any, dtype: Any) -> Any:
        d = core.PluginTensorDesc()
        d.dims = core.Dims(tuple(t.shape))
        d.type = dtype
        d.format = core.TensorFormat.LINEAR
        return d

    return (
        [desc(x, built.input_types[0]), desc(y, built.input_types[1])],
        [desc(z, built.output_types[0])],
        [x.data_ptr(), y.data_ptr()],
        [z.data_ptr()],
        [core.Dims(tuple(x.stride())), core.Dims(tuple(y.stride()))],
        [core.Dims(tuple(z.stride()))],
        stream,
    )


def bench_enqueue(args: argparse.Namespace) -> Dict[str, Any]:
    torch, cuda = _setup()
    if not cuda:
        raise SystemExit("enqueue: needs a CUDA device (host time of GPU launches)")
    import triton
    from support.catalogue import scale_mul_kernel
    from torch_tensorrt.dynamo.conversion.plugins import generate_plugin
    from torch_tensorrt.dynamo.conversion.plugins._registry import PLUGINS

    define_ops(["bench_ours", "bench_upstream"], "cuda")
    generate_plugin("bench_ours::scale_mul")
    load_upstream_generate_plugin()._generate_plugin("bench_upstream::scale_mul")
    x = torch.randn(64, 64, device="cuda")
    y = torch.randn(64, 64, device="cuda")
    stream = torch.cuda.current_stream().cuda_stream
    results: Dict[str, float] = {}
    checks: Dict[str, float] = {}
    impl_results: Dict[str, float] = {}
    for ns in ("bench_ours", "bench_upstream"):
        built = _build(ns, "scale_mul", (64, 64), False)
        runtime = built.runtime()._runtime
        z = torch.full_like(x, float("nan"))
        call = _enqueue_args(built, x, y, z, stream)

        def enqueue() -> None:
            runtime.enqueue(*call)

        enqueue()
        torch.cuda.synchronize()
        checks[ns] = float((z - (x * y * 2 + 0.5)).abs().max())
        results[ns] = _median_us(enqueue, args.repeats, args.inner)
        torch.cuda.synchronize()
        # The plugin's own impl, called with the arguments QDP's enqueue builds (what the plugin
        # author controls; QDP's per-call Python is the difference to the line above).
        impl = runtime.impl_function
        seen: Dict[str, Any] = {}
        runtime.impl_function = lambda *a, **k: seen.update(args=a, kwargs=k)
        runtime.enqueue(*call)
        runtime.impl_function = impl
        impl_results[ns] = _median_us(
            lambda: impl(*seen["args"], **seen["kwargs"]), args.repeats, args.inner
        )
        torch.cuda.synchronize()
    z = torch.empty_like(x)

    def raw() -> None:
        scale_mul_kernel[(triton.cdiv(x.numel(), 1024),)](
            x, y, z, 2, 0.5, x.numel(), BLOCK_SIZE=1024
        )

    raw()
    results["raw_triton"] = _median_us(raw, args.repeats, args.inner)
    torch.cuda.synchronize()
    strategies = set(PLUGINS["bench_ours::scale_mul.default"].runtime().chosen.values())
    raw_us = results["raw_triton"]
    print("| path (seed op, 64x64 fp32) | host us per call | vs raw Triton launch |")
    print("|---|---|---|")
    print(
        f"| raw Triton launch from Python, kernel[grid](...) (baseline) | {raw_us:.1f} | 1.00x |"
    )
    print(
        f"| ours: plugin impl (what QDP calls per enqueue) | {impl_results['bench_ours']:.1f} | {impl_results['bench_ours'] / raw_us:.2f}x |"
    )
    print(
        f"| upstream: plugin impl | {impl_results['bench_upstream']:.1f} | {impl_results['bench_upstream'] / raw_us:.2f}x |"
    )
    print(
        f"| ours: QDP enqueue end to end (NVIDIA's Python + impl) | {results['bench_ours']:.1f} | {results['bench_ours'] / raw_us:.2f}x |"
    )
    print(
        f"| upstream: QDP enqueue end to end | {results['bench_upstream']:.1f} | {results['bench_upstream'] / raw_us:.2f}x |"
    )
    print(f"\nmax abs error vs eager: {checks}; our strategy: {strategies}")
    return {
        "enqueue_us": results,
        "impl_us": impl_results,
        "errors": checks,
        "strategies": sorted(strategies),
        "device": _device_name(torch),
    }


def bench_aot(args: argparse.Namespace) -> Dict[str, Any]:
    torch, cuda = _setup()
    if not cuda:
        raise SystemExit("aot: needs a CUDA device")
    import tensorrt as trt
    import tensorrt.plugin as trtp
    import triton
    from support.catalogue import scale_mul_kernel
    from torch_tensorrt.dynamo.conversion.plugins import (
        _aot,
        _attributes,
        generate_plugin,
    )
    from torch_tensorrt.dynamo.conversion.plugins._registry import PLUGINS
    from trt_standin import cuda_launch
    from trt_standin.host import InputSpec, PluginHost

    define_ops(["bench_ours", "bench_upstream"], "cuda")
    generate_plugin("bench_ours::scale_mul")
    load_upstream_generate_plugin()._generate_plugin("bench_upstream::scale_mul")
    record = PLUGINS["bench_ours::scale_mul.default"]
    variant = record.variant()
    aot = _aot.aot_variant(record, variant)
    its = [trt.ITensor._make(None, n, trt.float32, (-1,)) for n in ("x", "y")]
    attrs = _attributes.encode_all(variant.attributes, {"b": 0.5, "a": 2})
    n_big = args.elements
    spec = InputSpec.dynamic(trt.float32, (1,), (4096,), (n_big,))
    built_aot = PluginHost().build(
        getattr(trtp.op.bench_ours, aot.plugin_name)(*its, **attrs),
        [spec, spec],
        aot=True,
    )
    kernel = built_aot.aot

    def events_ms(fn: Callable[[], None], repeats: int) -> float:
        fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
                enable_timing=True
            )
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        return statistics.median(times)

    x = torch.randn(n_big, device="cuda")
    y = torch.randn(n_big, device="cuda")
    z_aot = torch.full_like(x, float("nan"))
    z_tri = torch.empty_like(x)
    copy_dst = torch.empty_like(x)
    stream = torch.cuda.current_stream().cuda_stream
    config = kernel.launch_config([(n_big,), (n_big,)])

    def aot_launch() -> None:
        cuda_launch.launch_ptx(
            kernel.ptx,
            kernel.name,
            grid=(config["grid_x"], config["grid_y"], config["grid_z"]),
            block=(config["block_x"], config["block_y"], config["block_z"]),
            shared_mem=config["shared_mem"],
            pointers_before=[x.data_ptr(), y.data_ptr()],
            int32_args=config["extra_args"],
            pointers_after=[z_aot.data_ptr()],
            stream=stream,
        )

    def triton_launch() -> None:
        scale_mul_kernel[(triton.cdiv(n_big, 1024),)](
            x, y, z_tri, 2, 0.5, n_big, BLOCK_SIZE=1024
        )

    # The seed's own kernel, unmasked as the seed writes it (right here: 64M is whole blocks),
    # compiled from the seed op for a static (n_big,) input.
    from support import seed

    seed.define("cuda")
    generate_plugin("torchtrt_ex::elementwise_scale_mul")
    seed_record = PLUGINS["torchtrt_ex::elementwise_scale_mul.default"]
    seed_variant = seed_record.variant()
    seed_aot = _aot.aot_variant(seed_record, seed_variant)
    seed_its = [trt.ITensor._make(None, n, trt.float32, (n_big,)) for n in ("x", "y")]
    seed_attrs = _attributes.encode_all(seed_variant.attributes, {"b": 0.5, "a": 2})
    seed_spec = InputSpec.static(trt.float32, (n_big,))
    seed_kernel = (
        PluginHost()
        .build(
            getattr(trtp.op.torchtrt_ex, seed_aot.plugin_name)(*seed_its, **seed_attrs),
            [seed_spec, seed_spec],
            aot=True,
        )
        .aot
    )
    seed_config = seed_kernel.launch_config([(n_big,), (n_big,)])
    z_seed_aot = torch.full_like(x, float("nan"))
    z_seed_tri = torch.empty_like(x)

    def seed_aot_launch() -> None:
        cuda_launch.launch_ptx(
            seed_kernel.ptx,
            seed_kernel.name,
            grid=(seed_config["grid_x"], seed_config["grid_y"], seed_config["grid_z"]),
            block=(
                seed_config["block_x"],
                seed_config["block_y"],
                seed_config["block_z"],
            ),
            shared_mem=seed_config["shared_mem"],
            pointers_before=[x.data_ptr(), y.data_ptr()],
            int32_args=seed_config["extra_args"],
            pointers_after=[z_seed_aot.data_ptr()],
            stream=stream,
        )

    def seed_triton_launch() -> None:
        seed.elementwise_scale_mul_kernel[(n_big // 1024,)](
            x, y, z_seed_tri, 2, 0.5, BLOCK_SIZE=1024
        )

    def copy() -> None:
        copy_dst.copy_(x)

    # Interleave the three so clocks and caches treat them alike.
    launches = {
        "aot": aot_launch,
        "triton": triton_launch,
        "seed_aot": seed_aot_launch,
        "seed_triton": seed_triton_launch,
        "copy": copy,
    }
    rounds: Dict[str, List[float]] = {k: [] for k in launches}
    for _ in range(args.rounds):
        for k, fn in launches.items():
            rounds[k].append(events_ms(fn, args.repeats))
    ms = {k: statistics.median(v) for k, v in rounds.items()}
    reference = x.double() * y.double() * 2 + 0.5
    err = float((z_aot.double() - reference).abs().max())
    seed_err = float((z_seed_aot.double() - reference).abs().max())
    bytes_kernel = 3 * 4 * n_big
    bytes_copy = 2 * 4 * n_big
    bw = {
        k: (bytes_copy if k == "copy" else bytes_kernel) / v / 1e6
        for k, v in ms.items()
    }

    # Host cost per enqueue at 64x64: AOT (driver launch) vs our JIT vs upstream-style JIT.
    small_x = torch.randn(64, 64, device="cuda")
    small_y = torch.randn(64, 64, device="cuda")
    small_z = torch.empty_like(small_x)
    small_cfg = kernel.launch_config([(4096,), (4096,)])
    cuda_launch.load_function(kernel.ptx, kernel.name)  # load the module before timing

    def aot_small() -> None:
        cuda_launch.launch_ptx(
            kernel.ptx,
            kernel.name,
            grid=(small_cfg["grid_x"], 1, 1),
            block=(small_cfg["block_x"], 1, 1),
            shared_mem=small_cfg["shared_mem"],
            pointers_before=[small_x.data_ptr(), small_y.data_ptr()],
            int32_args=small_cfg["extra_args"],
            pointers_after=[small_z.data_ptr()],
            stream=stream,
        )

    host: Dict[str, float] = {
        "aot_driver_launch": _median_us(aot_small, args.host_repeats, args.inner)
    }

    def raw_small() -> (
        None
    ):  # the baseline: the same kernel launched by Triton from Python
        scale_mul_kernel[(triton.cdiv(small_x.numel(), 1024),)](
            small_x, small_y, small_z, 2, 0.5, small_x.numel(), BLOCK_SIZE=1024
        )

    raw_small()
    host["raw_triton"] = _median_us(raw_small, args.host_repeats, args.inner)
    for ns in ("bench_ours", "bench_upstream"):
        built = _build(ns, "scale_mul", (64, 64), False)
        rt = built.runtime()._runtime
        call = _enqueue_args(built, small_x, small_y, small_z, stream)
        rt.enqueue(*call)
        host[ns] = _median_us(lambda: rt.enqueue(*call), args.host_repeats, args.inner)
    torch.cuda.synchronize()
    print(f"| {n_big} fp32 elements | ms (median) | GB/s | ratio |")
    print("|---|---|---|---|")
    print(
        f"| device copy x -> y (bandwidth baseline) | {ms['copy']:.4f} | {bw['copy']:.0f} | 1.00 of copy |"
    )
    print(
        f"| Triton kernel, launched by Triton | {ms['triton']:.4f} | {bw['triton']:.0f} | {bw['triton'] / bw['copy']:.3f} of copy |"
    )
    print(
        f"| AOT kernel, TensorRT order, driver launch | {ms['aot']:.4f} | {bw['aot']:.0f} | {bw['aot'] / bw['copy']:.3f} of copy; AOT/Triton time {ms['aot'] / ms['triton']:.3f} |"
    )
    print(
        f"| seed's own kernel (unmasked), launched by Triton | {ms['seed_triton']:.4f} | {bw['seed_triton']:.0f} | {bw['seed_triton'] / bw['copy']:.3f} of copy |"
    )
    print(
        f"| seed's own kernel, AOT, TensorRT order, driver launch | {ms['seed_aot']:.4f} | {bw['seed_aot']:.0f} | {bw['seed_aot'] / bw['copy']:.3f} of copy; AOT/Triton time {ms['seed_aot'] / ms['seed_triton']:.3f} |"
    )
    print(f"\nmax abs error vs float64: masked AOT {err:.2e}, seed AOT {seed_err:.2e}")
    print("\n| 64x64 enqueue path | host us | vs AOT |")
    print("|---|---|---|")
    for key, label in (
        (
            "aot_driver_launch",
            "AOT: stand-in driver launch (cuLaunchKernel via cuda-python; no plugin Python)",
        ),
        ("raw_triton", "raw Triton launch from Python (no TensorRT)"),
        ("bench_ours", "JIT: this project's enqueue"),
        ("bench_upstream", "JIT: upstream generate_plugin enqueue"),
    ):
        print(
            f"| {label} | {host[key]:.1f} | {host[key] / host['aot_driver_launch']:.2f}x |"
        )
    return {
        "ms": ms,
        "bandwidth_GBps": bw,
        "aot_over_triton": ms["aot"] / ms["triton"],
        "seed_aot_over_triton": ms["seed_aot"] / ms["seed_triton"],
        "error": err,
        "seed_error": seed_err,
        "host_us": host,
        "kernel": {"name": kernel.name, "ptx_params": kernel.ptx.count(b".param")},
        "device": _device_name(torch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("which", choices=["shape-query", "enqueue", "aot"])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--inner", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--host-repeats", type=int, default=11)
    parser.add_argument("--elements", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--json", help="write raw numbers here")
    args = parser.parse_args()
    fn = {"shape-query": bench_shape_query, "enqueue": bench_enqueue, "aot": bench_aot}[
        args.which
    ]
    result = fn(args)
    result["command"] = " ".join(sys.argv)
    import trt_standin

    result["tensorrt"] = (
        "TensorRT stand-in" if trt_standin.backend() == "standin" else "TensorRT"
    )
    result["date"] = time.strftime("%Y-%m-%d")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, default=str)


if __name__ == "__main__":
    main()
