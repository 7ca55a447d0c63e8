#!/usr/bin/env bash
# The measurements tools/perf/charts.py draws, as JSON files in OUT_DIR (created):
#   shape-query.json            one TensorRT shape query, upstream vs ours (CPU or GPU)
#   aot-<elements>.json         AOT kernel bandwidth against copy and Triton launch, and host cost
#                               per enqueue (raw launch, ours JIT, upstream JIT, AOT); GPU only,
#                               for 1M, 4M, 16M, 64M and 256M fp32 elements
# Then: python tools/perf/charts.py OUT_DIR. Run with the environment's python (PYTHON=...).
#   bash tools/perf/charts_data.sh tools/perf/results/$(date +%F)-h200
set -euo pipefail
OUT=${1:?usage: charts_data.sh OUT_DIR}
PY=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
"$PY" "$HERE/bench_plugins.py" shape-query ${SHAPE_QUERY_ARGS:-} --json "$OUT/shape-query.json"
if "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  for elements in 1048576 4194304 16777216 67108864 268435456; do
    "$PY" "$HERE/bench_plugins.py" aot --elements "$elements" --json "$OUT/aot-$elements.json"
  done
else
  echo "charts_data: no CUDA device: the aot runs (host cost, bandwidth) are skipped" >&2
fi
