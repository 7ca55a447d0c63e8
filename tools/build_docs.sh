#!/usr/bin/env bash
# Build the documentation (docs/, Sphinx + MyST + myst-nb) into build/docs/html, with the checks the
# test suite applies (tests/py/docs/test_sphinx_docs.py): warnings are errors, references nitpicky.
# Sets up .venv first (tools/setup_env.sh). Extra arguments go to sphinx-build (e.g. -E to re-read
# every page). Notebooks are rendered as stored, never executed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
.venv/bin/python -m sphinx -W --keep-going -n -b html -d build/docs/doctrees "$@" docs build/docs/html
