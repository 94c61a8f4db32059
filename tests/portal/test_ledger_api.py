"""/api/v1 ledger: registration steps and who may take them, summary scopes, exports, history."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from tests.factories import make_org, make_token, make_user


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _setup(client: TestClient) -> dict[str, str]:
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        jtt = make_org(s, name="jtt", title="浙江省交通运输厅", region_code="330000")
        tokens = {
            "editor": make_token(s, make_user(s, org=jtt, role="editor")),
            "operator": make_token(s, make_user(s, platform_roles=["operator"])),
            "regulator": make_token(s, make_user(s, platform_roles=["regulator"])),
            "citizen": make_token(s, make_user(s)),
        }
        s.commit()
    for name, title in (("bus-lines", "公交线路"), ("taxis", "出租车")):
        r = client.post(
            "/api/v1/datasets",
            json={
                "name": name,
                "title": title,
                "owner_org": "jtt",
                "open_type": "closed",
                "domain": "transport",
            },
            headers=_auth(tokens["editor"]),
        )
        assert r.status_code == 201, r.text
    return tokens


def test_registration_through_the_api(app_client: TestClient) -> None:
    client = app_client
    t = _setup(client)
    r = client.post(
        "/api/v1/datasets/bus-lines/registrations", json={"kind": "first"}, headers=_auth(t["editor"])
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["state"] == "applied"
    # Only the data authority moves a registration on; the applicant cannot accept its own.
    assert client.post(f"/api/v1/registrations/{rid}/accept", headers=_auth(t["editor"])).status_code == 403
    assert client.post(f"/api/v1/registrations/{rid}/accept").status_code == 401
    assert client.get(f"/api/v1/registrations/{rid}").status_code == 404  # not public before the notice
    for step in ("accept", "review"):
        r = client.post(f"/api/v1/registrations/{rid}/{step}", headers=_auth(t["operator"]))
        assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/registrations/{rid}/notice", json={"notice_days": 0}, headers=_auth(t["operator"])
    )
    assert r.json()["state"] == "notice"
    assert client.get(f"/api/v1/registrations/{rid}").status_code == 200  # 公示: public
    # With a zero-day notice the period is already over: objections are refused, coding proceeds.
    r = client.post(
        f"/api/v1/registrations/{rid}/object", json={"reason": "晚了"}, headers=_auth(t["citizen"])
    )
    assert r.status_code == 409, r.text
    r = client.post(f"/api/v1/registrations/{rid}/code", headers=_auth(t["operator"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "coded" and body["resource_code"].startswith("330000-A")
    assert [e["step"] for e in body["events"]] == ["apply", "accept", "review", "notice", "code"]
    assert (
        client.get("/api/v1/datasets/bus-lines", headers=_auth(t["editor"])).json()["resource_code"]
        == body["resource_code"]
    )
    # A second first registration of a coded entry is a conflict.
    r = client.post(
        "/api/v1/datasets/bus-lines/registrations", json={"kind": "first"}, headers=_auth(t["editor"])
    )
    assert r.status_code == 409 and r.json()["error"] == "InvalidState"

    history = client.get("/api/v1/datasets/bus-lines/history", headers=_auth(t["editor"])).json()
    assert history[0]["action"] == "registration.code"
    assert {"dataset.code", "dataset.create"} <= {h["action"] for h in history}
    assert client.get("/api/v1/organizations/jtt/history", headers=_auth(t["citizen"])).status_code == 403
    org_history = client.get("/api/v1/organizations/jtt/history", headers=_auth(t["regulator"]))
    assert org_history.status_code == 200 and len(org_history.json()) >= len(history)


def test_objection_and_rejection(app_client: TestClient) -> None:
    client = app_client
    t = _setup(client)
    rid = client.post(
        "/api/v1/datasets/taxis/registrations", json={"kind": "first"}, headers=_auth(t["editor"])
    ).json()["id"]
    for step in ("accept", "review", "notice"):
        assert (
            client.post(f"/api/v1/registrations/{rid}/{step}", headers=_auth(t["operator"])).status_code
            == 200
        )
    r = client.post(
        f"/api/v1/registrations/{rid}/object", json={"reason": "数据重复登记"}, headers=_auth(t["citizen"])
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert client.post(f"/api/v1/registrations/{rid}/code", headers=_auth(t["operator"])).status_code == 409
    r = client.post(
        f"/api/v1/registrations/{rid}/objections/{oid}", json={"upheld": True}, headers=_auth(t["citizen"])
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/registrations/{rid}/objections/{oid}", json={"upheld": True}, headers=_auth(t["operator"])
    )
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    assert (
        client.post(
            f"/api/v1/registrations/{rid}/reject", json={"reason": ""}, headers=_auth(t["operator"])
        ).status_code
        == 422
    )
    r = client.post(
        f"/api/v1/registrations/{rid}/reject", json={"reason": "重复"}, headers=_auth(t["operator"])
    )
    assert r.json()["state"] == "rejected" and r.json()["rejection_reason"] == "重复"


def test_summary_and_exports_by_scope(app_client: TestClient) -> None:
    client = app_client
    t = _setup(client)
    public = client.get("/api/v1/ledger/summary").json()
    assert public["total"] == 0 and public["scope"]["statuses"] == ["published"]  # drafts are not public
    full = client.get("/api/v1/ledger/summary", headers=_auth(t["regulator"])).json()
    assert full["total"] == 2 and full["by_domain"] == {"transport": 2} and full["by_status"] == {"draft": 2}
    assert (
        client.get("/api/v1/ledger/summary?organization=jtt", headers=_auth(t["editor"])).json()["total"] == 2
    )

    r = client.get("/api/v1/ledger/export.csv", headers=_auth(t["operator"]))
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][2] == "资源名称" and sorted(row[2] for row in rows[1:]) == ["公交线路", "出租车"]
    anon = client.get("/api/v1/ledger/export.csv?organization=jtt")
    assert len(list(csv.reader(io.StringIO(anon.content.decode("utf-8-sig"))))) == 1  # header only
    assert client.get("/api/v1/ledger/export.csv?organization=nope").status_code == 404

    r = client.get("/api/v1/ledger/export.xlsx?organization=jtt", headers=_auth(t["regulator"]))
    assert r.status_code == 200 and "ledger-jtt.xlsx" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content), read_only=True).active
    assert sorted(row[2] for row in list(ws.iter_rows(values_only=True))[1:]) == ["公交线路", "出租车"]


def test_cli_import_and_export(tmp_path: Path, testdata: Path) -> None:
    env = {
        **os.environ,
        "DATALEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "DATALEDGER_STORAGE_URL": str(tmp_path / "objects"),
        "DATALEDGER_VAR_DIR": str(tmp_path / "var"),
    }
    cli = str(Path(sys.executable).parent / "dataledger")
    catalog = testdata / "zh-portal-catalogs" / "catalogs" / "anhui_hefei.json"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([cli, "ledger", *args], env=env, capture_output=True, text=True, timeout=300)

    r = run("import", str(catalog), "--mapping", "anhui_hefei", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "would import 318, rejected 3" in r.stderr
    r = run("import", str(catalog), "--mapping", "anhui_hefei", "--report", str(tmp_path / "rej.csv"))
    assert r.returncode == 0, r.stderr and "imported 318" in r.stderr
    assert (tmp_path / "rej.csv").read_text(encoding="utf-8-sig").count("title,missing") == 3
    r = run("export", "--format", "csv", "-o", str(tmp_path / "ledger.csv"))
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "ledger.csv").read_text(encoding="utf-8-sig").splitlines()) == 319
    assert run("import", str(catalog), "--mapping", "no_such_mapping").returncode == 1
