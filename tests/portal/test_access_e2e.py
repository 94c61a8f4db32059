"""Acceptance: apply, approve, download within quota, run out, a new grant, revoke, and an audit chain that tells.

Over HTTP on SQLite and PostgreSQL; `dataledger audit verify` runs in a subprocess against the
same database, before and after a record is altered directly in SQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.portal.test_access_api import FILE, World, build_world

BIN = Path(sys.executable).parent / "dataledger"


def verify_cli(db_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`dataledger audit verify` in a subprocess, configured like a deployment (environment only)."""
    env = {
        **os.environ,
        "DATALEDGER_DATABASE_URL": db_url,
        "DATALEDGER_STORAGE_URL": str(tmp_path / "objects"),
        "DATALEDGER_VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run([str(BIN), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)


def test_apply_approve_download_revoke_and_verify_the_audit_chain(
    app_client: TestClient, db_url: str, tmp_path: Path
) -> None:
    world: World = build_world(app_client)

    # 1. the enterprise applies; the data authority checks; the agency approves with a quota of 2
    r = world.apply()
    assert r.status_code == 201, r.text
    first = world.approve(r.json()["id"], download_quota=2, days=90)
    assert first["downloads_left"] == 2

    # 2. downloads within quota, then the quota runs out
    assert world.download().status_code == 403  # anonymous: no grant
    assert world.download("outsider").status_code == 403
    for left in (1, 0):
        got = world.download("enterprise")
        assert got.status_code == 200 and got.content == FILE
        assert world.get(f"/api/v1/grants/{first['id']}", "enterprise").json()["downloads_left"] == left
    r = world.download("enterprise")
    assert r.status_code == 403 and r.json()["error"] == "QuotaExhausted"

    # 3. a new application and a new grant open the file again
    second = world.approve(world.apply().json()["id"], download_quota=5, days=120)
    assert world.download("enterprise").status_code == 200
    assert world.get(f"/api/v1/grants/{second['id']}", "enterprise").json()["downloads_used"] == 1
    r = world.post(f"/api/v1/resources/{world.rid}/download-link", "enterprise")
    assert r.status_code == 201, r.text
    link = r.json()["url"]
    assert app_client.get(link).status_code == 200

    # 4. the agency admin revokes the grant: the next download is refused at once, the link too
    r = world.post(f"/api/v1/grants/{second['id']}/revoke", "agency_admin", json={"reason": "违反约定用途"})
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    r = world.download("enterprise")
    assert r.status_code == 403
    r = app_client.get(link)
    assert r.status_code == 403 and r.json()["error"] == "GrantRevoked"

    # 5. the regulator sees the story in the audit log, and the chain verifies
    events = world.get("/api/v1/audit/events", "regulator", params={"object_id": second["id"]}).json()[
        "results"
    ]
    actions = [e["action"] for e in events]
    assert actions[0] == "grant.revoke" and "grant.create" in actions
    assert actions.count("grant.consume.download") == 2
    revoke_record = events[0]["id"]
    assert world.get("/api/v1/audit/verify", "regulator").json()["ok"] is True
    done = verify_cli(db_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "verifies" in done.stdout

    # 6. someone edits the revocation record in SQL: verification fails and names it
    engine = app_client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            sa.text("update audit_event set actor_name = :n where id = :i"),
            {"n": "someone-else", "i": revoke_record},
        )
    done = verify_cli(db_url, tmp_path)
    assert done.returncode == 1
    assert f"record {revoke_record}" in done.stderr
    status = world.get("/api/v1/audit/verify", "regulator").json()
    assert status["ok"] is False and status["broken_record_id"] == revoke_record


def test_a_fresh_grant_is_used_when_a_longer_one_is_used_up(app_client: TestClient) -> None:
    world = build_world(app_client)
    world.approve(world.apply().json()["id"], download_quota=1, days=180)
    assert world.download("enterprise").status_code == 200
    world.approve(world.apply().json()["id"], download_quota=3, days=30)
    assert world.download("enterprise").status_code == 200
