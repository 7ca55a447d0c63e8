"""The stand-in carries NVIDIA's QDP layer of other bindings releases too (10.15, 11.0).

Each release runs the stand-in's own plugin-lifecycle and conformance tests in a child interpreter
that mounts that release (``trt_standin.bindings.mount_env``); 10.15 and 11.0 get numpy 2.3, the
newest their ``create_plugin`` works with.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from trt_standin import bindings

pytestmark = [pytest.mark.standin, pytest.mark.slow]

HERE = pathlib.Path(__file__).resolve().parent
SUITE = ["test_host_jit.py", "test_host_aot.py", "test_conformance.py", "test_expr.py"]


@pytest.mark.parametrize("version", bindings.extra_bindings_versions())
def test_release_runs_the_stand_in_suite(version: str) -> None:
    env = bindings.mount_env(version)
    if env is None:
        pytest.skip(
            f"bindings {version} not prepared (python -m trt_standin.bindings prepare)"
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            *[str(HERE / f) for f in SUITE],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=str(HERE.parents[2]),
    )
    output = result.stdout + result.stderr
    assert f"tensorrt bindings {version}" in output, output[-3000:]
    assert result.returncode == 0, output[-5000:]
