"""The stand-in exposes no name that the real TensorRT binding lacks.

Every public name of the stand-in core (module names, the public attributes and methods classes
define, enum members) must occur in the installed ``tensorrt_bindings/tensorrt.so``: pybind11 keeps
each bound name as a C string, and the linker may merge a name into the tail of a longer string, so
a name counts as present when it ends some NUL-terminated string of the file.
"""

from __future__ import annotations

import enum
import importlib.util
import inspect
import os
import re
from functools import lru_cache
from typing import Iterator, List, Set, Tuple

import pytest

pytestmark = pytest.mark.standin

_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{2,}")


def native_core_path() -> str:
    spec = importlib.util.find_spec("tensorrt_bindings")
    assert spec is not None and spec.submodule_search_locations
    path = os.path.join(list(spec.submodule_search_locations)[0], "tensorrt.so")
    assert os.path.exists(path), f"the bindings wheel has no tensorrt.so at {path}"
    return path


@lru_cache(maxsize=None)
def native_suffixes(path: str) -> Set[str]:
    """Every suffix of every NUL-terminated printable string of the shared object."""
    with open(path, "rb") as f:
        data = f.read()
    suffixes: Set[str] = set()
    for chunk in data.split(b"\0"):
        m = None
        for m in _PRINTABLE_RUN.finditer(chunk):
            pass
        if m is None or m.end() != len(chunk):
            continue  # only runs that end at the NUL are C strings
        text = m.group().decode("ascii")
        for i in range(len(text)):
            suffixes.add(text[i:])
    return suffixes


def _added_by_wheel_init(value: object) -> bool:
    """Attributes that NVIDIA's Python ``tensorrt_bindings/__init__.py`` adds (DataType.itemsize)."""
    fget = getattr(value, "fget", None)
    return getattr(fget, "__module__", None) == "tensorrt_bindings"


def public_names(module) -> Iterator[Tuple[str, str]]:
    """(qualified name, bare name) of everything the stand-in core exposes."""
    for name in module.__all__:
        yield name, name
        obj = getattr(module, name)
        if inspect.isclass(obj):
            if issubclass(obj, enum.Enum):
                for member in obj.__members__:
                    yield f"{name}.{member}", member
            for klass in obj.__mro__:
                if klass.__module__.startswith(("builtins", "enum")) or klass is object:
                    continue
                for attr, value in vars(klass).items():
                    if attr.startswith("_") or attr in getattr(obj, "__members__", {}):
                        continue
                    if _added_by_wheel_init(value):
                        continue
                    yield f"{name}.{attr}", attr


def missing_names(module, path: str) -> List[str]:
    present = native_suffixes(path)
    return sorted({qual for qual, bare in public_names(module) if bare not in present})


def test_standin_exposes_only_real_names() -> None:
    from trt_standin import core

    missing = missing_names(core, native_core_path())
    assert missing == [], (
        "the stand-in exposes names that the real tensorrt.so does not contain "
        f"({native_core_path()}): {missing}"
    )


def test_check_catches_a_made_up_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from trt_standin import core

    monkeypatch.setattr(
        core.IExprBuilder, "simplify_everything", lambda self: None, raising=False
    )
    monkeypatch.setattr(core, "__all__", core.__all__ + ["ImaginaryLayer"])
    monkeypatch.setattr(
        core, "ImaginaryLayer", type("ImaginaryLayer", (), {}), raising=False
    )
    missing = missing_names(core, native_core_path())
    assert missing == ["IExprBuilder.simplify_everything", "ImaginaryLayer"]


def test_the_strings_are_read_from_the_real_binding() -> None:
    present = native_suffixes(native_core_path())
    # Names the QDP layer relies on, and a few that only the real binding has.
    for name in (
        "IPluginV3QuickAOTBuild",
        "declare_size_tensor",
        "get_launch_params",
        "IExprBuilder",
    ):
        assert name in present
    assert "simplify_everything" not in present
