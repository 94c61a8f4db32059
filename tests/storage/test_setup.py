"""Settings, open_storage, readiness checks and bucket creation."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import pytest

from storage import (
    LocalStorage,
    S3Storage,
    StorageSettings,
    StorageUnavailable,
    open_storage,
)
from tests.storage.conftest import fresh_bucket, s3_settings


def test_settings_defaults_work_on_a_bare_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STORAGE_URL", "S3_ENDPOINT", "S3_PART_SIZE", "PRESIGN_TTL_SECONDS"):
        monkeypatch.delenv(f"DATALEDGER_{name}", raising=False)
    settings = StorageSettings()
    assert settings.storage_url == "var/objects"
    assert settings.s3_part_size == 16 * 1024 * 1024
    assert settings.presign_ttl_seconds == 300
    assert settings.staging_max_age_seconds == 86400
    for name, field in StorageSettings.model_fields.items():
        assert field.description, f"{name} needs a one-line description for the README table"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATALEDGER_STORAGE_URL", "s3://bucket/pre")
    monkeypatch.setenv("DATALEDGER_PRESIGN_TTL_SECONDS", "60")
    settings = StorageSettings()
    assert settings.storage_url == "s3://bucket/pre"
    assert settings.presign_ttl_seconds == 60


def test_open_storage_local_forms(tmp_path: Path) -> None:
    for url in (str(tmp_path / "a"), f"file://{tmp_path / 'b'}", f"file://localhost{tmp_path / 'c'}"):
        store = open_storage(StorageSettings(storage_url=url))
        assert isinstance(store, LocalStorage)
        store.check()
    relative = open_storage(StorageSettings(storage_url="var/objects"))
    assert isinstance(relative, LocalStorage)
    assert relative.root == (Path.cwd() / "var" / "objects").resolve()


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://", "file://otherhost/x"])
def test_open_storage_refuses_bad_urls(url: str) -> None:
    with pytest.raises(StorageUnavailable):
        open_storage(StorageSettings(storage_url=url))


def test_open_storage_s3(s3_endpoint: str) -> None:
    bucket = fresh_bucket()
    store = open_storage(s3_settings(s3_endpoint, storage_url=f"s3://{bucket}/tenant/一"))
    assert isinstance(store, S3Storage)
    assert store.bucket == bucket and store.prefix == "tenant/一/"
    with pytest.raises(StorageUnavailable):
        store.check()  # bucket not created yet
    store.ensure_bucket()
    store.ensure_bucket()  # idempotent
    store.check()
    store.put("k", iter([b"v"]))
    names = [o.object_name for o in store.client.list_objects(bucket, recursive=True)]
    assert names == ["tenant/一/k"]
    assert [o.key for o in store.list()] == ["k"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_s3_is_unavailable_quickly() -> None:
    settings = s3_settings(f"http://127.0.0.1:{_closed_port()}")
    store = S3Storage(settings, "bucket")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.stat("k")
    assert time.monotonic() - started < 15


def test_missing_bucket_is_unavailable_not_missing(s3_store: S3Storage, s3_endpoint: str) -> None:
    s3_store.put("k", iter([b"v"]))
    other = S3Storage(s3_settings(s3_endpoint), s3_store.bucket + "-absent")
    # HEAD answers carry no error code, so stat() cannot tell a missing bucket from a missing key;
    # check() (readiness) and every call with a response body can.
    with pytest.raises(StorageUnavailable):
        other.check()
    with pytest.raises(StorageUnavailable):
        list(other.list())
    with pytest.raises(StorageUnavailable):
        other.put("k", iter([b"v"]))


def test_bad_endpoint_setting() -> None:
    with pytest.raises(StorageUnavailable):
        S3Storage(s3_settings("http://127.0.0.1:9000/some/path"), "bucket")


def test_presigned_urls_name_the_public_endpoint(s3_endpoint: str) -> None:
    # The server reaches S3 at 127.0.0.1; downloaders are told "localhost" (the signature covers it).
    public = s3_endpoint.replace("127.0.0.1", "localhost")
    bucket = fresh_bucket()
    store = open_storage(s3_settings(s3_endpoint, storage_url=f"s3://{bucket}", s3_public_endpoint=public))
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    store.put("exports/路网.csv", iter([b"a,b\n1,2\n"]))
    url = store.presigned_url("exports/路网.csv", download_name="路网.csv")
    assert url is not None and url.startswith(public + "/")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"a,b\n1,2\n"


def test_bad_public_endpoint_setting() -> None:
    with pytest.raises(StorageUnavailable, match="DATALEDGER_S3_PUBLIC_ENDPOINT"):
        S3Storage(s3_settings("http://127.0.0.1:9000", s3_public_endpoint="ftp://objects"), "bucket")


def test_local_check_fails_on_unwritable_root(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageUnavailable):
        LocalStorage(blocker / "objects").check()
