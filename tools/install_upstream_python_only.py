#!/usr/bin/env python3
"""Install the Python part of the released Torch-TensorRT wheel on a machine without TensorRT.

Upstream Torch-TensorRT supports "python-only" builds (``PYTHON_ONLY=1`` in its setup.py): the
package without ``lib/``, ``bin/``, ``include/`` and the ``_C`` extension. ``_features.py`` then
turns the C++ runtime and the TorchScript frontend off, because it only checks whether
``lib/libtorchtrt*.so`` exists. This script produces the same thing from the published wheel:

1. refuses to run where real TensorRT imports (there the real wheel is the right install);
2. picks the Torch-TensorRT release that matches the installed torch (2.13.0 for torch 2.13, ...);
3. takes that wheel from ``--wheel`` or downloads it with pip;
4. rewrites it without the native files and without the ``tensorrt*`` requirement pins (the
   TensorRT library is what this machine cannot have), with a consistent RECORD;
5. installs the rewritten wheel with ``pip install --no-deps``.

Usage::

    python tools/install_upstream_python_only.py [--wheel PATH] [--cache DIR] [--dry-run]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# torch major.minor -> the Torch-TensorRT release built against it.
MATCHING_RELEASE = {
    "2.11": "2.11.0",
    "2.13": "2.13.0",
    "2.14": "2.14.0",
}

# Members of the wheel that exist only in a full (C++) build.
NATIVE_MEMBER = re.compile(r"^torch_tensorrt/(lib/|bin/|include/|_C\.[^/]*\.(so|pyd)$)")
# Requirements that pull the TensorRT library itself.
TENSORRT_REQUIREMENT = re.compile(r"^Requires-Dist:\s*tensorrt", re.IGNORECASE)


class InstallError(RuntimeError):
    """A reason to stop, printed without a traceback."""


def real_tensorrt_importable(python: str) -> bool:
    """True when the native TensorRT core loads in ``python`` (with the stand-in switched off)."""
    env = dict(os.environ, TRT_STANDIN="off")
    probe = "import tensorrt_bindings.tensorrt"
    result = subprocess.run(
        [python, "-c", probe], env=env, capture_output=True, text=True
    )
    return result.returncode == 0


def installed_torch_version(python: str) -> str:
    result = subprocess.run(
        [python, "-c", "import torch; print(torch.__version__)"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise InstallError(
            "torch is not importable in "
            f"{python}: {result.stderr.strip().splitlines()[-1:]}. "
            "Install torch first (pip install torch==2.13.0 -c constraints.txt)."
        )
    return result.stdout.strip()


def matching_release(torch_version: str) -> str:
    major_minor = ".".join(torch_version.split("+")[0].split(".")[:2])
    try:
        return MATCHING_RELEASE[major_minor]
    except KeyError:
        raise InstallError(
            f"No Torch-TensorRT release is known for torch {torch_version}. "
            f"Known: {', '.join(f'torch {k} -> {v}' for k, v in MATCHING_RELEASE.items())}."
        ) from None


def interpreter_tag(python: str) -> str:
    """The CPython tag (``cp311``) of the interpreter the wheel is for: wheels are per interpreter."""
    out = subprocess.run(
        [
            python,
            "-c",
            "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def download_wheel(python: str, release: str, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    pattern = f"torch_tensorrt-{release}-{interpreter_tag(python)}-*.whl"
    existing = sorted(cache.glob(pattern))
    if existing:
        return existing[0]
    cmd = [
        python,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(cache),
        f"torch-tensorrt=={release}",
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    found = sorted(cache.glob(pattern))
    if not found:
        raise InstallError(f"pip did not leave {pattern} in {cache}")
    return found[0]


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def repack_python_only(source: Path, target: Path) -> list[str]:
    """Write ``target`` as ``source`` minus native members and TensorRT pins. Returns what was dropped."""
    dropped: list[str] = []
    kept: dict[str, bytes] = {}
    record_name = None
    with zipfile.ZipFile(source) as zin:
        for info in zin.infolist():
            name = info.filename
            if name.endswith("/"):
                continue
            if name.endswith(".dist-info/RECORD"):
                record_name = name
                continue
            if NATIVE_MEMBER.match(name):
                dropped.append(name)
                continue
            data = zin.read(name)
            if name.endswith(".dist-info/METADATA"):
                lines = data.decode().splitlines(keepends=True)
                pins = [line for line in lines if TENSORRT_REQUIREMENT.match(line)]
                dropped.extend(f"METADATA: {line.strip()}" for line in pins)
                data = "".join(line for line in lines if line not in pins).encode()
            kept[name] = data
    if record_name is None:
        raise InstallError(f"{source} has no RECORD: not a wheel")
    record_lines = [
        f"{name},{_record_hash(data)},{len(data)}" for name, data in kept.items()
    ]
    record_lines.append(f"{record_name},,")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, data in kept.items():
            zout.writestr(name, data)
        zout.writestr(record_name, "\n".join(record_lines) + "\n")
    return dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheel",
        type=Path,
        help="use this torch_tensorrt wheel instead of downloading",
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(".cache/wheels"), help="download folder"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter to install into"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="repack but do not install"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="write the python-only wheel here instead of installing it",
    )
    args = parser.parse_args(argv)

    try:
        if real_tensorrt_importable(args.python):
            raise InstallError(
                "real TensorRT imports in this environment; install the full torch-tensorrt "
                "wheel instead (pip install torch-tensorrt). Nothing was changed."
            )
        if args.output is not None and args.wheel is not None:
            args.output.mkdir(parents=True, exist_ok=True)
            dropped = repack_python_only(args.wheel, args.output / args.wheel.name)
            print(
                f"wrote {args.output / args.wheel.name} (dropped {len(dropped)} native members / pins)"
            )
            return 0
        torch_version = installed_torch_version(args.python)
        release = matching_release(torch_version)
        wheel = args.wheel or download_wheel(args.python, release, args.cache)
        if not wheel.name.startswith(f"torch_tensorrt-{release}-"):
            raise InstallError(
                f"{wheel.name} does not match torch {torch_version}: expected torch_tensorrt-{release}-*.whl"
            )
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / wheel.name
            dropped = repack_python_only(wheel, target)
            print(
                f"python-only {wheel.name}: dropped {len(dropped)} native members / pins",
                flush=True,
            )
            for item in dropped:
                print(f"  - {item}")
            if args.dry_run:
                return 0
            cmd = [
                args.python,
                "-m",
                "pip",
                "install",
                "--no-deps",
                "--force-reinstall",
                str(target),
            ]
            print("+", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
    except InstallError as e:
        print(f"install_upstream_python_only: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
