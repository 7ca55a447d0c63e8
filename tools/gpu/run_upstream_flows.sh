#!/usr/bin/env bash
# Run pytorch/TensorRT's own plugin tutorials and tests/py/dynamo/automatic_plugin UNCHANGED against
# this module (GPU machine; stand-in TensorRT there). Their code is never committed: fetch it first,
# on the development machine, from a pytorch/TensorRT checkout (e.g. the search tool's mirror):
#
#   R=/work/.mirror/pytorch+TensorRT/repo; U=.carry/upstream
#   mkdir -p $U/examples $U/tests/py/dynamo/automatic_plugin $U/tests/py/dynamo/conversion
#   for f in nvrtc_aot_plugin aot_plugin auto_generate_plugins; do git -C $R show main:examples/dynamo/$f.py > $U/examples/$f.py; done
#   B=release/2.11   # the tests of the Torch-TensorRT release installed there (its harness defaults to
#                    # the Python runtime; main's needs the C++ runtime a python-only install lacks)
#   for f in __init__ test_automatic_plugin test_automatic_plugin_with_attrs; do
#     git -C $R show $B:tests/py/dynamo/automatic_plugin/$f.py > $U/tests/py/dynamo/automatic_plugin/$f.py; done
#   git -C $R show $B:tests/py/dynamo/conversion/harness.py > $U/tests/py/dynamo/conversion/harness.py
#   touch $U/tests/__init__.py $U/tests/py/__init__.py $U/tests/py/dynamo/__init__.py $U/tests/py/dynamo/conversion/__init__.py
#
# and put the wheels they need beside it in .carry/extra (parameterized, expecttest; cuda-core<0.5
# for the NVRTC tutorial's cuda.core.experimental). Then, on the GPU machine after tools/gpu/setup.sh:
#   bash tools/gpu/run_upstream_flows.sh .carry/upstream
# The only file this adds next to their code is a conftest.py that switches Torch-TensorRT's QDP
# feature back on where its version check turned it off for the stand-in (trt_standin.upstream_compat).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
U=${1:-.carry/upstream}
PY=${PY:-python3}
EXTRA=/tmp/upstream_extra
rm -rf "$EXTRA" && mkdir -p "$EXTRA"
if ! "$PY" -c "import cuda.core.experimental" 2>/dev/null; then
  "$PY" -m pip install -q --no-deps --no-index --target "$EXTRA" .carry/extra/cuda_core-*.whl
fi
"$PY" -m pip install -q --no-deps --no-index --target "$EXTRA" .carry/extra/parameterized-*.whl .carry/extra/expecttest-*.whl
export PYTHONPATH="$EXTRA${PYTHONPATH:+:$PYTHONPATH}"
cat > "$U/tests/conftest.py" <<'PYEOF'
# Written by tools/gpu/run_upstream_flows.sh (not upstream code): environment only.
import torch
from trt_standin import upstream_compat
upstream_compat.reenable_qdp_on_standin()
PYEOF
status=0
for example in auto_generate_plugins nvrtc_aot_plugin aot_plugin; do
  echo "== upstream example $example"
  if (cd "$U/examples" && "$PY" "$ROOT/tools/run_example.py" "$example.py" > "/tmp/$example.log" 2>&1); then
    echo "PASS $example: $(grep -E -m2 'successful|matched|Inference' /tmp/$example.log | tr '\n' ' ')"
  else
    echo "FAIL $example"; tail -25 "/tmp/$example.log"; status=1
  fi
done
echo "== upstream tests/py/dynamo/automatic_plugin"
(cd "$U" && "$PY" -m pytest -q -p no:cacheprovider tests/py/dynamo/automatic_plugin) || status=1
exit $status
