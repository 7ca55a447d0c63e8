#!/usr/bin/env bash
# Run every Bazel target (`bazel test //...`: the pytest suite, through the py_test //:pytest) offline,
# with Debian's bazel-bootstrap and bazel-rules-java, and the project's .venv as the interpreter.
# Extra arguments go to `bazel test` (e.g. --test_arg=-m --test_arg='not slow').
# --batch: no Bazel server is left running afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKAGES="bazel-bootstrap bazel-rules-java"
command -v bazel >/dev/null || {
  echo "bazel not found: apt-get update && apt-get install -y $PACKAGES (see tools/bazel/README.md)" >&2
  exit 2
}
# WORKSPACE's @rules_java is Debian's copy; without it Bazel fails at once with "... does not exist".
RULES_JAVA=/usr/share/bazel/rules/java
[ -f "$RULES_JAVA/WORKSPACE" ] || {
  echo "$RULES_JAVA is missing: apt-get update && apt-get install -y $PACKAGES (see tools/bazel/README.md)" >&2
  exit 2
}
bash tools/setup_env.sh
PY="$(pwd)/.venv/bin/python3"
cat > .bazelrc.local <<RC
build --python_path=$PY
test --test_env=PATH=$(pwd)/.venv/bin:/usr/bin:/bin
test --test_env=WORKSPACE_ROOT=$(pwd)
RC
bazel --batch test //... --nocache_test_results --test_output=errors "$@"
