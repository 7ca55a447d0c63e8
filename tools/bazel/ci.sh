#!/usr/bin/env bash
# CI's Bazel step: install Debian's offline Bazel where it is missing (the packages tools/bazel/README.md
# documents), run `bazel test //...` through tools/bazel/test.sh (--batch: no server stays behind),
# fail if Bazel prints a runfiles warning, and report the elapsed time. Extra arguments go to test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKAGES=(bazel-bootstrap bazel-rules-java)
RULES_JAVA=/usr/share/bazel/rules/java
start=$(date +%s)

if ! command -v bazel >/dev/null || [ ! -f "$RULES_JAVA/WORKSPACE" ]; then
  need="apt-get update && apt-get install -y ${PACKAGES[*]}"
  if ! command -v apt-get >/dev/null; then
    echo "bazel ci: Bazel (or $RULES_JAVA) is missing and this machine has no apt-get;" \
      "install Debian's ${PACKAGES[*]} (Bazel 4.2.3) another way, see tools/bazel/README.md" >&2
    exit 2
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "bazel ci: Bazel (or $RULES_JAVA) is missing and installing it needs root: run as root: $need" >&2
    exit 2
  fi
  echo "bazel ci: installing ${PACKAGES[*]} ($need)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || { echo "bazel ci: apt-get update failed" >&2; exit 2; }
  apt-get install -y -q "${PACKAGES[@]}" >/dev/null || {
    echo "bazel ci: apt-get install -y ${PACKAGES[*]} failed" >&2
    exit 2
  }
fi
echo "bazel ci: $(bazel --version 2>/dev/null | tail -1);" \
  "$(dpkg-query -W -f '${Package} ${Version}  ' "${PACKAGES[@]}" 2>/dev/null || echo 'versions unknown (no dpkg)')"

mkdir -p .cache
LOG=.cache/bazel_ci.log
# test.sh runs `bazel --batch test //...`; its output is shown and kept for the check below.
bash tools/bazel/test.sh "$@" 2>&1 | tee "$LOG"
# A runfiles warning means data that the test cannot see (see BUILD.bazel): fail on it, not hide it.
if grep -E '^WARNING: .*runfiles' "$LOG" >&2; then
  echo "bazel ci: FAILED: Bazel printed runfiles warnings (above; full output in $LOG)" >&2
  exit 1
fi
echo "bazel ci: bazel test //... passed in $(($(date +%s) - start)) s"
