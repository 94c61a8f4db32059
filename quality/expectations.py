"""Compile a TableSchema to a Great Expectations (GX Core 1.x) suite, with custom Chinese-format checks.

GX is imported inside functions only: importing it costs about 3 s and 230 MB.

Each schema check becomes one *planned rule* (plain data, no GX) and one GX expectation. A rule's
``view`` says which frame it reads when checks.run_checks validates a table chunk by chunk:

- ``raw``: values as text (pattern, enum, format, checksum, type, required);
- ``typed``: values coerced to the declared type (range, column-pair comparisons);
- ``table``: whole-table properties (uniqueness, row count) that checks computes over the whole
  file with DuckDB, because a per-chunk GX result would miss duplicates that fall in different chunks.

Chinese identifiers are checked by two custom expectations registered on first use:
``expect_column_values_to_be_valid_cn_format`` (check digit / calendar / region prefix, counting only
values that already have the right shape) and ``expect_column_values_to_be_parseable_as`` (type).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quality import validators
from quality.schema import CompareRule, RegexRule, RowCountRule, TableSchema, UniqueTogetherRule, rule_id

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.expectations.expectation import Expectation

__all__ = [
    "FORMAT_SHAPES",
    "PlannedRule",
    "build_suite",
    "coerce_series",
    "expectation_for",
    "new_context",
    "parse_datetime",
    "plan_rules",
    "register_custom_expectations",
    "valid_format_mask",
]

VIEW_RAW = "raw"
VIEW_TYPED = "typed"
VIEW_TABLE = "table"

# Python's \s, spelled out: pandas runs a pattern with \s through Python's re one value at a time,
# while this class (the very characters for which str.isspace() is true) runs vectorized in pyarrow.
_SPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# The shape of each format (conformity); the validators check the digits (accuracy).
FORMAT_SHAPES: dict[str, str] = {
    "resident_id": r"^(?:\d{17}[\dXx]|\d{15})$",
    "credit_code": r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{2}\d{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10}$",
    "mobile": rf"^(?:\+?86|0086)?[{_SPACE}\-]?1[3-9]\d(?:[{_SPACE}\-]?\d){{8}}$",
    "bank_card": rf"^\d(?:[{_SPACE}\-]?\d){{12,18}}$",
    "email": rf"^[^@{_SPACE}]+@[^@{_SPACE}]+\.[^@{_SPACE}]+$",
    "region_code": r"^\d{6}$",
    "cn_date": rf"^\d{{4}}(?:[\-/.]\d{{1,2}}[\-/.]\d{{1,2}}|[{_SPACE}]*年[{_SPACE}]*\d{{1,2}}[{_SPACE}]*月"
    rf"[{_SPACE}]*\d{{1,2}}[{_SPACE}]*日|\d{{4}})$",
}

FORMAT_VALIDATORS: dict[str, Callable[[object], bool]] = {
    "resident_id": validators.is_resident_id,
    "credit_code": validators.is_credit_code,
    "mobile": validators.is_mobile,
    "bank_card": validators.is_bank_card,
    "email": validators.is_email,
    "region_code": validators.is_region_code,
    "cn_date": validators.is_cn_date,
}

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "真"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "假"})
_INTEGER = r"^[+-]?\d+$"
_DATETIME = re.compile(
    r"^(\d{4})[\-/.](\d{1,2})[\-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$"
)


@dataclass(frozen=True)
class PlannedRule:
    """One check of a schema, as plain data: what GX expectation runs, on which view, for which rule."""

    id: str
    kind: str
    severity: str
    view: str
    expectation_type: str
    kwargs: dict[str, Any]
    column: str | None = None
    columns: tuple[str, ...] = ()
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def _bound(value: float | int | str | None, value_type: str) -> float | int | str | None:
    # GX reads a bare ISO date as a date, which pandas cannot compare with datetime64 values.
    if value_type == "date" and isinstance(value, str):
        return f"{value}T00:00:00"
    return value


def _anchored(pattern: str) -> str:
    # A declared pattern must match the whole value (as in Frictionless Table Schema), not a part.
    return f"^(?:{pattern})$"


def plan_rules(schema: TableSchema) -> list[PlannedRule]:
    """Every check that the schema declares, in a stable order, with stable ids."""
    rules: list[PlannedRule] = []
    pk = list(schema.primary_key)
    for spec in schema.fields:
        name, sev = spec.name, spec.severity
        col = {"column": name}
        if spec.required or name in pk:
            rules.append(
                PlannedRule(
                    f"{name}.required", "required", sev if spec.required else "critical", VIEW_RAW,
                    "expect_column_values_to_not_be_null", col, name, (name,),
                    f"{name} 不能为空 / {name} must not be empty",
                )
            )  # fmt: skip
        if spec.type != "string":
            rules.append(
                PlannedRule(
                    f"{name}.type", "type", sev, VIEW_RAW, "expect_column_values_to_be_parseable_as",
                    {**col, "value_type": spec.type}, name, (name,),
                    f"{name} 应为 {spec.type} / {name} must be of type {spec.type}",
                    {"value_type": spec.type},
                )
            )  # fmt: skip
        if spec.enum is not None:
            rules.append(
                PlannedRule(
                    f"{name}.enum", "enum", sev, VIEW_RAW, "expect_column_values_to_be_in_set",
                    {**col, "value_set": list(spec.enum)}, name, (name,),
                    f"{name} 取值须在枚举中 / {name} must be one of the listed values",
                )
            )  # fmt: skip
        if spec.minimum is not None or spec.maximum is not None:
            rules.append(
                PlannedRule(
                    f"{name}.range", "range", sev, VIEW_TYPED, "expect_column_values_to_be_between",
                    {**col, "min_value": _bound(spec.minimum, spec.type), "max_value": _bound(spec.maximum, spec.type)},
                    name, (name,),
                    f"{name} 须在 [{spec.minimum}, {spec.maximum}] 之间 / {name} must lie in "
                    f"[{spec.minimum}, {spec.maximum}]",
                )
            )  # fmt: skip
        if spec.pattern is not None:
            rules.append(
                PlannedRule(
                    f"{name}.pattern", "pattern", sev, VIEW_RAW, "expect_column_values_to_match_regex",
                    {**col, "regex": _anchored(spec.pattern)}, name, (name,),
                    f"{name} 须匹配 {spec.pattern} / {name} must match {spec.pattern}",
                )
            )  # fmt: skip
        if spec.format is not None:
            rules.append(
                PlannedRule(
                    f"{name}.format", "format", sev, VIEW_RAW, "expect_column_values_to_match_regex",
                    {**col, "regex": FORMAT_SHAPES[spec.format]}, name, (name,),
                    f"{name} 格式应为 {spec.format} / {name} must look like a {spec.format}",
                    {"format": spec.format},
                )
            )  # fmt: skip
            rules.append(
                PlannedRule(
                    f"{name}.checksum", "checksum", sev, VIEW_RAW,
                    "expect_column_values_to_be_valid_cn_format", {**col, "cn_format": spec.format},
                    name, (name,),
                    f"{name} 校验位或取值无效 / {name} fails the {spec.format} check digit or value check",
                    {"format": spec.format},
                )
            )  # fmt: skip
        if spec.unique or pk == [name]:
            rules.append(
                PlannedRule(
                    f"{name}.unique", "unique", sev if spec.unique else "critical", VIEW_TABLE,
                    "expect_column_values_to_be_unique", col, name, (name,),
                    f"{name} 不能重复 / {name} must be unique",
                )
            )  # fmt: skip
    if len(pk) > 1:
        rules.append(
            PlannedRule(
                "primary_key", "unique_together", "critical", VIEW_TABLE,
                "expect_compound_columns_to_be_unique", {"column_list": pk}, None, tuple(pk),
                f"主键 ({', '.join(pk)}) 不能重复 / primary key ({', '.join(pk)}) must be unique",
            )
        )  # fmt: skip
    for i, rule in enumerate(schema.rules):
        rid, sev, desc = rule_id(rule, i), rule.severity, rule.description
        if isinstance(rule, CompareRule):
            rules.append(_compare_rule(rid, rule))
        elif isinstance(rule, RegexRule):
            rules.append(
                PlannedRule(
                    rid, "regex", sev, VIEW_RAW, "expect_column_values_to_match_regex",
                    {"column": rule.column, "regex": _anchored(rule.pattern)}, rule.column, (rule.column,),
                    desc or f"{rule.column} 须匹配 {rule.pattern} / {rule.column} must match {rule.pattern}",
                )
            )  # fmt: skip
        elif isinstance(rule, RowCountRule):
            rules.append(
                PlannedRule(
                    rid, "row_count", sev, VIEW_TABLE, "expect_table_row_count_to_be_between",
                    {"min_value": rule.min_rows, "max_value": rule.max_rows}, None, (),
                    desc or f"行数须在 [{rule.min_rows}, {rule.max_rows}] / row count must lie in "
                    f"[{rule.min_rows}, {rule.max_rows}]",
                )
            )  # fmt: skip
        elif isinstance(rule, UniqueTogetherRule):
            cols = list(rule.columns)
            rules.append(
                PlannedRule(
                    rid, "unique_together", sev, VIEW_TABLE, "expect_compound_columns_to_be_unique",
                    {"column_list": cols}, None, tuple(cols),
                    desc or f"({', '.join(cols)}) 组合不能重复 / ({', '.join(cols)}) must be unique together",
                )
            )  # fmt: skip
        else:  # ValueSetRule
            rules.append(
                PlannedRule(
                    rid, "value_set", sev, VIEW_RAW, "expect_column_values_to_be_in_set",
                    {"column": rule.column, "value_set": list(rule.values)}, rule.column, (rule.column,),
                    desc or f"{rule.column} 取值须在集合中 / {rule.column} must be one of the listed values",
                )
            )  # fmt: skip
    return rules


def _compare_rule(rid: str, rule: CompareRule) -> PlannedRule:
    left, right, op = rule.left, rule.right, rule.op
    desc = rule.description or f"须满足 {left} {op} {right} / rows must satisfy {left} {op} {right}"
    base = {"ignore_row_if": "either_value_is_missing"}
    if op == "==":
        etype, kwargs = "expect_column_pair_values_to_be_equal", {"column_A": left, "column_B": right, **base}
    else:
        # GX only has "A greater than B"; a < b is b > a.
        a, b = (left, right) if op in (">", ">=") else (right, left)
        kwargs = {"column_A": a, "column_B": b, "or_equal": op in (">=", "<="), **base}
        etype = "expect_column_pair_values_a_to_be_greater_than_b"
    return PlannedRule(
        rid, "compare", rule.severity, VIEW_TYPED, etype, kwargs, None, (left, right), desc, {"op": op}
    )


# ---------------------------------------------------------------- value helpers (pandas, lazily)


def parse_datetime(value: object) -> dt.datetime | None:
    """Parse 2024-01-05 10:30[:00[.123]], with - / or . separators or a Chinese date; None otherwise."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    text = value.strip()
    m = _DATETIME.match(text)
    if m is None:
        day = validators.parse_cn_date(text)
        return dt.datetime(day.year, day.month, day.day) if day is not None else None
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        return dt.datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), int((frac or "0").ljust(6, "0"))
        )
    except ValueError:
        return None


def _parse_bool(value: object) -> bool | None:
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def coerce_series(series: pd.Series, value_type: str) -> pd.Series:
    """Values coerced to the declared type (float64 numbers, datetime64[ns] dates); unparseable -> null."""
    import pandas as pd

    if value_type in ("integer", "number"):
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            return series.astype("float64")
        return _to_float(series.astype("string").str.strip())
    if value_type in ("date", "datetime"):
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            out = series
            if getattr(out.dt, "tz", None) is not None:
                out = out.dt.tz_convert("UTC").dt.tz_localize(None)
            return out.astype("datetime64[ns]")
        parse = _parse_date if value_type == "date" else parse_datetime
        return _map_distinct(series, parse, lambda parsed: pd.to_datetime(parsed, errors="coerce")).astype(
            "datetime64[ns]"
        )
    if value_type == "boolean":
        return _map_distinct(series, _parse_bool, lambda parsed: pd.array(parsed, dtype="boolean"))
    return series


_PLAIN_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$"


def _to_float(text: pd.Series) -> pd.Series:
    """pd.to_numeric(errors="coerce") as float64; plain decimals are cast by pyarrow, which is far faster."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(text, type=pa.string(), from_pandas=True)
    # Both parsers round a plain decimal correctly; anything else (exponents, inf, text) goes to pandas.
    plain = pc.and_(pc.match_substring_regex(arr, _PLAIN_NUMBER), pc.less_equal(pc.utf8_length(arr), 40))
    plain = pc.fill_null(plain, False).to_numpy(zero_copy_only=False)
    out = np.full(len(arr), np.nan)
    if plain.any():
        out[plain] = pc.cast(arr.filter(pa.array(plain)), pa.float64()).to_numpy(zero_copy_only=False)
    rest = ~plain & text.notna().to_numpy(dtype=bool)
    if rest.any():
        out[rest] = pd.to_numeric(text[rest], errors="coerce").astype("float64").to_numpy()
    return pd.Series(out, index=text.index)


def _map_distinct(
    series: pd.Series, fn: Callable[[Any], Any], to_array: Callable[[list[Any]], Any]
) -> pd.Series:
    """fn over the distinct non-null values only (dates, codes and flags repeat a lot), spread back by position."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = pd.Series(to_array([fn(u) for u in uniques] + [None]))
    # The sentinel -1 picks the trailing None.
    return pd.Series(values.to_numpy()[np.where(codes < 0, len(uniques), codes)], index=series.index).astype(
        values.dtype
    )


def _parse_date(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return parse_datetime(value)
    day = validators.parse_cn_date(value)
    return dt.datetime(day.year, day.month, day.day) if day is not None else None


def parseable_mask(series: pd.Series, value_type: str) -> pd.Series:
    """True where a non-null value can be read as the declared type (nulls count as parseable)."""
    import pandas as pd

    present = series.notna()
    if value_type == "string":
        return pd.Series(True, index=series.index)
    if value_type == "integer":
        if pd.api.types.is_integer_dtype(series.dtype):
            return pd.Series(True, index=series.index)
        text = series.astype("string").str.strip()
        ok = text.str.fullmatch(_INTEGER).fillna(False).astype(bool)
        if pd.api.types.is_float_dtype(series.dtype):
            ok = (series == series.round()).fillna(False).astype(bool)
        return ok | ~present
    if value_type == "boolean":
        if pd.api.types.is_bool_dtype(series.dtype):
            return pd.Series(True, index=series.index)
        return _map_distinct(series, lambda v: _parse_bool(v) is not None, list).astype(bool) | ~present
    coerced = coerce_series(series, value_type)
    return coerced.notna().astype(bool) | ~present


def valid_format_mask(series: pd.Series, cn_format: str) -> pd.Series:
    """True unless a value has the format's shape but fails its check digit or value check."""
    import numpy as np
    import pandas as pd

    shape = FORMAT_SHAPES[cn_format]
    text = series.astype("string").str.strip()
    shaped = text.str.contains(shape, regex=True).fillna(False).astype(bool)
    out = np.ones(len(text), dtype=bool)
    if not shaped.any():
        return pd.Series(out, index=series.index)
    candidates = text[shaped]
    valid = np.zeros(len(candidates), dtype=bool)
    vectorized = _VECTOR_CHECKS.get(cn_format)
    # The shapes' \d also matches full-width and other Unicode digits: those take the validator itself.
    rest = ~candidates.str.isascii().to_numpy(dtype=bool) if vectorized is not None else None
    if vectorized is not None and rest is not None and not rest.all():
        valid[~rest] = vectorized(candidates[~rest])
    if rest is None or rest.any():
        pick = candidates if rest is None else candidates[rest]
        check = FORMAT_VALIDATORS[cn_format]
        mapped = _map_distinct(pick, lambda v: isinstance(v, str) and check(v), list).to_numpy(dtype=bool)
        if rest is None:
            valid = mapped
        else:
            valid[rest] = mapped
    out[shaped.to_numpy(dtype=bool)] = valid
    return pd.Series(out, index=series.index)


def _ascii_digits(values: pd.Series, width: int) -> Any:
    """An (n, width) int array of the character codes minus '0' of ASCII strings of exactly that width."""
    import numpy as np
    import pyarrow as pa

    arr = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(arr), width).astype(np.int64) - 48


def _real_dates(year: Any, month: Any, day: Any) -> Any:
    """Vectorized: True where (year, month, day) is a real calendar date from 1880 up to today."""
    import numpy as np

    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)] + (
        leap & (month == 2)
    )
    today = dt.date.today()
    stamp = year * 10_000 + month * 100 + day
    in_month = (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    return in_month & (year >= 1880) & (stamp <= today.year * 10_000 + today.month * 100 + today.day)


def _provinces_ok(digits: Any) -> Any:
    import numpy as np

    codes = np.array(sorted(int(p) for p in validators.PROVINCE_PREFIXES))
    return np.isin(digits[:, 0] * 10 + digits[:, 1], codes)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _resident_ids_ok(values: pd.Series) -> Any:
    """validators.is_resident_id over values of the resident_id shape, vectorized with numpy."""
    import numpy as np

    upper = values.str.upper()
    lengths = upper.str.len().to_numpy()
    out = np.zeros(len(upper), dtype=bool)
    long = lengths == 18
    if long.any():
        d = _ascii_digits(upper[long], 18)
        check = (d[:, :17] @ np.array(_ID_WEIGHTS)) % 11
        expected = np.array([ord(c) - 48 for c in "10X98765432"])[check]
        year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
        ok = (d[:, 17] == expected) & _provinces_ok(d)
        ok &= _real_dates(year, d[:, 10] * 10 + d[:, 11], d[:, 12] * 10 + d[:, 13])
        out[long] = ok
    short = lengths == 15
    if short.any():
        d = _ascii_digits(upper[short], 15)
        year = 1900 + d[:, 6] * 10 + d[:, 7]
        out[short] = _provinces_ok(d) & _real_dates(year, d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11])
    return out


def _mobiles_ok(values: pd.Series) -> Any:
    """validators.is_mobile over values of the mobile shape (ASCII digits, +, and ASCII separators)."""
    # Python's \s on ASCII text, spelled out, so that either regex engine removes the same characters.
    cleaned = values.str.replace(r"[ \t\n\x0b\x0c\r\x1c-\x1f\-()]", "", regex=True)
    return cleaned.str.fullmatch(r"(?:\+?86|0086)?1[3-9][0-9]{9}").fillna(False).to_numpy(dtype=bool)


def _region_codes_ok(values: pd.Series) -> Any:
    """validators.is_region_code over six-digit values: a real province prefix."""
    return _provinces_ok(_ascii_digits(values, 6))


# Vectorized equivalents of FORMAT_VALIDATORS for values that already have the format's shape
# (the shape regexes admit ASCII only there); the other formats map the validator over distinct values.
_VECTOR_CHECKS: dict[str, Callable[[pd.Series], Any]] = {
    "resident_id": _resident_ids_ok,
    "mobile": _mobiles_ok,
    "region_code": _region_codes_ok,
}


# ---------------------------------------------------------------- GX (lazily imported)

_registered = False
_register_lock = threading.Lock()


def register_custom_expectations() -> None:
    """Define and register the custom metrics and expectations with GX (once per process)."""
    global _registered
    with _register_lock:
        if _registered:
            return
        from great_expectations.execution_engine import PandasExecutionEngine
        from great_expectations.expectations.expectation import ColumnMapExpectation
        from great_expectations.expectations.metrics.map_metric_provider import (
            ColumnMapMetricProvider,
            column_condition_partial,
        )

        class ColumnValuesValidCnFormat(ColumnMapMetricProvider):  # type: ignore[misc]
            condition_metric_name = "column_values.dataledger_valid_cn_format"
            condition_value_keys = ("cn_format",)

            @column_condition_partial(engine=PandasExecutionEngine)  # type: ignore[misc]
            def _pandas(
                cls,  # noqa: N805 - GX binds it as a classmethod
                column: pd.Series,
                cn_format: str,
                **kwargs: Any,
            ) -> pd.Series:
                return valid_format_mask(column, cn_format)

        class ExpectColumnValuesToBeValidCnFormat(ColumnMapExpectation):  # type: ignore[misc]
            """Expect Chinese identifiers or dates of the right shape to pass their check."""

            cn_format: str
            map_metric = "column_values.dataledger_valid_cn_format"
            success_keys = ("cn_format", "mostly")

        class ColumnValuesParseableAs(ColumnMapMetricProvider):  # type: ignore[misc]
            condition_metric_name = "column_values.dataledger_parseable_as"
            condition_value_keys = ("value_type",)

            @column_condition_partial(engine=PandasExecutionEngine)  # type: ignore[misc]
            def _pandas(
                cls,  # noqa: N805 - GX binds it as a classmethod
                column: pd.Series,
                value_type: str,
                **kwargs: Any,
            ) -> pd.Series:
                return parseable_mask(column, value_type)

        class ExpectColumnValuesToBeParseableAs(ColumnMapExpectation):  # type: ignore[misc]
            """Expect values to be readable as the declared type (integer, number, date...)."""

            value_type: str
            map_metric = "column_values.dataledger_parseable_as"
            success_keys = ("value_type", "mostly")

        _CUSTOM["expect_column_values_to_be_valid_cn_format"] = ExpectColumnValuesToBeValidCnFormat
        _CUSTOM["expect_column_values_to_be_parseable_as"] = ExpectColumnValuesToBeParseableAs
        _registered = True


_CUSTOM: dict[str, type] = {}


def expectation_for(rule: PlannedRule) -> Expectation:
    """The GX expectation object for one planned rule (rule id, kind and view kept in meta)."""
    import great_expectations as gx

    register_custom_expectations()
    cls = _CUSTOM.get(rule.expectation_type) or getattr(gx.expectations, _camel(rule.expectation_type))
    kwargs = {k: v for k, v in rule.kwargs.items() if v is not None}
    meta = {"rule_id": rule.id, "kind": rule.kind, "view": rule.view, "description": rule.description}
    return cls(**kwargs, meta=meta, severity=rule.severity)


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def new_context() -> AbstractDataContext:
    """A fresh in-memory GX context with progress bars off (cheap once GX is imported)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory batch under 1 GB (an md5 over pandas' row hashes) only to label
    # it; that costs as much as all the checks on a chunk, and nothing here reads the fingerprint.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def build_suite(
    schema: TableSchema,
    *,
    name: str = "dataledger",
    views: set[str] | None = None,
    context: AbstractDataContext | None = None,
) -> ExpectationSuite:
    """Compile a schema to a GX ExpectationSuite (optionally only the rules of some views)."""
    import great_expectations as gx

    if context is None:
        # A suite lives in the current GX project; make one when the caller has none.
        new_context()
    suite = gx.ExpectationSuite(name=name)
    for rule in plan_rules(schema):
        if views is None or rule.view in views:
            suite.add_expectation(expectation_for(rule))
    return suite
