#!/usr/bin/env bash
# Build .carry/: the wheels the GPU machine (torch 2.11, Python 3.12, no network) needs beside its
# own image: python-only torch_tensorrt 2.11, NVIDIA's bindings 10.15 (torch_tensorrt 2.11 needs
# TensorRT-10 names), the `tensorrt` front package, and numpy 2.3 (bindings 10.15 need numpy <= 2.3).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
OUT=.carry/wheels
mkdir -p "$OUT" .cache/gpu-wheels
dl() { "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.12 --platform manylinux_2_28_x86_64 --dest .cache/gpu-wheels "$@"; }
dl torch-tensorrt==2.11.0
dl tensorrt-cu13-bindings==10.15.1.29
dl dllist==2.0.0
dl "liger-kernel==$(sed -n 's/^liger-kernel==//p' constraints.txt)"
dl numpy==2.3.5 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
"$PY" tools/install_upstream_python_only.py \
    --wheel .cache/gpu-wheels/torch_tensorrt-2.11.0-cp312-cp312-manylinux_2_28_x86_64.whl --output "$OUT"
cp .cache/gpu-wheels/tensorrt_cu13_bindings-10.15.1.29-*.whl .cache/gpu-wheels/numpy-2.3.5-*.whl .cache/gpu-wheels/dllist-2.0.0-*.whl \
    .cache/gpu-wheels/liger_kernel-*.whl "$OUT"/
"$PY" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$OUT" tensorrt-cu13==11.4.0.106
ls -la "$OUT"

# .carry/notebooks: what the GPU tier needs to execute the tutorial notebooks (nbclient, ipykernel,
# jupytext and their requirements) beyond the image's own packages (matplotlib, pyyaml, ... are
# there). Carry it next to .carry/wheels; tools/gpu/setup.sh installs it when present.
NB=.carry/notebooks
mkdir -p "$NB" .cache/gpu-nb
for name in asttokens comm debugpy executing ipykernel ipython ipython_pygments_lexers jedi \
    jsonschema-specifications jsonschema jupyter_client jupyter_core jupytext matplotlib-inline \
    mdit-py-plugins nbclient nbformat nest-asyncio2 parso pexpect prompt_toolkit pure_eval pyzmq \
    referencing rpds-py stack-data tornado traitlets wcwidth fastjsonschema platformdirs ptyprocess; do
  pin=$(grep -i "^${name}==" constraints.txt | head -1)
  [ -n "$pin" ] || { echo "prepare_carry: no pin for $name in constraints.txt" >&2; exit 1; }
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.12 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 --platform any --dest .cache/gpu-nb "$pin"
  wheel=$(ls .cache/gpu-nb | grep -i "^$(echo "$name" | tr - _)-${pin#*==}-" | head -1)
  cp ".cache/gpu-nb/$wheel" "$NB"/
done
du -sh "$OUT" "$NB"
