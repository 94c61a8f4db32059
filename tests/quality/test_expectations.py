"""Compiling schemas to GX suites, and the custom Chinese-format expectations on their own."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from quality.expectations import (
    FORMAT_SHAPES,
    parse_datetime,
    parseable_mask,
    plan_rules,
    valid_format_mask,
)
from quality.schema import parse_schema

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(base17: str) -> str:
    """Append the GB 11643 check character to 17 digits."""
    total = sum(int(c) * w for c, w in zip(base17, ID_WEIGHTS, strict=True))
    return base17 + "10X98765432"[total % 11]


SCHEMA = parse_schema(
    {
        "fields": [
            {"name": "证件号码", "format": "resident_id", "required": True, "unique": True},
            {"name": "年龄", "type": "integer", "minimum": 0, "maximum": 150, "severity": "warning"},
            {"name": "开始", "type": "date", "minimum": "2000-01-01"},
            {"name": "结束", "type": "date"},
            {"name": "邮编", "pattern": r"\d{6}"},
            {"name": "性别", "enum": ["男", "女"]},
        ],
        "primary_key": ["证件号码", "开始"],
        "rules": [
            {"kind": "compare", "left": "开始", "op": "<", "right": "结束", "id": "start-before-end"},
            {"kind": "row_count", "min_rows": 1, "max_rows": 1000},
        ],
    }
)


@pytest.fixture(scope="module")
def gx_batch() -> Any:
    """One GX context and batch definition for the module (importing GX takes seconds)."""
    from quality.expectations import new_context

    context = new_context()
    return (
        context.data_sources.add_pandas("test")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("all")
    )


def test_plan_gives_stable_ids_views_and_severities() -> None:
    plan = {r.id: r for r in plan_rules(SCHEMA)}
    assert list(plan) == [
        "证件号码.required",
        "证件号码.format",
        "证件号码.checksum",
        "证件号码.unique",
        "年龄.type",
        "年龄.range",
        "开始.required",
        "开始.type",
        "开始.range",
        "结束.type",
        "邮编.pattern",
        "性别.enum",
        "primary_key",
        "start-before-end",
        "rule2.row_count",
    ]
    assert plan["年龄.range"].severity == "warning" and plan["年龄.range"].view == "typed"
    # A primary-key column is required even when the field does not say so, and that is critical.
    assert plan["开始.required"].severity == "critical"
    assert plan["证件号码.unique"].view == "table" and plan["primary_key"].kwargs == {
        "column_list": ["证件号码", "开始"]
    }
    # GX only has "A > B": start < end is end > start, strictly.
    assert plan["start-before-end"].kwargs == {
        "column_A": "结束",
        "column_B": "开始",
        "or_equal": False,
        "ignore_row_if": "either_value_is_missing",
    }
    assert plan["邮编.pattern"].kwargs["regex"] == r"^(?:\d{6})$"


def test_build_suite_uses_builtin_and_custom_expectations(gx_batch: Any) -> None:
    from quality.expectations import build_suite

    suite = build_suite(SCHEMA, name="people")
    data = json.loads(json.dumps(suite.to_json_dict(), ensure_ascii=False))
    types = [e["type"] for e in data["expectations"]]
    assert types.count("expect_column_values_to_not_be_null") == 2
    for expected in (
        "expect_column_values_to_be_valid_cn_format",
        "expect_column_values_to_be_parseable_as",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_compound_columns_to_be_unique",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_table_row_count_to_be_between",
    ):
        assert expected in types
    by_rule = {e["meta"]["rule_id"]: e for e in data["expectations"]}
    assert by_rule["年龄.range"]["severity"] == "warning"
    assert by_rule["证件号码.checksum"]["kwargs"] == {"column": "证件号码", "cn_format": "resident_id"}
    # Bare dates would be read by GX as dates, which pandas cannot compare with timestamps.
    assert by_rule["开始.range"]["kwargs"]["min_value"] == "2000-01-01T00:00:00"


def test_whole_suite_validates_a_frame_with_gx(gx_batch: Any) -> None:
    from quality.expectations import build_suite

    good = resident_id("11010519800101001")
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    frame = pd.DataFrame(
        {
            "证件号码": [good, bad_check, "12345", good],
            "年龄": ["30", "200", "x", None],
            "开始": pd.to_datetime(["2020-01-01", "2020-01-01", "1999-01-01", "2021-01-01"]).astype(
                "datetime64[ns]"
            ),
            "结束": pd.to_datetime(["2020-02-01", "2019-01-01", "2000-01-01", "2021-01-01"]).astype(
                "datetime64[ns]"
            ),
            "邮编": ["310000", "31000", "310000x", None],
            "性别": ["男", "女", "M", None],
        }
    )
    result = gx_batch.get_batch(batch_parameters={"dataframe": frame}).validate(
        build_suite(SCHEMA), result_format="SUMMARY"
    )
    unexpected = {
        r.expectation_config.meta["rule_id"]: r.result.get("unexpected_count", r.result.get("observed_value"))
        for r in result.results
    }
    assert unexpected["证件号码.format"] == 1  # "12345"
    assert unexpected["证件号码.checksum"] == 1  # right shape, wrong check digit
    assert unexpected["证件号码.unique"] == 2
    assert unexpected["年龄.type"] == 1  # "x" (the range rule reads coerced values; see test_checks)
    assert unexpected["开始.range"] == 1
    assert unexpected["邮编.pattern"] == 2  # a prefix match is not enough
    assert unexpected["性别.enum"] == 1
    assert unexpected["start-before-end"] == 2  # 2019 < 2020 and equal dates are not "<"
    assert unexpected["rule2.row_count"] == 4


def test_checksum_mask_counts_only_well_shaped_values() -> None:
    good = resident_id("44030419900307123")
    wrong = good[:-1] + ("1" if good[-1] != "1" else "2")
    mask = valid_format_mask(pd.Series([good, wrong, "not an id", good.lower()]), "resident_id")
    assert mask.tolist() == [True, False, True, True]
    assert valid_format_mask(pd.Series(["2024-02-30", "2024-02-29", "2024-13"]), "cn_date").tolist() == [
        False,
        True,
        True,
    ]
    assert valid_format_mask(pd.Series(["999999", "330106"]), "region_code").tolist() == [False, True]


@pytest.mark.parametrize(
    ("value_type", "values", "expected"),
    [
        ("integer", ["1", " -2 ", "1.5", "x", None], [True, True, False, False, True]),
        ("number", ["1.5", "1e3", "abc", None], [True, True, False, True]),
        ("boolean", ["是", "false", "maybe"], [True, True, False]),
        (
            "date",
            ["2024-01-05", "2024年1月5日", "2024-02-30", "2024-01-05 10:00"],
            [True, True, False, False],
        ),
        (
            "datetime",
            ["2024-01-05 10:30:00", "2024/1/5T10:30", "2024-01-05", "noon"],
            [True, True, True, False],
        ),
    ],
)
def test_parseable_mask(value_type: str, values: list[str | None], expected: list[bool]) -> None:
    assert parseable_mask(pd.Series(values, dtype=object), value_type).tolist() == expected


def test_shapes_and_datetime_parsing() -> None:
    import re

    assert re.search(FORMAT_SHAPES["mobile"], "+86 138-0013-8000")
    assert re.search(FORMAT_SHAPES["credit_code"], "91350100M000100Y43")
    assert not re.search(FORMAT_SHAPES["region_code"], "33010")
    assert parse_datetime("2024-01-05 10:30:15.5").microsecond == 500000  # type: ignore[union-attr]
    assert parse_datetime("2024-13-01") is None


def _id_with_check(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def test_vectorized_checksums_agree_with_the_validators() -> None:
    """The numpy/regex fast paths give exactly the per-value validators' verdicts, edge cases included."""
    import random
    import re

    from quality import validators
    from quality.expectations import FORMAT_SHAPES

    rng = random.Random(3)
    ids = [
        _id_with_check(
            f"{rng.choice(['11', '33', '44', '99', '00'])}0102{y}{m:02d}{d:02d}{rng.randint(0, 999):03d}"
        )
        for y, m, d in [
            (2000, 2, 29),
            (1900, 2, 29),
            (2023, 2, 29),
            (1879, 12, 31),
            (1880, 1, 1),
            (2099, 1, 1),
        ]
        + [(rng.randint(1850, 2030), rng.randint(0, 13), rng.randint(0, 32)) for _ in range(400)]
    ]
    ids += [i[:-1] + str((int(i[-1]) + 1) % 10) if i[-1].isdigit() else i[:-1] + "0" for i in ids[:100]]
    ids += [i.lower() for i in ids if i.endswith("X")][:20]
    ids += [
        "330102800229123",
        "330102800230123",
        "990102800101123",
        "３３０１０２１９９０",
        " 110101199003070000 ",
    ]
    ids += ["１１０１０１１９９００３０７００００", "11010119900307000x", "not an id", "", None]
    mobiles = ["13812345678", "+8613812345678", "0086 138-1234-5678", "86 13812345678", "12812345678"]
    mobiles += [
        "138 1234 5678",
        "138\x0b1234\x0b5678",
        "1381234567",
        "１３８１２３４５６７８",
        "8613812345678",
        None,
    ]
    mobiles += [f"1{rng.randint(0, 9)}{rng.randint(0, 10**9 - 1):09d}" for _ in range(200)]
    regions = ["330106", "990101", "000000", "110000", "３３０１０６", "33010", None]
    cases = {"resident_id": ids, "mobile": mobiles, "region_code": regions}
    for fmt, values in cases.items():
        check = validators.is_resident_id if fmt == "resident_id" else getattr(validators, f"is_{fmt}")
        shape = re.compile(FORMAT_SHAPES[fmt])
        expected = [not (isinstance(v, str) and shape.search(v.strip())) or check(v) for v in values]
        got = valid_format_mask(pd.Series(values, dtype=object), fmt).tolist()
        wrong = [(v, e, g) for v, e, g in zip(values, expected, got, strict=True) if e != g]
        assert not wrong, (fmt, wrong)
        # The cases include failures (a well-shaped mobile always passes: its shape is its check).
        assert fmt == "mobile" or not all(expected), fmt


def test_shapes_spell_out_python_whitespace() -> None:
    """The shapes' explicit whitespace class matches exactly what Python's \\s matches, in re and in pandas."""
    import re
    import sys

    from quality.expectations import FORMAT_SHAPES

    with_backslash_s = {
        "mobile": r"^(?:\+?86|0086)?[\s\-]?1[3-9]\d(?:[\s\-]?\d){8}$",
        "bank_card": r"^\d(?:[\s\-]?\d){12,18}$",
        "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        "cn_date": r"^\d{4}(?:[\-/.]\d{1,2}[\-/.]\d{1,2}|\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4})$",
    }
    spaces = [chr(i) for i in range(sys.maxunicode + 1) if re.match(r"\s", chr(i))]
    values = []
    for w in [*spaces, "\u200b", "\ufeff", "-", "x", ""]:
        values += [f"138{w}1234{w}5678", f"+86{w}13812345678", f"6222{w}0200{w}1234{w}5678{w}1"]
        values += [f"a{w}b@c.cn", f"2024{w}年{w}1{w}月{w}5{w}日", f"2024{w}-01-05"]
    series = pd.Series(values, dtype="string")
    for fmt, old in with_backslash_s.items():
        expected = [bool(re.search(old, v)) for v in values]
        assert [bool(re.search(FORMAT_SHAPES[fmt], v)) for v in values] == expected, fmt
        assert series.str.contains(FORMAT_SHAPES[fmt], regex=True).tolist() == expected, fmt
        assert any(expected) and not all(expected), fmt
