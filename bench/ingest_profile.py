"""Ingest + profile a large CSV and compare with a bare pandas read; report seconds and peak RSS.

Usage: .venv/bin/python bench/ingest_profile.py [--rows 1000000]
Writes a synthetic 10-column people table (resident ID, name, mobile, codes with leading zeros,
amounts, dates, free text) as GB18030 CSV to a temporary folder, then in separate child processes
times (a) pandas.read_csv(dtype=str) and (b) quality.ingest.ingest_file (sniff, decode, header
detection, normalized Parquet, DuckDB profile). Target: (b) within 3x of (a), peak RSS < 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, src, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t = time.perf_counter()
if mode == "pandas":
    import pandas as pd
    df = pd.read_csv(src, dtype=str, encoding="gb18030")
    rows = len(df)
else:
    from quality.ingest import ingest_file
    result = ingest_file(src, work)
    rows = result.read_report.rows
elapsed = time.perf_counter() - t
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"mode": mode, "seconds": round(elapsed, 2), "rows": rows, "peak_mb": round(peak_mb)}))
"""


def resident_id(rng: random.Random) -> str:
    """A checksum-valid resident ID."""
    body = f"330106{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def write_csv(path: Path, rows: int) -> None:
    """Write the synthetic table."""
    rng = random.Random(1)
    with path.open("w", encoding="gb18030", newline="") as fh:
        fh.write("记录号,姓名,身份证号,手机号,区划代码,金额,数量,登记日期,是否有效,备注\n")
        for i in range(rows):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            fh.write(
                f"{i:010d},{name},{resident_id(rng)},1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d},"
                f"330{rng.randint(100, 199)},{rng.randint(0, 10**6) / 100:.2f},{rng.randint(0, 500)},"
                f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{rng.choice('是否')},"
                f"备注{rng.randint(0, 50)}\n"
            )


def run(mode: str, src: Path, work: Path) -> dict[str, float]:
    """Run one measurement in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(src), str(work)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate, measure, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "people.csv"
        t = time.perf_counter()
        write_csv(src, args.rows)
        print(f"wrote {args.rows} rows ({src.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s")
        base = run("pandas", src, Path(tmp))
        ours = run("ingest", src, Path(tmp) / "work")
        print(json.dumps(base))
        print(json.dumps(ours))
        print(f"ratio ingest+profile / pandas read: {ours['seconds'] / base['seconds']:.2f}x")


if __name__ == "__main__":
    main()
