"""Storage fixtures: every behaviour test runs on LocalStorage and on S3Storage against moto over HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import LocalStorage, S3Storage, Storage, StorageSettings
from tests.s3server import TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY, running_s3_server

S3_PART_SIZE = 5 * 1024 * 1024  # S3's minimum, so multipart paths run with small test objects


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """One moto S3 server per test session (per xdist worker)."""
    with running_s3_server() as endpoint:
        yield endpoint


def s3_settings(endpoint: str, **overrides: object) -> StorageSettings:
    """StorageSettings pointing at the moto server."""
    values: dict[str, object] = {
        "s3_endpoint": endpoint,
        "s3_access_key": TEST_ACCESS_KEY,
        "s3_secret_key": TEST_SECRET_KEY,
        "s3_region": TEST_REGION,
        "s3_part_size": S3_PART_SIZE,
    }
    values.update(overrides)
    return StorageSettings(**values)  # type: ignore[arg-type]


def fresh_bucket() -> str:
    """A bucket name no other test uses."""
    return f"t-{uuid.uuid4().hex[:16]}"


def _empty_and_drop(store: S3Storage) -> None:
    client = store.client
    with contextlib.suppress(Exception):
        uploads = client._list_multipart_uploads(store.bucket).uploads
        for upload in uploads:
            client._abort_multipart_upload(store.bucket, upload.object_name, upload.upload_id)
        for obj in client.list_objects(store.bucket, recursive=True):
            client.remove_object(store.bucket, obj.object_name)
        client.remove_bucket(store.bucket)


@pytest.fixture
def s3_store(s3_endpoint: str) -> Iterator[S3Storage]:
    """An S3Storage on a fresh bucket (with a key prefix, to exercise prefix handling)."""
    store = S3Storage(s3_settings(s3_endpoint), fresh_bucket(), "ledger/objects")
    store.ensure_bucket()
    yield store
    _empty_and_drop(store)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStorage:
    """A LocalStorage rooted in a temporary directory."""
    return LocalStorage(tmp_path / "objects")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> Storage:
    """The same Storage contract on both backends."""
    return request.getfixturevalue(f"{request.param}_store")


def leftovers(store: Storage) -> list[str]:
    """Everything the backend holds, including in-flight temp files and unfinished multipart uploads."""
    if isinstance(store, LocalStorage):
        if not store.root.exists():
            return []
        return sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file())
    assert isinstance(store, S3Storage)
    names = [o.object_name for o in store.client.list_objects(store.bucket, recursive=True)]
    uploads = store.client._list_multipart_uploads(store.bucket).uploads
    return sorted([*names, *(f"upload:{u.object_name}" for u in uploads)])
