#!/usr/bin/env bash
# Run the test suite through Bazel offline (Debian's bazel-bootstrap), with the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v bazel >/dev/null || { echo "bazel not found: apt-get install -y bazel-bootstrap" >&2; exit 2; }
bash tools/setup_env.sh
PY="$(pwd)/.venv/bin/python3"
cat > .bazelrc.local <<RC
build --python_path=$PY
test --test_env=PATH=$(pwd)/.venv/bin:/usr/bin:/bin
test --test_env=WORKSPACE_ROOT=$(pwd)
RC
bazel --batch test //:tests --nocache_test_results --test_output=errors "$@"
