"""The package itself: typed (mypy clean), documented, and free of test machinery."""

import inspect
import pathlib
import re
import subprocess
import sys

import pytest

PACKAGE = (
    pathlib.Path(__file__).resolve().parents[5]
    / "py"
    / "torch_tensorrt"
    / "dynamo"
    / "conversion"
    / "plugins"
)


def _sources():
    return {p.name: p.read_text() for p in sorted(PACKAGE.glob("*.py"))}


def test_the_library_never_names_the_stand_in_or_the_interpreter():
    for name, text in _sources().items():
        assert not re.search(r"trt_standin|TRITON_INTERPRET", text), name


def test_no_generated_code_uuid_or_print():
    pattern = re.compile(
        r"(^|[^.\w])(exec|eval)\(|FunctionType\(|lambdify|uuid4|^\s*print\(", re.M
    )
    for name, text in _sources().items():
        assert not pattern.search(text), (name, pattern.search(text).group(0))


def test_public_api_is_documented_with_args_returns_raises_and_an_example():
    from torch_tensorrt.dynamo.conversion import plugins

    for name in (
        "custom_op",
        "generate_plugin",
        "generate_plugin_converter",
        "plugin_status",
        "explain",
    ):
        fn = getattr(plugins, name)
        doc = inspect.getdoc(fn) or ""
        for section in ("Args:", "Returns:", "Raises:", "Example:"):
            assert section in doc, (name, section)
        assert inspect.signature(
            fn
        ).parameters, name  # the wrapper keeps the real signature


def test_upstream_signatures_are_kept():
    from torch_tensorrt.dynamo.conversion import plugins

    params = list(inspect.signature(plugins.custom_op).parameters)
    assert params[:5] == [
        "op_name",
        "capability_validator",
        "priority",
        "supports_dynamic_shapes",
        "requires_output_allocator",
    ]
    assert {"use_aot_if_available", "_aot_register"} <= set(params)
    params = list(inspect.signature(plugins.generate_plugin_converter).parameters)
    assert params == [
        "plugin_id",
        "capability_validator",
        "priority",
        "supports_dynamic_shapes",
        "requires_output_allocator",
        "use_aot_if_available",
    ]
    params = list(inspect.signature(plugins._generate_plugin_converter).parameters)
    assert params[:3] == ["namespace", "op_name", "overload"]
    assert list(inspect.signature(plugins.generate_plugin).parameters) == [
        "plugin_name"
    ]


@pytest.mark.slow
def test_mypy_is_clean():
    import importlib.util

    import torch

    if importlib.util.find_spec("mypy") is None or not torch.__version__.startswith(
        "2.13"
    ):
        pytest.skip(
            "type-checked in the pinned environment (torch 2.13 + mypy from constraints.txt)"
        )
    root = PACKAGE.parents[4]
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        capture_output=True,
        text=True,
        cwd=str(root),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_version_source():
    """The version is written once (_version.py); setup.py, the package and the changelog agree."""
    import pathlib
    import re
    import subprocess
    import sys

    from torch_tensorrt.dynamo.conversion import plugins

    root = pathlib.Path(__file__).resolve().parents[5]
    setup_version = (
        subprocess.run(
            [sys.executable, "setup.py", "--version"],
            capture_output=True,
            text=True,
            cwd=str(root),
            timeout=120,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    changelog = re.search(r"^## (\S+)", (root / "CHANGELOG.md").read_text(), re.M)
    assert changelog is not None
    assert plugins.__version__ == setup_version == changelog.group(1)
    assert (root / "LICENSE").read_text().startswith("BSD 3-Clause License")
