"""Downloads on local storage and S3: ranges, resume, redirects; uploads that fail leave nothing."""

from __future__ import annotations

import hashlib
import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from catalog import service
from catalog.models import ResourceVersion
from catalog.schemas import ResourceCreate
from portal.app import create_app
from portal.transfer import REMOTE_CHUNK
from storage import LocalStorage, Storage
from tests.conftest import make_s3_storage
from tests.factories import make_dataset, make_org, publish
from tests.portal.conftest import make_settings

SIZE = 2 * REMOTE_CHUNK + 12345  # more than one chunk from storage, not a multiple of it
BLOB = os.urandom(SIZE)


def open_file(client: TestClient, data: bytes = BLOB, filename: str = "路网数据.bin") -> tuple[str, str]:
    """A published, unconditional dataset with one uploaded file; returns (resource id, ETag)."""
    storage: Storage = client.app.state.storage  # type: ignore[attr-defined]
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        ds = publish(s, make_dataset(s, make_org(s)))
        resource = service.create_resource(s, actor_id=None, dataset=ds, data=ResourceCreate(name="路网"))
        chunks = [data[i : i + 500_000] for i in range(0, len(data), 500_000)]
        version = service.upload_resource_file(
            s, storage, actor_id=None, resource=resource, filename=filename, data=chunks
        )
        s.commit()
        return str(resource.id), f'"{version.sha256}"'


def test_range_requests(any_storage_client: TestClient) -> None:
    client = any_storage_client
    rid, etag = open_file(client)
    url = f"/api/v1/resources/{rid}/download"

    full = client.get(url)
    assert full.status_code == 200 and full.content == BLOB
    assert full.headers["accept-ranges"] == "bytes" and full.headers["etag"] == etag
    assert full.headers["content-length"] == str(SIZE)

    r = client.get(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == BLOB[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{SIZE}"
    r = client.get(url, headers={"Range": "bytes=-500"})  # suffix range: the last 500 bytes
    assert r.status_code == 206 and r.content == BLOB[-500:]
    assert r.headers["content-range"] == f"bytes {SIZE - 500}-{SIZE - 1}/{SIZE}"
    r = client.get(url, headers={"Range": f"bytes={SIZE - 10}-"})
    assert r.status_code == 206 and r.content == BLOB[-10:]
    r = client.get(url, headers={"Range": f"bytes=0-{SIZE * 2}"})  # clamped to the end
    assert r.status_code == 206 and r.content == BLOB
    r = client.get(url, headers={"Range": "bytes=1048570-1048580"})  # across a chunk boundary
    assert r.content == BLOB[1048570:1048581]

    # If-Range: the range only while the file is the one the client has
    r = client.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert r.status_code == 206 and r.content == BLOB[10:20]
    r = client.get(url, headers={"Range": "bytes=10-19", "If-Range": '"another-version"'})
    assert r.status_code == 200 and r.content == BLOB

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    r = client.get(url, headers={"Range": f"bytes={SIZE}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{SIZE}"
    r = client.get(url, headers={"Range": "bytes=0-1,5-9"})  # multi-range: the whole file
    assert r.status_code == 200 and r.content == BLOB


def test_interrupted_download_resumes_with_range(any_storage_client: TestClient) -> None:
    client = any_storage_client
    rid, etag = open_file(client)
    url = f"/api/v1/resources/{rid}/download"
    received = bytearray()
    with client.stream("GET", url) as r:
        assert r.status_code == 200
        first_etag = r.headers["etag"]
        for chunk in r.iter_bytes():
            received += chunk
            if len(received) > SIZE // 3:
                break  # the connection drops
    assert 0 < len(received) < SIZE
    r = client.get(url, headers={"Range": f"bytes={len(received)}-", "If-Range": first_etag})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes {len(received)}-{SIZE - 1}/{SIZE}"
    received += r.content
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(BLOB).hexdigest()
    assert f'"{hashlib.sha256(received).hexdigest()}"' == etag
    head = client.head(url)  # what a download manager asks first: size and ETag, no body
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(SIZE) and head.headers["etag"] == etag
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        dataset_id = service.require_resource(s, uuid.UUID(rid)).dataset_id
        # neither the resumed part nor the HEAD is counted again
        assert service.require_dataset(s, dataset_id).download_count == 1


def test_redirect_mode_sends_s3_downloads_to_a_presigned_url(
    db_url: str, tmp_path: Path, s3_endpoint: str
) -> None:
    settings = make_settings(db_url, tmp_path, download_mode="redirect")
    app = create_app(settings, storage=make_s3_storage(s3_endpoint))  # type: ignore[arg-type]
    with TestClient(app) as client:
        rid, _etag = open_file(client, data=BLOB[:200_000])
        r = client.get(f"/api/v1/resources/{rid}/download", follow_redirects=False)
        assert r.status_code == 307
        assert r.headers["cache-control"] == "no-store"
        location = r.headers["location"]
        assert location.startswith(s3_endpoint)
        with urllib.request.urlopen(location, timeout=30) as direct:
            assert direct.read() == BLOB[:200_000]
            assert "filename*=UTF-8''%E8%B7%AF" in direct.headers["Content-Disposition"]
    app.state.engine.dispose()


def test_redirect_mode_streams_from_local_storage(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, download_mode="redirect")
    app = create_app(settings, storage=LocalStorage(tmp_path / "objects"))
    with TestClient(app) as client:
        rid, _etag = open_file(client, data=b"a,b\n1,2\n", filename="t.csv")
        r = client.get(f"/api/v1/resources/{rid}/download", follow_redirects=False)
        assert r.status_code == 200 and r.content == b"a,b\n1,2\n"
    app.state.engine.dispose()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects")
    else:
        yield make_s3_storage(request.getfixturevalue("s3_endpoint"))  # type: ignore[misc]


class ClientWentAway(Exception):
    """The uploading client disconnected."""


def test_interrupted_upload_leaves_nothing_behind(session: Session, store: Storage, tmp_path: Path) -> None:
    ds = make_dataset(session, make_org(session))
    resource = service.create_resource(session, actor_id=None, dataset=ds, data=ResourceCreate(name="大文件"))
    session.commit()

    def body() -> Iterator[bytes]:
        for _ in range(7):  # more than one S3 part is under way when the client goes away
            yield os.urandom(1024 * 1024)
        raise ClientWentAway

    with pytest.raises(ClientWentAway):
        service.upload_resource_file(
            session, store, actor_id=None, resource=resource, filename="big.bin", data=body()
        )
    session.rollback()
    assert session.exec(select(ResourceVersion)).all() == []
    assert list(store.list()) == []  # neither the final key nor anything in staging
    if isinstance(store, LocalStorage):
        leftovers = [name for _d, _s, files in os.walk(tmp_path / "objects") for name in files]
        assert leftovers == []  # not even a temp file
    session.refresh(resource)
    assert resource.latest_version == 0
