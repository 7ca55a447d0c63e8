"""Command line: ``python -m torch_tensorrt.dynamo.conversion.plugins explain ns::op --import my.module ...``.

explain prints what would be generated for an op (see ``_explain``) without compiling a model::

    python -m torch_tensorrt.dynamo.conversion.plugins explain my_lib::scale --import my_ops \\
        --input x=float32[1..64,128] --attr k=3.0
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from typing import Any, Dict, List, Optional


def _attribute(text: str) -> Any:
    """``--attr`` values are Python literals (3.0, True, [1, 2], "add"); dtypes as torch.float16."""
    import torch

    if text.startswith("torch."):
        value = getattr(torch, text[len("torch.") :], None)
        if isinstance(value, torch.dtype):
            return value
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare string


def _pairs(items: List[str], what: str) -> Dict[str, str]:
    found = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"explain: {what} {item!r} is not NAME=VALUE")
        found[name.strip()] = value.strip()
    return found


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m torch_tensorrt.dynamo.conversion.plugins"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ex = commands.add_parser(
        "explain", help="what the plugin for an op would be, without compiling a model"
    )
    ex.add_argument(
        "op", help='the op, "namespace::name" or "namespace::name.overload"'
    )
    ex.add_argument(
        "--import",
        dest="modules",
        action="append",
        default=[],
        metavar="MODULE",
        help="module(s) to import first: the one that defines the op (repeatable)",
    )
    ex.add_argument(
        "--input",
        dest="inputs",
        action="append",
        default=[],
        metavar="NAME=DTYPE[DIMS]",
        help="a tensor argument, e.g. x=float32[8,1..64] (min..max: a dynamic dimension)",
    )
    ex.add_argument(
        "--attr",
        dest="attrs",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an attribute value (a Python literal, or torch.<dtype>)",
    )
    ex.add_argument(
        "--target",
        type=int,
        default=90,
        help="compute capability for the AOT kernel (default 90)",
    )
    args = parser.parse_args(argv)
    for module in args.modules:
        try:
            importlib.import_module(module)
        except Exception as e:
            sys.stderr.write(
                f"explain: cannot import {module!r} ({type(e).__name__}: {e}). Pass the module that defines the op "
                "with --import (it must be importable: check PYTHONPATH and the current directory)\n"
            )
            return 2
    from ._explain import explain

    try:
        report = explain(
            args.op,
            _pairs(args.inputs, "--input"),
            {k: _attribute(v) for k, v in _pairs(args.attrs, "--attr").items()},
            target=args.target,
        )
    except ValueError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    sys.stdout.write(
        f"{report}\n"
    )  # the command's output (the library itself never prints)
    return 0


if __name__ == "__main__":
    sys.exit(main())
