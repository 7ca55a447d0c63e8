#!/usr/bin/env bash
# Set up .venv (tools/setup_env.sh) and run the whole test suite (the CPU tier here; the gpu tier
# runs where torch has CUDA, the tensorrt tier where real TensorRT imports). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
exec .venv/bin/python -m pytest -n 2 "$@"
