"""portal.server: downloads leave by sendfile under the real uvicorn, byte-exact, and fall back cleanly."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

import portal.server
import portal.transfer
from catalog import service
from catalog.schemas import ResourceCreate
from portal.app import create_app
from portal.server import ZeroCopyHttpToolsProtocol
from portal.settings import Settings
from storage import LocalStorage
from tests.factories import make_dataset, make_org, publish
from tests.liveserver import free_port, serve_in_thread

SIZE = 5 * 1024 * 1024 + 4321  # several sendfile steps (shrunk to 1 MiB below), not a multiple
BLOB = os.urandom(SIZE)


def _serve(settings: Settings, tmp_path: Path, loop: str, http: object) -> Iterator[tuple[str, str]]:
    """The real app under uvicorn (loop, HTTP protocol); yields (base URL, resource id)."""
    app = create_app(settings, storage=LocalStorage(tmp_path / "objects"))
    with Session(app.state.engine) as s:
        ds = publish(s, make_dataset(s, make_org(s)))
        resource = service.create_resource(s, actor_id=None, dataset=ds, data=ResourceCreate(name="路网"))
        service.upload_resource_file(
            s,
            app.state.storage,
            actor_id=None,
            resource=resource,
            filename="路网数据.bin",
            data=[BLOB[i : i + 1_000_000] for i in range(0, SIZE, 1_000_000)],
        )
        s.commit()
        rid = str(resource.id)
    port = free_port()
    try:
        with serve_in_thread(app, port, http=http, loop=loop, timeout_graceful_shutdown=1) as url:
            yield url, rid
    finally:
        app.state.engine.dispose()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Small sendfile steps; the number of chunks read through Python is recorded."""
    monkeypatch.setattr(portal.server, "SENDFILE_STEP", 1024 * 1024)
    calls: list[int] = []
    original: Callable[[int, int, int], Callable[[], bytes | None]] = portal.transfer._pread_chunks

    def counting(fd: int, offset: int, length: int) -> Callable[[], bytes | None]:
        read = original(fd, offset, length)

        def counted() -> bytes | None:
            calls.append(length)
            return read()

        return counted

    monkeypatch.setattr(portal.transfer, "_pread_chunks", counting)
    return calls


@pytest.fixture(params=["uvloop", "asyncio"])
def zero_copy_server(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """The zero-copy protocol as `dataledger serve` runs it (uvloop), and on asyncio's loop."""
    yield from _serve(settings, tmp_path, request.param, ZeroCopyHttpToolsProtocol)


@pytest.fixture
def stock_server(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """uvicorn's own httptools protocol, which offers no zero-copy send."""
    yield from _serve(settings, tmp_path, "uvloop", "httptools")


def test_downloads_leave_by_sendfile(zero_copy_server: tuple[str, str], reads: list[int]) -> None:
    base, rid = zero_copy_server
    url = f"{base}/api/v1/resources/{rid}/download"
    with httpx.Client(timeout=30) as client:  # one keep-alive connection: the framing must be exact
        full = client.get(url)
        assert full.status_code == 200 and full.content == BLOB
        assert full.headers["content-length"] == str(SIZE)
        assert "filename*=UTF-8''" in full.headers["content-disposition"]

        part = client.get(url, headers={"Range": "bytes=1048570-3145739"})  # across steps
        assert part.status_code == 206 and part.content == BLOB[1048570:3145740]

        tail = client.get(url, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == BLOB[-10:]

        head = client.head(url)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(SIZE)

        again = client.get(url)
        assert hashlib.sha256(again.content).digest() == hashlib.sha256(BLOB).digest()
    assert reads == [], "the file went through Python instead of sendfile"


def test_a_client_that_leaves_mid_file_does_not_hurt_the_next(
    zero_copy_server: tuple[str, str], reads: list[int]
) -> None:
    base, rid = zero_copy_server
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(f"GET /api/v1/resources/{rid}/download HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        received = sock.recv(64 * 1024)
        assert received.startswith(b"HTTP/1.1 200")
    resumed = httpx.get(
        f"{base}/api/v1/resources/{rid}/download", headers={"Range": "bytes=1000-"}, timeout=30
    )
    assert resumed.status_code == 206 and resumed.content == BLOB[1000:]
    assert reads == []


def test_without_the_extension_the_file_is_read_in_chunks(
    stock_server: tuple[str, str], reads: list[int]
) -> None:
    base, rid = stock_server
    r = httpx.get(f"{base}/api/v1/resources/{rid}/download", timeout=30)
    assert r.status_code == 200 and r.content == BLOB
    assert reads, "uvicorn's own protocol has no zero-copy send: the chunked path must have served it"
