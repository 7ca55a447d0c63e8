#!/usr/bin/env bash
# Run a command with the plugins package (and tools/perf) of another commit in place of this tree's,
# then put this tree's back: the same-run baseline for "did this change cost anything".
#   bash tools/perf/with_rev.sh 63647fb .venv/bin/python tools/perf/bench_dispatch.py
set -uo pipefail
cd "$(dirname "$0")/../.."
REV=$1; shift
P=py/torch_tensorrt/dynamo/conversion/plugins
SAVE=$(mktemp -d)
cp -r "$P" "$SAVE/plugins" && cp -r tools/perf "$SAVE/perf"
rm -rf "$P" && git archive "$REV" "$P" | tar -x
git archive "$REV" tools/perf | tar -x
cp "$SAVE/perf/bench_dispatch.py" tools/perf/  # the probe itself is this tree's
"$@"; rc=$?
rm -rf "$P" tools/perf && cp -r "$SAVE/plugins" "$P" && cp -r "$SAVE/perf" tools/perf && rm -rf "$SAVE"
exit $rc
