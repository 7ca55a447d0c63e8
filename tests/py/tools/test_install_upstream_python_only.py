"""tools/install_upstream_python_only.py: python-only repack of the released wheel."""

from __future__ import annotations

import importlib.util
import pathlib
import stat
import zipfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]


def _tool():
    spec = importlib.util.spec_from_file_location(
        "install_tool", REPO / "tools" / "install_upstream_python_only.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cached_wheel() -> pathlib.Path:
    found = sorted((REPO / ".cache" / "wheels").glob("torch_tensorrt-*.whl"))
    if not found:
        pytest.skip(
            "no torch_tensorrt wheel in .cache/wheels (tools/setup_env.sh downloads it)"
        )
    return found[0]


def test_repack_drops_native_members_and_tensorrt_pins(tmp_path) -> None:
    tool = _tool()
    source = _cached_wheel()
    target = tmp_path / source.name
    dropped = tool.repack_python_only(source, target)
    with zipfile.ZipFile(source) as z:
        original = set(z.namelist())
    with zipfile.ZipFile(target) as z:
        names = set(z.namelist())
        metadata = next(z.read(n).decode() for n in names if n.endswith("METADATA"))
        record = next(z.read(n).decode() for n in names if n.endswith("RECORD"))
    assert any(n.startswith("torch_tensorrt/lib/") for n in original)
    assert not any(tool.NATIVE_MEMBER.match(n) for n in names)
    assert "torch_tensorrt/dynamo/conversion/plugins/_generate_plugin.py" in names
    assert (
        "Requires-Dist: tensorrt" not in metadata and "Requires-Dist: torch" in metadata
    )
    assert any(d.startswith("METADATA: Requires-Dist: tensorrt") for d in dropped)
    recorded = {line.split(",")[0] for line in record.splitlines() if line}
    assert recorded == names


def test_release_matches_torch() -> None:
    tool = _tool()
    assert tool.matching_release("2.13.0+cpu") == "2.13.0"
    assert tool.matching_release("2.11.0+cu130") == "2.11.0"
    with pytest.raises(
        tool.InstallError, match="No Torch-TensorRT release is known for torch 2.9.1"
    ):
        tool.matching_release("2.9.1")


def test_refuses_where_real_tensorrt_imports(tmp_path, capsys) -> None:
    # An interpreter on which `import tensorrt_bindings.tensorrt` succeeds stands for a TensorRT machine.
    fake = tmp_path / "python-with-tensorrt"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert _tool().main(["--python", str(fake)]) == 2
    assert "real TensorRT imports in this environment" in capsys.readouterr().err


def test_installed_package_is_python_only() -> None:
    import torch_tensorrt
    from torch_tensorrt._features import ENABLED_FEATURES

    root = pathlib.Path(torch_tensorrt.__file__).parent
    assert not (root / "lib").exists() and not list(root.glob("_C*.so"))
    assert (
        not ENABLED_FEATURES.torch_tensorrt_runtime
        and not ENABLED_FEATURES.torchscript_frontend
    )
    assert ENABLED_FEATURES.dynamo_frontend


def test_a_cached_wheel_for_another_interpreter_is_not_used(tmp_path) -> None:
    """A cache shared by a Python 3.11 and a 3.12 venv holds wheels of both: take this interpreter's."""
    import sys

    tool = _tool()
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    other = (
        tmp_path / "torch_tensorrt-2.13.0-cp30-cp30-manylinux_2_28_x86_64.whl"
    )  # sorts first
    mine = tmp_path / f"torch_tensorrt-2.13.0-{tag}-{tag}-manylinux_2_28_x86_64.whl"
    other.write_bytes(b"")
    mine.write_bytes(b"")
    assert tool.download_wheel(sys.executable, "2.13.0", tmp_path) == mine
