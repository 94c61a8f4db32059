"""Fixtures of the CKAN surface: a populated catalog, and the real app served by uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import service
from catalog.schemas import ResourceCreate
from portal.app import create_app
from storage import LocalStorage
from tests.factories import make_dataset, make_org, make_token, make_user, publish
from tests.liveserver import free_port, serve_in_thread
from tests.portal.conftest import make_settings


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Cheap Argon2 parameters: these tests are about the CKAN surface, not password strength."""
    from auth.passwords import configure_hasher, restore_hasher

    previous = configure_hasher(time_cost=1, memory_cost_kib=1024)
    yield
    restore_hasher(previous)


@dataclass
class Catalog:
    """Who is who in the test catalog, with their raw API tokens."""

    sysadmin: str
    admin: str  # admin of jtt
    editor: str  # editor of jtt
    outsider: str  # editor of another agency
    reader: str  # a read-only token of jtt's editor
    public: list[str]  # names of published datasets
    draft: str  # a draft of jtt


def populate(engine: Engine) -> Catalog:
    """Two agencies, four users, three published datasets and one draft."""
    with Session(engine, expire_on_commit=False) as s:
        jtt = make_org(s, name="jtt", title="浙江省交通运输厅", title_en="Department of Transport")
        other = make_org(s, name="gat", title="浙江省公安厅")
        root = make_user(s, name="root", email="root@example.org", sysadmin=True)
        boss = make_user(s, name="boss", email="boss@example.org", org=jtt, role="admin")
        editor = make_user(s, name="editor", email="editor@example.org", org=jtt)
        outsider = make_user(s, name="outsider", email="outsider@example.org", org=other)
        bus = make_dataset(
            s,
            jtt,
            name="bus-lines",
            title="公交线路",
            tags=["公交", "交通"],
            domain="transport",
            license_id="cc-by",
        )
        service.create_resource(
            s,
            actor_id=None,
            dataset=bus,
            data=ResourceCreate(name="线路表", format="csv", url="https://example.org/bus.csv"),
        )
        publish(s, bus)
        taxi = make_dataset(s, jtt, name="taxi-trips", title="出租车行程", tags=["交通"], domain="transport")
        service.create_resource(
            s,
            actor_id=None,
            dataset=taxi,
            data=ResourceCreate(name="trips", format="json", url="https://example.org/t.json"),
        )
        publish(s, taxi)
        crime = make_dataset(s, other, name="crime-stats", title="治安统计", tags=["公安"])
        publish(s, crime)
        make_dataset(s, jtt, name="secret-draft", title="未发布草稿")
        cat = Catalog(
            sysadmin=make_token(s, root),
            admin=make_token(s, boss),
            editor=make_token(s, editor),
            outsider=make_token(s, outsider),
            reader=make_token(s, editor, scope="read"),
            public=["bus-lines", "crime-stats", "taxi-trips"],
            draft="secret-draft",
        )
        s.commit()
    return cat


@pytest.fixture
def ckan_client(app_client: TestClient) -> Iterator[tuple[TestClient, Catalog]]:
    """An in-process client of the app over a populated catalog (both databases)."""
    yield app_client, populate(app_client.app.state.engine)  # type: ignore[attr-defined]


@dataclass
class LiveServer:
    """The real app behind uvicorn on a loopback port."""

    url: str
    engine: Engine


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """Serve the real app with uvicorn in a background thread on a free loopback port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(db_url, tmp_path, base_url=url)
    app = create_app(settings, storage=LocalStorage(tmp_path / "objects"))
    try:
        with serve_in_thread(app, port, timeout_graceful_shutdown=1, start_timeout=20):
            yield LiveServer(url=url, engine=app.state.engine)
    finally:
        app.state.engine.dispose()
