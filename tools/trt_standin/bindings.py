"""Other releases of NVIDIA's ``tensorrt_bindings`` for the multi-version tests.

The environment has one bindings release installed (constraints.txt). The QDP Python layer changes
between releases, and some of its defects exist only in some of them, so the tests also run the
plugin generator against 10.15.1.29 and 11.0.0.114. Those two need numpy <= 2.3 (their
``create_plugin`` does ``float(array_of_one)``, a TypeError from numpy 2.4 on).

``python -m trt_standin.bindings prepare --cache .cache`` downloads the wheels named on
``# extra:`` lines of constraints.txt, unpacks each ``tensorrt_bindings`` under
``.cache/bindings/<version>/`` and installs the extra numpy under ``.cache/numpy-<version>-<cpXY>/``.
``mount_env(version)`` returns the environment variables that make a child interpreter import
that release (``TRT_STANDIN_BINDINGS``) with a numpy it supports (``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
DEFAULT_CACHE = ROOT / ".cache"
_EXTRA = re.compile(r"^#\s*extra:\s*([A-Za-z0-9_.\-]+)==([0-9A-Za-z.]+)\s*$")
#: Bindings releases whose create_plugin breaks on numpy >= 2.4 (see module docstring).
NEEDS_OLD_NUMPY = ("10.", "11.0.")


def extra_pins(constraints: Path = CONSTRAINTS) -> List[Tuple[str, str]]:
    """(package, version) of the ``# extra:`` lines of constraints.txt."""
    pins = []
    for line in constraints.read_text().splitlines():
        m = _EXTRA.match(line.strip())
        if m:
            pins.append((m.group(1), m.group(2)))
    return pins


def extra_bindings_versions() -> List[str]:
    return [v for p, v in extra_pins() if p == "tensorrt-cu13-bindings"]


def _old_numpy_version() -> str:
    for package, version in extra_pins():
        if package == "numpy":
            return version
    raise LookupError("constraints.txt names no '# extra: numpy==...' line")


def bindings_dir(version: str, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / "bindings" / version


def python_tag() -> str:
    """``cp311`` etc.: compiled packages installed under the cache are per interpreter."""
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def numpy_dir(version: str, cache: Path = DEFAULT_CACHE) -> Path:
    return cache / f"numpy-{version}-{python_tag()}"


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def prepare(cache: Path = DEFAULT_CACHE) -> None:
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for version in extra_bindings_versions():
        target = bindings_dir(version, cache)
        if (target / "tensorrt_bindings" / "plugin" / "_lib.py").exists():
            continue
        found = sorted(wheels.glob(f"tensorrt_cu13_bindings-{version}-*.whl"))
        if not found:
            _pip(
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(wheels),
                f"tensorrt-cu13-bindings=={version}",
            )
            found = sorted(wheels.glob(f"tensorrt_cu13_bindings-{version}-*.whl"))
        with zipfile.ZipFile(found[0]) as whl:
            members = [m for m in whl.namelist() if m.startswith("tensorrt_bindings/")]
            whl.extractall(target, members)
    old_numpy = _old_numpy_version()
    target = numpy_dir(old_numpy, cache)
    if not (target / "numpy" / "__init__.py").exists():
        _pip(
            "install", "-q", "--no-deps", "--target", str(target), f"numpy=={old_numpy}"
        )


def mount_env(
    version: str, cache: Path = DEFAULT_CACHE, *, supported_numpy: bool = True
) -> Optional[Dict[str, str]]:
    """Environment for a child interpreter that uses bindings ``version``; None if not prepared.

    ``supported_numpy=False`` keeps the environment's numpy even where the release needs <= 2.3
    (to show what breaks there).
    """
    folder = bindings_dir(version, cache)
    if not (folder / "tensorrt_bindings").is_dir():
        return None
    env = dict(os.environ, TRT_STANDIN_BINDINGS=str(folder))
    if supported_numpy and version.startswith(NEEDS_OLD_NUMPY):
        np_folder = numpy_dir(_old_numpy_version(), cache)
        if not (np_folder / "numpy").is_dir():
            return None
        env["PYTHONPATH"] = os.pathsep.join(
            [str(np_folder)]
            + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
    return env


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        description="other tensorrt_bindings releases for the tests"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="download and unpack the extra releases")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.cache)


if __name__ == "__main__":
    main()
