#!/usr/bin/env bash
# Create or update .venv with everything the examples and tests need, from constraints.txt.
#
# Idempotent: a stamp records the hash of this script and constraints.txt; an unchanged, complete
# environment is left alone. Steps:
#   1. venv + pinned Python packages (torch CPU build from local disk here, triton, test tools);
#   2. the released Torch-TensorRT, python-only (tools/install_upstream_python_only.py);
#   3. NVIDIA's tensorrt bindings wheel and the `tensorrt` front package (QDP Python layer);
#   4. the TensorRT stand-in, active only where the real TensorRT core cannot load;
#   5. this project (the overlay of torch_tensorrt.dynamo.conversion.plugins);
#   6. the other bindings releases the multi-version tests mount (wheels + numpy<=2.3 for them);
#   7. the other Triton releases the release-matrix tests import (3.2 to 3.8).
# Environment: PYTHON (interpreter to build the venv from, default python3), VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
VENV=${VENV:-$ROOT/.venv}
CACHE=$ROOT/.cache
PIP_FLAGS=(--disable-pip-version-check --no-input -q)

stamp_value() {
  cat tools/setup_env.sh constraints.txt setup.py tools/install_upstream_python_only.py \
      tools/trt_standin/install.py tools/trt_standin/bindings.py tests/support/triton_releases.py \
      tools/lint_tools.py | sha256sum | cut -d' ' -f1
}

STAMP="$VENV/.setup-stamp"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_value)" ] && [ -x "$VENV/bin/python" ]; then
  echo "setup_env: $VENV is up to date"
  exit 0
fi

mkdir -p "$CACHE"
LOG="$CACHE/setup_env.log"
: > "$LOG"
echo "setup_env: building $VENV (one line per step; what the steps print goes to $LOG)"
# step N TITLE COMMAND...: run COMMAND with its output in the log; on failure show the log's end.
step() {
  local n=$1 title=$2 start=$SECONDS
  shift 2
  printf '  [%s/8] %s ... ' "$n" "$title"
  echo "== $n $title" >>"$LOG"
  if "$@" >>"$LOG" 2>&1; then
    echo "ok ($((SECONDS - start)) s)"
  else
    echo "FAILED"
    echo "---- last 60 lines of $LOG ----"
    tail -60 "$LOG"
    exit 1
  fi
}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
pip_install() { "$PY" -m pip install "${PIP_FLAGS[@]}" -c constraints.txt "$@"; }
pinned_packages() {
  pip_install --upgrade pip setuptools wheel &&
    pip_install torch numpy sympy triton packaging typing-extensions filelock dllist psutil \
      pytest pytest-xdist hypothesis mypy liger-kernel \
      black isort ruff typos validate-pyproject pre-commit-hooks \
      sphinx myst-parser myst-nb nbclient nbformat ipykernel jupytext matplotlib
}

step 1 "pinned packages (torch, triton, test, lint and docs tools)" pinned_packages
step 2 "Torch-TensorRT, python-only" "$PY" tools/install_upstream_python_only.py --cache "$CACHE/wheels"
step 3 "TensorRT bindings (QDP Python layer) and the tensorrt front package" \
  pip_install --no-deps --no-build-isolation tensorrt-cu13-bindings tensorrt-cu13
step 4 "TensorRT stand-in" "$PY" tools/trt_standin/install.py
step 5 "this project (plugins overlay)" pip_install --no-deps --no-build-isolation --force-reinstall "$ROOT"
step 6 "other bindings releases for the multi-version tests" "$PY" -m trt_standin.bindings prepare --cache "$CACHE"
step 7 "other Triton releases for the release-matrix tests" \
  env PYTHONPATH="$ROOT/tests" "$PY" -m support.triton_releases prepare --cache "$CACHE"
step 8 "buildifier for tools/lint.sh (npm tarball, sha256-pinned)" \
  "$PY" tools/lint_tools.py fetch --cache "$CACHE"

# The environment in one line (the stand-in is announced here, once); import noise goes to the log.
CHECK='
import torch
if not torch.cuda.is_available():  # released Torch-TensorRT needs its CUDA calls patched here
    from trt_standin import cpu_torch
    cpu_torch.apply()
import torch_tensorrt, tensorrt, trt_standin
from torch_tensorrt.dynamo.conversion import plugins
core = "TensorRT stand-in" if trt_standin.backend() == "standin" else trt_standin.backend() + " TensorRT"
print(f"setup_env: torch {torch.__version__}, torch_tensorrt {torch_tensorrt.__version__}, tensorrt "
      f"{tensorrt.__version__} ({core} core), plugins {plugins.__version__} from {plugins.__file__}")
'
if ! "$PY" -c "$CHECK" >"$CACHE/setup_check.out" 2>>"$LOG"; then
  echo "setup_env: the environment does not import; last lines of $LOG:"
  tail -30 "$LOG"
  exit 1
fi
cat "$CACHE/setup_check.out"
stamp_value > "$STAMP"
echo "setup_env: done"
