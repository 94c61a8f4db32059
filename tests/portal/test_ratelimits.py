"""Rate limits over HTTP: anonymous API use per address, downloads per user or address, 429 + Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth.settings import AuthSettings
from catalog import service
from catalog.schemas import ResourceCreate
from portal.app import create_app
from portal.ratelimits import download_target
from portal.settings import Settings
from storage import LocalStorage
from tests.factories import make_dataset, make_org, make_token, make_user, publish
from tests.portal.conftest import make_settings

ANON_LIMIT = 5
DOWNLOAD_LIMIT = 3


@pytest.fixture
def limited(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """An app with small limits."""
    base: Settings = make_settings(db_url, tmp_path)
    auth = AuthSettings(
        secret_key="test-secret-key-0123456789abcdef",
        anonymous_rate_limit_per_minute=ANON_LIMIT,
        download_rate_limit_per_minute=DOWNLOAD_LIMIT,
    )
    settings = base.model_copy(update={"auth": auth})
    app = create_app(settings, storage=LocalStorage(tmp_path / "objects"))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _setup(client: TestClient) -> tuple[str, dict[str, str]]:
    """An open dataset with one file, and two users with tokens."""
    storage = client.app.state.storage  # type: ignore[attr-defined]
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        ds = publish(s, make_dataset(s, make_org(s)))
        resource = service.create_resource(s, actor_id=None, dataset=ds, data=ResourceCreate(name="线路"))
        service.upload_resource_file(
            s, storage, actor_id=None, resource=resource, filename="a.csv", data=[b"a,b\n1,2\n"]
        )
        tokens = {name: make_token(s, make_user(s)) for name in ("alice", "bob", "carol")}
        s.commit()
        return str(resource.id), tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_anonymous_api_use_is_limited_per_address(limited: TestClient) -> None:
    _rid, tokens = _setup(limited)
    for _ in range(ANON_LIMIT):
        assert limited.get("/api/v1/datasets").status_code == 200
    r = limited.get("/api/v1/datasets")
    assert r.status_code == 429
    assert r.json()["error"] == "RateLimited" and "retry" in r.json()["detail"]
    assert 1 <= int(r.headers["retry-after"]) <= 60 / ANON_LIMIT + 1
    assert limited.get("/api/3/action/package_list").status_code == 429  # the CKAN surface too
    # signed-in callers are not held to the anonymous limit; probes are never limited
    for _ in range(ANON_LIMIT * 2):
        assert limited.get("/api/v1/me", headers=_bearer(tokens["alice"])).status_code == 200
        assert limited.get("/healthz").status_code == 200
    # another address has its own budget
    other = TestClient(limited.app, client=("203.0.113.7", 5000))
    assert other.get("/api/v1/datasets").status_code == 200


def test_failed_credentials_count_against_the_address(limited: TestClient) -> None:
    _rid, tokens = _setup(limited)
    bogus = _bearer("dl_" + "x" * 40)
    for _ in range(ANON_LIMIT):
        assert limited.get("/api/v1/datasets", headers=bogus).status_code == 401
    r = limited.get("/api/v1/datasets", headers=bogus)
    assert r.status_code == 429 and "retry-after" in r.headers
    # a caller at another address with a good token is unaffected
    other = TestClient(limited.app, client=("203.0.113.8", 5000))
    assert other.get("/api/v1/me", headers=_bearer(tokens["bob"])).status_code == 200


def test_downloads_are_limited_per_user_and_per_address(limited: TestClient) -> None:
    rid, tokens = _setup(limited)
    url = f"/api/v1/resources/{rid}/download"
    for _ in range(DOWNLOAD_LIMIT):
        assert limited.get(url, headers=_bearer(tokens["alice"])).status_code == 200
    r = limited.get(url, headers=_bearer(tokens["alice"]))
    assert r.status_code == 429 and r.json()["error"] == "RateLimited" and r.headers["retry-after"]
    # bob, at the same address, has his own budget; so does the anonymous address
    assert limited.get(url, headers=_bearer(tokens["bob"])).status_code == 200
    for _ in range(DOWNLOAD_LIMIT):
        assert limited.get(url).status_code == 200
    assert limited.get(url).status_code == 429
    # a signed link counts for the user it was issued to, whoever presents it
    links = [
        limited.post(f"/api/v1/resources/{rid}/download-link", headers=_bearer(tokens["carol"])).json()["url"]
        for _ in range(DOWNLOAD_LIMIT + 1)
    ]
    other = TestClient(limited.app, client=("203.0.113.9", 5000))
    assert [other.get(link).status_code for link in links] == [200] * DOWNLOAD_LIMIT + [429]
    # metadata reads by a signed-in user are not download-limited
    assert limited.get(f"/api/v1/resources/{rid}", headers=_bearer(tokens["alice"])).status_code == 200


def test_default_limits_do_not_get_in_the_way(app_client: TestClient) -> None:
    rid, tokens = _setup(app_client)
    for _ in range(ANON_LIMIT * 4):
        assert app_client.get("/api/v1/datasets").status_code == 200
    for _ in range(DOWNLOAD_LIMIT * 3):
        assert (
            app_client.get(f"/api/v1/resources/{rid}/download", headers=_bearer(tokens["alice"])).status_code
            == 200
        )


def test_download_paths_are_recognized() -> None:
    rid = "6ff71c27-b14e-4e98-8163-ce54f13eb018"
    assert download_target(f"/api/v1/resources/{rid}/download")[0]
    assert download_target(f"/dataset/bus-lines/resource/{rid}/download")[0]
    assert download_target("/api/v1/resources/not-a-uuid/download") == (True, None)
    assert not download_target(f"/api/v1/resources/{rid}")[0]
    assert not download_target(f"/api/v1/resources/{rid}/download-link")[0]
