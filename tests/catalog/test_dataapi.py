"""catalog.dataapi, the query engine, on Parquet files written here."""

from __future__ import annotations

import csv
import io
import os
import random
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog import dataapi
from catalog.dataapi import DataQuery, InvalidQuery, TableNotAvailable
from catalog.models import ResourceVersion
from storage import LocalStorage
from tests.conftest import make_s3_storage

N = 200
TOWNS = ["杭州", "宁波", "温州", "Hang%zhou", "嘉兴_南湖", None]


def _rows() -> list[dict[str, Any]]:
    rnd = random.Random(7)
    return [
        {
            "id": i,
            "town": TOWNS[i % len(TOWNS)],
            "score": None if i % 9 == 0 else rnd.choice([1.5, 2.0, 2.0, 3.25, 4.0]),
            "day": date(2023, 1, 1) + timedelta(days=i % 40),
            "at": datetime(2024, 5, 1, 8, 0) + timedelta(minutes=i % 17),
            "ok": i % 3 == 0,
            'we"ird; drop': f"v{i % 4}",
        }
        for i in range(N)
    ]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dataapi") / "t.parquet"
    pq.write_table(pa.Table.from_pylist(_rows()), path, row_group_size=32)
    return path


def ids(result: dataapi.DataResult) -> list[int]:
    return [r["id"] for r in result.records]


def run(table: Path, **kw: Any) -> dataapi.DataResult:
    return dataapi.run_query(table, DataQuery(**kw))


def _key(value: Any, desc: bool) -> tuple[int, Any]:
    """Nulls last in either direction, as the engine sorts."""
    if value is None:
        return (1, 0)
    if isinstance(value, str):
        value = value.encode()
    if desc:
        return (0, _Rev(value))
    return (0, value)


class _Rev:
    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Rev) -> bool:
        return bool(self.v > other.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.v == other.v


def expected_order(sort: list[tuple[str, bool]]) -> list[int]:
    rows = _rows()
    return [r["id"] for r in sorted(rows, key=lambda r: [_key(r[f], d) for f, d in sort] + [(0, r["id"])])]


def test_schema_types(table: Path) -> None:
    fields = {f.id: f.type for f in dataapi.table_fields(table)}
    assert fields == {
        "id": "int",
        "town": "text",
        "score": "numeric",
        "day": "date",
        "at": "timestamp",
        "ok": "bool",
        'we"ird; drop': "text",
    }


def test_filters(table: Path) -> None:
    rows = _rows()
    assert ids(run(table, filters={"town": "杭州"}, limit=1000)) == [
        r["id"] for r in rows if r["town"] == "杭州"
    ]
    got = run(table, filters={"town": ["宁波", None]}, limit=1000)
    assert ids(got) == [r["id"] for r in rows if r["town"] in ("宁波", None)]
    got = run(table, filters={"town__ne": ["宁波", "杭州"]}, limit=1000)
    assert ids(got) == [r["id"] for r in rows if r["town"] not in ("宁波", "杭州")]  # nulls stay
    got = run(table, filters={"score__gte": "2", "score__lt": 4, "ok": "true"}, limit=1000)
    assert ids(got) == [r["id"] for r in rows if r["score"] is not None and 2 <= r["score"] < 4 and r["ok"]]
    got = run(table, filters={"day__lte": "2023-01-03", "at__gt": "2024-05-01 08:01:00"}, limit=1000)
    want = [r["id"] for r in rows if r["day"] <= date(2023, 1, 3) and r["at"] > datetime(2024, 5, 1, 8, 1)]
    assert ids(got) == want and want
    assert ids(run(table, filters={"score": None}, limit=1000)) == [
        r["id"] for r in rows if r["score"] is None
    ]
    assert run(table, filters={'we"ird; drop': "v1"}, include_total=True).total == N // 4
    assert run(table, filters={"town": []}, include_total=True).total == 0


def test_q_is_a_literal_case_insensitive_substring(table: Path) -> None:
    assert run(table, q="hang%", include_total=True).total == sum(
        1 for r in _rows() if r["town"] == "Hang%zhou"
    )
    assert run(table, q="%", include_total=True).total == sum(1 for r in _rows() if r["town"] == "Hang%zhou")
    assert run(table, q="_", include_total=True).total == sum(1 for r in _rows() if r["town"] == "嘉兴_南湖")
    assert run(table, q="V3", include_total=True).total == N // 4  # the oddly named column is text too
    assert run(table, q="' OR 1=1 --", include_total=True).total == 0


@pytest.mark.parametrize(
    "sort",
    [
        [("score", True)],
        [("score", False), ("town", True)],
        [("town", False)],
        [("day", True), ("at", False)],
        [("ok", True), ("score", True), ("town", False)],
    ],
)
def test_sort_and_cursor_paging(table: Path, sort: list[tuple[str, bool]]) -> None:
    spec = [f"{f} {'desc' if d else 'asc'}" for f, d in sort]
    want = expected_order(sort)
    assert ids(run(table, sort=spec, limit=1000)) == want
    assert ids(run(table, sort=", ".join(spec), limit=13, offset=50)) == want[50:63]
    for page_size in (1, 7, 64):
        seen: list[int] = []
        cursor = None
        offsets = []
        while True:
            page = run(table, sort=spec, limit=page_size, cursor=cursor, fields=["id"])
            offsets.append(page.offset)
            seen += ids(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == want
        assert offsets == list(range(0, N, page_size))


def test_fields_row_ids_and_total(table: Path) -> None:
    got = run(table, fields="town,id", limit=2, include_total=True, filters={"ok": True})
    assert [f.id for f in got.fields] == ["town", "id"]
    assert got.records == [{"town": "杭州", "id": 0}, {"town": "Hang%zhou", "id": 3}]
    assert got.total == sum(1 for r in _rows() if r["ok"])
    got = run(table, row_ids=True, limit=1, offset=5)
    assert got.records[0]["_id"] == 6 and got.records[0]["id"] == 5
    assert run(table, limit=0, include_total=True).model_dump()["records"] == []
    assert run(table, limit=N).next_cursor is None
    assert run(table, limit=N - 1).next_cursor is not None


def test_values_are_json_ready(table: Path) -> None:
    record = run(table, limit=1, offset=1).records[0]
    assert record == {
        "id": 1,
        "town": "宁波",
        "score": record["score"],
        "day": "2023-01-02",
        "at": "2024-05-01T08:01:00",
        "ok": False,
        'we"ird; drop': "v1",
    }


def test_csv_stream(table: Path) -> None:
    body = b"".join(dataapi.stream_csv(table, DataQuery(filters={"town": "杭州"}, sort=["id desc"], limit=5)))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[0] == ["id", "town", "score", "day", "at", "ok", 'we"ird; drop']
    assert [int(r[0]) for r in rows[1:]] == sorted(
        (r["id"] for r in _rows() if r["town"] == "杭州"), reverse=True
    )[:5]
    assert rows[1][5] in ("true", "false")
    big = b"".join(dataapi.stream_csv(table, DataQuery(limit=10_000)))
    assert big.count(b"\r\n") == N + 1


def test_preview(table: Path) -> None:
    got = dataapi.preview(table, rows=3)
    assert ids(got) == [0, 1, 2]
    assert got.fields[0].type == "int"
    with pytest.raises(InvalidQuery):
        dataapi.preview(table, rows=100_000)


@pytest.mark.parametrize(
    "query",
    [
        {"filters": {"nope": 1}},
        {"filters": {'x"; drop table t; --': 1}},
        {"filters": {"id": "' or 1=1 --"}},
        {"filters": {"id__like": "1"}},
        {"filters": {"id__gt": [1, 2]}},
        {"filters": {"id__gt": None}},
        {"filters": {"id": {"a": 1}}},
        {"filters": {"id": float("nan")}},
        {"filters": {"day": "not a date"}},
        {"fields": ["id", "nope"]},
        {"fields": []},
        {"sort": ["id up"]},
        {"sort": ["nope"]},
        {"sort": ["id", "id desc"]},
        {"cursor": "!!!"},
        {"cursor": "eyJ2IjoxfQ"},
        {"cursor": "e30", "offset": 3},
    ],
)
def test_invalid_queries(table: Path, query: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuery):
        dataapi.run_query(table, DataQuery(**query))


def test_a_cursor_only_continues_its_own_query(table: Path) -> None:
    cursor = run(table, sort=["score desc"], limit=5, filters={"ok": True}).next_cursor
    assert cursor is not None
    assert run(table, sort=["score desc"], limit=5, filters={"ok": True}, cursor=cursor).offset == 5
    for other in ({"sort": ["score asc"]}, {"sort": ["score desc"], "filters": {"ok": False}}):
        with pytest.raises(InvalidQuery, match="cursor"):
            run(table, limit=5, cursor=cursor, **other)


def test_limit_bounds() -> None:
    with pytest.raises(ValueError):
        DataQuery(limit=10_001)
    with pytest.raises(ValueError):
        DataQuery(offset=-1)


def test_concurrent_queries_are_independent(table: Path) -> None:
    errors: list[BaseException] = []
    want = {town: run(table, filters={"town": town}, include_total=True).total for town in TOWNS if town}

    def worker(town: str) -> None:
        try:
            for _ in range(10):
                assert run(table, filters={"town": town}, include_total=True).total == want[town]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in want for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_version_table_needs_a_normalized_copy(tmp_path: Path) -> None:
    version = ResourceVersion(
        resource_id=None, version=1, storage_key="k", filename="a.pdf", size=1, sha256="0"
    )  # type: ignore[arg-type]
    with pytest.raises(TableNotAvailable):
        dataapi.version_table(LocalStorage(tmp_path), version, cache_dir=tmp_path / "cache")


def test_local_tables_are_read_in_place(tmp_path: Path, table: Path) -> None:
    store = LocalStorage(tmp_path / "objects")
    store.put("datasets/a/b/v1.normalized.parquet", table.open("rb"))
    path = dataapi.cached_copy(store, "datasets/a/b/v1.normalized.parquet", cache_dir=tmp_path / "cache")
    assert path == store.local_path("datasets/a/b/v1.normalized.parquet")
    assert not (tmp_path / "cache").exists()


def test_s3_tables_are_cached_once_and_refreshed_when_replaced(
    s3_endpoint: str, tmp_path: Path, table: Path
) -> None:
    store = make_s3_storage(s3_endpoint)
    key = "datasets/a/b/v1.normalized.parquet"
    store.put(key, table.open("rb"))  # type: ignore[attr-defined]
    cache = tmp_path / "cache"
    first = dataapi.cached_copy(store, key, cache_dir=cache)  # type: ignore[arg-type]
    assert first.parent == cache and first.read_bytes() == table.read_bytes()
    mtime = first.stat().st_mtime_ns
    assert dataapi.cached_copy(store, key, cache_dir=cache) == first  # type: ignore[arg-type]
    assert first.stat().st_mtime_ns == mtime  # reused, not fetched again
    assert run(first, include_total=True).total == N

    smaller = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(_rows()[:10]), smaller)
    smaller.seek(0)
    store.put(key, smaller)  # type: ignore[attr-defined]
    second = dataapi.cached_copy(store, key, cache_dir=cache)  # type: ignore[arg-type]
    assert second != first and not first.exists()
    assert run(second, include_total=True).total == 10
    assert sorted(p.name for p in cache.iterdir()) == [second.name]  # no temp files left


def test_the_s3_table_cache_keeps_to_its_size_by_evicting_the_least_recently_used(
    s3_endpoint: str, tmp_path: Path, table: Path
) -> None:
    store = make_s3_storage(s3_endpoint)
    size = table.stat().st_size
    cache = tmp_path / "cache"
    keys = [f"datasets/a/{n}/v1.normalized.parquet" for n in "xyz"]
    for key in keys:
        store.put(key, table.open("rb"))  # type: ignore[attr-defined]
    x, y = (dataapi.cached_copy(store, k, cache_dir=cache) for k in keys[:2])  # type: ignore[arg-type]
    old = time.time_ns() - 3600 * 10**9  # both used an hour ago, x longer ago than y
    os.utime(x, ns=(old, x.stat().st_mtime_ns))
    os.utime(y, ns=(old + 10**9, y.stat().st_mtime_ns))
    assert dataapi.cached_copy(store, keys[0], cache_dir=cache) == x  # x is used again: now the newest

    z = dataapi.cached_copy(store, keys[2], cache_dir=cache, max_bytes=2 * size)  # type: ignore[arg-type]
    assert z.exists() and x.exists() and not y.exists()  # y was the least recently used
    assert run(z, include_total=True).total == N
    # entries used within the grace period stay even over the limit: a query may be opening them
    assert dataapi.trim_cache(cache, size) == 0 and x.exists() and z.exists()
    assert dataapi.trim_cache(cache, size, grace_seconds=0) == size and not x.exists() and z.exists()


def test_without_a_sort_rows_come_in_file_order_across_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    n = 60_000
    pq.write_table(
        pa.table({"n": pa.array(range(n), pa.int64()), "even": [i % 2 == 0 for i in range(n)]}),
        path,
        row_group_size=2_000,
    )
    got = dataapi.run_query(path, DataQuery(filters={"even": True}, limit=10_000, fields=["n"]))
    assert [r["n"] for r in got.records] == list(range(0, 20_000, 2))
    seen: list[int] = []
    cursor = None
    while True:
        page = dataapi.run_query(
            path, DataQuery(filters={"even": False}, limit=9_000, cursor=cursor, fields=["n"])
        )
        seen += [r["n"] for r in page.records]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == list(range(1, n, 2))
