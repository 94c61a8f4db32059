"""Profiles: inferred types, completeness, ranges, top values, and masked samples of sensitive columns."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from quality.profile import TableProfile, profile_table


def _parquet(tmp_path: Path, data: dict[str, list[str | None]]) -> Path:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in data.items()}), path)
    return path


def test_types_nulls_and_ranges(tmp_path: Path) -> None:
    n = 20
    path = _parquet(
        tmp_path,
        {
            "整数": [str(i - 5) for i in range(n)],
            "小数": [f"{i / 4:.2f}" for i in range(n)],
            "布尔": ["是", "否"] * (n // 2),
            "日期": [f"2024年1月{i + 1}日" for i in range(n)],
            "时间": [f"2024-01-{i + 1:02d} 08:30:00" for i in range(n)],
            "编码": [f"{i:06d}" for i in range(n)],
            "长号": ["1234567890123456" + str(i % 10) for i in range(n)],
            "文本": ["甲", "乙", None, "甲"] * (n // 4),
            "空": [None] * n,
        },
    )
    profile = profile_table(path)
    types = {c.name: c.inferred_type for c in profile.columns}
    assert types == {
        "整数": "integer",
        "小数": "number",
        "布尔": "boolean",
        "日期": "date",
        "时间": "datetime",
        "编码": "string",  # leading zeros: an identifier
        "长号": "string",  # more than 15 digits: an identifier
        "文本": "string",
        "空": "string",
    }
    assert profile.row_count == n
    col = profile.column("整数")
    assert (col.min, col.max) == ("-5", "14")
    assert profile.column("日期").min == "2024-01-01"
    assert profile.column("日期").max == "2024-01-20"
    text = profile.column("文本")
    assert text.null_count == 5
    assert text.null_share == 0.25
    assert text.distinct_count == 2
    assert text.top_values[0].value == "甲"
    assert text.top_values[0].count == 10
    assert profile.column("空").null_share == 1.0


def test_mixed_column_is_string(tmp_path: Path) -> None:
    path = _parquet(tmp_path, {"x": ["1", "2", "three", "4", "5"]})
    assert profile_table(path).column("x").inferred_type == "string"


def test_sensitive_columns_are_masked_everywhere(tmp_path: Path, ids) -> None:
    n = 30
    data = {
        "姓名": [ids.name() for _ in range(n)],
        "身份证号": [ids.resident_id() for _ in range(n)],
        "手机": [ids.mobile() for _ in range(n)],
        "银行卡号": [ids.bank_card() for _ in range(n)],
        "邮箱": [ids.email() for _ in range(n)],
        "住址": [ids.address() for _ in range(n)],
        "金额": [str(i) for i in range(n)],
    }
    profile = profile_table(_parquet(tmp_path, data))
    assert profile.sensitive_columns == {
        "姓名": "name",
        "身份证号": "resident_id",
        "手机": "mobile",
        "银行卡号": "bank_card",
        "邮箱": "email",
        "住址": "address",
    }
    assert profile.column("手机").inferred_type == "string"
    dumped = profile.model_dump_json()
    for name, values in data.items():
        if name == "金额":
            continue
        col = profile.column(name)
        assert col.masked
        assert col.min is None and col.max is None
        assert col.sample_values and all("*" in v for v in col.sample_values)
        for raw in values:
            assert raw not in dumped, f"raw {name} value leaked"
    assert profile.column("金额").sample_values == ["0", "1", "2", "3", "4"]


def test_profile_is_json_serializable(tmp_path: Path) -> None:
    profile = profile_table(_parquet(tmp_path, {"a": ["1", None]}))
    again = TableProfile.model_validate(json.loads(profile.model_dump_json()))
    assert again == profile


def test_empty_table(tmp_path: Path) -> None:
    profile = profile_table(_parquet(tmp_path, {"a": []}))
    assert profile.row_count == 0
    assert profile.column("a").null_share == 0.0


def test_big_table_types_come_from_a_spread_sample(tmp_path: Path) -> None:
    """Past type_sample_rows, types are inferred on row groups spread over the file; counts stay exact."""
    rows = 60_000
    data = {
        "n": [str(i) if i % 100 else "n/a" for i in range(rows)],  # 1% text, spread evenly
        # Numbers in the first half, text in the second: a sample of the first row groups alone
        # would call it an integer column.
        "d": [str(i) if i < rows // 2 else f"第{i}号" for i in range(rows)],
    }
    path = tmp_path / "big.parquet"
    table = pa.table({k: pa.array(v, pa.string()) for k, v in data.items()})
    pq.write_table(table, path, row_group_size=5_000)
    profile = profile_table(path, type_sample_rows=1_000)
    n, d = profile.column("n"), profile.column("d")
    assert n.inferred_type == "integer" and 0.97 < n.type_share < 1.0
    assert d.inferred_type == "string"
    assert profile.row_count == rows and n.non_null_count == rows
    assert n.min == "1" and n.max == "59999"
