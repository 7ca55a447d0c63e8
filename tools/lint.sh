#!/usr/bin/env bash
# Run the checks pytorch/TensorRT's .pre-commit-config.yaml and pyproject apply, at the releases it
# pins (constraints.txt; buildifier from tools/lint_tools.py), directly: no pre-commit, no downloads.
#
#   bash tools/lint.sh            check; exit 1 naming every check with a finding
#   bash tools/lint.sh --fix      let black, isort, ruff and buildifier rewrite files, then check
#   bash tools/lint.sh --root DIR check another tree (the tests point it at a scratch git repository)
#
# Needs the environment tools/setup_env.sh builds (.venv and .cache/lint).
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$HERE
FIX=0
while [ $# -gt 0 ]; do
  case "$1" in
    --fix) FIX=1 ;;
    --root) ROOT=$(cd "$2" && pwd); shift ;;
    *) echo "lint.sh: unknown argument $1 (expected --fix or --root DIR)" >&2; exit 2 ;;
  esac
  shift
done
BIN=$HERE/.venv/bin
BUILDIFIER=$("$BIN/python" "$HERE/tools/lint_tools.py" path --cache "$HERE/.cache")
if [ ! -x "$BIN/black" ] || [ ! -x "$BUILDIFIER" ]; then
  echo "lint.sh: the linters are not installed; run bash tools/setup_env.sh first" >&2
  exit 2
fi
cd "$ROOT"

# Files under version control (what pre-commit would see), by kind.
mapfile -t FILES < <(git ls-files --cached --others --exclude-standard)
PYTHON_FILES=()
BAZEL_FILES=()
YAML_FILES=()
for f in "${FILES[@]}"; do
  [ -f "$f" ] || continue
  case "$f" in
    docs/*) ;;
    *.py) PYTHON_FILES+=("$f") ;;
  esac
  case "$(basename "$f")" in
    BUILD | BUILD.bazel | WORKSPACE | *.bzl) BAZEL_FILES+=("$f") ;;
    *.yaml | *.yml) YAML_FILES+=("$f") ;;
  esac
done

# Text files (pre-commit runs its file checks on text only; -I leaves binary files, images included, out).
mapfile -t TEXT_FILES < <(git grep --untracked -I -l -e '' -- .)

FAILED=()
# check NAME COMMAND...: run one check, keep its output only when it finds something.
check() {
  local name=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    printf '  %-22s ok\n' "$name"
  else
    printf '  %-22s FAILED\n' "$name"
    printf '%s\n' "$out" | sed 's/^/      /' | head -40
    FAILED+=("$name")
  fi
}
none_or() { [ "$1" -eq 0 ] || "${@:2}"; }

if [ "$FIX" = 1 ] && [ ${#PYTHON_FILES[@]} -gt 0 ]; then
  "$BIN/isort" -q "${PYTHON_FILES[@]}"
  "$BIN/black" -q "${PYTHON_FILES[@]}"
  "$BIN/ruff" check -q --fix . || true
  [ ${#BAZEL_FILES[@]} -eq 0 ] || "$BUILDIFIER" --lint=fix --warnings=all "${BAZEL_FILES[@]}"
fi

echo "lint: $ROOT"
check black none_or ${#PYTHON_FILES[@]} "$BIN/black" --check "${PYTHON_FILES[@]}"
check isort none_or ${#PYTHON_FILES[@]} "$BIN/isort" --check-only -q "${PYTHON_FILES[@]}"
check ruff "$BIN/ruff" check -q --output-format concise .
if [ -f "$ROOT/pyproject.toml" ] && grep -q '^\[tool.mypy\]' "$ROOT/pyproject.toml"; then
  check mypy "$BIN/python" -m mypy
fi
check typos "$BIN/typos" --format brief .
check validate-pyproject "$BIN/validate-pyproject" pyproject.toml
check buildifier none_or ${#BAZEL_FILES[@]} "$BUILDIFIER" --mode=check --lint=warn --warnings=all "${BAZEL_FILES[@]}"
check check-yaml none_or ${#YAML_FILES[@]} "$BIN/check-yaml" "${YAML_FILES[@]}"
check large-files "$BIN/check-added-large-files" --enforce-all --maxkb=1000 "${FILES[@]}"
check merge-conflict "$BIN/check-merge-conflict" --assume-in-merge "${TEXT_FILES[@]}"
check line-endings "$BIN/mixed-line-ending" --fix=no "${TEXT_FILES[@]}"
trailing_whitespace() {
  # pre-commit-hooks' fixer rewrites files; this only reports (docs/ is exempt upstream too).
  ! git grep --untracked -n -I -E '[[:blank:]]+$' -- . ':!docs' ':!*.ipynb'
}
check trailing-whitespace trailing_whitespace
# Upstream's guard against NVIDIA-internal text (the bracket keeps this line from matching itself).
no_internal_marker() { ! git grep --untracked -n -I -E '!NVIDIA-INTERNA[L]' -- . ':!.pre-commit-config.yaml'; }
check nvidia-internal no_internal_marker

if [ ${#FAILED[@]} -gt 0 ]; then
  echo "lint: FAILED: ${FAILED[*]} (bash tools/lint.sh --fix repairs formatting)"
  exit 1
fi
echo "lint: all checks passed"
