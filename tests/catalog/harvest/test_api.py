"""/api/v1/harvest: sources for sysadmins and org admins, job reports for the organization."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from catalog.harvest import runner
from tests.factories import make_org, make_token, make_user
from tests.portal.conftest import app_client, settings  # noqa: F401 - fixtures of the portal tests


def test_sources_and_job_report(app_client: TestClient, testdata: Path) -> None:  # noqa: F811
    engine = app_client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as s:
        org, other = make_org(s, name="agency-a"), make_org(s, name="agency-b")
        admin = make_token(s, make_user(s, org=org, role="admin"))
        editor = make_token(s, make_user(s, org=org, role="editor"))
        outsider = make_token(s, make_user(s, org=other, role="admin"))
        s.commit()
    rdf = testdata / "ckanext-dcat-examples" / "dcat" / "catalog.rdf"
    body = {"name": "some-org", "kind": "dcat_rdf", "url": str(rdf), "organization": "agency-a"}
    assert app_client.post("/api/v1/harvest/sources", json=body).status_code == 401
    r = app_client.post("/api/v1/harvest/sources", json=body, headers={"Authorization": f"Bearer {editor}"})
    assert r.status_code == 403
    r = app_client.post(
        "/api/v1/harvest/sources",
        json={**body, "mapping": {"publish": True}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert r.status_code == 422  # publishing needs a grade
    r = app_client.post("/api/v1/harvest/sources", json=body, headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 201, r.text
    assert r.json()["mapping"]["open_type"] == "conditional"
    listed = app_client.get("/api/v1/harvest/sources", headers={"Authorization": f"Bearer {editor}"}).json()
    assert [x["name"] for x in listed] == ["some-org"]
    assert (
        app_client.get("/api/v1/harvest/sources", headers={"Authorization": f"Bearer {outsider}"}).json()
        == []
    )

    job_id = runner.run_harvest(engine, "some-org")
    r = app_client.get(f"/api/v1/harvest/jobs/{job_id}", headers={"Authorization": f"Bearer {editor}"})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["created"]) == ("finished", 2)
    assert "failures" in r.json()["report"]
    r = app_client.get(f"/api/v1/harvest/jobs/{job_id}", headers={"Authorization": f"Bearer {outsider}"})
    assert r.status_code == 404
