"""The sandbox (可用不可见): aggregate queries over a product's tables; row-level data never leaves.

A query names measures (count, sum, avg, min, max over a field) and the fields to group by. Only
groups of at least k rows are released (k from ExchangeSettings, default 10); smaller groups are
withheld and only their number is reported. Field names are checked against the Parquet schema and
quoted as identifiers; the only values (file path, k, limit) are bound parameters: user input never
becomes SQL text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from catalog.exchange.errors import SandboxRefused

Op = Literal["count", "sum", "avg", "min", "max"]
NUMERIC_TYPES = ("int", "numeric")
MAX_GROUP_FIELDS = 5
MAX_MEASURES = 20


class Measure(BaseModel):
    """One aggregate: count(*) (no field), count(field), sum/avg of a numeric field, min/max of a field."""

    op: Op
    field: str | None = Field(default=None, max_length=300)

    @property
    def label(self) -> str:
        """The key of this measure in the result rows, e.g. sum(人口) or count."""
        return f"{self.op}({self.field})" if self.field else self.op


class AggregateQuery(BaseModel):
    """Measures over groups of rows."""

    measures: list[Measure] = Field(min_length=1, max_length=MAX_MEASURES)
    group_by: list[str] = Field(default_factory=list, max_length=MAX_GROUP_FIELDS)


class AggregateResult(BaseModel):
    """The released groups, and how many groups were withheld for having fewer than k rows."""

    group_by: list[str]
    measures: list[str]
    rows: list[dict[str, Any]]
    k: int
    withheld_groups: int
    truncated: bool = False


def _jsonable(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def _connect() -> Any:
    import duckdb

    return duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )


def compile_aggregate(path: Path, query: AggregateQuery) -> tuple[list[str], list[str]]:
    """The SELECT terms of the group fields and of the measures, validated against the table's schema."""
    from catalog.dataapi import InvalidQuery, quote_ident, table_columns

    try:
        columns = {c.name: c for c in table_columns(path)}
    except InvalidQuery as exc:
        raise SandboxRefused(str(exc)) from exc

    def column(name: str, what: str) -> Any:
        found = columns.get(name)
        if found is None:
            raise SandboxRefused(f"unknown field {name!r} in {what} / 字段不存在")
        if not found.scalar:
            raise SandboxRefused(f"field {name!r} cannot be used in {what} / 字段类型不支持")
        return found

    if len(set(query.group_by)) != len(query.group_by):
        raise SandboxRefused("group_by names a field twice / 分组字段重复")
    groups = [quote_ident(column(name, "group_by").name) for name in query.group_by]
    terms: list[str] = []
    for measure in query.measures:
        if measure.field is None:
            if measure.op != "count":
                raise SandboxRefused(f"{measure.op} needs a field / {measure.op} 须指定字段")
            terms.append("count(*)")
            continue
        col = column(measure.field, measure.op)
        if measure.op in ("sum", "avg") and col.type not in NUMERIC_TYPES:
            raise SandboxRefused(
                f"{measure.op} needs a numeric field; {col.name!r} is {col.type} / 须为数值字段"
            )
        terms.append(f"{measure.op}({quote_ident(col.name)})")
    return groups, terms


def run_aggregate(path: Path, query: AggregateQuery, *, k: int, max_groups: int = 1000) -> AggregateResult:
    """Run an aggregate query, releasing only groups of at least k rows."""
    if k < 1:
        raise SandboxRefused("k must be at least 1")
    groups, terms = compile_aggregate(path, query)
    source = "read_parquet(?)"
    group_clause = f" GROUP BY {', '.join(groups)}" if groups else ""
    order_clause = f" ORDER BY {', '.join(f'{g} NULLS LAST' for g in groups)}" if groups else ""
    select = ", ".join([*groups, "count(*)", *terms])
    released_sql = f"SELECT {select} FROM {source}{group_clause} HAVING count(*) >= ?{order_clause} LIMIT ?"
    withheld_sql = f"SELECT count(*) FROM (SELECT 1 FROM {source}{group_clause} HAVING count(*) < ?) AS small"
    con = _connect()
    try:
        rows = con.execute(released_sql, [str(path), k, max_groups + 1]).fetchall()
        withheld = int(con.execute(withheld_sql, [str(path), k]).fetchone()[0])  # type: ignore[index]
    except Exception as exc:
        import duckdb

        if isinstance(exc, duckdb.Error):
            raise SandboxRefused(f"the query cannot run on this table: {str(exc).splitlines()[0]}") from exc
        raise
    finally:
        con.close()
    truncated = len(rows) > max_groups
    labels = [m.label for m in query.measures]
    width = len(groups)
    out = []
    for row in rows[:max_groups]:
        record = {name: _jsonable(row[i]) for i, name in enumerate(query.group_by)}
        record["_rows"] = int(row[width])
        for j, label in enumerate(labels):
            record[label] = _jsonable(row[width + 1 + j])
        out.append(record)
    return AggregateResult(
        group_by=list(query.group_by),
        measures=labels,
        rows=out,
        k=k,
        withheld_groups=withheld,
        truncated=truncated,
    )
