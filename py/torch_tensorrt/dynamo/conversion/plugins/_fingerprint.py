"""What Python code depends on: the names a function reaches, and a content hash over them.

Two users: the capture records *by which names* an op's body reaches its kernel (to notice a
redefinition within the process), and the AOT kernel cache and the engine-cache ledger need a
*content* hash of the code that stays the same across processes (source text, not object ids).
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, Callable, Iterator, List, Optional, Set, Tuple

#: Modules whose functions are library code, not the user's (never followed, never hashed).
LIBRARY_MODULES = (
    "torch",
    "triton",
    "numpy",
    "builtins",
    "math",
    "functools",
    "typing",
    "sympy",
    "tensorrt",
)


def code_names(code: Any) -> List[str]:
    """Global, attribute and free-variable names a code object (nested code included) refers to."""
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if inspect.iscode(const):
            names.update(code_names(const))
    return sorted(names)


def references(fn: Callable[..., Any]) -> Iterator[Tuple[Any, Optional[str], Any]]:
    """(namespace, name, value) for every global, ``module.attribute`` and closure cell ``fn`` uses.

    ``namespace`` is the dict the name is looked up in (a function's globals or a module's dict),
    or the closure cell itself (``name`` None).
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    globals_ = getattr(fn, "__globals__", {})
    names = code_names(code)
    for name in names:
        if name not in globals_:
            continue
        value = globals_[name]
        if inspect.ismodule(value):
            attrs = vars(value)
            for attr in names:
                if attr in attrs:
                    yield attrs, attr, attrs[attr]
        else:
            yield globals_, name, value
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        yield cell, None, value


def is_kernel(value: Any) -> bool:
    """A Triton kernel object (``@triton.jit``, an autotuner or heuristics wrapper, or interpreted)."""
    try:
        from triton.runtime.jit import KernelInterface
    except (
        ImportError
    ):  # pragma: no cover - Triton is a requirement of the kernels we handle
        return False
    return (
        isinstance(value, KernelInterface)
        or type(value).__name__ == "InterpretedFunction"
    )


def is_user_function(value: Any) -> bool:
    """A plain Python function that is not library code (followed when tracing references)."""
    module = getattr(value, "__module__", "") or ""
    return inspect.isfunction(value) and module.split(".")[0] not in LIBRARY_MODULES


def _is_plain_constant(value: Any) -> bool:
    return (
        isinstance(value, (bool, int, float, str))
        or type(value).__name__ == "constexpr"
    )


def code_fingerprint(fn: Callable[..., Any], depth: int = 6) -> str:
    """Hash of everything in Python that ``fn``'s behaviour depends on, stable across processes.

    The source of ``fn``, and transitively of every Triton kernel and user function it reaches
    by name (globals, ``module.name``, closures), and the value of every plain constant it reads
    (``C = tl.constexpr(3)``, ``N = 128``). Editing any of them changes the hash.
    """
    digest = hashlib.sha256()
    seen: Set[int] = set()

    def visit(f: Any, label: str, level: int) -> None:
        if id(f) in seen or level > depth:
            return
        seen.add(id(f))
        try:
            source = inspect.getsource(f)
        except (OSError, TypeError):
            source = getattr(
                getattr(f, "__code__", None), "co_code", b""
            ).hex() or repr(f)
        digest.update(f"{label}\0{source}\0".encode())
        for _, name, value in references(f):
            ref = name or "<closure>"
            inner = value
            while is_kernel(
                inner
            ):  # @triton.jit, and autotune / heuristics wrappers around it
                inner = getattr(inner, "fn", None)
            if inner is not value and inspect.isfunction(inner):
                visit(inner, ref, level + 1)
            elif is_user_function(value):
                visit(value, ref, level + 1)
            elif _is_plain_constant(value):
                digest.update(f"{label}:{ref}={value!r}\0".encode())

    visit(fn, getattr(fn, "__qualname__", "fn"), 0)
    return digest.hexdigest()
