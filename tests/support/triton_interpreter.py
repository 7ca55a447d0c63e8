"""Undo what the Triton interpreter of releases before 3.6 leaves behind in ``triton.language``.

Under ``TRITON_INTERPRET=1`` (the CPU tier) an interpreted launch rebinds builtins of
``triton.language`` (its modules and classes: ``tl.load``, ``tensor.__add__``, ``dtype.to_ir``, ...)
to interpreter versions. Triton 3.6 restores them after each launch; 3.2 to 3.5 never do, so a
real compile later in the same process (the AOT tests compile PTX for sm_90 on the CPU) generates
code with the interpreter's builtins and fails (``'block_argument' object has no attribute
'dtype'``). On a GPU there is no interpreter and nothing to undo; the library is not involved.

``LanguageSnapshot`` records the attributes of ``triton.language`` before any launch and puts them
back; the test suite's conftest restores it after every test on those releases.
"""

import inspect
from types import ModuleType
from typing import Any, Dict, List, Tuple

_MISSING = object()


def needs_restoring() -> bool:
    import os

    import triton

    major, minor = (int(p) for p in triton.__version__.split(".")[:2])
    return os.environ.get("TRITON_INTERPRET") == "1" and (major, minor) < (3, 6)


def _patched_objects() -> List[Any]:
    import triton.language as tl

    modules: List[ModuleType] = [tl, tl.core, tl.math]
    objects: List[Any] = list(modules)
    for module in modules:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                getattr(value, "__module__", "").startswith("triton.language")
                and value not in objects
            ):
                objects.append(value)
    return objects


class LanguageSnapshot:
    """The attributes of ``triton.language``'s modules and classes at construction time."""

    def __init__(self) -> None:
        self._saved: List[Tuple[Any, Dict[str, Any]]] = [
            (obj, dict(vars(obj))) for obj in _patched_objects()
        ]

    def restore(self) -> int:
        """Put every changed attribute back (and drop added ones); returns how many changed."""
        changed = 0
        for obj, saved in self._saved:
            now = vars(obj)
            for name in [n for n in now if n not in saved]:
                delattr(obj, name)
                changed += 1
            for name, value in saved.items():
                if now.get(name, _MISSING) is not value:
                    setattr(obj, name, value)
                    changed += 1
        return changed
