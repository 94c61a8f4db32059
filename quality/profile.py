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
EXACT_DISTINCT_ROWS = 500_000
TYPE_SAMPLE_ROWS = 20_000
_NUMBER_RE = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
SAMPLE_VALUES = 5
_IDENTIFIER_KINDS = {
    SensitiveKind.RESIDENT_ID,
    SensitiveKind.CREDIT_CODE,
    SensitiveKind.BANK_CARD,
    SensitiveKind.MOBILE,
}
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
    type_share: float = Field(
        description="share of non-null values that fit the inferred type (in a 20,000-row sample of big tables)"
    )
    non_null_count: int
    null_count: int
    null_share: float
    distinct_count: int
    distinct_approximate: bool = False
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


def _date_expr(v: str) -> str:
    """A DATE from 2024-01-05, 2024/1/5, 2024.1.5 or 2024年1月5日 (NULL otherwise), without regexes."""
    norm = f"replace(replace(replace(replace(replace({v}, '年', '-'), '月', '-'), '日', ''), '/', '-'), '.', '-')"
    return f"try_cast({norm} AS DATE)"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _decide_type(stats: dict[str, int], sensitive: SensitiveKind | None) -> tuple[str, float]:
    nn = stats["snn"]
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


def _sample_pool(parquet_path: Path, row_count: int, sample_rows: int) -> Any:
    """Row groups spread over the file (at least 4, or about 4x the sample's rows) to draw the type sample from.

    Sampling from a few whole row groups decodes a fraction of a big table, where a reservoir over the
    whole table decodes all of it.
    """
    import math

    import pyarrow.parquet as pq

    pf = pq.ParquetFile(parquet_path)
    groups = pf.metadata.num_row_groups
    want = max(4, math.ceil(groups * min(1.0, 4 * sample_rows / max(row_count, 1))))
    if want >= groups:
        return pf.read()
    step = (groups - 1) / (want - 1)
    picked = sorted({round(i * step) for i in range(want)})
    return pf.read_row_groups(picked)


def profile_table(
    parquet_path: Path,
    *,
    sample_size: int = SAMPLE_SIZE,
    top_k: int = TOP_K,
    type_sample_rows: int = TYPE_SAMPLE_ROWS,
    memory_limit: str = "1GB",
    threads: int = 2,
) -> TableProfile:
    """Profile every column of a normalized all-text Parquet file (types, nulls, ranges, sensitivity)."""
    import duckdb

    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads})
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(parquet_path)])
        names = [d[0] for d in con.description]
        con.execute(
            f"CREATE VIEW t AS SELECT * FROM read_parquet('{str(parquet_path).replace(chr(39), chr(39) * 2)}')"
        )
        row_count = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        if row_count > type_sample_rows:
            con.register("type_pool", _sample_pool(parquet_path, row_count, type_sample_rows))
        if not names:
            return TableProfile(row_count=row_count, column_count=0, columns=[])

        approximate = row_count > EXACT_DISTINCT_ROWS
        distinct_tmpl = "approx_count_distinct({c})" if approximate else "count(DISTINCT {c})"
        full_keys = ("nn", "distinct", "minlen", "maxlen", "mintext", "maxtext")
        type_keys = ("snn", "int", "lz", "long", "num", "bool", "date", "dt")
        full_parts: list[str] = []
        type_parts: list[str] = []
        for name in names:
            c = _q(name)
            v = f"trim({c})"
            num = f"regexp_full_match({v}, '{_NUMBER_RE}')"
            integer = f"{num} AND NOT regexp_matches({v}, '[.eE]')"
            full_parts += [
                f"count({c})",
                distinct_tmpl.format(c=c),
                f"min(length({c}))",
                f"max(length({c}))",
                f"min({c})",
                f"max({c})",
            ]
            type_parts += [
                f"count({c})",
                f"count(*) FILTER (WHERE {integer})",
                f"count(*) FILTER (WHERE {integer} AND regexp_matches({v}, '^[+-]?0[0-9]'))",
                f"count(*) FILTER (WHERE {integer} AND length({v}) > 15)",
                f"count(*) FILTER (WHERE {num})",
                f"count(*) FILTER (WHERE length({v}) <= 5 AND lower({v}) IN {_BOOL_VALUES})",
                f"count(*) FILTER (WHERE CASE WHEN length({v}) BETWEEN 8 AND 11 AND substr({v}, 5, 1) IN "
                f"('-', '/', '.', '年') THEN {_date_expr(v)} IS NOT NULL ELSE false END)",
                f"count(*) FILTER (WHERE CASE WHEN length({v}) BETWEEN 12 AND 35 AND substr({v}, 5, 1) IN ('-', '/') "
                f"AND contains({v}, ':') THEN try_cast(replace({v}, '/', '-') AS TIMESTAMPTZ) IS NOT NULL "
                "ELSE false END)",
            ]
        full = con.execute(f"SELECT {', '.join(full_parts)} FROM t").fetchone()
        # Types are inferred on a fixed-size reservoir sample: cost stays flat as tables grow.
        source = "t"
        if row_count > type_sample_rows:
            source = f"(SELECT * FROM type_pool USING SAMPLE reservoir({int(type_sample_rows)} ROWS) REPEATABLE (42))"
        typed = con.execute(f"SELECT {', '.join(type_parts)} FROM {source}").fetchone()
        nf, nt = len(full_keys), len(type_keys)
        stats = [
            dict(zip(full_keys, full[i * nf : (i + 1) * nf], strict=True))
            | dict(zip(type_keys, typed[i * nt : (i + 1) * nt], strict=True))
            for i in range(len(names))
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
        # Text columns take min/max from the first pass; only typed columns need a pass of their own.
        ranges: list[Any] = []
        range_parts: list[str] = []
        typed_at: dict[int, int] = {}
        for i, (name, st, sample) in enumerate(zip(names, stats, samples, strict=True)):
            match = detect_column(name, sample)
            kinds.append(match)
            kind = match.kind if match else None
            typ, share = _decide_type(st, kind)
            types.append((typ, share))
            v = f"trim({_q(name)})"
            if kind is not None:
                ranges += [None, None]
                continue
            if typ in ("integer", "number"):
                expr = f"try_cast({v} AS DOUBLE)"
            elif typ == "date":
                expr = _date_expr(v)
            elif typ == "datetime":
                expr = f"try_cast(replace({v}, '/', '-') AS TIMESTAMP)"
            else:
                ranges += [st["mintext"], st["maxtext"]]
                continue
            typed_at[i] = len(range_parts)
            range_parts += [f"min({expr})", f"max({expr})"]
            ranges += [None, None]
        if range_parts:
            typed = con.execute(f"SELECT {', '.join(range_parts)} FROM t").fetchall()[0]
            for i, at in typed_at.items():
                ranges[2 * i], ranges[2 * i + 1] = typed[at], typed[at + 1]

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
                    distinct_approximate=approximate,
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
