"""Quality scores after GB/T 36344-2018 (信息技术 数据质量评价指标), from a CheckReport and metadata.

Six dimensions, each 0-100:

=============  ==============  =========================================================  ======
key            label           rules                                                      weight
=============  ==============  =========================================================  ======
conformity     规范性          type, format (shape), pattern, enum, regex, value_set,      0.20
                               declared columns present
completeness   完整性          required (not null), row count                              0.20
accuracy       准确性          range, checksum (check digit / calendar / region prefix)    0.20
consistency    一致性          unique, unique_together (incl. compound primary key),       0.15
                               compare (column pairs)
timeliness     时效性          last update against the declared update frequency           0.15
accessibility  可访问性        readable, machine-readable format, licence present          0.10
=============  ==============  =========================================================  ======

A row-level rule scores ``100 x (1 - failing rows / rows)``; a table-level rule (row count) and a
rule that could not run (e.g. its column is missing) score 100 or 0. A dimension is the mean of its
rules, 100 when it has none. Overall is the weighted mean above. Rating: 优 >= 90, 良 >= 75,
中 >= 60, else 差. Severity does not weigh in the score; it decides ``has_critical_failures``.

Timeliness: the allowed age of the last update is the frequency's period (realtime and daily 1 day,
weekly 7, monthly 31, quarterly 92, yearly 366 days). Within it the score is 100; past it the score
halves for every further period overdue (one period late: 50, two: 25, ...). ``irregular`` is never
overdue. An unknown last update scores 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from quality.checks import CheckReport, RuleResult
from quality.errors import QualityError

__all__ = [
    "DIMENSIONS",
    "FREQUENCY_PERIODS",
    "KIND_DIMENSION",
    "WEIGHTS",
    "DimensionScore",
    "QualityScore",
    "RuleScore",
    "is_overdue",
    "rating_for",
    "score",
    "timeliness_score",
]

Dimension = Literal["conformity", "completeness", "accuracy", "consistency", "timeliness", "accessibility"]
Rating = Literal["优", "良", "中", "差"]

DIMENSIONS: dict[str, tuple[str, str]] = {
    "conformity": ("规范性", "Conformity"),
    "completeness": ("完整性", "Completeness"),
    "accuracy": ("准确性", "Accuracy"),
    "consistency": ("一致性", "Consistency"),
    "timeliness": ("时效性", "Timeliness"),
    "accessibility": ("可访问性", "Accessibility"),
}

WEIGHTS: dict[str, float] = {
    "conformity": 0.20,
    "completeness": 0.20,
    "accuracy": 0.20,
    "consistency": 0.15,
    "timeliness": 0.15,
    "accessibility": 0.10,
}

KIND_DIMENSION: dict[str, str] = {
    "type": "conformity",
    "format": "conformity",
    "pattern": "conformity",
    "enum": "conformity",
    "regex": "conformity",
    "value_set": "conformity",
    "present": "conformity",
    "required": "completeness",
    "row_count": "completeness",
    "range": "accuracy",
    "checksum": "accuracy",
    "unique": "consistency",
    "unique_together": "consistency",
    "compare": "consistency",
}

FREQUENCY_PERIODS: dict[str, dt.timedelta | None] = {
    "realtime": dt.timedelta(days=1),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=7),
    "monthly": dt.timedelta(days=31),
    "quarterly": dt.timedelta(days=92),
    "yearly": dt.timedelta(days=366),
    "irregular": None,
}

_RATINGS: tuple[tuple[float, Rating, str], ...] = (
    (90.0, "优", "excellent"),
    (75.0, "良", "good"),
    (60.0, "中", "fair"),
    (float("-inf"), "差", "poor"),
)


class UnknownFrequency(QualityError):
    """The update frequency is not one of the ledger's values."""


class RuleScore(BaseModel):
    """The score of one rule within its dimension."""

    id: str
    kind: str
    score: float
    label_zh: str = ""
    label_en: str = ""


class DimensionScore(BaseModel):
    """One GB/T 36344 dimension: its score, weight and the rules behind it."""

    key: Dimension
    label_zh: str
    label_en: str
    score: float
    weight: float
    rules: list[RuleScore] = Field(default_factory=list)


class QualityScore(BaseModel):
    """Overall and per-dimension quality of one table, with its rating."""

    overall: float
    rating: Rating
    rating_en: str
    dimensions: list[DimensionScore]

    def dimension(self, key: str) -> DimensionScore:
        """The dimension with that key."""
        return next(d for d in self.dimensions if d.key == key)


def rating_for(value: float) -> tuple[Rating, str]:
    """The rating (zh, en) of an overall score."""
    for floor, zh, en in _RATINGS:
        if value >= floor:
            return zh, en
    raise AssertionError("unreachable")


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _period(frequency: str) -> dt.timedelta | None:
    try:
        return FREQUENCY_PERIODS[str(frequency)]
    except KeyError:
        raise UnknownFrequency(
            f"未知的更新频率 / unknown update frequency {frequency!r}; one of {', '.join(FREQUENCY_PERIODS)}"
        ) from None


def is_overdue(last_updated_at: dt.datetime | None, frequency: str, now: dt.datetime) -> bool:
    """True when the data is older than its declared update frequency allows (never for irregular)."""
    period = _period(frequency)
    if period is None:
        return False
    if last_updated_at is None:
        return True
    return _aware(now) - _aware(last_updated_at) > period


def timeliness_score(last_updated_at: dt.datetime | None, frequency: str, now: dt.datetime) -> float:
    """100 when on time; halves for every period overdue; 0 when the last update is unknown."""
    period = _period(frequency)
    if last_updated_at is None:
        return 0.0
    if period is None:
        return 100.0
    late = _aware(now) - _aware(last_updated_at) - period
    if late <= dt.timedelta(0):
        return 100.0
    return round(100.0 * 0.5 ** (late / period), 2)


def _rule_score(result: RuleResult) -> float:
    if result.error is not None:
        return 0.0
    if result.kind == "row_count":
        return 100.0 if result.success else 0.0
    if not result.element_count:
        return 100.0
    failing = min(result.unexpected_count, result.element_count)
    return 100.0 * (1.0 - failing / result.element_count)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 100.0


def score(
    report: CheckReport,
    *,
    last_updated_at: dt.datetime | None,
    frequency: str,
    now: dt.datetime,
    readable: bool = True,
    machine_readable: bool = True,
    has_licence: bool = False,
) -> QualityScore:
    """Score a checked table on the six GB/T 36344 dimensions and rate it."""
    per_dim: dict[str, list[RuleScore]] = {key: [] for key in DIMENSIONS}
    for result in report.results:
        dim = KIND_DIMENSION.get(result.kind, "conformity")
        per_dim[dim].append(RuleScore(id=result.id, kind=result.kind, score=round(_rule_score(result), 2)))
    per_dim["timeliness"].append(
        RuleScore(
            id="timeliness",
            kind="timeliness",
            score=timeliness_score(last_updated_at, frequency, now),
            label_zh="按声明的更新频率及时更新",
            label_en="updated as often as declared",
        )
    )
    for rid, ok, zh, en in (
        ("readable", readable, "文件可读取", "the file can be read"),
        ("machine_readable", machine_readable, "机器可读格式", "machine-readable format"),
        ("licence", has_licence, "声明了许可协议", "a licence is declared"),
    ):
        per_dim["accessibility"].append(
            RuleScore(id=rid, kind=rid, score=100.0 if ok else 0.0, label_zh=zh, label_en=en)
        )

    dimensions = [
        DimensionScore(
            key=key,  # type: ignore[arg-type]
            label_zh=zh,
            label_en=en,
            score=round(_mean([r.score for r in per_dim[key]]), 2),
            weight=WEIGHTS[key],
            rules=per_dim[key],
        )
        for key, (zh, en) in DIMENSIONS.items()
    ]
    overall = round(sum(d.score * d.weight for d in dimensions) / sum(WEIGHTS.values()), 2)
    rating, rating_en = rating_for(overall)
    return QualityScore(overall=overall, rating=rating, rating_en=rating_en, dimensions=dimensions)
