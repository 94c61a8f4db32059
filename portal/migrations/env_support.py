"""Pieces shared by env.py and the migration checks."""

from __future__ import annotations

from typing import Any

from catalog.search.index import is_fts_object


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the full-text objects, which migrations create with raw DDL, out of autogenerate."""
    return not is_fts_object(name)
