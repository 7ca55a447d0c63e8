"""Other Triton releases for the release-matrix tests.

The environment has one Triton installed (constraints.txt). The AOT compiler and the JIT plugin's
direct launch lean on Triton's compiler API, its PTX layout (trailing scratch parameters) and its
launcher's calling convention, which differ between releases 3.2 to 3.8. The matrix tests run the
AOT and launch test files in a child interpreter that imports another release.

``python -m support.triton_releases prepare --cache .cache`` (run by tools/setup_env.sh, with
``tests`` on PYTHONPATH) installs each ``# extra: triton==...`` release of constraints.txt under
``.cache/triton/<version>-<cpXY>/``; ``mount_env(version)`` returns the environment that makes a child
interpreter import it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

from trt_standin.bindings import CONSTRAINTS, DEFAULT_CACHE, extra_pins, python_tag


def versions() -> List[str]:
    """The extra Triton releases named in constraints.txt, oldest first."""
    found = [v for package, v in extra_pins(CONSTRAINTS) if package == "triton"]
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def release_dir(version: str, cache: Path = DEFAULT_CACHE) -> Path:
    return (
        cache / "triton" / f"{version}-{python_tag()}"
    )  # Triton is compiled per interpreter


def prepare(cache: Path = DEFAULT_CACHE) -> None:
    for version in versions():
        target = release_dir(version, cache)
        if (target / "triton" / "__init__.py").exists():
            continue
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "install",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "--target",
            str(target),
            f"triton=={version}",
        ]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)


def mount_env(version: str, cache: Path = DEFAULT_CACHE) -> Optional[Dict[str, str]]:
    """Environment for a child interpreter that imports Triton ``version``; None if not prepared."""
    folder = release_dir(version, cache)
    if not (folder / "triton" / "__init__.py").exists():
        return None
    path = [str(folder)] + [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path))


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        description="other Triton releases for the release-matrix tests"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="install the extra releases under the cache")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.cache)


if __name__ == "__main__":
    main()
