"""The Storage contract, run on LocalStorage and on S3Storage (moto over HTTP)."""

from __future__ import annotations

import hashlib
import io
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from storage import (
    InvalidKey,
    InvalidRange,
    LocalStorage,
    ObjectMissing,
    ObjectTooLarge,
    S3Storage,
    Storage,
    make_key,
)
from tests.storage.conftest import S3_PART_SIZE, leftovers

MIB = 1024 * 1024


def payload(size: int, seed: int = 7) -> bytes:
    """Deterministic, non-repeating bytes (so that a wrong offset shows)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def read_all(store: Storage, key: str, **kwargs: int | None) -> bytes:
    return b"".join(store.read(key, **kwargs))  # type: ignore[arg-type]


def test_backends_satisfy_the_protocol(store: Storage) -> None:
    assert isinstance(store, Storage)


@pytest.mark.parametrize("as_stream", [True, False], ids=["file", "iterable"])
def test_round_trip_reports_size_and_sha256(store: Storage, as_stream: bool) -> None:
    data = payload(300_000)
    source = io.BytesIO(data) if as_stream else chunked(data)
    stored = store.put("datasets/一本账/数据.csv", source, content_type="text/csv; charset=utf-8")
    assert stored.key == "datasets/一本账/数据.csv"
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.etag
    assert read_all(store, stored.key) == data
    info = store.stat(stored.key)
    assert info.size == len(data)
    assert info.content_type == "text/csv; charset=utf-8"
    assert info.etag == stored.etag
    assert abs((datetime.now(UTC) - info.modified_at).total_seconds()) < 120
    assert store.exists(stored.key)


def test_multipart_sized_object_round_trips(store: Storage) -> None:
    data = payload(2 * S3_PART_SIZE + 12345)
    stored = store.put("big/object.bin", chunked(data, 300_000))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(read_all(store, "big/object.bin")).hexdigest() == stored.sha256


def test_empty_object(store: Storage) -> None:
    stored = store.put("empty.txt", io.BytesIO(b""))
    assert stored.size == 0
    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert read_all(store, "empty.txt") == b""
    assert store.stat("empty.txt").size == 0


def test_put_replaces_an_existing_object(store: Storage) -> None:
    store.put("k", io.BytesIO(b"old"))
    store.put("k", io.BytesIO(b"new content"))
    assert read_all(store, "k") == b"new content"


def test_ranges_are_inclusive_like_http(store: Storage) -> None:
    data = payload(10_000)
    store.put("r.bin", io.BytesIO(data))
    assert read_all(store, "r.bin", start=0, end=0) == data[:1]
    assert read_all(store, "r.bin", start=1234, end=5677) == data[1234:5678]
    assert read_all(store, "r.bin", start=9_990) == data[9_990:]
    assert read_all(store, "r.bin", start=9_999, end=9_999) == data[-1:]
    assert read_all(store, "r.bin", start=5000, end=10**9) == data[5000:]  # end is clamped, as HTTP does


def test_read_honours_chunk_size(store: Storage) -> None:
    data = payload(100_000)
    store.put("c.bin", io.BytesIO(data))
    chunks = list(store.read("c.bin", start=10, chunk_size=8192))
    assert b"".join(chunks) == data[10:]
    assert max(len(c) for c in chunks) <= 8192
    assert len(chunks) >= (len(data) - 10) // 8192


@pytest.mark.parametrize(("start", "end"), [(10_000, None), (20_000, 30_000), (-1, None), (5, 4)])
def test_unsatisfiable_ranges_are_refused(store: Storage, start: int, end: int | None) -> None:
    store.put("r.bin", io.BytesIO(payload(10_000)))
    with pytest.raises(InvalidRange):
        store.read("r.bin", start=start, end=end)


def test_missing_objects(store: Storage) -> None:
    with pytest.raises(ObjectMissing) as caught:
        store.read("nope/数据.csv")  # raised on the call, before iterating
    assert caught.value.key == "nope/数据.csv"
    with pytest.raises(ObjectMissing):
        store.stat("nope")
    with pytest.raises(ObjectMissing):
        store.move("nope", "elsewhere")
    assert not store.exists("nope")
    assert not store.exists("elsewhere")


def test_a_prefix_is_not_an_object(store: Storage) -> None:
    store.put("dir/file", io.BytesIO(b"x"))
    assert not store.exists("dir")
    with pytest.raises(ObjectMissing):
        store.stat("dir")


def test_max_size_exceeded_leaves_nothing(store: Storage) -> None:
    limit = 2 * S3_PART_SIZE  # large enough that S3 has started a multipart upload
    with pytest.raises(ObjectTooLarge) as caught:
        store.put("staging/too-big.bin", chunked(payload(limit + 1), MIB), max_size=limit)
    assert caught.value.max_size == limit
    assert not store.exists("staging/too-big.bin")
    assert leftovers(store) == []


def test_max_size_small_object(store: Storage) -> None:
    with pytest.raises(ObjectTooLarge):
        store.put("small", io.BytesIO(b"12345678901"), max_size=10)
    assert leftovers(store) == []
    stored = store.put("small", io.BytesIO(b"1234567890"), max_size=10)  # exactly the limit is fine
    assert stored.size == 10


@pytest.mark.parametrize("fail_after", [3, 12], ids=["first-part", "after-two-parts"])
def test_failing_stream_leaves_nothing_and_keeps_the_old_object(store: Storage, fail_after: int) -> None:
    store.put("data.bin", io.BytesIO(b"previous version"))

    def broken() -> Iterator[bytes]:
        for i in range(fail_after):
            yield payload(MIB, seed=i)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put("data.bin", broken())
    assert read_all(store, "data.bin") == b"previous version"
    assert [name.rsplit("/", 1)[-1] for name in leftovers(store)] == ["data.bin"]


def test_move_from_staging_to_final(store: Storage) -> None:
    data = payload(50_000)
    store.put("staging/upload-1", io.BytesIO(data), content_type="application/json")
    store.put("final/r1/data.json", io.BytesIO(b"to be replaced"))
    store.move("staging/upload-1", "final/r1/data.json")
    assert not store.exists("staging/upload-1")
    assert read_all(store, "final/r1/data.json") == data
    assert store.stat("final/r1/data.json").content_type == "application/json"


def test_list_by_prefix_in_key_order(store: Storage) -> None:
    for key in ["b/2", "a/1", "b/1", "b2", "c/深/层", "staging/x"]:
        store.put(key, io.BytesIO(key.encode()))
    assert [o.key for o in store.list()] == ["a/1", "b/1", "b/2", "b2", "c/深/层", "staging/x"]
    assert [o.key for o in store.list("b/")] == ["b/1", "b/2"]
    assert [o.key for o in store.list("b")] == ["b/1", "b/2", "b2"]
    assert [o.key for o in store.list("c/深")] == ["c/深/层"]
    assert list(store.list("zzz/")) == []
    (one,) = store.list("a/")
    assert one.size == 3
    assert one.etag == store.stat("a/1").etag


def test_delete_is_idempotent(store: Storage) -> None:
    store.put("gone", io.BytesIO(b"x"))
    store.delete("gone")
    assert not store.exists("gone")
    store.delete("gone")
    store.delete("never/existed")
    assert leftovers(store) == []


UNSAFE_KEYS = [
    "../escape",
    "a/../../escape",
    "a/./b",
    "/etc/passwd",
    "a\\..\\b",
    "a\x00b",
    "a//b",
    "a/",
    "",
    "a\nb",
    "x" * 1100,
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused_everywhere(store: Storage, key: str) -> None:
    calls = [
        lambda: store.put(key, io.BytesIO(b"x")),
        lambda: store.read(key),
        lambda: store.stat(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.move("ok", key),
        lambda: store.move(key, "ok"),
        lambda: store.presigned_url(key),
        lambda: store.local_path(key),
    ]
    store.put("ok", io.BytesIO(b"x"))
    for call in calls:
        with pytest.raises(InvalidKey):
            call()
    assert read_all(store, "ok") == b"x"
    assert [o.key for o in store.list()] == ["ok"]


@pytest.mark.parametrize("prefix", ["../", "/abs", "a//", "a\\b"])
def test_unsafe_list_prefixes_are_refused(store: Storage, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        store.list(prefix)


def test_make_key_output_round_trips(store: Storage) -> None:
    key = make_key("resources", "../../etc", "全省 企业名录 (2024).csv")
    stored = store.put(key, io.BytesIO(b"ok"))
    assert [o.key for o in store.list("resources/")] == [stored.key]
    assert key.count("/") == 2


def _wait_for_next_second() -> datetime:
    """Sleep to the next whole second; stores with 1 s timestamps put earlier objects before it."""
    now = time.time()
    boundary = int(now) + 1
    time.sleep(boundary - now + 0.05)
    return datetime.fromtimestamp(boundary, UTC)


def test_sweeper_removes_only_stale_staging_objects(store: Storage) -> None:
    store.put("staging/old-1", io.BytesIO(b"a"))
    store.put("staging/nested/old-2", io.BytesIO(b"b"))
    store.put("final/old", io.BytesIO(b"c"))
    cutoff = _wait_for_next_second()
    store.put("staging/fresh", io.BytesIO(b"d"))
    # "now" is the cutoff plus one hour, so objects older than one hour at that moment are stale.
    later = datetime.fromtimestamp(cutoff.timestamp() + 3600, UTC)
    assert store.sweep_staging(older_than_seconds=3600, now=later) == 2
    assert [o.key for o in store.list()] == ["final/old", "staging/fresh"]
    assert store.sweep_staging(older_than_seconds=3600) == 0  # with the real clock nothing is stale
    assert store.sweep_staging("staging/", older_than_seconds=0, now=later) == 1
    assert [o.key for o in store.list()] == ["final/old"]


def test_check_passes_on_a_healthy_backend(store: Storage) -> None:
    store.check()


def test_presigned_url_downloads_with_chinese_filename(store: Storage) -> None:
    data = payload(4096)
    store.put("exports/e1.csv", io.BytesIO(data), content_type="text/csv")
    url = store.presigned_url(
        "exports/e1.csv", download_name="全省企业名录 2024.csv", content_type="text/csv; charset=utf-8"
    )
    if isinstance(store, LocalStorage):
        assert url is None
        path = store.local_path("exports/e1.csv")
        assert path is not None and path.read_bytes() == data
        return
    assert isinstance(store, S3Storage)
    assert store.local_path("exports/e1.csv") is None
    assert url is not None and url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
        disposition = response.headers["Content-Disposition"]
        ctype = response.headers["Content-Type"]
    assert body == data
    assert ctype == "text/csv; charset=utf-8"
    assert disposition.startswith("attachment;")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded, encoding="utf-8") == "全省企业名录 2024.csv"
