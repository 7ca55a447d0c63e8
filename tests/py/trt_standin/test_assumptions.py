"""Every behaviour assumed about closed-source TensorRT is named in one table, and used."""

from __future__ import annotations

import pathlib
import re

import pytest
from trt_standin.assumptions import ASSUMPTIONS, assumed

pytestmark = pytest.mark.standin

STANDIN = pathlib.Path(__file__).resolve().parents[3] / "tools" / "trt_standin"


def _keys_used_in_code() -> set:
    used = set()
    for path in STANDIN.rglob("*.py"):
        if path.name == "assumptions.py":
            continue
        used.update(
            re.findall(r"""assumed\(\s*["']([\w-]+)["']\s*\)""", path.read_text())
        )
    return used


def test_every_assumption_is_implemented_somewhere() -> None:
    unused = sorted(set(ASSUMPTIONS) - _keys_used_in_code())
    assert unused == [], f"assumptions listed but implemented nowhere: {unused}"


def test_every_assumption_used_is_listed() -> None:
    unknown = sorted(_keys_used_in_code() - set(ASSUMPTIONS))
    assert (
        unknown == []
    ), f"code relies on assumptions missing from the table: {unknown}"


def test_entries_say_where_they_come_from() -> None:
    for entry in ASSUMPTIONS.values():
        assert entry.basis in {"documented", "bindings", "qdp", "inferred"}, entry.key
        assert len(entry.source) > 20 and len(entry.behaviour) > 20, entry.key


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(KeyError, match="not in trt_standin.assumptions.ASSUMPTIONS"):
        assumed("tensorrt-reads-minds")
