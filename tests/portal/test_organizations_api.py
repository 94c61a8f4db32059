"""PATCH /api/v1/organizations/{name}: an organization's admins correct its titles; the ledger keeps the change."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from catalog.models import LedgerEntry
from tests.portal.ckan.conftest import populate


def test_admins_edit_their_organization_and_the_ledger_records_it(app_client: TestClient) -> None:
    engine = app_client.app.state.engine  # type: ignore[attr-defined]
    cat = populate(engine)

    def patch(token: str, **body: object) -> tuple[int, dict[str, object]]:
        r = app_client.patch(
            "/api/v1/organizations/jtt", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return r.status_code, r.json()

    assert patch(cat.editor, title="x")[0] == 403
    assert patch(cat.outsider, title="x")[0] == 403
    assert app_client.patch("/api/v1/organizations/jtt", json={"title": "x"}).status_code == 401
    assert patch(cat.admin, region_code="33010")[0] == 422  # six or nine digits
    status, org = patch(cat.admin, title="浙江省交通运输厅（数据）", region_code="330000")
    assert status == 200 and org["title"] == "浙江省交通运输厅（数据）" and org["region_code"] == "330000"
    assert org["title_en"] == "Department of Transport"  # not given, so kept
    assert patch(cat.admin, title=None)[1]["title"] == "浙江省交通运输厅（数据）"  # a title cannot be removed
    with Session(engine) as s:
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.action == "organization.update")).all()
    assert len(entries) == 1  # the no-op patch wrote nothing
    assert app_client.get("/api/v1/organizations/jtt").json()["title"] == "浙江省交通运输厅（数据）"
