"""The data API engine: filter, search, sort and page the rows of a resource's normalized Parquet copy.

DuckDB reads the Parquet file in place (local storage) or from a local cache copy (S3, since DuckDB
has no network access here). Every surface goes through this module: /api/v1/resources/{id}/data and
/preview, and CKAN's ``datastore_search``. Typical use::

    path = dataapi.version_table(storage, version, cache_dir=var / "cache", max_cache_bytes=10 * 2**30)
    result = dataapi.run_query(path, DataQuery(filters={"city": "杭州"}, sort=["year desc"], limit=50))
    result.fields    # [FieldInfo(id="city", type="text"), ...]
    result.records   # [{"city": "杭州", "year": 2024, ...}, ...] (JSON-ready values)
    result.total     # only with include_total=True
    result.next_cursor  # pass back as DataQuery(cursor=...) for the next page, None on the last

Query language (DataQuery):
- ``filters``: ``{field: value}`` is equality, ``{field: [v1, v2]}`` is IN, ``None`` is IS NULL.
  A key may end in an operator: ``field__ne``, ``field__gt``, ``field__gte``, ``field__lt``,
  ``field__lte`` (``__ne`` takes a list for NOT IN). A key naming an existing column exactly is always
  that column, so columns whose names contain ``__`` still work. Values are cast to the column's type;
  a value that does not cast (``"abc"`` for an integer column) is an InvalidQuery.
- ``q``: case-insensitive substring over every text column (ILIKE, ``%`` and ``_`` taken literally).
- ``fields``: the columns to return, in order (default: all).
- ``sort``: ``["field", "field asc", "field desc"]``; a comma-separated string is accepted too and
  a name may be written in double quotes. Nulls sort last; file order breaks ties, so paging is stable.
- ``limit`` (0..10000, default 100), ``offset``, or ``cursor`` (opaque; keyset paging bound to the same
  filters, q and sort), ``include_total``.
- ``_id`` is a virtual integer column (1-based row number in the file) usable in filters, sort and
  fields, as in CKAN's datastore; it is returned only when named in ``fields`` or with ``row_ids=True``.

User input never becomes SQL text: names are checked against the Parquet schema and quoted as
identifiers, and every value is a bound parameter.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import datetime as dt
import decimal
import hashlib
import io
import json
import math
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from catalog.errors import CatalogError, NotFound

if TYPE_CHECKING:
    import duckdb

    from catalog.models import ResourceVersion
    from storage import Storage

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
MAX_PREVIEW_ROWS = 1_000
MAX_FILTER_VALUES = 1_000
MAX_SORT_FIELDS = 10
MAX_Q_LENGTH = 200
ROW_ID = "_id"
CSV_BATCH_ROWS = 2_000
OPERATORS = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_SCALAR_TYPE_RE = re.compile(r"^[A-Z][A-Z0-9_ ]*(\(\d+(, ?\d+)?\))?$")
_INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
_CURSOR_VERSION = 1


class InvalidQuery(CatalogError):
    """The data query names an unknown field, or a filter, sort or cursor is malformed (400)."""


class TableNotAvailable(NotFound):
    """The resource version has no queryable table (not tabular, or not ingested yet)."""


class FieldInfo(BaseModel):
    """One column of a result: its name and its type (text, int, numeric, bool, date, timestamp, ...)."""

    id: str
    type: str


class DataQuery(BaseModel):
    """A query over one table; see the module docstring for the language."""

    filters: dict[str, Any] = Field(default_factory=dict)
    q: str | None = Field(default=None, max_length=MAX_Q_LENGTH)
    fields: list[str] | None = None
    sort: list[str] = Field(default_factory=list)
    limit: int = Field(default=DEFAULT_LIMIT, ge=0, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0)
    cursor: str | None = None
    include_total: bool = False
    row_ids: bool = False

    @field_validator("sort", mode="before")
    @classmethod
    def _split_sort(cls, value: Any) -> Any:
        if isinstance(value, str):
            return split_list(value)
        if isinstance(value, list | tuple):
            return [
                part for item in value for part in (split_list(item) if isinstance(item, str) else [item])
            ]
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _split_fields(cls, value: Any) -> Any:
        if isinstance(value, str):
            return split_list(value)
        return value


class DataResult(BaseModel):
    """A page of rows: the fields, the records, the total (when asked) and the next page's cursor."""

    fields: list[FieldInfo]
    records: list[dict[str, Any]]
    total: int | None = None
    limit: int
    offset: int
    next_cursor: str | None = None


def split_list(text: str) -> list[str]:
    """Split 'a, "b c" desc, d' on commas outside double quotes; blank parts are dropped."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


# --- schema ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """A queryable column: its public name, DuckDB type, public type and SQL expression."""

    name: str
    native: str
    type: str
    expr: str

    @property
    def scalar(self) -> bool:
        """Whether the column can be filtered and sorted on (no lists, structs or maps)."""
        return bool(_SCALAR_TYPE_RE.match(self.native)) and self.native not in ("BLOB", "BIT")

    @property
    def text(self) -> bool:
        """Whether the column holds text (searched by q)."""
        return self.native == "VARCHAR"


def quote_ident(name: str) -> str:
    """A SQL identifier for any column name (double quotes doubled)."""
    if "\x00" in name:
        raise InvalidQuery("field names cannot contain NUL")
    return '"' + name.replace('"', '""') + '"'


def public_type(native: str) -> str:
    """The public (CKAN datastore-like) name of a DuckDB type."""
    base = native.split("(")[0].strip()
    if base == "VARCHAR":
        return "text"
    if base in _INT_TYPES:
        return "int"
    if base in ("FLOAT", "DOUBLE", "DECIMAL", "REAL"):
        return "numeric"
    if base == "BOOLEAN":
        return "bool"
    if base == "DATE":
        return "date"
    if base.startswith("TIMESTAMP"):
        return "timestamp"
    if base.startswith("TIME"):
        return "time"
    return native.lower()


_db_lock = threading.Lock()
_db: duckdb.DuckDBPyConnection | None = None


def _cursor() -> duckdb.DuckDBPyConnection:
    """A fresh cursor on the process's one in-memory DuckDB (a cursor is cheap; a connection is not)."""
    global _db
    with _db_lock:
        if _db is None:
            import duckdb

            _db = duckdb.connect(
                ":memory:",
                config={
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                    "preserve_insertion_order": True,  # file order is the default order of rows
                },
            )
        return _db.cursor()


@lru_cache(maxsize=256)
def _schema_cached(path: str, _mtime_ns: int, _size: int) -> tuple[Column, ...]:
    cur = _cursor()
    try:
        rows = cur.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    except Exception as exc:
        raise _as_query_error(exc) from exc
    finally:
        cur.close()
    columns = [
        Column(name=name, native=str(native), type=public_type(str(native)), expr=quote_ident(name))
        for name, native, *_rest in rows
    ]
    return tuple(columns)


def table_columns(path: Path) -> list[Column]:
    """The columns of a Parquet table (cached by file identity)."""
    st = os.stat(path)
    return list(_schema_cached(str(path), st.st_mtime_ns, st.st_size))


def table_fields(path: Path) -> list[FieldInfo]:
    """The public fields of a Parquet table."""
    return [FieldInfo(id=c.name, type=c.type) for c in table_columns(path)]


# --- compiling ------------------------------------------------------------------------------


@dataclass
class _Plan:
    """A compiled query: SQL text with placeholders and its parameters, and what the rows mean."""

    path: str
    output: list[Column]
    sort_keys: list[tuple[Column, bool]]  # (column, descending); ties broken by the row number
    where: list[str]
    params: list[Any]
    casts: list[tuple[str, Any, str]]  # (field, value, native type) to validate before running
    fingerprint: str
    limit: int
    offset: int
    keyset: list[Any] | None


def _columns_by_name(path: Path) -> dict[str, Column]:
    columns = {c.name: c for c in table_columns(path)}
    if ROW_ID not in columns:
        columns[ROW_ID] = Column(name=ROW_ID, native="BIGINT", type="int", expr="(file_row_number + 1)")
    return columns


def _require_column(columns: dict[str, Column], name: Any, what: str) -> Column:
    if not isinstance(name, str) or name not in columns:
        raise InvalidQuery(f"unknown field in {what}: {name!r} / 字段不存在")
    return columns[name]


def _check_value(field: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise InvalidQuery(f"filter on {field!r}: NaN and infinity are not accepted")
        return value
    raise InvalidQuery(
        f"filter on {field!r}: values must be strings, numbers, booleans or null / 筛选值格式错误"
    )


def _parse_filter_key(columns: dict[str, Column], key: Any) -> tuple[Column, str]:
    if not isinstance(key, str):
        raise InvalidQuery(f"filter names must be strings, got {key!r}")
    if key in columns:
        return columns[key], "eq"
    name, sep, op = key.rpartition("__")
    if sep and op in OPERATORS and name in columns:
        return columns[name], op
    raise InvalidQuery(f"unknown field in filters: {key!r} / 筛选字段不存在")


def _compile_filters(
    columns: dict[str, Column], filters: dict[str, Any], where: list[str], params: list[Any], casts: list
) -> None:
    for key, raw in filters.items():
        column, op = _parse_filter_key(columns, key)
        if not column.scalar:
            raise InvalidQuery(f"field {column.name!r} of type {column.native} cannot be filtered on")
        values = raw if isinstance(raw, list | tuple) else None
        if values is not None:
            if op not in ("eq", "ne"):
                raise InvalidQuery(f"filter {key!r}: a list is only allowed for equality (IN) and __ne")
            if len(values) > MAX_FILTER_VALUES:
                raise InvalidQuery(f"filter {key!r}: at most {MAX_FILTER_VALUES} values")
            checked = [_check_value(column.name, v) for v in values]
            present = [v for v in checked if v is not None]
            parts: list[str] = []
            if present:
                marks = ", ".join(f"CAST(? AS {column.native})" for _ in present)
                parts.append(f"{column.expr} IN ({marks})")
                params.extend(present)
                casts.extend((column.name, v, column.native) for v in present)
            if len(present) != len(checked):
                parts.append(f"{column.expr} IS NULL")
            clause = " OR ".join(parts) if parts else "FALSE"
            if op == "ne":
                # NOT IN keeps rows whose value is null unless null itself is excluded.
                clause = f"NOT coalesce(({clause}), FALSE)"
            where.append(f"({clause})")
            continue
        value = _check_value(column.name, raw)
        if value is None:
            if op not in ("eq", "ne"):
                raise InvalidQuery(f"filter {key!r}: null can only be compared with equality or __ne")
            where.append(f"{column.expr} IS {'NOT ' if op == 'ne' else ''}NULL")
            continue
        if op == "ne":
            where.append(f"{column.expr} IS DISTINCT FROM CAST(? AS {column.native})")
        else:
            where.append(f"{column.expr} {OPERATORS[op]} CAST(? AS {column.native})")
        params.append(value)
        casts.append((column.name, value, column.native))


def _compile_q(columns: dict[str, Column], q: str, where: list[str], params: list[Any]) -> None:
    texts = [c for c in columns.values() if c.text]
    if not texts:
        where.append("FALSE")
        return
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    where.append("(" + " OR ".join(f"{c.expr} ILIKE ? ESCAPE '\\'" for c in texts) + ")")
    params.extend([pattern] * len(texts))


_SORT_RE = re.compile(
    r"^(?P<name>\"(?:[^\"]|\"\")+\"|.+?)(?:\s+(?P<dir>asc|desc))?$", re.IGNORECASE | re.DOTALL
)


def parse_sort(columns: dict[str, Column], items: Sequence[str]) -> list[tuple[Column, bool]]:
    """Parse sort items ('name', 'name desc', '"a name" asc') into (column, descending) pairs."""
    keys: list[tuple[Column, bool]] = []
    if len(items) > MAX_SORT_FIELDS:
        raise InvalidQuery(f"at most {MAX_SORT_FIELDS} sort fields")
    for item in items:
        if not isinstance(item, str):
            raise InvalidQuery(f"bad sort: {item!r} / 排序格式错误")
        match = _SORT_RE.match(item.strip())
        if match is None:
            raise InvalidQuery(f"bad sort: {item!r} / 排序格式错误")
        name = match.group("name")
        if name.startswith('"') and name.endswith('"') and len(name) >= 2:
            name = name[1:-1].replace('""', '"')
        column = _require_column(columns, name, "sort")
        if not column.scalar:
            raise InvalidQuery(f"field {column.name!r} of type {column.native} cannot be sorted on")
        if any(k.name == column.name for k, _ in keys):
            raise InvalidQuery(f"field {column.name!r} appears twice in sort")
        keys.append((column, (match.group("dir") or "asc").lower() == "desc"))
    return keys


def _fingerprint(query: DataQuery, sort_keys: list[tuple[Column, bool]]) -> str:
    body = json.dumps(
        {
            "f": query.filters,
            "q": query.q or "",
            "s": [[c.name, desc] for c, desc in sort_keys],
        },
        sort_keys=True,
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _encode_cursor(fingerprint: str, offset: int, key: list[Any]) -> str:
    body = json.dumps(
        {"v": _CURSOR_VERSION, "h": fingerprint, "o": offset, "k": [_jsonable(v) for v in key]},
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str, width: int) -> tuple[int, list[Any]]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidQuery("malformed cursor / 游标无效") from exc
    if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION:
        raise InvalidQuery("malformed cursor / 游标无效")
    offset, key = data.get("o"), data.get("k")
    if (
        not isinstance(offset, int)
        or isinstance(offset, bool)
        or offset < 0
        or not isinstance(key, list)
        or len(key) != width
        or not isinstance(key[-1], int)
        or any(not (v is None or isinstance(v, bool | int | float | str)) for v in key)
    ):
        raise InvalidQuery("malformed cursor / 游标无效")
    if data.get("h") != fingerprint:
        raise InvalidQuery("the cursor belongs to a query with other filters, q or sort / 游标与查询不符")
    return offset, key


def _order_terms(sort_keys: list[tuple[Column, bool]]) -> list[tuple[str, bool]]:
    """Total order as (expression, descending): per key nulls last, then the key; the row number last."""
    terms: list[tuple[str, bool]] = []
    for column, desc in sort_keys:
        terms.append((f"({column.expr} IS NULL)", False))
        terms.append((column.expr, desc))
    terms.append(("file_row_number", False))
    return terms


def _keyset_clause(sort_keys: list[tuple[Column, bool]], key: list[Any], params: list[Any]) -> str:
    """Rows strictly after the cursor's key in the total order of _order_terms."""
    # Term values: (is-null flag, value) per sort key, then the row number.
    values: list[tuple[str, bool, Any, str | None]] = []
    for (column, desc), value in zip(sort_keys, key[:-1], strict=True):
        values.append((f"({column.expr} IS NULL)", False, value is None, "BOOLEAN"))
        values.append((column.expr, desc, value, column.native))
    values.append(("file_row_number", False, key[-1], "BIGINT"))
    disjuncts: list[str] = []
    for i, (expr, desc, value, native) in enumerate(values):
        if value is None:
            continue  # nothing sorts after null within equal flags: the flag term decides
        parts: list[str] = []
        for prev_expr, _pdesc, prev_value, prev_native in values[:i]:
            if prev_value is None:
                parts.append(f"{prev_expr} IS NULL")
            else:
                parts.append(f"{prev_expr} IS NOT DISTINCT FROM CAST(? AS {prev_native})")
                params.append(prev_value)
        parts.append(f"{expr} {'<' if desc else '>'} CAST(? AS {native})")
        params.append(value)
        disjuncts.append("(" + " AND ".join(parts) + ")")
    return "(" + (" OR ".join(disjuncts) or "FALSE") + ")"


def compile_query(path: Path, query: DataQuery) -> _Plan:
    """Check a query against the table's schema and turn it into parameterized SQL (InvalidQuery)."""
    columns = _columns_by_name(path)
    where: list[str] = []
    params: list[Any] = []
    casts: list[tuple[str, Any, str]] = []
    if not isinstance(query.filters, dict):
        raise InvalidQuery("filters must be an object / 筛选条件须为对象")
    _compile_filters(columns, query.filters, where, params, casts)
    if query.q:
        _compile_q(columns, query.q, where, params)
    if query.fields is not None:
        if not query.fields:
            raise InvalidQuery("fields must name at least one field")
        output = [_require_column(columns, name, "fields") for name in query.fields]
    else:
        output = table_columns(path)
        if query.row_ids and all(c.name != ROW_ID for c in output):
            output = [columns[ROW_ID], *output]
    sort_keys = parse_sort(columns, query.sort)
    fingerprint = _fingerprint(query, sort_keys)
    offset, keyset = query.offset, None
    if query.cursor:
        if query.offset:
            raise InvalidQuery("use either offset or cursor, not both / 偏移与游标不能同时使用")
        offset, keyset = _decode_cursor(query.cursor, fingerprint, len(sort_keys) + 1)
        for (column, _desc), value in zip(sort_keys, keyset[:-1], strict=True):
            if value is not None:
                casts.append((column.name, value, column.native))
    return _Plan(
        path=str(path),
        output=output,
        sort_keys=sort_keys,
        where=where,
        params=params,
        casts=casts,
        fingerprint=fingerprint,
        limit=query.limit,
        offset=offset,
        keyset=keyset,
    )


def _validate_casts(cur: duckdb.DuckDBPyConnection, casts: list[tuple[str, Any, str]]) -> None:
    """Refuse values that do not convert to their column's type, before the real query runs."""
    if not casts:
        return
    sql = "SELECT " + ", ".join(f"TRY_CAST(? AS {native}) IS NULL" for _f, _v, native in casts)
    failed = cur.execute(sql, [v for _f, v, _n in casts]).fetchone()
    assert failed is not None
    for (field, value, native), bad in zip(casts, failed, strict=True):
        if bad:
            raise InvalidQuery(
                f"value {value!r} is not a valid {public_type(native)} for field {field!r} / 筛选值类型错误"
            )


def _select_sql(plan: _Plan, *, count: bool = False, extra: int = 1) -> tuple[str, list[Any]]:
    params = [plan.path, *plan.params]
    where = list(plan.where)
    source = "read_parquet(?, file_row_number = true)"
    if count:
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return f"SELECT count(*) FROM {source}{clause}", params
    if plan.keyset is not None:
        where.append(_keyset_clause(plan.sort_keys, plan.keyset, params))
    selected = [c.expr for c in plan.output]
    selected += [c.expr for c, _desc in plan.sort_keys] + ["file_row_number"]
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {', '.join(selected)} FROM {source}{clause}"
    if plan.sort_keys:
        order = ", ".join(
            f"{expr} {'DESC' if desc else 'ASC'}" for expr, desc in _order_terms(plan.sort_keys)
        )
        sql += f" ORDER BY {order}"
    # Without a sort the rows come in file order (preserve_insertion_order), so the scan can stop
    # at the limit instead of sorting every match by row number.
    sql += " LIMIT ?"
    params.append(plan.limit + extra)  # one row more than asked tells whether another page follows
    if plan.keyset is None and plan.offset:
        sql += " OFFSET ?"
        params.append(plan.offset)
    return sql, params


def _as_query_error(exc: Exception) -> Exception:
    import duckdb

    if isinstance(exc, duckdb.ConversionException | duckdb.BinderException | duckdb.ParserException):
        return InvalidQuery(f"the query cannot run on this table: {str(exc).splitlines()[0]}")
    if isinstance(exc, duckdb.InvalidInputException | duckdb.IOException):
        return TableNotAvailable(f"the table cannot be read: {str(exc).splitlines()[0]}")
    return exc


def _run(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> duckdb.DuckDBPyConnection:
    try:
        return cur.execute(sql, params)
    except Exception as exc:
        raised = _as_query_error(exc)
        if raised is exc:
            raise
        raise raised from exc


def run_query(path: Path, query: DataQuery) -> DataResult:
    """Run one query over a Parquet table and return a page of JSON-ready records."""
    plan = compile_query(path, query)
    cur = _cursor()
    try:
        _validate_casts(cur, plan.casts)
        total = None
        if query.include_total:
            sql, params = _select_sql(plan, count=True)
            row = _run(cur, sql, params).fetchone()
            total = int(row[0]) if row else 0
        if plan.limit == 0:
            rows: list[tuple[Any, ...]] = []
        else:
            sql, params = _select_sql(plan)
            rows = _run(cur, sql, params).fetchall()
    finally:
        cur.close()
    width = len(plan.output)
    page = rows[: plan.limit]
    next_cursor = None
    if len(rows) > plan.limit and page:
        next_cursor = _encode_cursor(plan.fingerprint, plan.offset + len(page), list(page[-1][width:]))
    names = [c.name for c in plan.output]
    records = [{n: _jsonable(v) for n, v in zip(names, row[:width], strict=True)} for row in page]
    return DataResult(
        fields=[FieldInfo(id=c.name, type=c.type) for c in plan.output],
        records=records,
        total=total,
        limit=plan.limit,
        offset=plan.offset,
        next_cursor=next_cursor,
    )


def total_rows(path: Path, query: DataQuery) -> int:
    """How many rows match a query's filters and q (limit, offset and cursor ignored)."""
    plan = compile_query(path, query.model_copy(update={"cursor": None, "offset": 0}))
    cur = _cursor()
    try:
        _validate_casts(cur, plan.casts)
        sql, params = _select_sql(plan, count=True)
        row = _run(cur, sql, params).fetchone()
    finally:
        cur.close()
    return int(row[0]) if row else 0


def stream_csv(path: Path, query: DataQuery) -> Iterator[bytes]:
    """A query's page as UTF-8 CSV, header first; the query is checked and started before returning."""
    plan = compile_query(path, query)
    cur = _cursor()
    try:
        _validate_casts(cur, plan.casts)
        sql, params = _select_sql(plan, extra=0)
        _run(cur, sql, params)
    except BaseException:
        cur.close()
        raise
    return _csv_rows(cur, [c.name for c in plan.output])


def _csv_rows(cur: duckdb.DuckDBPyConnection, names: list[str]) -> Iterator[bytes]:
    width = len(names)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    try:
        writer.writerow(names)
        while True:
            batch = cur.fetchmany(CSV_BATCH_ROWS)
            for row in batch:
                writer.writerow(["" if v is None else _csv_value(v) for v in row[:width]])
            chunk = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if chunk:
                yield chunk.encode("utf-8")
            if len(batch) < CSV_BATCH_ROWS:
                return
    finally:
        cur.close()


def preview(path: Path, rows: int = 20) -> DataResult:
    """The first rows of a table with its column types."""
    if not 0 <= rows <= MAX_PREVIEW_ROWS:
        raise InvalidQuery(f"rows must be between 0 and {MAX_PREVIEW_ROWS}")
    return run_query(path, DataQuery(limit=rows))


# --- values ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """A JSON-ready form of a DuckDB value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def _csv_value(value: Any) -> str:
    converted = _jsonable(value)
    if isinstance(converted, dict | list):
        return json.dumps(converted, ensure_ascii=False)
    if isinstance(converted, bool):
        return "true" if converted else "false"
    return "" if converted is None else str(converted)


# --- where the table lives ------------------------------------------------------------------


# A cache entry used this recently is never evicted: a query may be about to open it.
CACHE_GRACE_SECONDS = 60.0


def cached_copy(storage: Storage, key: str, *, cache_dir: Path, max_bytes: int | None = None) -> Path:
    """A local file with the object's bytes: the object itself on local storage, else a cached copy.

    Cache entries are named by a hash of the key and the object's ETag and size, written to a temp
    file and renamed into place, so concurrent readers never see a partial file and a replaced object
    gets a new entry (older entries of the same key are removed). Each use stamps the entry's access
    time; with max_bytes, the least recently used entries are removed once the cache holds more.
    """
    local = storage.local_path(key)
    if local is not None:
        return local
    info = storage.stat(key)
    stem = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    tag = hashlib.sha256(f"{info.etag}\0{info.size}".encode()).hexdigest()[:16]
    dest = cache_dir / f"{stem}-{tag}.parquet"
    if dest.is_file() and dest.stat().st_size == info.size:
        _mark_used(dest)
        return dest
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{stem}-{secrets.token_hex(6)}.part"
    try:
        with tmp.open("wb") as out:
            for chunk in storage.read(key):
                out.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _mark_used(dest)
    for old in cache_dir.glob(f"{stem}-*.parquet"):
        if old != dest:
            with contextlib.suppress(OSError):
                old.unlink()
    if max_bytes is not None:
        trim_cache(cache_dir, max_bytes)
    return dest


def _mark_used(path: Path) -> None:
    """Stamp the access time (explicitly: mounts with relatime or noatime would not)."""
    with contextlib.suppress(OSError):
        os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))


def trim_cache(cache_dir: Path, max_bytes: int, *, grace_seconds: float = CACHE_GRACE_SECONDS) -> int:
    """Remove least recently used cache entries until they fit in max_bytes; the bytes removed.

    Entries used within grace_seconds stay even over the limit (a query may be opening them), so
    the bound is soft by at most the tables in use right now.
    """
    entries = []
    for path in cache_dir.glob("*.parquet"):
        with contextlib.suppress(OSError):
            st = path.stat()
            entries.append((st.st_atime_ns, st.st_size, path))
    total = sum(size for _, size, _ in entries)
    now = time.time_ns()
    removed = 0
    for used, size, path in sorted(entries):
        if total <= max_bytes:
            break
        if now - used < grace_seconds * 1e9:
            continue
        with contextlib.suppress(FileNotFoundError):  # another process trimmed it first
            path.unlink()
            removed += size
        total -= size
    return removed


def version_table(
    storage: Storage, version: ResourceVersion, *, cache_dir: Path, max_cache_bytes: int | None = None
) -> Path:
    """The local Parquet file to query for a resource version; TableNotAvailable when it has none."""
    if not version.normalized_key:
        raise TableNotAvailable(
            f"resource version {version.version} has no queryable table (not tabular, or not ingested yet)"
            " / 该资源暂无可查询的数据表"
        )
    return cached_copy(storage, version.normalized_key, cache_dir=cache_dir, max_bytes=max_cache_bytes)


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Column",
    "DataQuery",
    "DataResult",
    "FieldInfo",
    "InvalidQuery",
    "TableNotAvailable",
    "cached_copy",
    "compile_query",
    "parse_sort",
    "preview",
    "run_query",
    "split_list",
    "stream_csv",
    "table_columns",
    "table_fields",
    "total_rows",
    "trim_cache",
    "version_table",
]
