"""Ahead-of-time plugins (filled in by the Triton AOT work; until then no call site is AOT)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from ._binding import BoundCall
from ._registry import PluginRecord


def chooser(record: PluginRecord) -> Optional[Callable[[Any, Any, BoundCall], Optional[str]]]:
    """The AOT plugin id to use for a call site, or None for JIT."""
    return None
