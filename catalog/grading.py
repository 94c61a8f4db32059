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


# The level a column of each detected sensitive type sets, at least (GB/T 43697-2024 annex: 敏感个人
# 信息 is level 4; other personal information level 3; an enterprise's public register data level 2).
SENSITIVE_FLOOR: dict[str, str] = {
    "resident_id": Grade.GENERAL_4,
    "bank_card": Grade.GENERAL_4,
    "mobile": Grade.GENERAL_3,
    "email": Grade.GENERAL_3,
    "name": Grade.GENERAL_2,
    "address": Grade.GENERAL_2,
    "credit_code": Grade.GENERAL_2,
}
# A name together with a contact or an address identifies a person: personal information.
IDENTIFYING_PAIRS = ({"name", "address"}, {"name", "mobile"}, {"name", "email"})
# Domains whose data is at least this sensitive whatever its columns.
DOMAIN_FLOOR: dict[str, str] = {
    "public_safety": Grade.GENERAL_3,
    "health": Grade.GENERAL_2,
    "social_assistance": Grade.GENERAL_3,
    "employment": Grade.GENERAL_2,
    "credit": Grade.GENERAL_2,
    "finance": Grade.GENERAL_2,
}
SEVERITY = [Grade.GENERAL_1, Grade.GENERAL_2, Grade.GENERAL_3, Grade.GENERAL_4, Grade.IMPORTANT, Grade.CORE]


def stricter(a: str, b: str) -> str:
    """The more sensitive of two grades."""
    return a if SEVERITY.index(Grade(a)) >= SEVERITY.index(Grade(b)) else b


def propose_grade(sensitive_types: set[str], domain: str) -> tuple[str, list[str]]:
    """A proposed grade and the reasons for it, taking the highest level that applies (就高从严)."""
    grade: str = Grade.GENERAL_1
    reasons: list[str] = []
    for kind in sorted(sensitive_types):
        floor = SENSITIVE_FLOOR.get(kind)
        if floor is not None and stricter(floor, grade) == floor and floor != grade:
            reasons.append(f"column of type {kind} → {floor}")
        grade = stricter(floor, grade) if floor else grade
    for pair in IDENTIFYING_PAIRS:
        if pair <= sensitive_types and stricter(Grade.GENERAL_3, grade) != grade:
            grade = Grade.GENERAL_3
            reasons.append(f"{' + '.join(sorted(pair))} identify a person → general_3")
    floor = DOMAIN_FLOOR.get(domain)
    if floor is not None and stricter(floor, grade) != grade:
        grade = floor
        reasons.append(f"domain {domain} → {floor}")
    return grade, reasons
