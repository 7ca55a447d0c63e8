"""Activate the TensorRT stand-in in a Python environment (test machinery only).

Writes ``trt_standin.pth`` into the environment's site-packages. The file puts this ``tools/`` folder
on ``sys.path`` and imports ``trt_standin._autoload``, which installs a finder that serves the
stand-in core only where the real ``tensorrt_bindings.tensorrt`` cannot load (see ``_finder``).
Remove the file to deactivate. Usage: ``python tools/trt_standin/install.py [--uninstall]``.
"""

from __future__ import annotations

import argparse
import os
import sysconfig

PTH_NAME = "trt_standin.pth"
TOOLS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pth_path() -> str:
    return os.path.join(sysconfig.get_paths()["purelib"], PTH_NAME)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="activate the TensorRT stand-in in this environment"
    )
    parser.add_argument("--uninstall", action="store_true")
    args = parser.parse_args()
    target = pth_path()
    if args.uninstall:
        if os.path.exists(target):
            os.remove(target)
        print(f"removed {target}")
        return
    with open(target, "w") as f:
        f.write(TOOLS_DIR + "\nimport trt_standin._autoload\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
