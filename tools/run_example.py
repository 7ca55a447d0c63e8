#!/usr/bin/env python3
"""Run an example script; on a CPU-only machine, on the TensorRT stand-in with the Triton interpreter.

    python tools/run_example.py notebooks/auto_generate_plugins.py
    python tools/run_example.py -m torch_tensorrt.dynamo.conversion.plugins explain ns::op --import my_ops ...

Where torch has CUDA and real TensorRT imports, this is just ``python <script>``. Otherwise
``trt_standin.examples.setup()`` (what the tutorial notebooks call in their first cell) turns on the
Triton interpreter before any kernel is defined and applies the test-only adjustments of released
Torch-TensorRT to a CPU-only torch before the script runs.
"""

from __future__ import annotations

import runpy
import sys


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    script = sys.argv[1]
    from trt_standin.examples import setup

    # explain (python -m torch_tensorrt.dynamo.conversion.plugins) runs no kernel, only compiles
    # them, which Triton does reliably only outside its interpreter.
    explaining = script == "-m" and sys.argv[2:3] == [
        "torch_tensorrt.dynamo.conversion.plugins"
    ]
    environment = setup(announce=False, interpreter=not explaining)
    print(f"[run_example] {environment.describe()}", flush=True)
    if script == "-m":  # a module, as python -m would run it
        module = sys.argv[2]
        sys.argv = [module] + sys.argv[3:]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
