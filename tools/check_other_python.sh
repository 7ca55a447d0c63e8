#!/usr/bin/env bash
# Run the whole CPU test suite under another CPython (e.g. 3.12), from a clean clone of HEAD.
#
#   bash tools/check_other_python.sh /root/.pyenv/versions/3.12.1/bin/python3
#
# Only Python 3.11 has a CPU build of torch 2.13.0 on this machine's disk; for other interpreters
# pip takes PyPI's CUDA build of torch 2.13.0 (about 3 GB with its NVIDIA libraries; it runs on
# the CPU), which pins its own Triton, so the clone's constraints drop the Triton pin. Everything
# else comes from constraints.txt as in CI. Not part of CI: a one-off check, recorded in the issue
# notes when run.
set -euo pipefail
PYTHON=${1:?usage: check_other_python.sh /path/to/python3.X}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/check-python.XXXXXX)
git clone -q "$ROOT" "$WORK/repo"
cd "$WORK/repo"
sed -i 's/^triton==.*/# triton: pinned by the CUDA build of torch this check installs/' constraints.txt
PYTHON="$PYTHON" VENV="$WORK/venv" bash tools/setup_env.sh
"$WORK/venv/bin/python" -c "import sys, torch, triton; print('python', sys.version.split()[0], 'torch', torch.__version__, 'triton', triton.__version__)"
"$WORK/venv/bin/python" -m pytest -n 2 -p no:cacheprovider -q -rs
echo "check_other_python: passed in $WORK (remove it when done)"
