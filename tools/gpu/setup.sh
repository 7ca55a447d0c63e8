#!/usr/bin/env bash
# On the GPU machine: install .carry/wheels (from tools/gpu/prepare_carry.sh), activate the TensorRT
# stand-in and the plugins overlay in the image's Python. Idempotent; prints what is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-python3}
"$PY" -m pip install -q --no-deps --no-index --disable-pip-version-check .carry/wheels/*.whl 2>&1 | grep -v "^WARNING" || true
if [ -d .carry/notebooks ]; then  # the notebook tier's packages (tools/gpu/prepare_carry.sh)
  "$PY" -m pip install -q --no-deps --no-index --disable-pip-version-check .carry/notebooks/*.whl 2>&1 | grep -v "^WARNING" || true
fi
"$PY" tools/trt_standin/install.py
"$PY" -m pip install -q --no-deps --no-index --no-build-isolation --disable-pip-version-check . 2>&1 | grep -v "^WARNING" || true
"$PY" - <<'PYEOF'
import torch, triton, numpy, tensorrt, trt_standin, torch_tensorrt
from torch_tensorrt.dynamo.conversion import plugins
print(f"torch {torch.__version__} ({torch.cuda.get_device_name(0)}), triton {triton.__version__}, numpy {numpy.__version__}")
print(f"torch_tensorrt {torch_tensorrt.__version__}, tensorrt {tensorrt.__version__} ({trt_standin.backend()}), plugins {plugins.__file__}")
PYEOF
