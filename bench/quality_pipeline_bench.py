"""The quality pipeline at scale: ingest + profile + checks + score against pandas doing the same checks.

Usage: .venv/bin/python bench/quality_pipeline_bench.py [--rows 1000000] [--repeat 1] [--bounded-rows 2000000]

1. Writes (fixed seed, temporary folder) a realistic 10-column UTF-8 CSV: a record number with
   leading zeros, a resident ID with valid check digits, a mobile, a name, a date, a status enum, an
   integer, a decimal, free text with quoted commas and a region code; about 110 bytes a row, with
   planted faults (duplicate record numbers in far-apart chunks, wrong check digits, bad dates,
   out-of-range numbers, values outside the enum, blanks in required columns).
2. In ONE run, each in a fresh interpreter (imports count): (a) the baseline, pandas.read_csv(dtype=str)
   plus the same rules written in plain vectorized pandas; (b) ours, exactly what
   catalog.pipeline.check_version does: ingest_file (sniff, read, normalized Parquet, DuckDB profile),
   run_checks (GX Core on chunks, DuckDB for whole-table rules) and score. Both report the failing
   count of every rule; the bench asserts that they agree. Prints seconds per phase, the ratio
   (target <= 3.0) and peak RSS per phase (psutil sampling thread; target < 1.5 GB).
3. Bounded memory: the same pipeline at half and full --bounded-rows (default 2,000,000: a 211 MB
   CSV that pandas would hold in ~1.7 GB) with 100,000-row chunks and DuckDB's memory_limit for the
   whole-table rules set low (it spills beyond it). Each run must find exactly the planted duplicates
   (pairs that fall in different chunks) and the right row count; its peak RSS must stay under the
   budget (--memory-budget-mb, 1.5 GB) and grow by at most 25% when the rows double. RLIMIT_AS is
   available (--budget-mb) but is no real cap here: the pipeline reserves ~3 GB of virtual address
   space (thread stacks, allocator arenas) whatever the data size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
REGIONS = ("330106", "330102", "110105", "440305", "510107", "320106", "370202", "420111", "610113")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉萍红鹏辉建国文斌宇浩凯"
NOTES = (
    "已核实",
    "待复核，材料不全",
    "地址变更, 已更新",
    "电话回访无人接听",
    'He said "ok"',
    "窗口办理",
    "网上申报, 自动受理",
)
STATUSES = ("正常", "注销", "暂停")
COLUMNS = ("记录号", "身份证号", "手机号", "姓名", "登记日期", "状态", "数量", "金额", "备注", "区划代码")

SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "记录号", "required": True, "unique": True, "pattern": r"\d{10}"},
        {"name": "身份证号", "required": True, "format": "resident_id"},
        {"name": "手机号", "format": "mobile", "severity": "warning"},
        {"name": "姓名", "required": True, "sensitive": "name"},
        {"name": "登记日期", "type": "date", "minimum": "2015-01-01", "maximum": "2025-12-31"},
        {"name": "状态", "enum": list(STATUSES)},
        {"name": "数量", "type": "integer", "minimum": 0, "maximum": 500},
        {"name": "金额", "type": "number", "minimum": 0, "severity": "warning"},
        {"name": "备注"},
        {"name": "区划代码", "format": "region_code"},
    ],
    "rules": [{"kind": "row_count", "min_rows": 1}],
}


# ---------------------------------------------------------------- data


def planted_duplicates(rows: int) -> int:
    """How many record numbers are repeated once (each pair counts 2 failing rows)."""
    return max(1, rows // 10_000)


def write_csv(path: Path, rows: int, *, seed: int = 20240601, block: int = 250_000) -> None:
    """Write the synthetic table in blocks (memory stays flat however many rows); quotes only where needed."""
    import pyarrow.compute as pc

    with path.open("wb") as fh:
        fh.write((",".join(COLUMNS) + "\n").encode())
        for start in range(0, rows, block):
            table = _block(start, min(block, rows - start), rows, seed)
            cells = []
            for col in table.columns:
                special = pc.match_substring_regex(col, '[,"\n]')
                quoted = pc.binary_join_element_wise('"', pc.replace_substring(col, '"', '""'), '"', "")
                cells.append(pc.if_else(special, quoted, col))
            line = pc.binary_join_element_wise(*cells, ",", null_handling="replace", null_replacement="")
            fh.write(_joined(pc.binary_join_element_wise(line, "\n", "")))


def _joined(arr: Any) -> bytes:
    """The concatenated bytes of a string array (its data buffer between the first and last offset)."""
    import numpy as np
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        return b"".join(_joined(c) for c in arr.chunks)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def _block(start: int, n: int, rows: int, seed: int) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng([seed, start])
    idx = np.arange(start, start + n, dtype=np.int64)

    def text(values: Any) -> Any:
        return pa.array(values).cast(pa.string())

    def pad(values: Any, width: int) -> Any:
        return pc.utf8_lpad(text(values), width, "0")

    def sometimes(every: int, salt: int) -> Any:
        # Deterministic by row number, so a fault lands on the same rows whatever the block size.
        return (idx * 7919 + salt) % every == 0

    # 记录号: the last `dups` rows repeat record numbers of the first rows (different chunks).
    dups = planted_duplicates(rows)
    record = np.where(idx >= rows - dups, idx - (rows - dups), idx)
    record_text = pad(record, 10)

    # 身份证号: region + birth date + sequence + check digit; one in a thousand with a wrong digit.
    region = np.array(REGIONS)[rng.integers(0, len(REGIONS), n)]
    birth = (np.datetime64("1950-01-01") + rng.integers(0, 20_000, n)).astype("datetime64[D]")
    birth_text = pc.replace_substring(pa.array(birth).cast(pa.string()), "-", "")
    body = pc.binary_join_element_wise(pa.array(region), birth_text, pad(rng.integers(0, 1000, n), 3), "")
    digits = np.frombuffer(pc.cast(body, pa.binary()).buffers()[2], dtype=np.uint8)[: n * 17]
    digits = digits.reshape(n, 17).astype(np.int64) - 48
    check = (digits @ np.array(ID_WEIGHTS)) % 11
    wrong = sometimes(1000, 1)
    check = np.where(wrong, (check + 1) % 11, check)
    check_char = np.array(list("10X98765432"))[check]
    resident = pc.binary_join_element_wise(body, pa.array(check_char), "")
    resident = pc.if_else(pa.array(sometimes(2000, 2)), pa.scalar(None, pa.string()), resident)

    # 手机号: one in 500 starts with 12 (wrong shape), one in 700 is a digit short.
    mobile = pc.binary_join_element_wise(
        text(rng.integers(13, 20, n)), pad(rng.integers(0, 1_000_000_000, n), 9), ""
    )
    mobile = pc.if_else(pa.array(sometimes(500, 3)), pc.replace_substring_regex(mobile, "^1.", "12"), mobile)
    mobile = pc.if_else(pa.array(sometimes(700, 4)), pc.utf8_slice_codeunits(mobile, 0, 10), mobile)

    surname = np.array(list(SURNAMES))[rng.integers(0, len(SURNAMES), n)]
    given = np.array(list(GIVEN))[rng.integers(0, len(GIVEN), n)]
    second = np.where(rng.random(n) < 0.6, np.array(list(GIVEN))[rng.integers(0, len(GIVEN), n)], "")
    name = pc.binary_join_element_wise(pa.array(surname), pa.array(given), pa.array(second), "")
    name = pc.if_else(pa.array(sometimes(5000, 5)), pa.scalar(None, pa.string()), name)

    day = (np.datetime64("2015-01-01") + rng.integers(0, 3900, n)).astype("datetime64[D]")
    date = pa.array(day).cast(pa.string())
    date = pc.if_else(pa.array(sometimes(1000, 6)), pa.scalar("2024-02-30"), date)
    date = pc.if_else(pa.array(sometimes(3000, 7)), pa.scalar("不详"), date)
    date = pc.if_else(pa.array(sometimes(4000, 8)), pa.scalar("2031-01-01"), date)

    status = pa.array(np.array(STATUSES)[rng.choice(3, n, p=[0.85, 0.1, 0.05])])
    status = pc.if_else(pa.array(sometimes(2000, 9)), pa.scalar("未知"), status)

    qty = text(rng.integers(0, 501, n))
    qty = pc.if_else(pa.array(sometimes(1000, 10)), pa.scalar("9999"), qty)
    qty = pc.if_else(pa.array(sometimes(5000, 11)), pa.scalar("12.5"), qty)

    cents = rng.integers(0, 10_000_000, n)
    amount = pc.binary_join_element_wise(text(cents // 100), pad(cents % 100, 2), ".")
    amount = pc.if_else(pa.array(sometimes(1000, 12)), pc.binary_join_element_wise("-", amount, ""), amount)

    note = pa.array(np.array(NOTES)[rng.integers(0, len(NOTES), n)])
    note = pc.binary_join_element_wise(note, text(rng.integers(0, 100, n)), "#")
    note = pc.if_else(pa.array(rng.random(n) < 0.3), pa.scalar(None, pa.string()), note)

    area = pa.array(region)
    area = pc.if_else(pa.array(sometimes(1000, 13)), pa.scalar("990101"), area)
    area = pc.if_else(pa.array(sometimes(1500, 14)), pa.scalar("33010"), area)

    arrays = [record_text, resident, mobile, name, date, status, qty, amount, note, area]
    return pa.table(dict(zip(COLUMNS, arrays, strict=True)))


# ---------------------------------------------------------------- child processes

CHILD_COMMON = r"""
import json, os, resource, sys, threading, time
import psutil

def vmpeak_mb():
    # Peak virtual address space (what RLIMIT_AS caps), from /proc on Linux.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmPeak:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return None

class Phases:
    # Wall-clock seconds and peak RSS (sampled every 10 ms) of each named phase.
    def __init__(self):
        self.proc = psutil.Process()
        self.name, self.peaks, self.seconds, self.t = None, {}, {}, time.perf_counter()
        self.cpu, self.c = {}, time.process_time()
        self.done = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()
    def _sample(self):
        while not self.done.is_set():
            if self.name is not None:
                rss = self.proc.memory_info().rss
                self.peaks[self.name] = max(self.peaks.get(self.name, 0), rss)
            time.sleep(0.01)
    def start(self, name):
        now, cpu = time.perf_counter(), time.process_time()
        if self.name is not None:
            self.seconds[self.name] = now - self.t
            self.cpu[self.name] = cpu - self.c
            self.peaks[self.name] = max(self.peaks.get(self.name, 0), self.proc.memory_info().rss)
        self.name, self.t, self.c = name, now, cpu
    def result(self, **extra):
        self.start(None)
        self.done.set()
        return {
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "total_s": round(sum(self.seconds.values()), 3),
            "cpu": {k: round(v, 3) for k, v in self.cpu.items()},
            "cpu_s": round(sum(self.cpu.values()), 3),
            "peak_mb": {k: round(v / 2**20) for k, v in self.peaks.items()},
            "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "vmpeak_mb": vmpeak_mb(),
            **extra,
        }
"""

CHILD_BASELINE = (
    CHILD_COMMON
    + r"""
src, schema_json = sys.argv[1], sys.argv[2]
ph = Phases()
ph.start("import")
import numpy as np
import pandas as pd
ph.start("read_csv")
df = pd.read_csv(src, dtype=str)
ph.start("checks")
W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
PROVINCES = {"11","12","13","14","15","21","22","23","31","32","33","34","35","36","37","41","42","43",
             "44","45","46","50","51","52","53","54","61","62","63","64","65","71","81","82"}
out = {}
def bad(mask):
    return int(mask.sum())
s = df["记录号"]
out["记录号.required"] = bad(s.isna())
out["记录号.pattern"] = bad(s.notna() & ~s.str.fullmatch(r"\d{10}").fillna(True))
out["记录号.unique"] = bad(s.notna() & s.duplicated(keep=False))
s = df["身份证号"]
out["身份证号.required"] = bad(s.isna())
shaped = s.str.fullmatch(r"\d{17}[\dXx]|\d{15}").fillna(False).astype(bool)
out["身份证号.format"] = bad(s.notna() & ~shaped)
v = s.where(shaped).str.upper()
long = (v.str.len() == 18).fillna(False).astype(bool)
ids = v[long].to_numpy(dtype="U18")
codes = ids.view(np.uint32).reshape(-1, 18).astype(np.int64)
expect = np.array([ord(c) for c in "10X98765432"])[((codes[:, :17] - 48) @ W) % 11]
check_ok = pd.Series(expect == codes[:, 17], index=v.index[long])
born = pd.to_datetime(v[long].str.slice(6, 14), format="%Y%m%d", errors="coerce")
birth_ok = born.notna() & (born.dt.year >= 1880) & (born <= pd.Timestamp.today())
prov_ok = v[long].str.slice(0, 2).isin(PROVINCES)
ok18 = check_ok & birth_ok & prov_ok
short = shaped & ~long
born15 = pd.to_datetime("19" + v[short].str.slice(6, 12), format="%Y%m%d", errors="coerce")
ok15 = born15.notna() & v[short].str.slice(0, 2).isin(PROVINCES)
out["身份证号.checksum"] = bad(~ok18) + bad(~ok15)
s = df["手机号"]
shaped = s.str.fullmatch(r"(?:\+?86|0086)?[\s\-]?1[3-9]\d(?:[\s\-]?\d){8}").fillna(False).astype(bool)
out["手机号.format"] = bad(s.notna() & ~shaped)
clean = s[shaped].str.replace(r"[\s\-()]", "", regex=True)
out["手机号.checksum"] = bad(~clean.str.fullmatch(r"(?:\+?86|0086)?1[3-9]\d{9}"))
out["姓名.required"] = bad(df["姓名"].isna())
s = df["登记日期"]
day = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
out["登记日期.type"] = bad(s.notna() & day.isna())
out["登记日期.range"] = bad(day.notna() & ~day.between(pd.Timestamp("2015-01-01"), pd.Timestamp("2025-12-31")))
s = df["状态"]
out["状态.enum"] = bad(s.notna() & ~s.isin(["正常", "注销", "暂停"]))
s = df["数量"]
out["数量.type"] = bad(s.notna() & ~s.str.fullmatch(r"[+-]?\d+").fillna(True))
n = pd.to_numeric(s, errors="coerce")
out["数量.range"] = bad(n.notna() & ~n.between(0, 500))
s = df["金额"]
n = pd.to_numeric(s, errors="coerce")
out["金额.type"] = bad(s.notna() & n.isna())
out["金额.range"] = bad(n.notna() & (n < 0))
s = df["区划代码"]
shaped = s.str.fullmatch(r"\d{6}").fillna(False).astype(bool)
out["区划代码.format"] = bad(s.notna() & ~shaped)
out["区划代码.checksum"] = bad(~s[shaped].str.slice(0, 2).isin(PROVINCES))
out["rule1.row_count"] = 0 if len(df) >= 1 else len(df)
print(json.dumps(ph.result(rows=len(df), failing=out)))
"""
)

CHILD_OURS = (
    CHILD_COMMON
    + r"""
src, schema_json, work = sys.argv[1], sys.argv[2], sys.argv[3]
chunk_rows = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "0" else None
budget_mb = int(sys.argv[5]) if len(sys.argv) > 5 else 0
duckdb_memory = sys.argv[6] if len(sys.argv) > 6 else None
if budget_mb:
    resource.setrlimit(resource.RLIMIT_AS, (budget_mb * 2**20, budget_mb * 2**20))
ph = Phases()
ph.start("import")
import datetime as dt
from pathlib import Path
import quality.ingest as ingest
from quality.schema import parse_schema
inner_read, inner_profile = ingest.read_table, ingest.profile_table
def read_table(*a, **k):
    ph.start("ingest.read")
    return inner_read(*a, **k)
def profile_table(*a, **k):
    ph.start("ingest.profile")
    return inner_profile(*a, **k)
# Timing hooks only: ingest_file runs unchanged and calls the real functions.
ingest.read_table, ingest.profile_table = read_table, profile_table
result = ingest.ingest_file(Path(src), Path(work), source_name="people.csv")
ph.start("gx_import")
import great_expectations
from quality.checks import run_checks
from quality.scoring import score
ph.start("checks")
schema = parse_schema(schema_json)
kwargs = {"chunk_rows": chunk_rows} if chunk_rows else {}
if duckdb_memory:
    kwargs["memory_limit"] = duckdb_memory
check = run_checks(result.normalized_path, schema, **kwargs)
ph.start("score")
quality = score(check, last_updated_at=dt.datetime.now(dt.UTC), frequency="monthly", now=dt.datetime.now(dt.UTC))
failing = {r.id: r.unexpected_count for r in check.results}
errors = {r.id: r.error for r in check.results if r.error}
print(json.dumps(ph.result(
    rows=check.row_count, profile_rows=result.profile.row_count, failing=failing, errors=errors,
    chunks=check.chunk_count, overall=quality.overall, rating=quality.rating,
    read_path=result.read_report.warnings, parquet_mb=round(result.normalized_path.stat().st_size / 2**20, 1),
)))
"""
)


def child(code: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its last stdout line is JSON."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        return {"failed": True, "returncode": proc.returncode, "stderr": proc.stderr[-3000:]}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def load() -> str:
    """The 1-minute load average and CPU count, for the record."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def show(label: str, res: dict[str, Any]) -> None:
    """One line of phases and peaks."""
    phases = "  ".join(
        f"{k} {v:.1f}s/cpu {res['cpu'][k]:.1f}s/{res['peak_mb'].get(k, 0)}MB"
        for k, v in res["seconds"].items()
    )
    print(
        f"  {label:<8} wall {res['total_s']:.1f}s cpu {res['cpu_s']:.1f}s maxrss {res['maxrss_mb']} MB "
        f"(virtual {res.get('vmpeak_mb')} MB) | {phases}"
    )


def compare(base: dict[str, int], ours: dict[str, int]) -> list[str]:
    """Rules whose failing counts differ between the baseline and ours."""
    return [
        f"{k}: pandas {base.get(k)} vs ours {ours.get(k)}"
        for k in sorted(set(base) | set(ours))
        if base.get(k) != ours.get(k)
    ]


def bounded(args: argparse.Namespace, tmp: Path, schema_json: str) -> list[str]:
    """The pipeline with small chunks at half and full --bounded-rows: peak RSS must stay flat and
    under the budget, and the whole-table results (duplicates across chunks, row count) exact."""
    failures: list[str] = []
    peaks: dict[int, int] = {}
    for rows in (args.bounded_rows // 2, args.bounded_rows):
        big = tmp / f"big{rows}.csv"
        t = time.perf_counter()
        write_csv(big, rows)
        print(
            f"bounded run: {rows:,} rows, {big.stat().st_size / 1e6:.0f} MB CSV, chunk_rows "
            f"{args.bounded_chunk_rows:,}, DuckDB memory_limit {args.bounded_duckdb_memory} for the checks, "
            f"address-space cap {args.budget_mb or 'none'} "
            f"(written in {time.perf_counter() - t:.1f}s; {load()})"
        )
        res = child(
            CHILD_OURS, str(big), schema_json, str(tmp / f"work-big{rows}"),
            str(args.bounded_chunk_rows), str(args.budget_mb), args.bounded_duckdb_memory,
        )  # fmt: skip
        big.unlink()
        if res.get("failed"):
            failures.append(f"bounded run ({rows:,} rows) failed: {res['stderr'][-800:]}")
            continue
        show("bounded", res)
        dups = planted_duplicates(rows)
        got = res["failing"]["记录号.unique"]
        print(
            f"  记录号.unique failing rows {got} (planted {2 * dups} in {dups} pairs far apart); "
            f"row count {res['rows']:,} (profile {res['profile_rows']:,}); {res['chunks']} chunks"
        )
        peaks[rows] = res["maxrss_mb"]
        if got != 2 * dups:
            failures.append(f"bounded: unique found {got}, planted {2 * dups}")
        if res["rows"] != rows or res["profile_rows"] != rows:
            failures.append(f"bounded: row count {res['rows']} / {res['profile_rows']} != {rows}")
        if res["errors"]:
            failures.append(f"bounded: rules with errors {res['errors']}")
        if res["maxrss_mb"] >= args.memory_budget_mb:
            failures.append(f"bounded: peak RSS {res['maxrss_mb']} MB >= budget {args.memory_budget_mb} MB")
    if len(peaks) == 2:
        small, large = (peaks[k] for k in sorted(peaks))
        growth = large / small - 1
        print(
            f"  peak RSS {small} MB -> {large} MB as rows double ({growth:+.0%}); budget {args.memory_budget_mb} MB"
        )
        if growth > 0.25:
            failures.append(f"bounded: peak RSS grew {growth:.0%} when rows doubled")
    return failures


def main() -> None:
    """Generate, measure both pipelines in one run, check the bounded-memory run, print a summary."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="interleaved baseline/ours pairs")
    parser.add_argument("--bounded-rows", type=int, default=2_000_000, help="0 skips the bounded run")
    parser.add_argument("--bounded-chunk-rows", type=int, default=100_000)
    parser.add_argument("--bounded-duckdb-memory", default="128MB", help="run_checks(memory_limit=...)")
    parser.add_argument("--memory-budget-mb", type=int, default=1536, help="peak RSS allowed (bounded run)")
    parser.add_argument(
        "--budget-mb",
        type=int,
        default=0,
        help="optional RLIMIT_AS cap for the bounded run (virtual; >= ~3500)",
    )
    args = parser.parse_args()
    schema_json = json.dumps(SCHEMA, ensure_ascii=False)
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qbench-") as tmp:
        src = Path(tmp) / "people.csv"
        t = time.perf_counter()
        write_csv(src, args.rows)
        size = src.stat().st_size
        print(
            f"wrote {args.rows:,} rows x {len(COLUMNS)} columns, {size / 1e6:.0f} MB, in {time.perf_counter() - t:.1f}s"
        )
        print(f"{load()} at start")
        ratios = []
        for i in range(args.repeat):
            base = child(CHILD_BASELINE, str(src), schema_json)
            ours = child(CHILD_OURS, str(src), schema_json, str(Path(tmp) / f"work{i}"))
            for label, res in (("pandas", base), ("ours", ours)):
                if res.get("failed"):
                    sys.exit(f"{label} child failed:\n{res['stderr']}")
            print(f"run {i + 1} ({load()}):")
            show("pandas", base)
            show("ours", ours)
            ratio = ours["total_s"] / base["total_s"]
            ratios.append(ratio)
            no_gx = (ours["total_s"] - ours["seconds"]["gx_import"]) / base["total_s"]
            cpu_ratio = ours["cpu_s"] / base["cpu_s"]
            print(
                f"  ratio ours/pandas wall {ratio:.2f}x (without GX import {no_gx:.2f}x), cpu {cpu_ratio:.2f}x"
            )
            if ours["errors"]:
                failures.append(f"rules with errors: {ours['errors']}")
            diff = compare(base["failing"], ours["failing"])
            if diff:
                failures.append("failing counts differ: " + "; ".join(diff))
            peak = max(ours["maxrss_mb"], base["maxrss_mb"])
            if ours["maxrss_mb"] >= 1536:
                failures.append(f"ours peak RSS {ours['maxrss_mb']} MB >= 1.5 GB")
            del peak
        print(f"failing rows per rule (ours == pandas): {json.dumps(ours['failing'], ensure_ascii=False)}")
        print(
            f"score {ours['overall']} {ours['rating']}; {ours['chunks']} chunk(s); Parquet {ours['parquet_mb']} MiB"
        )
        med = statistics.median(ratios)
        print(
            f"RATIO (median of {len(ratios)}): {med:.2f}x  target <= 3.0  {'OK' if med <= 3.0 else 'MISSED'}"
        )
        if med > 3.0:
            failures.append(f"ratio {med:.2f}x > 3.0")
        src.unlink()

        if args.bounded_rows:
            failures += bounded(args, Path(tmp), schema_json)
    print(f"{load()} at end")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
