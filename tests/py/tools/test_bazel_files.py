"""The Bazel files: runfiles that Bazel can lay out, and an install that works as documented.

Without Bazel: BUILD.bazel is read as the Starlark it is (a subset of Python's syntax) and its globs
are expanded here with Bazel's rules, so these checks run in the plain pytest suite too.
"""

from __future__ import annotations

import ast
import pathlib
import re
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
EXECUTABLE_RULES = {"py_test", "py_binary", "sh_test", "sh_binary"}


def _targets(build: pathlib.Path) -> dict[str, tuple[str, dict[str, ast.expr]]]:
    """name -> (rule, keyword arguments) for every rule call at the top of a BUILD file."""
    targets = {}
    for stmt in ast.parse(build.read_text()).body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            continue
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        name = kwargs.get("name")
        if isinstance(name, ast.Constant):
            targets[name.value] = (call.func.id, kwargs)
    return targets


def _in_subpackage(root: pathlib.Path, path: pathlib.Path) -> bool:
    """Bazel's globs stop at directories that hold a BUILD file (another package)."""
    for parent in path.relative_to(root).parents:
        directory = root / parent
        if directory != root and any(
            (directory / b).exists() for b in ("BUILD", "BUILD.bazel")
        ):
            return True
    return False


def _glob(root: pathlib.Path, patterns: list[str]) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for pattern in patterns
        for p in root.glob(pattern)
        if p.is_file() and not _in_subpackage(root, p)
    }


def _strings(node: ast.expr) -> list[str]:
    assert isinstance(node, ast.List), ast.dump(node)
    return [e.value for e in node.elts if isinstance(e, ast.Constant)]


def _files(root: pathlib.Path, node: ast.expr) -> tuple[set[str], set[str]]:
    """(files, same-package labels) of a srcs/data expression: lists, glob() calls and `+`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _files(root, node.left), _files(root, node.right)
        return left[0] | right[0], left[1] | right[1]
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "glob":
        kwargs = {k.arg: k.value for k in node.keywords}
        include = _strings(node.args[0] if node.args else kwargs["include"])
        exclude = _strings(kwargs["exclude"]) if "exclude" in kwargs else []
        return _glob(root, include) - _glob(root, exclude), set()
    labels = set(_strings(node))
    local = {label[1:] for label in labels if label.startswith(":")}
    files = {label for label in labels if not label.startswith((":", "//", "@"))}
    return files, local


def _runfiles(root: pathlib.Path, targets: dict, name: str) -> set[str]:
    """Workspace-relative runfiles that a target contributes from its own package."""
    files: set[str] = set()
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen or current not in targets:
            continue
        seen.add(current)
        for attr in ("srcs", "data", "deps"):
            if attr in targets[current][1]:
                found, labels = _files(root, targets[current][1][attr])
                files |= found
                todo.extend(labels)
    return files


def test_no_runfile_is_obscured_by_a_test_executable() -> None:
    """A py_test's executable lands at the runfiles root under the target's name; a data file below a
    directory of that name is then left out of the tree, with Bazel's warning "runfiles symlink
    tests/... obscured by tests" (one per file: the suite was once the py_test //:tests).
    """
    targets = _targets(REPO / "BUILD.bazel")
    executables = [n for n, (rule, _) in targets.items() if rule in EXECUTABLE_RULES]
    assert executables, "BUILD.bazel declares no test or binary"
    runfiles_of = {name: _runfiles(REPO, targets, name) for name in executables}
    # The suite's target has the test files as data (so the glob expansion above found them).
    assert any(f.startswith("tests/") for r in runfiles_of.values() for f in r)
    for name, runfiles in runfiles_of.items():
        obscured = sorted(f for f in runfiles if f == name or f.startswith(name + "/"))
        assert not obscured, f"//:{name} obscures its runfiles {obscured[:5]}"


def _apt_packages(text: str) -> list[set[str]]:
    """The package set of every `apt-get install` command in a text (options dropped)."""
    return [
        {w for w in m.group(1).split() if not w.startswith("-")}
        for m in re.finditer(r"apt-get install ([-a-z0-9. ]+)", text)
    ]


def _script_packages(script: str) -> set[str]:
    """The packages a tools/bazel script installs or asks for: its PACKAGES=(...) or PACKAGES="..."."""
    text = (REPO / "tools" / "bazel" / script).read_text()
    match = re.search(r"^PACKAGES=[(\"]([^)\"]*)[)\"]", text, re.M)
    assert match, f"tools/bazel/{script} has no PACKAGES line"
    return set(match.group(1).split())


def test_documented_install_is_what_ci_installs() -> None:
    """README.md's and tools/bazel/README.md's apt-get lines name the packages tools/bazel/ci.sh
    installs and test.sh asks for; bazel-bootstrap alone lacks /usr/share/bazel/rules/java, which
    WORKSPACE reads (Bazel then fails at once: "... does not exist")."""
    packages = _script_packages("ci.sh")
    assert {"bazel-bootstrap", "bazel-rules-java"} <= packages
    assert _script_packages("test.sh") == packages
    readme = (REPO / "README.md").read_text()
    bazel_section = readme[readme.index("## Bazel") :].split("\n## ", 1)[0]
    for doc, text in [
        ("tools/bazel/README.md", (REPO / "tools/bazel/README.md").read_text()),
        ("README.md's Bazel section", bazel_section),
    ]:
        commands = _apt_packages(text)
        assert commands, f"{doc} documents no apt-get install command"
        for command in commands:
            assert command == packages, f"{doc}: apt-get install {sorted(command)}"


def test_workspace_paths_come_from_the_documented_packages() -> None:
    """Where Debian's Bazel is installed: each machine path WORKSPACE reads belongs to one of the
    documented packages (so the documented install provides it)."""
    if shutil.which("dpkg") is None or shutil.which("bazel") is None:
        pytest.skip(
            "Debian's Bazel is not installed here (tools/bazel/ci.sh installs it)"
        )
    packages = _script_packages("ci.sh")
    paths = re.findall(r'path = "(/[^"]+)"', (REPO / "WORKSPACE").read_text())
    assert paths, "WORKSPACE reads nothing from the machine: update this test"
    for path in paths:
        found = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        owners = {
            o.strip() for o in found.stdout.split(":", 1)[0].split(",") if o.strip()
        }
        assert owners & packages, f"{path} comes from {sorted(owners) or 'no package'}"
