"""Fetch the one linter that PyPI does not carry: buildifier, at the release upstream pins.

pytorch/TensorRT runs buildifier 8.0.3 through a pre-commit hook that downloads it at hook time.
Here it comes once, at setup, from npm's ``@bazel/buildifier`` tarball (which holds the release
binaries), checked against the sha256 pinned below, and is kept in the setup cache so that
``tools/lint.sh`` downloads nothing.

    python tools/lint_tools.py fetch --cache .cache     # prints the binary's path
"""

from __future__ import annotations

import argparse
import hashlib
import io
import platform
import sys
import tarfile
import urllib.request
from pathlib import Path

BUILDIFIER_VERSION = "8.0.3"
TARBALL_URL = (
    "https://registry.npmjs.org/@bazel/buildifier/-/buildifier-"
    f"{BUILDIFIER_VERSION}.tgz"
)
TARBALL_SHA256 = "e72197dccd8742f8a4d414bbd6357dd586fef02caf90ea2c190f1e09e1a528db"
_MEMBERS = {"x86_64": "buildifier-linux_amd64", "aarch64": "buildifier-linux_arm64"}


def buildifier_path(cache: Path) -> Path:
    """Where ``fetch`` leaves the binary for this machine."""
    return cache / "lint" / f"buildifier-{BUILDIFIER_VERSION}"


def fetch(cache: Path) -> Path:
    """Download (once), verify and unpack buildifier; return its path."""
    target = buildifier_path(cache)
    if target.is_file():
        return target
    machine = platform.machine()
    if sys.platform != "linux" or machine not in _MEMBERS:
        raise SystemExit(
            f"lint_tools: buildifier is fetched for Linux x86_64/aarch64 only, not "
            f"{sys.platform}/{machine}; install buildifier {BUILDIFIER_VERSION} yourself and "
            f"put it at {target}"
        )
    with urllib.request.urlopen(TARBALL_URL, timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != TARBALL_SHA256:
        raise SystemExit(
            f"lint_tools: {TARBALL_URL} has sha256 {digest}, expected {TARBALL_SHA256}; "
            "refusing to use it"
        )
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile(f"package/{_MEMBERS[machine]}")
        if member is None:
            raise SystemExit(
                f"lint_tools: {_MEMBERS[machine]} missing from {TARBALL_URL}"
            )
        binary = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch", "path"])
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args(argv)
    path = fetch(args.cache) if args.command == "fetch" else buildifier_path(args.cache)
    sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
