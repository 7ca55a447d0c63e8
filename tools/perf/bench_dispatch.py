#!/usr/bin/env python3
"""Host cost of the JIT runtime's own dispatch per enqueue (CPU or GPU), strategy excluded.

    python tools/perf/bench_dispatch.py

Builds the catalogue's ``cat::scale_mul`` plugin, lets its runtime choose a strategy for 64x64 fp32
inputs, replaces that strategy with a no-op and times ``runtime(inputs, attributes, outputs,
stream)`` as QDP calls it: what is left is the runtime's lookup of the call identity, its validity
checks and the mode check (median of 7 x 10000 calls). Compare trees with tools/perf/with_rev.sh.
"""

# No "from __future__ import annotations": the catalogue's custom ops need real annotation objects.

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests"))


def main() -> None:
    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault("TRITON_INTERPRET", "1")
        from trt_standin import cpu_torch

        cpu_torch.apply()
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()
    import tensorrt as trt
    from support import catalogue  # noqa: F401  (defines cat::scale_mul)
    from torch_tensorrt.dynamo.conversion.plugins import (
        _attributes,
        _registry,
        generate_plugin,
    )

    generate_plugin("cat::scale_mul")
    record = _registry.PLUGINS.get("cat::scale_mul.default") or _registry.PLUGINS.get(
        "cat::scale_mul"
    )
    variant = record.variant()
    runtime = record.runtime()

    class Buffer:  # what QDP hands the impl: shape, dtype, address, strides
        def __init__(self) -> None:
            self.shape, self.dtype, self.data_ptr, self.strides = (
                (64, 64),
                trt.float32,
                0,
                (64, 1),
            )

    inputs, outputs = [Buffer(), Buffer()], [Buffer()]
    attributes = list(
        _attributes.encode_all(variant.attributes, {"b": 0.5, "a": 2}).values()
    )
    try:
        runtime(
            inputs, attributes, outputs, 0
        )  # chooses (its launch fails on the null addresses)
    except Exception:
        pass
    table = getattr(runtime, "_entries", None) or getattr(runtime, "_strategies")
    for key in list(table):
        if hasattr(table[key], "run"):
            table[key].run = lambda i, o, s: None
        else:  # the runtime before issue 8 kept bare functions
            table[key] = lambda i, o, s: None

    def loop() -> None:
        for _ in range(10000):
            runtime(inputs, attributes, outputs, 0)

    loop()
    times = []
    for _ in range(7):
        start = time.perf_counter()
        loop()
        times.append((time.perf_counter() - start) / 10000 * 1e6)
    print(
        f"JIT runtime dispatch, strategy excluded: {statistics.median(times):.3f} us per enqueue"
    )


if __name__ == "__main__":
    main()
