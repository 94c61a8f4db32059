"""Data API latency: equality-filtered pages of a 1,000,000-row, 10-column Parquet table.

Usage: .venv/bin/python bench/dataapi_bench.py [ROWS] [QUERIES]   (defaults 1000000 and 200)
Writes the table to a temp folder, then runs QUERIES queries through catalog.dataapi (the service
layer the HTTP route and CKAN's datastore_search share): each one equality filter on a random
column and value, limit 100. Prints p50/p95/max in milliseconds; the target is p50 <= 50 ms.
A second round adds include_total and a sort, and a third walks pages with the cursor.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from catalog import dataapi
from catalog.dataapi import DataQuery

DISTRICTS = [
    "西湖区",
    "上城区",
    "拱墅区",
    "滨江区",
    "萧山区",
    "余杭区",
    "临平区",
    "钱塘区",
    "富阳区",
    "临安区",
]
KINDS = ["餐饮", "零售", "制造", "物流", "教育", "医疗", "金融", "文旅"]


def make_table(rows: int, seed: int = 11) -> pa.Table:
    """Ten columns of the kinds a ledger holds: ids, codes, Chinese text, numbers, dates, flags."""
    rnd = random.Random(seed)
    base = date(2015, 1, 1)
    return pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "credit_code": [f"91330{rnd.randrange(10**12):012d}X" for _ in range(rows)],
            "区县": [rnd.choice(DISTRICTS) for _ in range(rows)],
            "行业": [rnd.choice(KINDS) for _ in range(rows)],
            "企业名称": [f"杭州{rnd.randrange(100000)}号有限公司" for _ in range(rows)],
            "注册资本": [round(rnd.uniform(1, 5000), 2) for _ in range(rows)],
            "员工数": pa.array([rnd.randrange(1, 2000) for _ in range(rows)], pa.int32()),
            "成立日期": [base + timedelta(days=rnd.randrange(3650)) for _ in range(rows)],
            "年份": pa.array([2015 + rnd.randrange(10) for _ in range(rows)], pa.int16()),
            "在业": [rnd.random() < 0.9 for _ in range(rows)],
        }
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(name: str, times: list[float], cpu: list[float]) -> float:
    ms = [t * 1000 for t in times]
    p50 = statistics.median(ms)
    print(
        f"{name:<44} n={len(ms):<4} p50={p50:6.1f} ms  p95={pct(ms, 95):6.1f} ms  max={max(ms):6.1f} ms"
        f"  (cpu p50 {statistics.median(cpu) * 1000:.1f} ms)"
    )
    return p50


def timed(query: DataQuery, path: Path, times: list[float], cpu: list[float]) -> dataapi.DataResult:
    """Run one query, recording wall-clock and process CPU time (all DuckDB threads)."""
    t, c = time.perf_counter(), time.process_time()
    result = dataapi.run_query(path, query)
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory(prefix="dl-dataapi-") as tmp:
        path = Path(tmp) / "table.parquet"
        t0 = time.perf_counter()
        table = make_table(rows)
        # The layout ingestion writes (quality.tables: 50,000-row groups, zstd).
        pq.write_table(table, path, row_group_size=50_000, compression="zstd")
        print(
            f"table: {rows:,} rows x {table.num_columns} columns, {path.stat().st_size / 2**20:.1f} MiB "
            f"Parquet, written in {time.perf_counter() - t0:.1f} s"
        )
        rnd = random.Random(5)
        sample = table.slice(0, 5000).to_pylist()
        del table
        filters = []
        for _ in range(queries):
            row = rnd.choice(sample)
            column = rnd.choice(["id", "credit_code", "区县", "行业", "员工数", "年份", "成立日期"])
            value = row[column].isoformat() if isinstance(row[column], date) else row[column]
            filters.append({column: value})

        dataapi.run_query(path, DataQuery(limit=1))  # schema cache and DuckDB start-up, as in a server
        times: list[float] = []
        cpu: list[float] = []
        for flt in filters:
            result = timed(DataQuery(filters=flt, limit=100), path, times, cpu)
            assert result.records, flt
        p50 = report("equality filter, limit 100", times, cpu)

        times, cpu = [], []
        for flt in filters[: max(queries // 4, 1)]:
            query = DataQuery(filters=flt, limit=100, include_total=True, sort=["注册资本 desc"])
            timed(query, path, times, cpu)
        report("equality filter + total + sort, limit 100", times, cpu)

        times, cpu = [], []
        cursor = None
        for _ in range(max(queries // 4, 1)):
            page = timed(DataQuery(filters={"区县": "西湖区"}, limit=100, cursor=cursor), path, times, cpu)
            cursor = page.next_cursor
        report("cursor pages (区县 = 西湖区), limit 100", times, cpu)
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"target p50 <= 50 ms: {'met' if p50 <= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
