"""Table schemas: validation with clear messages, custom rules, and proposals from profiling facts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from quality.errors import QualityError
from quality.schema import ColumnFacts, InvalidSchema, TableSchema, parse_schema, propose_schema


def _problems(data: object) -> list[str]:
    with pytest.raises(InvalidSchema) as info:
        parse_schema(data)  # type: ignore[arg-type]
    return info.value.problems


def test_a_full_schema_round_trips_through_json() -> None:
    data = {
        "fields": [
            {
                "name": "身份证号",
                "title": "公民身份号码",
                "format": "resident_id",
                "required": True,
                "unique": True,
            },
            {"name": "年龄", "type": "integer", "minimum": 0, "maximum": 150},
            {"name": "登记日期", "type": "date", "minimum": "2000-01-01"},
            {"name": "注销日期", "type": "date"},
            {"name": "性别", "enum": ["男", "女"], "severity": "warning"},
        ],
        "primary_key": ["身份证号"],
        "rules": [
            {"kind": "compare", "left": "登记日期", "op": "<=", "right": "注销日期"},
            {"kind": "row_count", "min_rows": 1},
            {"kind": "unique_together", "columns": ["身份证号", "登记日期"], "id": "person-day"},
            {"kind": "value_set", "column": "性别", "values": ["男", "女", "未知"]},
            {"kind": "regex", "column": "身份证号", "pattern": r"\d+X?"},
        ],
    }
    schema = parse_schema(json.dumps(data, ensure_ascii=False))
    again = TableSchema.model_validate_json(schema.model_dump_json())
    assert again == schema
    assert schema.field("年龄").maximum == 150
    assert [r.kind for r in schema.rules] == ["compare", "row_count", "unique_together", "value_set", "regex"]


def test_invalid_schema_is_a_quality_error_listing_each_problem_in_zh_and_en() -> None:
    problems = _problems(
        {
            "fields": [
                {"name": "a", "pattern": "([0-9"},
                {"name": "b", "type": "text"},
                {"name": "c", "type": "integer", "minimum": 10, "maximum": 1},
            ]
        }
    )
    text = "\n".join(problems)
    assert any(
        p.startswith("fields.0.pattern") and "正则表达式无效" in p and "invalid regular expression" in p
        for p in problems
    )
    assert any(p.startswith("fields.1.type") for p in problems)
    assert "最小值大于最大值" in text and "greater than maximum" in text
    assert issubclass(InvalidSchema, QualityError)


@pytest.mark.parametrize(
    ("field", "needle"),
    [
        ({"name": "x", "type": "integer", "format": "resident_id"}, "needs type 'string'"),
        ({"name": "x", "type": "string", "minimum": 1}, "applies only to integer"),
        ({"name": "x", "type": "date", "maximum": "31/12/2020"}, "must be an ISO date"),
        ({"name": "x", "enum": []}, "at least one value"),
        ({"name": "x", "enum": ["a", "a"]}, "lists a value twice"),
        ({"name": " x"}, "whitespace"),
        ({"name": "x", "format": "passport"}, "fields.0.format"),
        ({"name": "x", "colour": "red"}, "fields.0.colour"),
    ],
)
def test_field_problems_are_reported(field: dict[str, object], needle: str) -> None:
    assert needle in "\n".join(_problems({"fields": [field]}))


def test_table_level_references_are_checked() -> None:
    problems = _problems(
        {
            "fields": [{"name": "a", "type": "integer"}, {"name": "a"}, {"name": "d", "type": "date"}],
            "primary_key": ["zz"],
            "rules": [
                {"kind": "compare", "left": "a", "op": "<", "right": "d"},
                {"kind": "regex", "column": "nope", "pattern": "x", "id": "r"},
                {"kind": "value_set", "column": "a", "values": ["1"], "id": "r"},
            ],
        }
    )
    text = "\n".join(problems)
    assert "duplicate field name 'a'" in text
    assert "primary key column 'zz'" in text
    assert "compares integer with date" in text
    assert "undeclared column 'nope'" in text
    assert "duplicate rule id 'r'" in text


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ({"kind": "row_count"}, "needs min_rows or max_rows"),
        ({"kind": "row_count", "min_rows": 5, "max_rows": 1}, "greater than max_rows"),
        ({"kind": "compare", "left": "a", "op": "<=", "right": "a"}, "two different columns"),
        ({"kind": "compare", "left": "a", "op": "<>", "right": "b"}, "rules.0.compare.op"),
        ({"kind": "unique_together", "columns": ["a"]}, "rules.0.unique_together.columns"),
        ({"kind": "python", "code": "import os"}, "rules.0"),
        ({"kind": "regex", "column": "a", "pattern": "(?P<"}, "invalid regular expression"),
        ({"kind": "regex", "column": "a", "pattern": "x", "id": "has space"}, "rule id may hold only"),
    ],
)
def test_custom_rule_problems_are_reported(rule: dict[str, object], needle: str) -> None:
    schema = {"fields": [{"name": "a"}, {"name": "b"}], "rules": [rule]}
    assert needle in "\n".join(_problems(schema))


def test_not_json_is_an_invalid_schema() -> None:
    assert "not valid JSON" in _problems("{fields: [")[0]


def test_propose_schema_from_profiling_facts() -> None:
    schema = propose_schema(
        [
            ColumnFacts(
                "证件号码", "string", null_share=0.0, distinct_ratio=1.0, sensitive_type="resident_id"
            ),
            ColumnFacts("记录编号", "integer", null_share=0.0, distinct_ratio=1.0),
            ColumnFacts("姓名", "string", null_share=0.0, distinct_ratio=0.9, sensitive_type="name"),
            ColumnFacts("性别", "string", null_share=0.1, distinct_ratio=0.01, values=("男", "女")),
            ColumnFacts("金额", "number", null_share=0.2, distinct_ratio=0.7),
            ColumnFacts("奇怪", "blob", null_share=0.0, distinct_ratio=0.5),
        ]
    )
    by_name = {f.name: f for f in schema.fields}
    assert by_name["证件号码"].format == "resident_id" and by_name["证件号码"].mask_kind == "resident_id"
    assert by_name["证件号码"].required and by_name["证件号码"].unique
    assert (
        by_name["姓名"].sensitive == "name" and by_name["姓名"].format is None and not by_name["姓名"].unique
    )
    assert by_name["性别"].enum == ["女", "男"] and not by_name["性别"].required
    assert by_name["金额"].type == "number" and not by_name["金额"].required
    assert by_name["奇怪"].type == "string"
    assert schema.primary_key == ["记录编号"]
    # Guesses from a sample warn; a person promotes them to critical.
    assert {f.severity for f in schema.fields} == {"warning"}


def test_schema_module_does_not_import_great_expectations() -> None:
    code = "import sys, quality.schema, quality.expectations, quality.checks, quality.scoring; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
