"""The AOT compiler and the JIT plugin's direct launch under every supported Triton release.

Triton 3.2 to 3.8 differ where this package touches Triton's internals: the compiler API
(``ASTSource`` with ``constants`` + ``AttrsDescriptor`` in 3.2, ``constexprs`` + ``attrs`` after),
the PTX's trailing scratch parameters (none, ``global_scratch``, or that and ``profile_scratch``),
the launcher's calling convention, the interpreter's launch entry point and the location of
ptxas. Each release runs this directory's AOT, launch and seed tests in a child interpreter that
imports it (``support.triton_releases.mount_env``); the installed release runs them directly.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from support import triton_releases

pytestmark = [pytest.mark.slow]

HERE = pathlib.Path(__file__).resolve().parent
SUITE = ["test_aot.py", "test_aot_compile.py", "test_launch.py", "test_seed.py"]


@pytest.mark.parametrize("version", triton_releases.versions())
def test_release_runs_the_aot_launch_and_seed_tests(
    version: str, tmp_path: pathlib.Path
) -> None:
    env = triton_releases.mount_env(version)
    if env is None:
        pytest.skip(
            f"triton {version} not prepared (PYTHONPATH=tests python -m support.triton_releases prepare)"
        )
    # Compile with this release and reuse nothing: neither our kernel cache nor Triton's own.
    env["TORCH_TRT_PLUGINS_CACHE"] = str(tmp_path / "kernels")
    env["TRITON_CACHE_DIR"] = str(tmp_path / "triton-cache")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-rs",
            *[str(HERE / f) for f in SUITE],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=str(HERE.parents[4]),
    )
    output = result.stdout + result.stderr
    assert f"triton {version} " in output, output[
        -3000:
    ]  # the child imported that release
    assert result.returncode == 0, output[-6000:]
