"""The thin vertical slice: organization, dataset, upload, list and download through /api/v1."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import PASSWORD, make_token, make_user


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _setup(client: TestClient) -> tuple[str, str]:
    """A sysadmin token and an editor token of agency 'jtt' (whose admin is 'boss')."""
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        admin = make_user(s, name="root", email="root@example.org", sysadmin=True)
        admin_token = make_token(s, admin)
        s.commit()
    r = client.post(
        "/api/v1/organizations",
        json={"name": "jtt", "title": "浙江省交通运输厅", "title_en": "Department of Transport"},
        headers=_auth(admin_token),
    )
    assert r.status_code == 201, r.text
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        from catalog.service import require_organization

        editor = make_user(s, name="editor", email="editor@example.org", org=require_organization(s, "jtt"))
        editor_token = make_token(s, editor)
        boss = make_user(
            s, name="boss", email="boss@example.org", org=require_organization(s, "jtt"), role="admin"
        )
        make_token(s, boss)
        s.commit()
    return admin_token, editor_token


def test_slice_create_upload_list_download(any_storage_client: TestClient) -> None:
    client = any_storage_client
    _admin, editor = _setup(client)
    r = client.post(
        "/api/v1/datasets",
        json={
            "name": "bus-lines",
            "title": "公交线路",
            "owner_org": "jtt",
            "grade": "general_1",
            "open_type": "unconditional",
            "tags": ["公交", "交通"],
        },
        headers=_auth(editor),
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "draft"
    r = client.post("/api/v1/datasets/bus-lines/resources", json={"name": "线路表"}, headers=_auth(editor))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    body = "线路名称,站点数\n1路,23\n2路,31\n".encode()
    r = client.put(
        f"/api/v1/resources/{rid}/file",
        params={"filename": "公交线路.csv"},
        content=body,
        headers={**_auth(editor), "Content-Type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert r.json()["size"] == len(body)
    assert r.json()["version"] == 1

    # The draft is invisible to anonymous callers, visible to its agency.
    assert client.get("/api/v1/datasets/bus-lines").status_code == 404
    assert client.get(f"/api/v1/resources/{rid}/download").status_code == 404
    assert client.get("/api/v1/datasets/bus-lines", headers=_auth(editor)).status_code == 200

    listed = client.get("/api/v1/datasets/bus-lines/resources", headers=_auth(editor)).json()
    assert [x["id"] for x in listed] == [rid]

    r = client.get(f"/api/v1/resources/{rid}/download", headers=_auth(editor))
    assert r.status_code == 200
    assert r.content == body
    assert r.headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert "filename*=UTF-8''%E5%85%AC%E4%BA%A4" in r.headers["content-disposition"]

    r = client.get(f"/api/v1/resources/{rid}/download", headers={**_auth(editor), "Range": "bytes=3-8"})
    assert r.status_code == 206
    assert r.content == body[3:9]
    assert r.headers["content-range"] == f"bytes 3-8/{len(body)}"
    r = client.get(f"/api/v1/resources/{rid}/download", headers={**_auth(editor), "Range": "bytes=999-"})
    assert r.status_code == 416


def test_publish_needs_confirmed_grade_then_anyone_downloads(app_client: TestClient) -> None:
    client = app_client
    _admin, editor = _setup(client)
    client.post(
        "/api/v1/datasets",
        json={
            "name": "stops",
            "title": "公交站点",
            "owner_org": "jtt",
            "grade": "general_1",
            "open_type": "unconditional",
        },
        headers=_auth(editor),
    )
    rid = client.post(
        "/api/v1/datasets/stops/resources", json={"name": "站点"}, headers=_auth(editor)
    ).json()["id"]
    client.put(
        f"/api/v1/resources/{rid}/file",
        params={"filename": "stops.csv"},
        content=b"a,b\n1,2\n",
        headers=_auth(editor),
    )
    r = client.post("/api/v1/datasets/stops/publish", headers=_auth(editor))
    assert r.status_code == 403  # editors do not publish
    boss = _login(client, "boss")
    r = client.post("/api/v1/datasets/stops/publish", headers=_auth(boss))
    assert r.status_code == 403
    assert "分级" in r.json()["detail"]
    r = client.post("/api/v1/datasets/stops/grade", json={"grade": "general_1"}, headers=_auth(editor))
    assert r.status_code == 403  # only the admin or the data-security officer confirms
    r = client.post("/api/v1/datasets/stops/grade", json={"grade": "general_3"}, headers=_auth(boss))
    assert r.status_code == 409  # an override needs a reason
    r = client.post("/api/v1/datasets/stops/grade", json={"grade": "general_1"}, headers=_auth(boss))
    assert r.status_code == 200, r.text
    assert r.json()["grade_confirmed"] is True
    r = client.post("/api/v1/datasets/stops/publish", headers=_auth(boss))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published"
    assert client.get("/api/v1/datasets/stops").status_code == 200
    r = client.get(f"/api/v1/resources/{rid}/download")
    assert r.status_code == 200
    assert r.content == b"a,b\n1,2\n"
    listed = client.get("/api/v1/datasets").json()
    assert [d["name"] for d in listed["results"]] == ["stops"]


def _login(client: TestClient, name: str) -> str:
    r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_errors_have_one_shape(app_client: TestClient) -> None:
    client = app_client
    _admin, editor = _setup(client)
    r = client.get("/api/v1/datasets/nope")
    assert r.status_code == 404
    assert set(r.json()) == {"error", "detail"}
    r = client.post(
        "/api/v1/datasets", json={"name": "Bad Name", "title": "x", "owner_org": "jtt"}, headers=_auth(editor)
    )
    assert r.status_code == 422
    assert r.json()["error"] == "ValidationError"
    assert "name" in r.json()["detail"]
    r = client.post("/api/v1/datasets", json={"name": "ok-name", "title": "x", "owner_org": "jtt"})
    assert r.status_code == 401
    r = client.get("/api/v1/me", headers=_auth("dl_not-a-real-token"))
    assert r.status_code == 401


def test_password_sign_in_gives_access_token(app_client: TestClient) -> None:
    client = app_client
    _setup(client)
    r = client.post("/api/v1/auth/token", data={"username": "editor", "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/api/v1/me", headers=_auth(token))
    assert me.status_code == 200
    assert me.json()["name"] == "editor"
    r = client.post("/api/v1/auth/token", data={"username": "editor", "password": "wrong"})
    assert r.status_code == 401


def test_health_and_readiness(app_client: TestClient) -> None:
    assert app_client.get("/healthz").json() == {"status": "ok"}
    r = app_client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"
    assert r.json()["storage"] == "ok"


def test_upload_over_the_limit_is_413_and_leaves_nothing(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from portal.app import create_app
    from storage import LocalStorage
    from tests.portal.conftest import make_settings

    app = create_app(
        make_settings(db_url, tmp_path, max_upload_bytes=10), storage=LocalStorage(tmp_path / "o")
    )
    with TestClient(app) as client:
        _admin, editor = _setup(client)
        client.post(
            "/api/v1/datasets", json={"name": "big", "title": "大", "owner_org": "jtt"}, headers=_auth(editor)
        )
        rid = client.post("/api/v1/datasets/big/resources", json={"name": "x"}, headers=_auth(editor)).json()[
            "id"
        ]
        # Declared too large: refused before reading.
        r = client.put(
            f"/api/v1/resources/{rid}/file",
            params={"filename": "a.csv"},
            content=b"x" * 11,
            headers=_auth(editor),
        )
        assert r.status_code == 413
        assert "limit" in r.json()["detail"]
        # Streamed without a length: refused while streaming, and nothing is kept.
        r = client.put(
            f"/api/v1/resources/{rid}/file",
            params={"filename": "a.csv"},
            content=iter([b"x" * 6, b"y" * 6]),
            headers=_auth(editor),
        )
        assert r.status_code == 413
        assert client.get(f"/api/v1/resources/{rid}/versions", headers=_auth(editor)).json() == []
        assert [p for p in (tmp_path / "o").rglob("*") if p.is_file()] == []
    app.state.engine.dispose()
