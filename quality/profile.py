"""Column profiles of a normalized (all-text) Parquet table, computed with DuckDB in bounded memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from quality.sensitive import detect_column
from quality.validators import SensitiveKind, mask

__all__ = ["ColumnProfile", "TableProfile", "ValueCount", "profile_table"]

TYPE_SHARE = 0.95
SAMPLE_SIZE = 1000
TOP_K = 5
SAMPLE_VALUES = 5
_IDENTIFIER_KINDS = {
    SensitiveKind.RESIDENT_ID,
    SensitiveKind.CREDIT_CODE,
    SensitiveKind.BANK_CARD,
    SensitiveKind.MOBILE,
}
_DATE_FORMATS = "['%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日']"
_DATETIME_RE = r"\d{4}[-/]\d{1,2}[-/]\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([+-]\d{2}:?\d{2}|Z)?"
_DATE_RE = r"\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日"
_BOOL_VALUES = "('true', 'false', 'yes', 'no', 't', 'f', 'y', 'n', '是', '否', '真', '假')"


class ValueCount(BaseModel):
    """A value (masked when the column is sensitive) and how often it occurs."""

    value: str
    count: int


class ColumnProfile(BaseModel):
    """Profile of one column: type, completeness, spread, frequent values and sensitivity."""

    name: str
    position: int
    inferred_type: str = Field(description="integer, number, boolean, date, datetime or string")
    type_share: float = Field(description="share of non-null values that fit the inferred type")
    non_null_count: int
    null_count: int
    null_share: float
    distinct_count: int
    min: str | None = None
    max: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    top_values: list[ValueCount] = Field(default_factory=list)
    sample_values: list[str] = Field(default_factory=list)
    sensitive_type: str | None = None
    sensitive_share: float | None = None
    masked: bool = False


class TableProfile(BaseModel):
    """Profile of a whole table."""

    row_count: int
    column_count: int
    columns: list[ColumnProfile]

    @property
    def sensitive_columns(self) -> dict[str, str]:
        """Column name -> sensitive type, for the sensitive columns only."""
        return {c.name: c.sensitive_type for c in self.columns if c.sensitive_type}

    def column(self, name: str) -> ColumnProfile | None:
        """The profile of a column by name, or None."""
        return next((c for c in self.columns if c.name == name), None)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _decide_type(stats: dict[str, int], sensitive: SensitiveKind | None) -> tuple[str, float]:
    nn = stats["nn"]
    if nn == 0:
        return "string", 0.0
    if sensitive in _IDENTIFIER_KINDS:
        return "string", 1.0

    def share(key: str) -> float:
        return stats[key] / nn

    identifier = stats["lz"] > 0 or stats["long"] > 0
    if share("int") >= TYPE_SHARE:
        return ("string", 1.0) if identifier else ("integer", share("int"))
    if share("bool") >= TYPE_SHARE:
        return "boolean", share("bool")
    if share("num") >= TYPE_SHARE and not identifier:
        return "number", share("num")
    if share("date") >= TYPE_SHARE:
        return "date", share("date")
    if stats["dt"] and (stats["dt"] + stats["date"]) / nn >= TYPE_SHARE:
        return "datetime", (stats["dt"] + stats["date"]) / nn
    return "string", 1.0


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        return text[:-9] if text.endswith(" 00:00:00") else text
    return str(value)


def profile_table(
    parquet_path: Path,
    *,
    sample_size: int = SAMPLE_SIZE,
    top_k: int = TOP_K,
    memory_limit: str = "1GB",
    threads: int = 2,
) -> TableProfile:
    """Profile every column of a normalized all-text Parquet file (types, nulls, ranges, sensitivity)."""
    import duckdb

    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads})
    try:
        con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(parquet_path)])
        names = [d[0] for d in con.description]
        con.execute(
            f"CREATE VIEW t AS SELECT * FROM read_parquet('{str(parquet_path).replace(chr(39), chr(39) * 2)}')"
        )
        row_count = con.execute("SELECT count(*) FROM t").fetchone()[0]
        if not names:
            return TableProfile(row_count=row_count, column_count=0, columns=[])

        keys = ("nn", "distinct", "int", "lz", "long", "num", "bool", "date", "dt", "minlen", "maxlen")
        parts: list[str] = []
        for name in names:
            c = _q(name)
            v = f"trim({c})"
            parts += [
                f"count({c})",
                f"count(DISTINCT {c})",
                f"count(*) FILTER (WHERE regexp_full_match({v}, '[+-]?\\d+'))",
                f"count(*) FILTER (WHERE regexp_full_match({v}, '[+-]?0\\d+'))",
                f"count(*) FILTER (WHERE regexp_full_match({v}, '[+-]?\\d{{16,}}'))",
                f"count(*) FILTER (WHERE regexp_full_match({v}, '[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?'))",
                f"count(*) FILTER (WHERE lower({v}) IN {_BOOL_VALUES})",
                f"count(*) FILTER (WHERE regexp_full_match({v}, '{_DATE_RE}') "
                f"AND try_strptime({v}, {_DATE_FORMATS}) IS NOT NULL)",
                f"count(*) FILTER (WHERE regexp_full_match({v}, '{_DATETIME_RE}') "
                f"AND try_cast(replace({v}, '/', '-') AS TIMESTAMPTZ) IS NOT NULL)",
                f"min(length({c}))",
                f"max(length({c}))",
            ]
        row = con.execute(f"SELECT {', '.join(parts)} FROM t").fetchone()
        stats = [
            dict(zip(keys, row[i * len(keys) : (i + 1) * len(keys)], strict=True)) for i in range(len(names))
        ]

        samples: list[list[str]] = []
        for name in names:
            c = _q(name)
            samples.append(
                [
                    r[0]
                    for r in con.execute(
                        f"SELECT {c} FROM t WHERE {c} IS NOT NULL LIMIT {int(sample_size)}"
                    ).fetchall()
                ]
            )

        kinds = []
        types = []
        range_parts: list[str] = []
        for name, st, sample in zip(names, stats, samples, strict=True):
            match = detect_column(name, sample)
            kinds.append(match)
            kind = match.kind if match else None
            typ, share = _decide_type(st, kind)
            types.append((typ, share))
            c = _q(name)
            v = f"trim({c})"
            if kind is not None:
                range_parts += ["NULL", "NULL"]
            elif typ in ("integer", "number"):
                range_parts += [f"min(try_cast({v} AS DOUBLE))", f"max(try_cast({v} AS DOUBLE))"]
            elif typ == "date":
                expr = f"try_strptime({v}, {_DATE_FORMATS})"
                range_parts += [f"min({expr})", f"max({expr})"]
            elif typ == "datetime":
                expr = f"try_cast(replace({v}, '/', '-') AS TIMESTAMP)"
                range_parts += [f"min({expr})", f"max({expr})"]
            else:
                range_parts += [f"min({c})", f"max({c})"]
        ranges = con.execute(f"SELECT {', '.join(range_parts)} FROM t").fetchone()

        columns: list[ColumnProfile] = []
        for i, name in enumerate(names):
            st = stats[i]
            match = kinds[i]
            kind = match.kind if match else None
            c = _q(name)
            top = con.execute(
                f"SELECT {c}, count(*) AS n FROM t WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY n DESC, {c} LIMIT ?",
                [top_k],
            ).fetchall()
            distinct_sample: list[str] = []
            for value in samples[i]:
                if value not in distinct_sample:
                    distinct_sample.append(value)
                if len(distinct_sample) >= SAMPLE_VALUES:
                    break

            def shown(value: str, kind: SensitiveKind | None = kind) -> str:
                return mask(value, kind) if kind is not None else value

            nn = st["nn"]
            columns.append(
                ColumnProfile(
                    name=name,
                    position=i,
                    inferred_type=types[i][0],
                    type_share=round(types[i][1], 4),
                    non_null_count=nn,
                    null_count=row_count - nn,
                    null_share=round((row_count - nn) / row_count, 4) if row_count else 0.0,
                    distinct_count=st["distinct"],
                    min=_text(ranges[2 * i]),
                    max=_text(ranges[2 * i + 1]),
                    min_length=st["minlen"],
                    max_length=st["maxlen"],
                    top_values=[ValueCount(value=shown(v), count=n) for v, n in top],
                    sample_values=[shown(v) for v in distinct_sample],
                    sensitive_type=kind.value if kind else None,
                    sensitive_share=round(match.share, 4) if match else None,
                    masked=kind is not None,
                )
            )
        return TableProfile(row_count=row_count, column_count=len(names), columns=columns)
    finally:
        con.close()
