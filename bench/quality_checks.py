"""Check a large all-text Parquet table chunk by chunk; report rows/s and peak RSS.

Usage: .venv/bin/python bench/quality_checks.py [--rows 2000000] [--chunk-rows 500000]
Writes a synthetic people table (resident ID, mobile, age, gender, two dates; some bad values and a
duplicate ID placed in the last chunk of the first one) to a temporary folder, runs
quality.checks.run_checks with a schema that uses every kind of rule, and samples this process's RSS
every 20 ms. Memory should grow with chunk_rows, not with rows.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from quality.checks import run_checks
from quality.schema import parse_schema
from quality.scoring import score

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(seq: int) -> str:
    """A checksum-valid resident ID varied by seq."""
    base = f"330106{1950 + seq % 50}{1 + seq % 12:02d}{1 + seq % 28:02d}{seq % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(base, ID_WEIGHTS, strict=True))
    return base + "10X98765432"[total % 11]


def _group(start: int, n: int) -> dict[str, list[str]]:
    seqs = range(start, start + n)
    return {
        "记录号": [f"{i:012d}" for i in seqs],
        # One ID in a thousand has a wrong check digit.
        "证件号码": [resident_id(i) if i % 1000 else resident_id(i)[:-1] + "0" for i in seqs],
        "手机": [f"138{i % 100_000_000:08d}" for i in seqs],
        "年龄": [str(i % 120) if i % 997 else "abc" for i in seqs],
        "性别": ["男" if i % 2 else "女" for i in seqs],
        "开始": [f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in seqs],
        "结束": ["2021-01-01"] * n,
    }


def write_table(path: Path, rows: int, group: int = 100_000) -> None:
    """A synthetic table of all-text columns (as quality.tables writes them); the last row repeats the first."""
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, group):
        data = _group(start, min(group, rows - start))
        if start + group >= rows:
            for column, values in _group(0, 1).items():
                data[column].append(values[0])
        table = pa.table(data)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


SCHEMA = parse_schema(
    {
        "fields": [
            {"name": "记录号", "required": True, "unique": True, "pattern": r"\d{12}"},
            {"name": "证件号码", "format": "resident_id", "required": True},
            {"name": "手机", "format": "mobile"},
            {"name": "年龄", "type": "integer", "minimum": 0, "maximum": 150},
            {"name": "性别", "enum": ["男", "女"], "severity": "warning"},
            {"name": "开始", "type": "date"},
            {"name": "结束", "type": "date"},
        ],
        "rules": [
            {"kind": "compare", "left": "开始", "op": "<=", "right": "结束"},
            {"kind": "row_count", "min_rows": 1},
        ],
    }
)


def main() -> None:
    """Run the benchmark and print one line per rule and the totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    args = parser.parse_args()

    proc = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "people.parquet"
        t0 = time.perf_counter()
        write_table(path, args.rows)
        print(
            f"wrote {args.rows:,} rows ({path.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - t0:.1f} s"
        )
        import great_expectations  # noqa: F401 - import before measuring, as a worker would

        base = proc.memory_info().rss
        peak = base
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, proc.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        report = run_checks(path, SCHEMA, chunk_rows=args.chunk_rows)
        elapsed = time.perf_counter() - t0
        done.set()
        sampler.join()
    for r in report.results:
        flag = "ok " if r.success else "BAD"
        print(f"{flag} {r.id:<22} {r.unexpected_count:>9,} / {r.element_count:,}  {r.examples[:2]}")
    quality = score(report, last_updated_at=None, frequency="irregular", now=report.started_at)
    print(f"overall {quality.overall} {quality.rating}")
    print(
        f"{report.row_count:,} rows in {elapsed:.1f} s ({report.row_count / elapsed:,.0f} rows/s), "
        f"{report.chunk_count} chunks; RSS before {base / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB "
        f"(+{(peak - base) / 2**20:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
