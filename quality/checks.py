"""Run a schema's checks over a Parquet table in bounded memory and report per rule.

Row-wise rules run with Great Expectations on chunks of ``chunk_rows`` rows read one at a time with
pyarrow (one GX validation per chunk for every rule, on Arrow-backed pandas columns); their counts
are summed over the chunks. Whole-table rules (uniqueness, compound keys, row
count) run with DuckDB over the whole file, so duplicates that fall in different chunks are found.

Values are read as text for the ``raw`` rules: surrounding whitespace is stripped and a blank value
counts as missing (as a blank CSV cell is). The ``typed`` rules (ranges, column comparisons) read the
values coerced to the declared type; a value that cannot be coerced is left to the type rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, computed_field

from quality import validators
from quality.errors import CorruptParquet, UnreadableFile
from quality.expectations import (
    VIEW_RAW,
    VIEW_TABLE,
    VIEW_TYPED,
    PlannedRule,
    coerce_series,
    expectation_for,
    new_context,
    plan_rules,
)
from quality.schema import FieldSpec, TableSchema

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["CheckReport", "RuleResult", "run_checks"]

EXAMPLE_LIMIT = 5
_MIDNIGHT = re.compile(r"[T ]00:00:00(?:\.0+)?$")
_ZERO_FRACTION = re.compile(r"\.0+$")
_EXAMPLE_CHARS = 80


class RuleResult(BaseModel):
    """The outcome of one rule over the whole table."""

    id: str
    kind: str
    severity: str
    column: str | None = None
    columns: list[str] = Field(default_factory=list)
    description: str = ""
    element_count: int = 0
    unexpected_count: int = 0
    missing_count: int = 0
    examples: list[str] = Field(default_factory=list, description="failing values, masked when sensitive")
    observed_value: int | None = None
    success: bool = True
    error: str | None = None
    gx: dict[str, Any] = Field(default_factory=dict, description="summary of the GX expectation and run")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unexpected_percent(self) -> float:
        """Failing rows as a percentage of all rows."""
        return 100.0 * self.unexpected_count / self.element_count if self.element_count else 0.0


class CheckReport(BaseModel):
    """Results of every rule of a schema over one table; JSON-serialisable."""

    row_count: int
    columns: list[str]
    missing_columns: list[str] = Field(default_factory=list)
    extra_columns: list[str] = Field(default_factory=list)
    results: list[RuleResult] = Field(default_factory=list)
    chunk_count: int = 0
    started_at: dt.datetime
    duration_s: float = 0.0
    gx_version: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_critical_failures(self) -> bool:
        """True when any critical rule failed."""
        return any(not r.success and r.severity == "critical" for r in self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        """True when every rule passed, warnings included."""
        return all(r.success for r in self.results)

    def result(self, rule_id: str) -> RuleResult | None:
        """The result of the rule with that id, or None."""
        return next((r for r in self.results if r.id == rule_id), None)

    @property
    def failed(self) -> list[RuleResult]:
        """The rules that failed."""
        return [r for r in self.results if not r.success]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _example(value: object, spec: FieldSpec | None) -> str:
    kind = spec.mask_kind if spec is not None else None
    if kind is not None:
        return validators.mask(value, kind)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "" if value is None else str(value)
    if spec is not None and spec.type in ("date", "datetime"):
        # GX hands back timestamps as ISO text with nanoseconds; show them as the data had them.
        text = _MIDNIGHT.sub("", text) if spec.type == "date" else _ZERO_FRACTION.sub("", text)
    return text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 1] + "…"


def _result_for(rule: PlannedRule, engine: str) -> RuleResult:
    return RuleResult(
        id=rule.id,
        kind=rule.kind,
        severity=rule.severity,
        column=rule.column,
        columns=list(rule.columns),
        description=rule.description,
        gx={"expectation_type": rule.expectation_type, "kwargs": rule.kwargs, "engine": engine, "chunks": 0},
    )


def run_checks(
    parquet_path: Path,
    schema: TableSchema,
    *,
    chunk_rows: int = 500_000,
    on_progress: Callable[[float], None] | None = None,
    memory_limit: str = "1GB",
) -> CheckReport:
    """Check a Parquet table against a schema, chunk by chunk, and report every rule.

    Memory: row rules hold one chunk of ``chunk_rows`` rows at a time; whole-table rules run in
    DuckDB within ``memory_limit`` and spill to a temporary directory beyond it.
    """
    import pyarrow.parquet as pq

    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    started_at, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    progress = on_progress or (lambda _f: None)
    progress(0.0)
    try:
        parquet = pq.ParquetFile(parquet_path)
    except (OSError, ValueError) as exc:
        raise CorruptParquet(str(exc), filename=Path(parquet_path).name) from exc
    arrow_schema = parquet.schema_arrow
    present = list(arrow_schema.names)
    row_count = parquet.metadata.num_rows
    declared = [f.name for f in schema.fields]
    missing = [n for n in declared if n not in present]
    report = CheckReport(
        row_count=row_count,
        columns=present,
        missing_columns=missing,
        extra_columns=[n for n in present if n not in declared],
        started_at=started_at,
    )

    planned = plan_rules(schema)
    results: dict[str, RuleResult] = {}
    runnable: list[PlannedRule] = []
    for rule in planned:
        engine = "duckdb" if rule.view == VIEW_TABLE else "great_expectations"
        res = results[rule.id] = _result_for(rule, engine)
        res.element_count = row_count
        absent = [c for c in rule.columns if c not in present]
        if absent:
            res.success = False
            res.unexpected_count = row_count
            res.error = f"缺少列 / missing column(s): {', '.join(absent)}"
        else:
            runnable.append(rule)
    for name in missing:
        spec = schema.field(name)
        results[f"{name}.present"] = RuleResult(
            id=f"{name}.present",
            kind="present",
            severity=spec.severity,
            column=name,
            columns=[name],
            description=f"缺少字段 {name} / field {name} is missing from the table",
            element_count=row_count,
            unexpected_count=row_count,
            success=False,
            error="missing column",
        )

    row_rules = [r for r in runnable if r.view in (VIEW_RAW, VIEW_TYPED)]
    if row_rules and row_count:
        report.chunk_count, report.gx_version = _run_gx(
            parquet, schema, row_rules, results, chunk_rows=chunk_rows, row_count=row_count, progress=progress
        )
    table_rules = [r for r in runnable if r.view == VIEW_TABLE]
    if table_rules:
        _run_duckdb(
            Path(parquet_path),
            schema,
            table_rules,
            results,
            arrow_schema=arrow_schema,
            memory_limit=memory_limit,
        )

    report.results = [results[r.id] for r in planned] + [results[f"{n}.present"] for n in missing]
    report.duration_s = round(time.perf_counter() - t0, 3)
    progress(1.0)
    return report


# ---------------------------------------------------------------- row rules: GX over chunks


def _raw_frame(batch: pa.RecordBatch, names: list[str]) -> pd.DataFrame:
    """Columns as stripped text (Arrow-backed pandas strings, no Python objects); blank text becomes missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for name in names:
        arr = batch.column(name)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if not pa.types.is_string(arr.type):
            arr = pc.cast(arr, pa.string())
        arr = pc.utf8_trim_whitespace(arr)
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        arrays.append(arr)
    frame = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(names))]).to_pandas()
    frame.columns = names
    return frame


def _typed_frame(
    batch: pa.RecordBatch, raw: pd.DataFrame, schema: TableSchema, names: list[str]
) -> pd.DataFrame:
    """Columns coerced to their declared types (numbers float64, dates datetime64[ns])."""
    import pandas as pd
    import pyarrow as pa

    data: dict[str, pd.Series] = {}
    for name in names:
        spec = schema.get_field(name)
        value_type = spec.type if spec is not None else "string"
        if value_type == "string":
            data[name] = raw[name]
            continue
        arr = batch.column(name)
        native = not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type))
        source = arr.to_pandas() if native else raw[name]
        data[name] = coerce_series(source.reset_index(drop=True), value_type)
    return pd.DataFrame(data)


def _run_gx(
    parquet: Any,
    schema: TableSchema,
    rules: list[PlannedRule],
    results: dict[str, RuleResult],
    *,
    chunk_rows: int,
    row_count: int,
    progress: Callable[[float], None],
) -> tuple[int, str]:
    import great_expectations as gx

    context = new_context()
    batch_definition = (
        context.data_sources.add_pandas("dataledger")
        .add_dataframe_asset("chunk")
        .add_batch_definition_whole_dataframe("chunk")
    )
    # One suite, one validation per chunk: typed rules read typed copies of their columns, which sit
    # beside the raw text columns in the same frame under a name of their own.
    suite = gx.ExpectationSuite(name="dataledger")
    for rule in rules:
        suite.add_expectation(expectation_for(_on_typed_columns(rule) if rule.view == VIEW_TYPED else rule))
    typed_cols = sorted({c for r in rules if r.view == VIEW_TYPED for c in r.columns})
    needed = sorted({c for r in rules for c in r.columns})
    # BASIC has the counts and the first failing values, all a report needs; SUMMARY also counts and
    # indexes the failing values, one more pass over each failing column per chunk.
    result_format = {"result_format": "BASIC", "partial_unexpected_count": EXAMPLE_LIMIT}
    by_id = {r.id: r for r in rules}
    chunks, done = 0, 0
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=needed):
        chunks += 1
        frame = _raw_frame(batch, needed)
        if typed_cols:
            typed = _typed_frame(batch, frame, schema, typed_cols)
            for name in typed_cols:
                frame[_typed_name(name)] = typed[name]
        validation = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format=result_format
        )
        for item in validation.results:
            rule_id = item.expectation_config.meta["rule_id"]
            _add_chunk(results[rule_id], by_id[rule_id], item.to_json_dict(), schema)
        done += batch.num_rows
        progress(0.9 * min(done / row_count, 1.0))
    return chunks, gx.__version__


_TYPED_SUFFIX = "\u241ftyped"
_COLUMN_KWARGS = ("column", "column_A", "column_B")


def _typed_name(column: str) -> str:
    return column + _TYPED_SUFFIX


def _on_typed_columns(rule: PlannedRule) -> PlannedRule:
    """The rule reading the typed copies of its columns (the report keeps the rule's own kwargs)."""
    kwargs = {k: _typed_name(v) if k in _COLUMN_KWARGS else v for k, v in rule.kwargs.items()}
    return dataclasses.replace(rule, kwargs=kwargs)


def _add_chunk(res: RuleResult, rule: PlannedRule, item: dict[str, Any], schema: TableSchema) -> None:
    res.gx["chunks"] += 1
    info = item.get("exception_info") or {}
    messages = [info.get("exception_message")] if "raised_exception" in info else []
    messages += [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
    messages = [m for m in messages if m]
    if messages and res.error is None:
        res.error = messages[0]
        res.success = False
    result = item.get("result") or {}
    res.unexpected_count += int(result.get("unexpected_count") or 0)
    res.missing_count += int(result.get("missing_count") or 0)
    res.success = res.success and res.error is None and res.unexpected_count == 0
    for value in result.get("partial_unexpected_list") or []:
        if len(res.examples) >= EXAMPLE_LIMIT or rule.kind == "required":
            break
        res.examples.append(_format_example(value, rule, schema))


def _format_example(value: object, rule: PlannedRule, schema: TableSchema) -> str:
    if rule.kind == "compare" and isinstance(value, list | tuple) and len(value) == 2:
        by_column = {rule.kwargs["column_A"]: value[0], rule.kwargs["column_B"]: value[1]}
        # In the rule's own order (GX may have swapped them: a < b runs as b > a).
        return "; ".join(f"{c}={_example(by_column[c], schema.get_field(c))}" for c in rule.columns)
    return _example(value, schema.get_field(rule.column) if rule.column else None)


# ---------------------------------------------------------------- table rules: DuckDB over the file


def _key_expr(name: str, arrow_schema: pa.Schema) -> str:
    import pyarrow as pa

    typ = arrow_schema.field(name).type
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        # Same reading as the raw view: stripped, blank is missing.
        return f"nullif(trim({_quote(name)}), '')"
    return _quote(name)


def _run_duckdb(
    path: Path,
    schema: TableSchema,
    rules: list[PlannedRule],
    results: dict[str, RuleResult],
    *,
    arrow_schema: pa.Schema,
    memory_limit: str = "1GB",
) -> None:
    import tempfile

    import duckdb

    con = duckdb.connect(
        config={
            "threads": 2,
            "memory_limit": memory_limit,
            "temp_directory": tempfile.gettempdir() + "/dataledger-duckdb",
        }
    )
    try:
        # A worker's stdout is no place for a progress bar (DuckDB draws one for queries over 2 s).
        con.execute("SET enable_progress_bar = false")
        con.execute(f"create temp view t as select * from read_parquet({_sql_text(str(path))})")
        for rule in rules:
            res = results[rule.id]
            res.gx["chunks"] = 1
            if rule.kind == "row_count":
                lo, hi = rule.kwargs.get("min_value"), rule.kwargs.get("max_value")
                n = res.element_count
                res.observed_value = n
                res.success = (lo is None or n >= lo) and (hi is None or n <= hi)
                res.unexpected_count = 0 if res.success else n
                continue
            keys = [_key_expr(c, arrow_schema) for c in rule.columns]
            aliases = [f"k{i}" for i in range(len(keys))]
            select = ", ".join(f"{k} as {a}" for k, a in zip(keys, aliases, strict=True))
            # As GX: a single column skips nulls; a compound key skips rows where every part is null.
            skip = " and ".join(f"{a} is null" for a in aliases)
            grouped = (
                f"select {', '.join(aliases)}, count(*) as n from (select {select} from t) "
                f"where not ({skip}) group by all having count(*) > 1"
            )
            # One scan: the all-null key is one group of its own, counted as missing, not as duplicates.
            dup_rows, missing = con.execute(
                f"select coalesce(sum(n) filter (where n > 1 and not ({skip})), 0), "
                f"coalesce(sum(n) filter (where {skip}), 0) "
                f"from (select {', '.join(aliases)}, count(*) as n from (select {select} from t) group by all)"
            ).fetchone()  # type: ignore[misc]
            res.unexpected_count = int(dup_rows)
            res.missing_count = int(missing)
            res.success = res.unexpected_count == 0
            if not res.success:
                top = con.execute(f"{grouped} order by n desc limit {EXAMPLE_LIMIT}").fetchall()
                res.examples = [_dup_example(row, rule, schema) for row in top]
    except duckdb.Error as exc:
        raise UnreadableFile(f"DuckDB: {exc}", filename=path.name) from exc
    finally:
        con.close()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _dup_example(row: tuple[Any, ...], rule: PlannedRule, schema: TableSchema) -> str:
    *values, count = row
    parts = [_example(v, schema.get_field(c)) for v, c in zip(values, rule.columns, strict=True)]
    shown = parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"
    return f"{shown} ×{count}"
