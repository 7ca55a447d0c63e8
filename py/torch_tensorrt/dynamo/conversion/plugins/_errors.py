"""The one way this package reports a user error.

Every message reads ``{api}({op}): {problem}. Got {got}. Expected {expected}. {fix}`` (the parts
that do not apply are left out), so a user always learns which call, which op, what was wrong, what
was received, what would have been accepted and how to fix it.
"""

from __future__ import annotations

from typing import Any, Optional, Type, TypeVar

_MISSING = object()

E = TypeVar("E", bound=Exception)


class PluginGenerationError(ValueError):
    """An op cannot be turned into a TensorRT plugin as it is (bad input, not a bug here)."""


class UnsupportedOpError(PluginGenerationError):
    """The op uses something the generated plugin cannot express (argument kind, shape, ...)."""


def format_message(
    api: str,
    op: str,
    problem: str,
    *,
    got: Any = _MISSING,
    expected: Optional[str] = None,
    fix: Optional[str] = None,
) -> str:
    parts = [f"{api}({op}): {problem.rstrip('.')}."]
    if got is not _MISSING:
        parts.append(f"Got {got!r}." if not isinstance(got, str) else f"Got {got}.")
    if expected:
        parts.append(f"Expected {expected.rstrip('.')}.")
    if fix:
        parts.append(fix if fix.endswith(".") else fix + ".")
    return " ".join(parts)


def user_error(
    api: str,
    op: str,
    problem: str,
    *,
    got: Any = _MISSING,
    expected: Optional[str] = None,
    fix: Optional[str] = None,
    cls: Type[E] = PluginGenerationError,  # type: ignore[assignment]
) -> E:
    """Build (not raise) an exception whose message follows the package's format."""
    return cls(format_message(api, op, problem, got=got, expected=expected, fix=fix))
