#!/usr/bin/env python3
"""liger-kernel corpus on the GPU: AOT device time vs Triton's launch, host cost AOT vs JIT.

    python tools/perf/bench_corpus.py [--rows 16384 --hidden 4096] [--json out.json]

For every corpus op (``tests/support/liger_corpus.py``) whose call site goes AOT, float32:

* device time: the AOT kernel that the engine holds (PTX in TensorRT's parameter order, launched
  through the driver with the engine's grid, block and extras) against the op run eagerly, which
  is liger-kernel launching the same kernel and config through Triton; CUDA events around
  back-to-back launches, median of rounds, the two interleaved;
* host cost per enqueue (small input, 64 rows): the stand-in's plugin runtime enqueuing the AOT
  plugin (one driver launch from Python) against enqueuing the JIT plugin of the same op (this
  package's direct Triton launch). Both go through the same stand-in ``enqueue`` checks; real
  TensorRT launches an AOT kernel from C++ with no Python at all.

Ops whose site stays JIT are listed with the reason. Needs a CUDA device.
"""

# No "from __future__ import annotations": the corpus defines custom ops.

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)

import bench_plugins  # noqa: E402


def _events_ms(torch: Any, fn: Callable[[], None], repeats: int) -> float:
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        fn()
    end.record()
    end.synchronize()
    return float(start.elapsed_time(end)) / repeats


def _host_us(torch: Any, fn: Callable[[], None], repeats: int) -> float:
    fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        samples.append((time.perf_counter() - t0) / repeats * 1e6)
        torch.cuda.synchronize()
    return statistics.median(samples)


def _plugin(compiled: Any) -> Any:
    from support import engines

    (built,) = engines.built_plugins(compiled)
    return built


def bench(args: argparse.Namespace) -> Dict[str, Any]:
    torch, cuda = bench_plugins._setup()
    if not cuda:
        raise SystemExit("bench_corpus: needs a CUDA device")
    import torch_tensorrt
    from support import liger_corpus, models
    from support import registry as support_registry
    from torch_tensorrt.dynamo.conversion.plugins import custom_op
    from trt_standin import cuda_launch

    dtype = torch.float32
    rows: Dict[str, Any] = {}
    for case in liger_corpus.CORPUS:
        if args.ops and case.name not in args.ops:
            continue
        if case.name in (
            "group_norm",
            "rope",
        ):  # no hidden-size parameter; JIT (torch ops)
            rows[case.name] = {"jit": "the body runs torch ops (see the corpus test)"}
            continue
        model = liger_corpus.model_for(case)
        big = case.make(args.rows, dtype, "cuda", args.hidden)
        small = case.make(64, dtype, "cuda", args.hidden)
        results: Dict[str, Any] = {}
        for aot in (True, False):
            handle = custom_op(case.qualname, use_aot_if_available=aot)
            try:
                compiled = torch_tensorrt.compile(
                    model, inputs=list(big), min_block_size=1
                )
                built = _plugin(compiled)
                reasons = support_registry.aot_reasons(case.qualname)
                compiled_small = torch_tensorrt.compile(
                    model, inputs=list(small), min_block_size=1
                )
                small_runtime = _plugin(compiled_small).runtime()
            finally:
                handle.remove()
            if aot and built.kind != "aot":
                results["jit"] = "; ".join(sorted(set(reasons.values())))
                break
            # Every plugin output, hidden ones (scratch tensors) included, allocated once.
            outs = small_runtime.enqueue(list(small))
            torch.cuda.synchronize()
            stream = torch.cuda.current_stream().cuda_stream
            results["host_aot_us" if aot else "host_jit_us"] = _host_us(
                torch,
                lambda r=small_runtime, o=outs: r.enqueue(list(small), o, stream),
                args.inner,
            )
            if aot:
                results["device"] = _device_times(
                    torch, cuda_launch, case, built, big, args
                )
        rows[case.name] = results
        print(case.name, json.dumps(results, default=str), flush=True)
    return {"rows": rows, "device": torch.cuda.get_device_name(0)}


def _device_times(
    torch: Any,
    cuda_launch: Any,
    case: Any,
    built: Any,
    inputs: List[Any],
    args: argparse.Namespace,
) -> Dict[str, float]:
    kernel = built.aot
    expected = case.call(case.op(), *inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    shapes = built.evaluate_output_shapes([tuple(t.shape) for t in inputs])
    # The op's outputs, then the hidden scratch outputs the kernel also writes.
    from trt_standin.core._network import TORCH_OF

    outs = [torch.full_like(e, float("nan")) for e in expected] + [
        torch.empty(s, dtype=TORCH_OF[t], device="cuda")
        for s, t in list(zip(shapes, built.output_types))[len(expected) :]
    ]
    config = kernel.launch_config([tuple(t.shape) for t in inputs])
    stream = torch.cuda.current_stream().cuda_stream

    def aot_launch() -> None:
        cuda_launch.launch_ptx(
            kernel.ptx,
            kernel.name,
            grid=(config["grid_x"], config["grid_y"], config["grid_z"]),
            block=(config["block_x"], config["block_y"], config["block_z"]),
            shared_mem=config["shared_mem"],
            pointers_before=[t.data_ptr() for t in inputs],
            int32_args=config["extra_args"],
            pointers_after=[o.data_ptr() for o in outs],
            stream=stream,
        )

    def triton_launch() -> None:
        case.call(case.op(), *inputs)

    aot_launch()
    torch.cuda.synchronize()
    error = max(float((o - e).abs().max()) for o, e in zip(outs, expected))
    rounds: Dict[str, List[float]] = {"aot": [], "triton": []}
    for _ in range(args.rounds):
        rounds["aot"].append(_events_ms(torch, aot_launch, args.repeats))
        rounds["triton"].append(_events_ms(torch, triton_launch, args.repeats))
    ms = {k: statistics.median(v) for k, v in rounds.items()}
    return {
        "aot_ms": ms["aot"],
        "triton_ms": ms["triton"],
        "aot_over_triton": ms["aot"] / ms["triton"],
        "max_abs_error_vs_eager": error,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=16384)
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--inner", type=int, default=200)
    parser.add_argument("--ops", nargs="*", help="only these corpus ops (default: all)")
    parser.add_argument("--json", help="write raw numbers here")
    args = parser.parse_args()
    result = bench(args)
    print()
    print(
        "| op | AOT device ms | Triton launch ms | AOT / Triton | host µs per enqueue: AOT | JIT | JIT / AOT |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in result["rows"].items():
        if "device" not in r:
            print(f"| {name} | stays JIT: {r.get('jit', '?')} | | | | | |")
            continue
        d = r["device"]
        print(
            f"| {name} | {d['aot_ms']:.4f} | {d['triton_ms']:.4f} | {d['aot_over_triton']:.3f} | "
            f"{r['host_aot_us']:.1f} | {r['host_jit_us']:.1f} | {r['host_jit_us'] / r['host_aot_us']:.2f}x |"
        )
    result.update(
        command=" ".join(sys.argv),
        date=time.strftime("%Y-%m-%d"),
        tensorrt="TensorRT stand-in",
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, default=str)


if __name__ == "__main__":
    main()
