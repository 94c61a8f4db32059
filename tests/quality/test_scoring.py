"""GB/T 36344 scores from a check report, against hand-computed arithmetic; timeliness."""

from __future__ import annotations

import datetime as dt

import pytest

from quality.checks import CheckReport, RuleResult
from quality.errors import QualityError
from quality.scoring import WEIGHTS, is_overdue, rating_for, score, timeliness_score

NOW = dt.datetime(2024, 6, 30, 12, 0, tzinfo=dt.UTC)


def rule(rid: str, kind: str, unexpected: int, *, rows: int = 10, **extra: object) -> RuleResult:
    return RuleResult(
        id=rid,
        kind=kind,
        severity="critical",
        element_count=rows,
        unexpected_count=unexpected,
        success=unexpected == 0 and extra.get("error") is None,
        **extra,  # type: ignore[arg-type]
    )


def report(*results: RuleResult) -> CheckReport:
    return CheckReport(row_count=10, columns=["a"], results=list(results), started_at=NOW)


def test_hand_computed_example() -> None:
    checked = report(
        rule("a.type", "type", 1),  # conformity 100 x (1 - 1/10) = 90
        rule("a.format", "format", 0),  # conformity 100
        rule("a.enum", "enum", 2),  # conformity 80
        rule("a.required", "required", 1),  # completeness 90
        rule("rows", "row_count", 0),  # completeness 100 (table rule passed)
        rule("a.range", "range", 0),  # accuracy 100
        rule("a.checksum", "checksum", 5),  # accuracy 50
        rule("a.unique", "unique", 2),  # consistency 80
    )
    result = score(
        checked,
        # Monthly: allowed 31 days; 62 days old is one period late, so 100 x 0.5 = 50.
        last_updated_at=NOW - dt.timedelta(days=62),
        frequency="monthly",
        now=NOW,
        readable=True,
        machine_readable=True,
        has_licence=False,  # accessibility (100 + 100 + 0) / 3 = 66.67
    )
    dims = {d.key: d.score for d in result.dimensions}
    assert dims == {
        "conformity": 90.0,  # (90 + 100 + 80) / 3
        "completeness": 95.0,  # (90 + 100) / 2
        "accuracy": 75.0,  # (100 + 50) / 2
        "consistency": 80.0,
        "timeliness": 50.0,
        "accessibility": 66.67,
    }
    # 0.20*90 + 0.20*95 + 0.20*75 + 0.15*80 + 0.15*50 + 0.10*66.67
    # = 18 + 19 + 15 + 12 + 7.5 + 6.667 = 78.167
    assert result.overall == 78.17
    assert (result.rating, result.rating_en) == ("良", "good")
    assert result.dimension("accuracy").label_zh == "准确性"
    assert result.dimension("accessibility").label_en == "Accessibility"
    assert [r.score for r in result.dimension("conformity").rules] == [90.0, 100.0, 80.0]


def test_weights_sum_to_one_and_empty_dimensions_score_100() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    result = score(
        report(),
        last_updated_at=NOW,
        frequency="daily",
        now=NOW,
        readable=True,
        machine_readable=True,
        has_licence=True,
    )
    assert result.overall == 100.0 and result.rating == "优"
    assert all(d.score == 100.0 for d in result.dimensions)


def test_failed_row_count_and_errored_rules_score_zero() -> None:
    checked = report(
        rule("rows", "row_count", 10),
        rule("b.required", "required", 10, error="missing column"),
        rule("b.present", "present", 10, error="missing column"),
    )
    result = score(checked, last_updated_at=NOW, frequency="irregular", now=NOW)
    assert result.dimension("completeness").score == 0.0
    assert result.dimension("conformity").score == 0.0


@pytest.mark.parametrize(
    ("value", "rating"),
    [(100, "优"), (90, "优"), (89.99, "良"), (75, "良"), (74.9, "中"), (60, "中"), (59.99, "差"), (0, "差")],
)
def test_rating_thresholds(value: float, rating: str) -> None:
    assert rating_for(value)[0] == rating


@pytest.mark.parametrize(
    ("frequency", "age", "overdue"),
    [
        ("daily", dt.timedelta(hours=23), False),
        ("daily", dt.timedelta(days=1, minutes=1), True),
        ("realtime", dt.timedelta(days=2), True),
        ("weekly", dt.timedelta(days=7), False),
        ("weekly", dt.timedelta(days=8), True),
        ("monthly", dt.timedelta(days=30), False),
        ("quarterly", dt.timedelta(days=92), False),
        ("quarterly", dt.timedelta(days=93), True),
        ("yearly", dt.timedelta(days=365), False),
        ("yearly", dt.timedelta(days=400), True),
        ("irregular", dt.timedelta(days=3650), False),
    ],
)
def test_is_overdue(frequency: str, age: dt.timedelta, overdue: bool) -> None:
    assert is_overdue(NOW - age, frequency, NOW) is overdue


def test_timeliness_decays_by_halves_per_period_overdue() -> None:
    assert timeliness_score(NOW - dt.timedelta(days=7), "weekly", NOW) == 100.0
    assert timeliness_score(NOW - dt.timedelta(days=14), "weekly", NOW) == 50.0
    assert timeliness_score(NOW - dt.timedelta(days=21), "weekly", NOW) == 25.0
    assert timeliness_score(NOW - dt.timedelta(days=10, hours=12), "weekly", NOW) == 70.71  # 0.5 ** 0.5
    assert timeliness_score(NOW - dt.timedelta(days=3650), "irregular", NOW) == 100.0
    assert timeliness_score(None, "monthly", NOW) == 0.0
    assert is_overdue(None, "monthly", NOW)


def test_naive_times_are_taken_as_utc_and_unknown_frequency_is_an_error() -> None:
    naive_now = NOW.replace(tzinfo=None)
    assert not is_overdue(naive_now - dt.timedelta(hours=2), "daily", NOW)
    assert is_overdue(NOW - dt.timedelta(days=2), "daily", naive_now)
    with pytest.raises(QualityError, match="unknown update frequency"):
        is_overdue(NOW, "fortnightly", NOW)
