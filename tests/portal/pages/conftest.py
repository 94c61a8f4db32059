"""A small ledger behind the test app: an agency, an enterprise, a regulator, an operator, and
datasets that are open, conditional, closed, draft, and one whose title and tags are HTML."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth.models import User
from catalog import service
from catalog.models import Dataset, Organization
from catalog.schemas import ResourceCreate
from tests.factories import PASSWORD, make_dataset, make_org, make_user, publish

XSS_TITLE = "<script>alert(1)</script>公交"
XSS_TAG = "<b>bold</b>"
XSS_ORG = "<i>交通</i>局"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    """What the tests sign in as and look at."""

    client: TestClient
    agency: Organization
    enterprise: Organization
    admin: User
    editor: User
    buyer: User
    regulator: User
    operator: User
    open_ds: Dataset
    conditional_ds: Dataset
    closed_ds: Dataset
    draft_ds: Dataset
    xss_ds: Dataset
    file_resource_id: str


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF_RE.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, user: User | str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a browser would."""
    name = user if isinstance(user, str) else user.name
    token = csrf_of(client.get("/user/login").text)
    r = client.post(
        "/user/login", data={"login": name, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text[:500]


def sign_out(client: TestClient) -> None:
    """Sign out through the header form."""
    token = csrf_of(client.get("/").text)
    client.post("/user/logout", data={"csrf_token": token}, follow_redirects=False)


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    """Cheap Argon2 parameters: these tests sign in many times and test pages, not hashing."""
    from auth.passwords import configure_hasher, restore_hasher

    previous = configure_hasher(time_cost=1, memory_cost_kib=8, parallelism=1)
    yield
    restore_hasher(previous)


@pytest.fixture
def world(app_client: TestClient) -> Iterator[World]:
    """The ledger, made through the services."""
    app = app_client.app
    storage = app.state.storage  # type: ignore[attr-defined]
    with Session(app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        agency = make_org(s, name="jtt", title=XSS_ORG, title_en="Transport Dept")
        enterprise = make_org(s, name="acme", title="示例科技有限公司", org_type="enterprise")
        admin = make_user(s, org=agency, role="admin", security_officer=True, fullname="王管理")
        editor = make_user(s, org=agency, role="editor")
        buyer = make_user(s, org=enterprise, role="admin", fullname="张企业")
        regulator = make_user(s, platform_roles=["regulator"])
        operator = make_user(s, platform_roles=["operator"])
        open_ds = make_dataset(
            s, agency, name="bus-routes", title="公交线路", title_en="Bus routes", notes="全市公交线路与站点"
        )
        res = service.create_resource(
            s, actor_id=None, dataset=open_ds, data=ResourceCreate(name="线路", format="CSV")
        )
        service.upload_resource_file(
            s, storage, actor_id=None, resource=res, filename="routes.csv",
            data=io.BytesIO("线路,起点\n1路,火车站\n".encode()), content_type="text/csv",
        )  # fmt: skip
        publish(s, open_ds)
        conditional_ds = publish(
            s,
            make_dataset(
                s, agency, name="drivers", title="网约车驾驶员", open_type="conditional", grade="general_3"
            ),
        )
        closed_ds = publish(
            s,
            make_dataset(s, agency, name="critical", title="关键基础设施", open_type="closed", grade="core"),
        )
        draft_ds = make_dataset(s, agency, name="draft-one", title="草稿数据集")
        xss_ds = make_dataset(
            s, agency, name="xss", title=XSS_TITLE, notes="说明 <img src=x onerror=alert(2)> 公交", tags=[XSS_TAG, "公交"],
            update_frequency="daily",
        )  # fmt: skip
        publish(s, xss_ds)
        xss_ds.data_updated_at = datetime.now(UTC) - timedelta(days=30)  # overdue, so the dashboard lists it
        s.add(xss_ds)
        s.commit()
        world = World(
            client=app_client, agency=agency, enterprise=enterprise, admin=admin, editor=editor, buyer=buyer,
            regulator=regulator, operator=operator, open_ds=open_ds, conditional_ds=conditional_ds,
            closed_ds=closed_ds, draft_ds=draft_ds, xss_ds=xss_ds, file_resource_id=str(res.id),
        )  # fmt: skip
    yield world
