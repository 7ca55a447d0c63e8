"""tools/lint.sh: upstream's formatters and linters, run directly, fail on each kind of finding.

CI runs tools/lint.sh on the checkout; these tests show that each check it reports as "ok" would
have caught its kind of finding, on a scratch repository that uses this project's lint settings.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
LINT = REPO / "tools" / "lint.sh"
_SETTINGS_MARK = "# ---- Formatters and linters"

CLEAN_FILES = {
    "pkg/mod.py": "import os\nimport sys\n\n\ndef where() -> str:\n    return os.sep + sys.platform\n",
    "BUILD.bazel": 'filegroup(\n    name = "files",\n    srcs = ["pkg/mod.py"],\n)\n',
    "config.yaml": "a: 1\nb: [2, 3]\n",
    "notes.md": "Spelled correctly.\n",
}

# One finding per check; the key names the check that must report it.
FINDINGS = {
    "black": ("pkg/spacing.py", "values = [1,2 ,3]\n"),
    "isort": ("pkg/order.py", "import sys\nimport os\n\nprint(os.sep, sys.platform)\n"),
    "ruff": ("pkg/unused.py", "import os\n"),
    "typos": ("notes2.md", "Teh kernel is launched.\n"),  # spellchecker:disable-line
    "buildifier": ("tools/BUILD.bazel", 'filegroup(name="x",srcs=[])\n'),
    "check-yaml": ("broken.yaml", "a: [1\n"),
    "trailing-whitespace": ("trailing.txt", "text   \n"),
}


def _lint_available() -> None:
    if not (REPO / ".venv" / "bin" / "black").exists():
        pytest.skip("the linters are not installed (bash tools/setup_env.sh)")
    if shutil.which("git") is None:
        pytest.skip("git is needed to list a tree's files")


def _scratch_repo(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    settings = (REPO / "pyproject.toml").read_text()
    # The lint settings of this project; mypy's section stays out (it names this project's files).
    lint_settings = settings[settings.index(_SETTINGS_MARK) :]
    assert "[tool.mypy]" not in lint_settings
    (root / "pyproject.toml").write_text(lint_settings)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def _lint(root: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LINT), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _failed_checks(output: str) -> set[str]:
    return {
        line.split()[0]
        for line in output.splitlines()
        if line.startswith("  ") and line.rstrip().endswith("FAILED")
    }


def test_a_clean_tree_passes(tmp_path: pathlib.Path) -> None:
    _lint_available()
    result = _lint(_scratch_repo(tmp_path, CLEAN_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint: all checks passed" in result.stdout


def test_each_kind_of_finding_fails_its_check(tmp_path: pathlib.Path) -> None:
    _lint_available()
    files = dict(CLEAN_FILES)
    files.update(dict(FINDINGS.values()))
    result = _lint(_scratch_repo(tmp_path, files))
    assert result.returncode == 1, result.stdout + result.stderr
    assert _failed_checks(result.stdout) == set(FINDINGS), result.stdout
    # The report says where: each finding's file is named in the output.
    for check, (name, _) in FINDINGS.items():
        if (
            check != "check-yaml"
        ):  # check-yaml names the parser position, not always the path
            assert name in result.stdout, (check, result.stdout)
