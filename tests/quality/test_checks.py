"""run_checks over small Parquet files: chunked GX counts, whole-table rules across chunks, masking."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quality.checks import CheckReport, run_checks
from quality.errors import UnreadableFile
from quality.schema import parse_schema

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(seq: int) -> str:
    """A checksum-valid 18-digit resident ID (Beijing Chaoyang, born 1980-01-01)."""
    base = f"11010519800101{seq:03d}"
    total = sum(int(c) * w for c, w in zip(base, ID_WEIGHTS, strict=True))
    return base + "10X98765432"[total % 11]


def wrong_check(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


V = [resident_id(i) for i in range(10)]

# Ten rows, read three at a time: chunks are rows 0-2, 3-5, 6-8 and 9.
PEOPLE = {
    "证件号码": [V[0], V[1], None, wrong_check(V[3]), "12345", V[5], V[6], V[7], V[0], V[9]],
    "年龄": ["30", "40", "50", "20", "33", "200", "abc", "18", "30", " "],
    "性别": ["男", "女", "男", "女", "男", "女", "X", "男", "男", "女"],
    "邮编": ["310000", "310001", "310002", "310003", None, "310005", "310006", "31000A", "310008", "310009"],
    "开始": [
        "2020-01-01",
        "2020-01-01",
        "2020/1/1",
        "2020年1月1日",
        "2020-01-01",
        "2020-01-01",
        None,
        "2020-01-01",
        "2021-01-01",
        "2020-01-01",
    ],
    "结束": [
        "2020-02-01",
        "2020-02-01",
        "2020-02-01",
        "2020-02-01",
        None,
        "2020-02-01",
        "2020-02-01",
        "2020-02-01",
        "2020-01-01",
        "2020-02-01",
    ],
}

SCHEMA = parse_schema(
    {
        "fields": [
            {"name": "证件号码", "format": "resident_id", "required": True, "unique": True},
            {"name": "年龄", "type": "integer", "minimum": 0, "maximum": 150},
            {"name": "性别", "enum": ["男", "女"], "severity": "warning"},
            {"name": "邮编", "pattern": r"\d{6}"},
            {"name": "开始", "type": "date"},
            {"name": "结束", "type": "date"},
        ],
        "rules": [
            {"kind": "compare", "left": "开始", "op": "<=", "right": "结束", "id": "start-not-after-end"},
            {"kind": "row_count", "min_rows": 5},
        ],
    }
)


def write(path: Path, columns: dict[str, list[object]] | pa.Table, row_group_size: int | None = None) -> Path:
    table = columns if isinstance(columns, pa.Table) else pa.table(columns)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> tuple[CheckReport, list[float]]:
    """The people table checked three rows at a time (GX is imported once for the module)."""
    path = write(tmp_path_factory.mktemp("checks") / "people.parquet", PEOPLE)
    seen: list[float] = []
    return run_checks(path, SCHEMA, chunk_rows=3, on_progress=seen.append), seen


def test_row_rules_sum_over_chunks(people: tuple[CheckReport, list[float]]) -> None:
    report, _ = people
    assert report.row_count == 10 and report.chunk_count == 4
    counts = {r.id: r.unexpected_count for r in report.results}
    assert counts == {
        "证件号码.required": 1,  # row 2
        "证件号码.format": 1,  # row 4: "12345"
        "证件号码.checksum": 1,  # row 3: right shape, wrong check digit
        "证件号码.unique": 2,  # rows 0 and 8, in the first and third chunks
        "年龄.type": 1,  # "abc"; " " is blank, so missing, not wrong
        "年龄.range": 1,  # 200
        "性别.enum": 1,  # "X"
        "邮编.pattern": 1,  # "31000A"
        "开始.type": 0,  # 2020/1/1 and 2020年1月1日 are dates too
        "结束.type": 0,
        "start-not-after-end": 1,  # row 8
        "rule2.row_count": 0,
    }
    assert all(r.element_count == 10 for r in report.results)
    assert report.result("年龄.range").missing_count == 2  # type: ignore[union-attr]
    assert report.result("rule2.row_count").observed_value == 10  # type: ignore[union-attr]


def test_duplicates_split_across_chunks_are_found(people: tuple[CheckReport, list[float]]) -> None:
    unique = people[0].result("证件号码.unique")
    assert unique is not None and not unique.success and unique.gx["engine"] == "duckdb"
    assert unique.examples == ["110105********" + V[0][-4:] + " ×2"]


def test_examples_are_masked_for_sensitive_formats(people: tuple[CheckReport, list[float]]) -> None:
    report, _ = people
    text = report.model_dump_json()
    for value in (V[0], wrong_check(V[3]), V[1]):
        assert value not in text
    assert report.result("证件号码.checksum").examples == ["110105********" + wrong_check(V[3])[-4:]]  # type: ignore[union-attr]
    # Values that are not personal data are shown as they are.
    assert report.result("年龄.range").examples == ["200"]  # type: ignore[union-attr]
    assert report.result("邮编.pattern").examples == ["31000A"]  # type: ignore[union-attr]
    assert report.result("start-not-after-end").examples == ["开始=2021-01-01; 结束=2020-01-01"]  # type: ignore[union-attr]


def test_critical_and_warning(people: tuple[CheckReport, list[float]]) -> None:
    report, _ = people
    assert report.result("性别.enum").severity == "warning"  # type: ignore[union-attr]
    assert report.has_critical_failures and not report.success
    data = json.loads(report.model_dump_json())
    assert data["has_critical_failures"] is True
    assert CheckReport.model_validate(data).result("证件号码.unique").unexpected_count == 2  # type: ignore[union-attr]


def test_progress_rises_to_one(people: tuple[CheckReport, list[float]]) -> None:
    seen = people[1]
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 6


def test_only_warnings_failing_is_not_critical(tmp_path: Path) -> None:
    path = write(tmp_path / "t.parquet", {"证件号码": [V[1], V[2]], "性别": ["男", "?"]})
    schema = parse_schema(
        {
            "fields": [
                {"name": "证件号码", "format": "resident_id", "required": True},
                {"name": "性别", "enum": ["男", "女"], "severity": "warning"},
            ]
        }
    )
    report = run_checks(path, schema)
    assert not report.success and not report.has_critical_failures
    assert [r.id for r in report.failed] == ["性别.enum"]


def test_native_parquet_types_and_compound_key_across_row_groups(tmp_path: Path) -> None:
    table = pa.table(
        {
            "站点": pa.array(["A", "B", "C", "A", "B", None], pa.string()),
            "日期": pa.array([dt.date(2024, 1, d) for d in (1, 1, 1, 2, 1, 3)], pa.date32()),
            "客流": pa.array([10, 20, -5, 40, 50, 60], pa.int64()),
            "温度": pa.array([1.5, None, 2.5, 99.0, 3.0, 4.0], pa.float64()),
        }
    )
    path = write(tmp_path / "flows.parquet", table, row_group_size=2)
    schema = parse_schema(
        {
            "fields": [
                {"name": "站点", "required": True},
                {"name": "日期", "type": "date", "minimum": "2024-01-01", "maximum": "2024-01-02"},
                {"name": "客流", "type": "integer", "minimum": 0},
                {"name": "温度", "type": "number", "maximum": 50},
            ],
            "primary_key": ["站点", "日期"],
            "rules": [{"kind": "row_count", "max_rows": 3, "severity": "warning"}],
        }
    )
    report = run_checks(path, schema, chunk_rows=2)
    counts = {r.id: r.unexpected_count for r in report.results}
    assert counts["primary_key"] == 2  # (B, 2024-01-01) in rows 1 and 4, three chunks apart
    assert counts["站点.required"] == 1
    assert counts["日期.range"] == 1  # 2024-01-03
    assert counts["客流.range"] == 1 and counts["温度.range"] == 1
    assert counts["客流.type"] == 0 and counts["日期.type"] == 0
    assert report.result("primary_key").examples == ["(B, 2024-01-01) ×2"]  # type: ignore[union-attr]
    row_count = report.result("rule3.row_count") or report.result("rule1.row_count")
    assert row_count is not None and not row_count.success and row_count.observed_value == 6


def test_missing_column_fails_its_rules(tmp_path: Path) -> None:
    path = write(tmp_path / "t.parquet", {"a": ["1", "2"]})
    schema = parse_schema({"fields": [{"name": "a"}, {"name": "b", "required": True}]})
    report = run_checks(path, schema)
    assert report.missing_columns == ["b"]
    required = report.result("b.required")
    assert required is not None and not required.success and "missing column" in (required.error or "")
    assert report.result("b.present") is not None and report.has_critical_failures


def test_empty_table_and_unreadable_file(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.parquet", pa.table({"a": pa.array([], pa.string())}))
    schema = parse_schema({"fields": [{"name": "a", "required": True, "unique": True}]})
    report = run_checks(empty, schema)
    assert report.row_count == 0 and report.success
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(UnreadableFile):
        run_checks(junk, schema)


def test_a_real_report_scores(people: tuple[CheckReport, list[float]]) -> None:
    from quality.scoring import score

    now = dt.datetime(2024, 6, 30, tzinfo=dt.UTC)
    result = score(people[0], last_updated_at=now, frequency="daily", now=now, has_licence=True)
    # required 1/10 failing -> 90; row count passed -> 100.
    assert result.dimension("completeness").score == 95.0
    # unique: 2 of 10 rows duplicated -> 80; compare: 1 of 10 -> 90.
    assert result.dimension("consistency").score == 85.0
    assert 60 <= result.overall < 100


TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
SHENZHEN = TESTDATA / "zh-open-data" / "shenzhen-opendata" / "szt_card_data_2920000403601.csv"


@pytest.mark.skipif(not SHENZHEN.is_file(), reason=f"shared test data not found at {SHENZHEN}")
def test_real_shenzhen_card_records_match_a_plain_python_count(tmp_path: Path) -> None:
    """10,000 real transit records, read by quality.tables and checked 3,000 rows at a time."""
    import csv
    import re

    from quality.tables import read_table

    parquet = tmp_path / "szt.parquet"
    read_table(SHENZHEN, parquet)
    schema = parse_schema(
        {
            "fields": [
                {"name": "deal_date", "type": "datetime", "required": True},
                {"name": "close_date", "type": "datetime"},
                {"name": "card_no", "pattern": "[A-J]{9}", "severity": "warning"},
                {"name": "deal_value", "type": "number", "minimum": 0},
                {"name": "deal_type", "enum": ["地铁入站", "地铁出站", "巴士"]},
                {"name": "deal_money", "type": "number", "maximum": 500},
            ],
            "rules": [
                {"kind": "compare", "left": "deal_date", "op": "<=", "right": "close_date", "id": "dates"}
            ],
        }
    )
    report = run_checks(parquet, schema, chunk_rows=3000)

    # The oracle: the same questions answered with the csv module.
    with SHENZHEN.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    when = dt.datetime.fromisoformat
    expected = {
        "deal_date.required": sum(not r["deal_date"] for r in rows),
        "card_no.pattern": sum(not re.fullmatch("[A-J]{9}", r["card_no"]) for r in rows if r["card_no"]),
        "deal_value.range": sum(float(r["deal_value"]) < 0 for r in rows if r["deal_value"]),
        "deal_type.enum": sum(
            r["deal_type"] not in {"地铁入站", "地铁出站", "巴士"} for r in rows if r["deal_type"]
        ),
        "deal_money.range": sum(float(r["deal_money"]) > 500 for r in rows if r["deal_money"]),
        "dates": sum(
            when(r["deal_date"]) > when(r["close_date"]) for r in rows if r["deal_date"] and r["close_date"]
        ),
    }
    got = {rid: report.result(rid).unexpected_count for rid in expected}  # type: ignore[union-attr]
    assert got == expected
    assert report.row_count == len(rows) == 10_000 and report.chunk_count == 4
    assert expected["card_no.pattern"] > 0 and expected["deal_money.range"] > 0  # the data does have faults
    # Only the card pattern is a warning; the other faults are critical.
    assert report.has_critical_failures
    assert report.result("card_no.pattern").severity == "warning"  # type: ignore[union-attr]


def test_uniqueness_under_a_small_duckdb_memory_limit_stays_exact(tmp_path: Path) -> None:
    """Whole-table rules run within the given DuckDB memory_limit, with exact results."""
    rows = 300_000
    codes = [f"{i:09d}" for i in range(rows)]
    codes[-3:] = codes[:3]  # three pairs, first and last chunk
    codes[1000] = "   "  # blank counts as missing, not as a duplicate
    path = write(tmp_path / "big.parquet", {"code": codes}, row_group_size=50_000)
    schema = parse_schema({"fields": [{"name": "code", "unique": True}]})
    report = run_checks(path, schema, chunk_rows=100_000, memory_limit="64MB")
    unique = report.result("code.unique")
    assert unique is not None and unique.unexpected_count == 6 and unique.missing_count == 1
    assert report.row_count == rows
