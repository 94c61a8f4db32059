"""Access on /api/v1: applications, grants, usage reports, inbox, API tokens and the regulator's audit."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth import applications as apps
from auth.grants import Grant, create_grant, require_grant
from auth.policy import Actor
from auth.tokens import create_access_token
from catalog import service
from catalog.schemas import ResourceCreate
from portal.scheduler import Every, run_periodic
from storage import Storage
from tests.factories import make_dataset, make_org, make_token, make_user, publish

COMMITMENT = "本单位承诺：数据仅用于所述用途，不向第三方提供，不尝试重新识别个人。"
FILE = "区县,人口\n西湖区,1200\n上城区,980\n".encode()


@dataclass
class World:
    """An agency with a 有条件开放 dataset (one file), an enterprise, and callers of every role."""

    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    cond: str = ""  # dataset name
    open: str = ""
    draft: str = ""
    rid: str = ""  # resource id of the conditional dataset's file
    agency: str = ""
    other_agency: str = ""

    def call(self, method: str, path: str, who: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        headers.update(kw.pop("headers", {}))
        return self.client.request(method, path, headers=headers, **kw)

    def get(self, path: str, who: str | None = None, **kw: Any) -> Any:
        return self.call("GET", path, who, **kw)

    def post(self, path: str, who: str | None = None, **kw: Any) -> Any:
        return self.call("POST", path, who, **kw)

    def apply(self, who: str = "enterprise", **overrides: Any) -> Any:
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "datasets": [self.cond],
            "purpose": "交通规划研究",
            "scenario": "公交线网优化",
            "requested_from": now.isoformat(),
            "requested_to": (now + timedelta(days=180)).isoformat(),
            "security_commitment_signed": True,
            "commitment_text": COMMITMENT,
        }
        body.update(overrides)
        return self.post("/api/v1/applications", who, json=body)

    def download(self, who: str | None = None, **kw: Any) -> Any:
        return self.get(f"/api/v1/resources/{self.rid}/download", who, **kw)

    def approve(self, app_id: str, *, download_quota: int | None = 2, days: int = 90) -> dict[str, Any]:
        """Check, approve and accept an application; returns the grant."""
        r = self.post(f"/api/v1/applications/{app_id}/check", "operator", json={"outcome": "pass"})
        assert r.status_code == 200, r.text
        now = datetime.now(UTC)
        terms = {
            "decision": "approve",
            "valid_from": (now - timedelta(minutes=1)).isoformat(),
            "valid_to": (now + timedelta(days=days)).isoformat(),
            "download_quota": download_quota,
            "query_quota": 10,
            "allowed_use": "仅限交通规划研究",
        }
        r = self.post(f"/api/v1/applications/{app_id}/review", "agency_admin", json=terms)
        assert r.status_code == 200, r.text
        agreement = self.get(f"/api/v1/applications/{app_id}/agreement", "enterprise").json()
        r = self.post(
            f"/api/v1/applications/{app_id}/accept",
            "enterprise",
            json={"agreement_sha256": agreement["sha256"]},
        )
        assert r.status_code == 200, r.text
        return r.json()["grant"]  # type: ignore[no-any-return]


def build_world(client: TestClient) -> World:
    """Make the organizations, users (with write tokens), datasets and the file."""
    world = World(client)
    storage: Storage = client.app.state.storage  # type: ignore[attr-defined]
    with Session(client.app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        agency = make_org(s, title="交通运输厅")
        other = make_org(s, title="卫生健康委")
        company = make_org(s, title="杭州某科技有限公司", org_type="enterprise")
        people = {
            "agency_admin": make_user(s, org=agency, role="admin"),
            "agency_editor": make_user(s, org=agency, role="editor"),
            "other_admin": make_user(s, org=other, role="admin"),
            "enterprise": make_user(s, org=company, role="admin"),
            "outsider": make_user(s),
            "operator": make_user(s, platform_roles=["operator"]),
            "regulator": make_user(s, platform_roles=["regulator"]),
        }
        for key, user in people.items():
            world.tokens[key] = make_token(s, user, scope="write")
            world.users[key] = user.id
            world.names[key] = user.name
        cond = publish(s, make_dataset(s, agency, open_type="conditional", grade="general_3"))
        opened = publish(s, make_dataset(s, agency))
        draft = make_dataset(s, agency, open_type="conditional", grade="general_3")
        resource = service.create_resource(s, actor_id=None, dataset=cond, data=ResourceCreate(name="人口"))
        service.upload_resource_file(
            s, storage, actor_id=None, resource=resource, filename="人口.csv", data=[FILE]
        )
        s.commit()
        world.cond, world.open, world.draft = cond.name, opened.name, draft.name
        world.rid = str(resource.id)
        world.agency, world.other_agency = agency.name, other.name
    return world


@pytest.fixture
def world(app_client: TestClient) -> World:
    return build_world(app_client)


# --- applications ---------------------------------------------------------------------------------


def test_application_from_submission_to_grant_with_history_and_inbox(world: World) -> None:
    r = world.apply()
    assert r.status_code == 201, r.text
    app = r.json()
    app_id = app["id"]
    assert app["state"] == "submitted" and app["awaiting"] == "data_authority"
    assert app["datasets"][0]["name"] == world.cond
    assert app["history"][0]["step"] == "submit"
    # not visible to an outsider, nor to another agency
    assert world.get(f"/api/v1/applications/{app_id}", "outsider").status_code == 404
    assert world.get(f"/api/v1/applications/{app_id}", "other_admin").status_code == 404
    # only the data authority checks
    queue = world.get("/api/v1/applications/pending-check", "operator").json()
    assert [a["id"] for a in queue] == [app_id]
    assert world.get("/api/v1/applications/pending-check", "agency_admin").status_code == 403
    r = world.post(f"/api/v1/applications/{app_id}/check", "agency_admin", json={"outcome": "pass"})
    assert r.status_code == 403
    r = world.post(f"/api/v1/applications/{app_id}/check", "operator", json={"outcome": "pass"})
    assert r.status_code == 200 and r.json()["state"] == "checked"
    # the owning agency reviews: asking for more needs a reason
    assert [a["id"] for a in world.get("/api/v1/applications/pending-review", "agency_editor").json()] == [
        app_id
    ]
    assert world.get("/api/v1/applications/pending-review", "enterprise").json() == []  # its own org's queue
    assert world.get("/api/v1/applications/pending-review", "outsider").status_code == 403
    r = world.post(f"/api/v1/applications/{app_id}/review", "agency_editor", json={"decision": "more_info"})
    assert r.status_code == 422 and r.json()["error"] == "InvalidApplication"
    r = world.post(
        f"/api/v1/applications/{app_id}/review", "other_admin", json={"decision": "reject", "reason": "x"}
    )
    assert r.status_code == 404
    r = world.post(
        f"/api/v1/applications/{app_id}/review",
        "agency_editor",
        json={"decision": "more_info", "reason": "请说明数据保存方式"},
    )
    assert r.status_code == 200 and r.json()["state"] == "more_info_requested"
    r = world.post(
        f"/api/v1/applications/{app_id}/resubmit", "enterprise", json={"note": "数据保存在本地加密服务器"}
    )
    assert r.status_code == 200 and r.json()["state"] == "submitted"
    grant = world.approve(app_id, download_quota=5)
    assert grant["state"] == "active" and grant["download_quota"] == 5 and grant["downloads_left"] == 5
    assert grant["allowed_use"] == "仅限交通规划研究"
    assert [d["name"] for d in grant["datasets"]] == [world.cond]
    # both sides see the same history
    steps = ["submit", "check", "review", "resubmit", "check", "review", "accept_agreement"]
    for who in ("enterprise", "agency_editor", "regulator"):
        body = world.get(f"/api/v1/applications/{app_id}", who).json()
        assert [e["step"] for e in body["history"]] == steps, who
        assert body["state"] == "approved" and body["grant_id"] == grant["id"]
    history = world.get(f"/api/v1/applications/{app_id}/history", "enterprise").json()
    assert history[2]["reason"] == "请说明数据保存方式"
    assert history[2]["actor_name"] == world.names["agency_editor"]
    # the applicant's inbox tells the story; read one, then all
    page = world.get("/api/v1/inbox", "enterprise").json()
    kinds = {n["kind"] for n in page["results"]}
    assert {"application.submitted", "application.agreement_pending", "grant.issued"} <= kinds
    assert page["unread"] == len(page["results"])
    first = page["results"][0]["id"]
    assert world.post(f"/api/v1/inbox/{first}/read", "enterprise").json() == {"marked": 1}
    assert world.post(f"/api/v1/inbox/{first}/read", "outsider").status_code == 404
    assert world.get("/api/v1/inbox", "enterprise").json()["unread"] == page["unread"] - 1
    assert world.post("/api/v1/inbox/read-all", "enterprise").json()["marked"] == page["unread"] - 1
    assert world.get("/api/v1/inbox?unread_only=true", "enterprise").json()["results"] == []
    # reviewers were told of the checked application
    kinds = {n["kind"] for n in world.get("/api/v1/inbox", "agency_admin").json()["results"]}
    assert "application.to_review" in kinds


def test_agreement_is_frozen_and_accepted_by_its_hash(world: World) -> None:
    app_id = world.apply().json()["id"]
    world.post(f"/api/v1/applications/{app_id}/check", "operator", json={"outcome": "pass"})
    assert world.get(f"/api/v1/applications/{app_id}/agreement", "enterprise").status_code == 409
    r = world.post(
        f"/api/v1/applications/{app_id}/review",
        "agency_admin",
        json={"decision": "approve", "download_quota": 3},
    )
    assert r.status_code == 200 and r.json()["state"] == "agreement_pending"
    agreement = world.get(f"/api/v1/applications/{app_id}/agreement", "enterprise").json()
    assert "数据利用协议" in agreement["text"] and app_id in agreement["text"]
    assert agreement["sha256"] == apps.sha256_text(agreement["text"])
    # someone else cannot accept; a different text (hash) is refused
    r = world.post(
        f"/api/v1/applications/{app_id}/accept",
        "agency_admin",
        json={"agreement_sha256": agreement["sha256"]},
    )
    assert r.status_code == 404
    r = world.post(f"/api/v1/applications/{app_id}/accept", "enterprise", json={"agreement_sha256": "0" * 64})
    assert r.status_code == 409 and r.json()["error"] == "AgreementMismatch"
    r = world.post(
        f"/api/v1/applications/{app_id}/accept", "enterprise", json={"agreement_sha256": agreement["sha256"]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["agreement"]["sha256"] == agreement["sha256"] and body["agreement"]["accepted_at"]
    assert body["grant"]["download_quota"] == 3
    # accepting twice is a conflict, not a second grant
    r = world.post(
        f"/api/v1/applications/{app_id}/accept", "enterprise", json={"agreement_sha256": agreement["sha256"]}
    )
    assert r.status_code == 409
    assert len(world.get("/api/v1/grants", "enterprise").json()) == 1


def test_submission_is_refused_when_it_should_be(world: World) -> None:
    assert world.apply(who=None).status_code == 401  # type: ignore[arg-type]
    r = world.apply(datasets=[world.open])
    assert r.status_code == 403 and r.json()["error"] == "AccessDenied"  # 无条件开放: no application needed
    assert world.apply(datasets=[world.draft]).status_code == 404  # not visible
    assert world.apply(datasets=["no-such-dataset"]).status_code == 404
    assert world.apply(who="agency_editor").status_code == 403  # insiders need no application
    r = world.apply(security_commitment_signed=False)
    assert r.status_code == 422 and r.json()["error"] == "InvalidApplication"
    now = datetime.now(UTC)
    r = world.apply(requested_from=now.isoformat(), requested_to=(now - timedelta(days=1)).isoformat())
    assert r.status_code == 422
    assert world.apply(organization=world.agency).status_code == 403  # not the applicant's organization
    assert world.get("/api/v1/applications", "enterprise").json() == []


def test_withdraw_and_reject(world: World) -> None:
    first = world.apply().json()["id"]
    assert world.post(f"/api/v1/applications/{first}/withdraw", "operator", json={}).status_code == 403
    r = world.post(f"/api/v1/applications/{first}/withdraw", "enterprise", json={"reason": "不再需要"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    second = world.apply().json()["id"]
    r = world.post(
        f"/api/v1/applications/{second}/check",
        "operator",
        json={"outcome": "reject", "reason": "承诺书不完整"},
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    r = world.post(f"/api/v1/applications/{second}/review", "agency_admin", json={"decision": "approve"})
    assert r.status_code == 409
    states = {a["id"]: a["state"] for a in world.get("/api/v1/applications", "enterprise").json()}
    assert states == {first: "withdrawn", second: "rejected"}


def test_overdue_applications_for_reviewers_and_regulator(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine, expire_on_commit=False) as s:
        dataset = service.require_dataset(s, world.cond)
        applicant = Actor(user_id=world.users["enterprise"])
        past = datetime.now(UTC) - timedelta(days=30)
        late = apps.submit(
            s,
            applicant=applicant,
            datasets=[dataset],
            purpose="研究",
            scenario="",
            requested_from=past,
            requested_to=past + timedelta(days=90),
            security_commitment_signed=True,
            commitment_text=COMMITMENT,
            now=past,
        )
        s.commit()
    fresh = world.apply().json()["id"]
    for who in ("regulator", "operator", "agency_editor"):
        r = world.get("/api/v1/applications/overdue", who)
        assert r.status_code == 200, (who, r.text)
        listed = {a["id"]: a for a in r.json()}
        assert str(late.id) in listed and fresh not in listed, who
        assert listed[str(late.id)]["overdue"] is True
    assert world.get("/api/v1/applications/overdue", "other_admin").json() == []
    assert world.get("/api/v1/applications/overdue", "outsider").status_code == 403


# --- grants ---------------------------------------------------------------------------------------


def test_grants_are_listed_for_holder_and_agency_and_revoked_by_its_admin(world: World) -> None:
    grant = world.approve(world.apply().json()["id"])
    gid = grant["id"]
    assert [g["id"] for g in world.get("/api/v1/grants", "enterprise").json()] == [gid]
    assert world.get("/api/v1/grants", "outsider").json() == []
    for who in ("agency_admin", "agency_editor", "regulator"):
        r = world.get(f"/api/v1/organizations/{world.agency}/grants", who)
        assert [g["id"] for g in r.json()] == [gid], who
        assert world.get(f"/api/v1/grants/{gid}", who).status_code == 200
    assert world.get(f"/api/v1/organizations/{world.agency}/grants", "other_admin").status_code == 403
    assert world.get(f"/api/v1/organizations/{world.other_agency}/grants", "other_admin").json() == []
    assert world.get(f"/api/v1/grants/{gid}", "outsider").status_code == 404
    # an editor may see but not revoke; a reason is required
    assert (
        world.post(f"/api/v1/grants/{gid}/revoke", "agency_editor", json={"reason": "x"}).status_code == 403
    )
    assert world.post(f"/api/v1/grants/{gid}/revoke", "enterprise", json={"reason": "x"}).status_code == 403
    assert world.post(f"/api/v1/grants/{gid}/revoke", "agency_admin", json={"reason": ""}).status_code == 422
    r = world.post(f"/api/v1/grants/{gid}/revoke", "agency_admin", json={"reason": "超范围使用 / misuse"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "revoked" and r.json()["revoke_reason"] == "超范围使用 / misuse"
    assert world.get(f"/api/v1/grants/{gid}", "enterprise").json()["state"] == "revoked"
    kinds = [n["kind"] for n in world.get("/api/v1/inbox", "enterprise").json()["results"]]
    assert "grant.revoked" in kinds
    active = world.get(f"/api/v1/organizations/{world.agency}/grants?state=active", "agency_admin").json()
    assert active == []


def test_usage_reports_are_filed_by_the_grantee(world: World) -> None:
    grant = world.approve(world.apply().json()["id"], days=200)
    reports = world.get(f"/api/v1/grants/{grant['id']}/reports", "enterprise").json()
    kinds = [r["kind"] for r in reports]
    assert kinds == ["usage", "usage", "outcome"]  # every 90 days, then 应用成果 after the end
    assert world.get("/api/v1/reports?state=owed", "enterprise").json() == reports
    assert world.get(f"/api/v1/grants/{grant['id']}/reports", "outsider").status_code == 404
    rid = reports[-1]["id"]
    assert world.post(f"/api/v1/reports/{rid}", "outsider", json={"usage_text": "x"}).status_code == 404
    assert world.post(f"/api/v1/reports/{rid}", "enterprise", json={}).status_code == 422
    bad = {"results_text": "x", "result_links": [{"title": "t", "dataset": world.draft}]}
    assert world.post(f"/api/v1/reports/{rid}", "enterprise", json=bad).status_code == 404
    body = {
        "usage_text": "用于公交线网优化模型",
        "results_text": "发布了线网优化报告，并登记为开放数据",
        "result_links": [
            {"title": "优化报告", "url": "https://example.org/report.pdf"},
            {"title": "线网数据", "dataset": world.open},
        ],
    }
    r = world.post(f"/api/v1/reports/{rid}", "enterprise", json=body)
    assert r.status_code == 200, r.text
    filed = r.json()
    assert filed["state"] == "filed" and filed["filed_at"]
    assert filed["result_links"][1]["dataset_id"] is not None
    assert world.post(f"/api/v1/reports/{rid}", "enterprise", json=body).status_code == 409
    assert len(world.get("/api/v1/reports?state=filed", "enterprise").json()) == 1


# --- API tokens -----------------------------------------------------------------------------------


def test_my_api_tokens_scopes_and_revocation(world: World) -> None:
    r = world.post(
        "/api/v1/me/tokens", "enterprise", json={"name": "ETL 脚本", "scope": "read", "expires_in_days": 30}
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    raw = issued["token"]
    assert raw.startswith("dl_") and issued["scope"] == "read" and issued["expires_at"]
    listed = world.get("/api/v1/me/tokens", "enterprise").json()
    assert issued["id"] in [t["id"] for t in listed]
    assert (
        all("token" not in t for t in listed) and raw not in world.get("/api/v1/me/tokens", "enterprise").text
    )
    world.tokens["reader"] = raw
    # a read token reads, and may sign download links, but never writes
    assert world.get("/api/v1/me", "reader").status_code == 200
    assert world.get("/api/v1/applications", "reader").status_code == 200
    r = world.apply(who="reader")
    assert r.status_code == 403 and r.json()["error"] == "AccessDenied"
    assert world.post("/api/v1/inbox/read-all", "reader").status_code == 403
    r = world.post("/api/v1/me/tokens", "reader", json={"name": "x", "scope": "write"})
    assert r.status_code == 403
    assert world.post("/api/v1/me/tokens", "reader", json={"name": "x", "scope": "read"}).status_code == 403
    r = world.post("/api/v1/me/tokens", "enterprise", json={"name": "x", "scope": "admin"})
    assert r.status_code == 403  # a write token never issues an admin one
    assert (
        world.call("PATCH", f"/api/v1/datasets/{world.cond}", "reader", json={"title": "改"}).status_code
        == 403
    )
    # a read-scoped access token is held to the same rule
    settings = world.client.app.state.settings  # type: ignore[attr-defined]
    world.tokens["jwt_reader"] = create_access_token(
        settings.auth, user_id=world.users["enterprise"], scopes=("read",)
    )
    assert world.get("/api/v1/me", "jwt_reader").status_code == 200
    assert world.apply(who="jwt_reader").status_code == 403
    # revoke: refused from the next request on; someone else's token is "not found"
    assert world.call("DELETE", f"/api/v1/me/tokens/{issued['id']}", "outsider").status_code == 404
    r = world.call("DELETE", f"/api/v1/me/tokens/{issued['id']}", "enterprise")
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = world.get("/api/v1/me", "reader")
    assert r.status_code == 401 and r.json()["error"] == "TokenRevoked"
    assert world.get("/api/v1/me/tokens", None).status_code == 401


# --- the regulator's audit ------------------------------------------------------------------------


def test_audit_query_export_anomalies_and_verification(world: World) -> None:
    app_id = world.apply().json()["id"]
    for _ in range(10):  # an outsider keeps trying a conditional file
        assert world.download("outsider").status_code == 403
    for who in ("enterprise", "agency_admin", "operator", None):
        assert world.get("/api/v1/audit/events", who).status_code in (401, 403), who
        assert world.get("/api/v1/audit/verify", who).status_code in (401, 403), who
    r = world.get("/api/v1/audit/events", "regulator", params={"object_id": app_id})
    assert r.status_code == 200
    assert [e["action"] for e in r.json()["results"]] == ["application.submit"]
    r = world.get(
        "/api/v1/audit/events", "regulator", params={"actor": world.names["outsider"], "outcome": "denied"}
    )
    events = r.json()["results"]
    assert len(events) == 10 and {e["action"] for e in events} == {"resource.download"}
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, reverse=True)
    page = world.get(
        "/api/v1/audit/events", "regulator", params={"action": "resource.", "limit": 3, "offset": 3}
    ).json()
    assert [e["id"] for e in page["results"]] == ids[3:6]
    assert world.get("/api/v1/audit/events", "regulator", params={"actor": "nobody"}).json()["results"] == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert world.get("/api/v1/audit/events", "regulator", params={"since": future}).json()["results"] == []
    # CSV export, streamed, filtered
    r = world.get(
        "/api/v1/audit/events.csv", "regulator", params={"action": "resource.download", "bom": True}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["id", "at", "actor_id", "actor_name", "action"]
    assert len(rows) == 11 and {row[4] for row in rows[1:]} == {"resource.download"}
    # the export itself is on the record
    exported = world.get("/api/v1/audit/events", "regulator", params={"action": "audit.export"}).json()
    assert len(exported["results"]) == 1
    # anomalies: ten denials in a day
    found = world.get("/api/v1/audit/anomalies", "regulator").json()
    assert any(a["kind"] == "repeated_denials" and a["actor_name"] == world.names["outsider"] for a in found)
    # the chain verifies and names its head
    status = world.get("/api/v1/audit/verify", "regulator").json()
    assert status["ok"] is True and status["head_id"] > 10 and len(status["head_hash"]) == 64
    r = world.get(
        "/api/v1/audit/verify",
        "regulator",
        params={"head_id": status["head_id"] + 5, "head_hash": status["head_hash"]},
    )
    assert r.json()["ok"] is False and r.json()["broken_record_id"] == status["head_id"] + 5


# --- periodic jobs --------------------------------------------------------------------------------


def test_run_periodic_expires_grants_and_enforces_reports(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    settings = world.client.app.state.settings  # type: ignore[attr-defined]
    grant = world.approve(world.apply().json()["id"], days=200)
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as s:
        dataset = service.require_dataset(s, world.cond)
        short: Grant = create_grant(
            s,
            user_id=world.users["outsider"],
            dataset_ids=[dataset.id],
            source="targeted",
            valid_from=now - timedelta(days=2),
            valid_to=now + timedelta(minutes=5),
        )
        s.commit()
    # an hour later: the short grant has expired; nothing is due yet
    result = run_periodic(engine, settings, now + timedelta(hours=1))
    assert not result.errors and result.expired_grants == 1 and result.grants_suspended == 0
    with Session(engine) as s:
        assert require_grant(s, short.id).state == "expired"
    # 85 days on: the first 利用情况 report is due within a week, so a reminder goes out once
    result = run_periodic(engine, settings, now + timedelta(days=85))
    assert result.reminders_sent == 1
    assert run_periodic(engine, settings, now + timedelta(days=85, hours=1)).reminders_sent == 0
    # 91 days on it is overdue: the grant is suspended and downloads stop
    result = run_periodic(engine, settings, now + timedelta(days=91))
    assert result.grants_suspended == 1
    assert world.get(f"/api/v1/grants/{grant['id']}", "enterprise").json()["state"] == "suspended"
    kinds = [n["kind"] for n in world.get("/api/v1/inbox", "enterprise").json()["results"]]
    assert "report.due" in kinds and "grant.suspended" in kinds
    # a second run changes nothing (idempotent)
    again = run_periodic(engine, settings, now + timedelta(days=91))
    assert (again.expired_grants, again.grants_suspended, again.reminders_sent) == (0, 0, 0)


def test_every_is_due_at_most_once_per_interval() -> None:
    clock = iter([0.0, 10.0, 59.9, 60.0, 61.0, 130.0])
    every = Every(60.0, clock=lambda: next(clock))
    assert [every.due() for _ in range(6)] == [True, False, False, True, False, True]
