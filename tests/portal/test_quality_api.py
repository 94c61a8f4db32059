"""Quality through the API: reports after the worker ran, schema edits, critical failures block publishing."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from catalog import pipeline
from tests.factories import make_org, make_token, make_user


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _run_jobs(client: TestClient, tmp_path: Path) -> None:
    engine, storage = client.app.state.engine, client.app.state.storage  # type: ignore[attr-defined]
    while (job_id := pipeline.claim_next(engine)) is not None:
        pipeline.run_job(engine, storage, job_id, workdir=tmp_path / "work")


def test_report_schema_and_blocking(app_client: TestClient, tmp_path: Path) -> None:
    client = app_client
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        org = make_org(s, name="wjw", title="卫生健康委员会")
        admin = make_token(s, make_user(s, org=org, role="admin", security_officer=True))
        s.commit()
    client.post(
        "/api/v1/datasets",
        json={
            "name": "clinics",
            "title": "医疗机构名录",
            "owner_org": "wjw",
            "grade": "general_1",
            "open_type": "unconditional",
        },
        headers=_auth(admin),
    )
    rid = client.post(
        "/api/v1/datasets/clinics/resources", json={"name": "名录"}, headers=_auth(admin)
    ).json()["id"]
    csv = "机构编号,机构名称,床位数\n001,第一医院,300\n002,第二医院,\n002,第三医院,120\n"
    r = client.put(
        f"/api/v1/resources/{rid}/file",
        params={"filename": "clinics.csv"},
        content=csv.encode(),
        headers=_auth(admin),
    )
    assert r.status_code == 201
    assert (
        client.get(f"/api/v1/resources/{rid}/quality", headers=_auth(admin)).json()["job_state"] == "queued"
    )
    _run_jobs(client, tmp_path)
    q = client.get(f"/api/v1/resources/{rid}/quality", headers=_auth(admin)).json()
    assert q["job_state"] == "done"
    assert q["row_count"] == 3
    assert q["report"]["score"]["overall"] >= 0
    assert {c["name"] for c in q["profile"]} == {"机构编号", "机构名称", "床位数"}

    # A schema that requires unique ids and beds: two critical failures.
    schema = {
        "fields": [
            {"name": "机构编号", "type": "string", "required": True, "unique": True},
            {"name": "机构名称", "type": "string", "required": True},
            {"name": "床位数", "type": "integer", "required": True},
        ]
    }
    r = client.put("/api/v1/datasets/clinics/schema", json=schema, headers=_auth(admin))
    assert r.status_code == 200, r.text
    _run_jobs(client, tmp_path)
    q = client.get(f"/api/v1/resources/{rid}/quality", headers=_auth(admin)).json()
    assert q["status"] == "blocked"
    failing = {r["id"]: r["unexpected_count"] for r in q["report"]["checks"]["results"] if not r["success"]}
    assert failing  # the duplicate id and the missing bed count
    client.post("/api/v1/datasets/clinics/grade", json={"grade": "general_1"}, headers=_auth(admin))
    r = client.post("/api/v1/datasets/clinics/publish", headers=_auth(admin))
    assert r.status_code == 409
    assert "关键质量规则" in r.json()["detail"]

    bad = client.put(
        "/api/v1/datasets/clinics/schema",
        json={"fields": [{"name": "x", "type": "nope"}]},
        headers=_auth(admin),
    )
    assert bad.status_code == 422
    assert bad.json()["error"] == "InvalidSchema"
