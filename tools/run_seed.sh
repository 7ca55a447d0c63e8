#!/usr/bin/env bash
# Set up .venv (tools/setup_env.sh) and run the seed example end to end: a Triton custom op turned
# into a TensorRT plugin with custom_op(), compiled with torch_tensorrt.compile, checked against PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
.venv/bin/python tools/run_example.py notebooks/auto_generate_plugins.py
