"""Grading after GB/T 43697-2024, and what each grade allows to be opened."""

from __future__ import annotations

from catalog.enums import Grade, OpenType

# 就高从严: the most open type each grade allows.
MAX_OPEN_TYPE: dict[str, str] = {
    Grade.CORE: OpenType.CLOSED,
    Grade.IMPORTANT: OpenType.CLOSED,
    Grade.GENERAL_4: OpenType.CLOSED,
    Grade.GENERAL_3: OpenType.CONDITIONAL,
    Grade.GENERAL_2: OpenType.UNCONDITIONAL,
    Grade.GENERAL_1: OpenType.UNCONDITIONAL,
}
OPENNESS = {OpenType.CLOSED: 0, OpenType.CONDITIONAL: 1, OpenType.UNCONDITIONAL: 2}


def grade_allows_open_type(grade: str | None, open_type: str) -> bool:
    """Whether data of this grade may have this open type (an ungraded entry may only be closed)."""
    ceiling = MAX_OPEN_TYPE.get(grade or "", OpenType.CLOSED)
    return OPENNESS[OpenType(open_type)] <= OPENNESS[OpenType(ceiling)]
