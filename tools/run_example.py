#!/usr/bin/env python3
"""Run an example script; on a CPU-only machine, on the TensorRT stand-in with the Triton interpreter.

    python tools/run_example.py notebooks/auto_generate_plugins.py
    python tools/run_example.py -m torch_tensorrt.dynamo.conversion.plugins explain ns::op --import my_ops ...

Where torch has CUDA and real TensorRT imports, this is just ``python <script>``. Otherwise it turns
on the Triton interpreter (before any kernel is defined) and applies the test-only adjustments of
released Torch-TensorRT to a CPU-only torch (``trt_standin.cpu_torch``) before running the script.
"""

from __future__ import annotations

import os
import runpy
import sys


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    script = sys.argv[1]
    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault("TRITON_INTERPRET", "1")
        from trt_standin import cpu_torch

        cpu_torch.apply()
    import trt_standin
    from trt_standin import upstream_compat

    upstream_compat.reenable_qdp_on_standin()
    print(
        f"[run_example] TensorRT core: {trt_standin.backend()}; torch device: "
        f"{'cuda' if torch.cuda.is_available() else 'cpu (Triton interpreter)'}",
        flush=True,
    )
    if script == "-m":  # a module, as python -m would run it
        module = sys.argv[2]
        sys.argv = [module] + sys.argv[3:]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
