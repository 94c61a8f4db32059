"""Key construction and validation, Content-Disposition, and local path-traversal defences."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from storage import InvalidKey, LocalStorage, ObjectMissing, content_disposition, make_key, validate_key
from storage.keys import MAX_SEGMENT_BYTES, TEMP_MARKER, validate_prefix


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("datasets", "abc-123", "data.csv"), "datasets/abc-123/data.csv"),
        (("资源", "全省企业名录.xlsx"), "资源/全省企业名录.xlsx"),
        (("..",), "%2E."),
        ((".", "x"), "%2E/x"),
        ((".hidden",), "%2Ehidden"),
        (("a/b", "c\\d"), "a%2Fb/c%5Cd"),
        (("50% off",), "50%25%20off"),
        (("nul\x00byte",), "nul%00byte"),
        (("/etc/passwd",), "%2Fetc%2Fpasswd"),
        ((TEMP_MARKER + "x.part",), "%2E~dl-x.part"),
    ],
)
def test_make_key_escapes_each_part_into_one_segment(parts: tuple[str, ...], expected: str) -> None:
    key = make_key(*parts)
    assert key == expected
    assert key.count("/") == len(parts) - 1
    assert validate_key(key) == key
    assert [unquote(s) for s in key.split("/")] == list(parts)


def test_make_key_refuses_empty_parts() -> None:
    with pytest.raises(InvalidKey):
        make_key()
    with pytest.raises(InvalidKey):
        make_key("a", "")


def test_make_key_shortens_long_names_deterministically() -> None:
    name = "省级" * 120 + ".csv"  # 720+ bytes of UTF-8
    key = make_key("r", name)
    segment = key.split("/")[1]
    assert len(segment.encode()) <= MAX_SEGMENT_BYTES
    assert segment.endswith(".csv")
    assert make_key("r", name) == key
    assert make_key("r", "省级" * 121 + ".csv") != key  # a hash of the full name keeps them apart


def test_make_key_shortening_never_splits_an_escape() -> None:
    key = make_key("r", " " * 300 + ".txt")
    segment = key.split("/")[1]
    assert len(segment.encode()) <= MAX_SEGMENT_BYTES
    assert "%2" not in segment.replace("%20", "")
    validate_key(key)


@pytest.mark.parametrize(
    "key",
    ["", "/a", "a/", "a//b", "..", "a/..", "./a", "a\\b", "a\x00", "a\x7fb", "\ud800", TEMP_MARKER + "1"],
)
def test_validate_key_refuses(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


def test_validate_key_limits_lengths() -> None:
    validate_key("a" * MAX_SEGMENT_BYTES)
    with pytest.raises(InvalidKey):
        validate_key("a" * (MAX_SEGMENT_BYTES + 1))
    with pytest.raises(InvalidKey):
        validate_key("/".join(["a" * 200] * 6))


def test_validate_prefix() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("staging/") == "staging/"
    assert validate_prefix("stag") == "stag"
    for bad in ["/", "../", "a//", "/a/"]:
        with pytest.raises(InvalidKey):
            validate_prefix(bad)


def test_content_disposition_ascii_name_needs_no_extended_form() -> None:
    assert content_disposition("report.csv") == 'attachment; filename="report.csv"'
    assert content_disposition("report.csv", inline=True) == 'inline; filename="report.csv"'


def test_content_disposition_chinese_name() -> None:
    value = content_disposition("全省企业名录 2024.csv")
    assert value.startswith('attachment; filename="')
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.endswith(".csv")
    extended = value.split("filename*=UTF-8''", 1)[1]
    assert extended.isascii() and " " not in extended
    assert unquote(extended) == "全省企业名录 2024.csv"


def test_content_disposition_neutralises_quotes_and_separators() -> None:
    value = content_disposition('a"b;c\\d/e\r\n.txt')
    fallback = value.split('filename="', 1)[1].rsplit('"', 1)[0]
    assert '"' not in fallback and "\\" not in fallback and "\r" not in value and "\n" not in value
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == 'a"b;c_d_e.txt'


# -- LocalStorage: the resolved path must stay under the root ------------------------------------------


def test_symlinked_directory_cannot_escape_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    store = LocalStorage(tmp_path / "root")
    store.put("inside/ok.txt", io.BytesIO(b"ok"))
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    for call in (
        lambda: store.read("link/secret.txt"),
        lambda: store.stat("link/secret.txt"),
        lambda: store.put("link/new.txt", io.BytesIO(b"x")),
        lambda: store.delete("link/secret.txt"),
        lambda: store.move("inside/ok.txt", "link/moved.txt"),
        lambda: store.local_path("link/secret.txt"),
    ):
        with pytest.raises(InvalidKey):
            call()
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"


def test_symlinked_file_cannot_escape_the_root(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    store = LocalStorage(tmp_path / "root")
    store.check()
    (store.root / "evil").symlink_to(secret)
    with pytest.raises(InvalidKey):
        store.read("evil")
    with pytest.raises(InvalidKey):
        store.put("evil", io.BytesIO(b"overwrite"))
    assert secret.read_text() == "secret"


def test_root_that_is_itself_a_symlink_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    store = LocalStorage(tmp_path / "alias")
    store.put("a/b", io.BytesIO(b"x"))
    assert (real / "a" / "b").read_bytes() == b"x"


def test_local_key_conflicts_are_clear_errors(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put("a", io.BytesIO(b"file"))
    with pytest.raises(InvalidKey):
        store.put("a/b", io.BytesIO(b"x"))
    store.put("d/e", io.BytesIO(b"x"))
    with pytest.raises(InvalidKey):
        store.put("d", io.BytesIO(b"x"))
    store.delete("d")  # a directory is no object: nothing happens
    assert store.exists("d/e")


def test_local_put_writes_via_a_temp_file_in_the_same_directory(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    seen: list[list[str]] = []

    def source():
        yield b"first"
        seen.append(sorted(os.listdir(tmp_path / "dir")))
        yield b"second"

    store.put("dir/final.bin", source())
    assert len(seen[0]) == 1 and seen[0][0].startswith(TEMP_MARKER)
    assert sorted(os.listdir(tmp_path / "dir")) == ["final.bin"]
    assert [o.key for o in store.list()] == ["dir/final.bin"]


def test_local_sweeper_also_removes_stale_temp_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    stray = tmp_path / "staging" / f"{TEMP_MARKER}crashed.part"
    stray.parent.mkdir()
    stray.write_bytes(b"half an upload")
    fresh = tmp_path / "staging" / f"{TEMP_MARKER}inflight.part"
    fresh.write_bytes(b"still uploading")
    old = time.time() - 7200
    os.utime(stray, (old, old))
    assert store.sweep_staging(older_than_seconds=3600) == 1
    assert not stray.exists() and fresh.exists()


def test_local_path_serves_the_file(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    store.put("x/y.txt", io.BytesIO(b"hello"))
    path = store.local_path("x/y.txt")
    assert path == tmp_path.resolve() / "x" / "y.txt"
    with pytest.raises(ObjectMissing):
        store.local_path("x/missing.txt")
