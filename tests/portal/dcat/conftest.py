"""A fully described published dataset (with an uploaded file and a link), a draft, and a client."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from catalog import service
from catalog.schemas import ResourceCreate
from tests.factories import make_dataset, make_org, make_token, make_user, publish

CSV = "线路名称,站点数\n1路,23\n2路,31\n".encode()


@dataclass
class Described:
    """Names and tokens the DCAT tests use."""

    published: str
    draft: str
    org: str
    editor_token: str
    file_resource_id: str


def describe_catalog(client: TestClient) -> Described:
    """One fully described published dataset, one draft of the same agency, an editor of it."""
    app = client.app
    with Session(app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        org = make_org(s, name="jtt", title="浙江省交通运输厅", title_en="Zhejiang Department of Transport")
        d = make_dataset(
            s,
            org,
            name="bus-lines",
            title="杭州市公交线路",
            title_en="Hangzhou bus lines",
            notes="杭州市公交线路及站点数量，按月更新。",
            domain="transport",
            tags=["公交", "交通"],
            update_frequency="monthly",
            spatial="330100",
            temporal_start=date(2020, 1, 1),
            temporal_end=date(2024, 12, 31),
            license_id="cc-by",
            contact_name="数据管理处",
            contact_email="data@jtt.example.org",
        )
        version = service.create_resource_with_file(
            s,
            app.state.storage,  # type: ignore[attr-defined]
            actor_id=None,
            dataset=d,
            data=ResourceCreate(name="线路表", format="CSV"),
            filename="lines.csv",
            stream=io.BytesIO(CSV),
            content_type="text/csv",
        )
        service.create_resource(
            s,
            actor_id=None,
            dataset=d,
            data=ResourceCreate(name="实时接口", format="JSON", url="https://api.example.org/bus/lines"),
        )
        publish(s, d)
        draft = make_dataset(s, org, name="secret-draft", title="未发布的草稿")
        editor = make_user(s, org=org)
        token = make_token(s, editor)
        s.commit()
        return Described(d.name, draft.name, org.name, token, str(version.resource_id))


@pytest.fixture
def described(app_client: TestClient) -> Described:
    """The catalog of describe_catalog in the test app."""
    return describe_catalog(app_client)
