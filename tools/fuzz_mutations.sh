#!/usr/bin/env bash
# Show that the differential fuzzer finds each defect issue 8 fixed: for every mutation in
# tests/support/fuzz_mutations.py (each reverts one fix), run the fuzzer with the CI budget and
# expect it to FAIL; then run it without mutation and expect it to pass. Prints one line per run.
#   bash tools/fuzz_mutations.sh            (uses .venv; PLUGINS_FUZZ_EXAMPLES etc. are honoured)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mutations=$(PYTHONPATH=tests "$PY" -c "from support.fuzz_mutations import MUTATIONS; print(' '.join(MUTATIONS))")
status=0
for m in $mutations ""; do
  log=$(PLUGINS_FUZZ_MUTATION="$m" "$PY" -m pytest -q -p no:cacheprovider tests/py/dynamo/conversion/plugins/test_fuzz.py::test_differential 2>&1)
  rc=$?
  first=$(printf '%s\n' "$log" | grep -m1 -oE "[A-Za-z_.]*(Error|Exception|Failed): .*" | cut -c1-160)
  if [ -n "$m" ]; then
    if [ $rc -ne 0 ]; then echo "found    $m: $first"; else echo "MISSED   $m"; status=1; fi
  else
    if [ $rc -eq 0 ]; then echo "clean    (no mutation): passes"; else echo "FAILED   (no mutation): $first"; status=1; fi
  fi
done
exit $status
