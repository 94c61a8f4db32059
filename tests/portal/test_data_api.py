"""The data API over HTTP: queries, previews and signed download links, on every open type."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth.grants import Grant, create_grant, revoke_grant
from catalog import service
from catalog.models import ResourceVersion
from catalog.schemas import ResourceCreate
from storage import Storage, make_key
from tests.factories import make_dataset, make_org, make_token, make_user, publish

DISTRICTS = ["西湖区", "上城区", "拱墅区", "滨江区", "萧山区"]
ROWS = 60


def sample_table(rows: int = ROWS) -> pa.Table:
    """A small table with Chinese names, nulls and characters that mean something to SQL."""
    return pa.table(
        {
            "id": pa.array(range(1, rows + 1), pa.int64()),
            "区县": [DISTRICTS[i % 5] for i in range(rows)],
            "人口": pa.array(
                [None if i % 7 == 3 else 1000 + (i * 37) % 500 for i in range(rows)], pa.int64()
            ),
            "面积": [round(10.5 + i * 0.25, 2) for i in range(rows)],
            "日期": [date(2024, 1, 1) + timedelta(days=i) for i in range(rows)],
            "备注": [f"note {i} 100%_done' or 1=1 --" if i % 10 == 0 else f"记录{i}" for i in range(rows)],
        }
    )


def sample_records(rows: int = ROWS) -> list[dict[str, Any]]:
    return sample_table(rows).to_pylist()


def add_table_resource(
    session: Session, storage: Storage, dataset: Any, *, table: pa.Table | None = None, name: str = "表"
) -> ResourceVersion:
    """A resource with an uploaded CSV and its normalized Parquet copy, as ingestion leaves them."""
    table = table if table is not None else sample_table()
    resource = service.create_resource(
        session, actor_id=None, dataset=dataset, data=ResourceCreate(name=name)
    )
    sink = io.StringIO()
    writer = csv.writer(sink)
    writer.writerow(table.column_names)
    writer.writerows(zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True))
    version = service.upload_resource_file(
        session,
        storage,
        actor_id=None,
        resource=resource,
        filename=f"{name}.csv",
        data=[sink.getvalue().encode("utf-8")],
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=16)
    buffer.seek(0)
    key = make_key("datasets", str(dataset.id), str(resource.id), f"v{version.version}.normalized.parquet")
    storage.put(key, buffer, content_type="application/vnd.apache.parquet")
    version.normalized_key = key
    version.row_count = table.num_rows
    version.columns = [{"name": n} for n in table.column_names]
    session.add(version)
    session.flush()
    return version


@dataclass
class World:
    """An agency with one dataset per open type, a draft, and callers of every kind."""

    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    rid: dict[str, str] = field(default_factory=dict)
    grant_id: Any = None

    def get(self, path: str, who: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.get(path, headers={**headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, who: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.post(path, headers=headers, **kw)

    def data(self, kind: str, who: str | None = None, **params: Any) -> Any:
        return self.get(f"/api/v1/resources/{self.rid[kind]}/data", who, params=params)


def build_world(client: TestClient, *, query_quota: int | None = 3, download_quota: int | None = 2) -> World:
    """open: 无条件开放; cond: 有条件开放 (grantee holds a grant); closed: 不予开放; draft: unpublished."""
    world = World(client)
    storage: Storage = client.app.state.storage  # type: ignore[attr-defined]
    with Session(client.app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        org = make_org(s)
        other_org = make_org(s)
        users = {
            "member": make_user(s, org=org),
            "outsider": make_user(s, org=other_org),
            "grantee": make_user(s),
        }
        world.tokens = {k: make_token(s, u) for k, u in users.items()}
        specs = {
            "open": ("unconditional", "general_1", True),
            "cond": ("conditional", "general_3", True),
            "closed": ("closed", "general_4", True),
            "draft": ("unconditional", "general_1", False),
        }
        datasets = {}
        for kind, (open_type, grade, published) in specs.items():
            ds = make_dataset(s, org, open_type=open_type, grade=grade)
            if published:
                publish(s, ds)
            datasets[kind] = ds
            world.rid[kind] = str(add_table_resource(s, storage, ds).resource_id)
        now = datetime.now(UTC)
        grant = create_grant(
            s,
            user_id=users["grantee"].id,
            dataset_ids=[datasets["cond"].id],
            source="application",
            valid_from=now - timedelta(minutes=1),
            valid_to=now + timedelta(days=30),
            query_quota=query_quota,
            download_quota=download_quota,
        )
        world.grant_id = grant.id
        s.commit()
    return world


def grant_usage(client: TestClient, grant_id: Any) -> tuple[int, int]:
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        grant = s.get(Grant, grant_id)
        assert grant is not None
        return grant.queries_used, grant.downloads_used


# --- queries ----------------------------------------------------------------------------------


def test_query_filters_search_fields_sort_paging_total_csv(any_storage_client: TestClient) -> None:
    world = build_world(any_storage_client)
    expected = sample_records()

    r = world.data("open", filters=json.dumps({"区县": "西湖区"}), include_total="true")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["id"] for f in body["fields"]] == ["id", "区县", "人口", "面积", "日期", "备注"]
    assert {f["id"]: f["type"] for f in body["fields"]}["人口"] == "int"
    assert {f["id"]: f["type"] for f in body["fields"]}["日期"] == "date"
    assert body["total"] == 12
    assert [x["id"] for x in body["records"]] == [x["id"] for x in expected if x["区县"] == "西湖区"]
    assert body["records"][0]["日期"] == "2024-01-01"

    # IN, a range, and null equality
    r = world.data(
        "open", filters=json.dumps({"区县": ["西湖区", "滨江区"], "面积__gte": 20, "面积__lt": 22}), limit=100
    )
    want = [x["id"] for x in expected if x["区县"] in ("西湖区", "滨江区") and 20 <= x["面积"] < 22]
    assert [x["id"] for x in r.json()["records"]] == want and want
    r = world.data("open", filters=json.dumps({"人口": None}), fields="id")
    assert [x["id"] for x in r.json()["records"]] == [x["id"] for x in expected if x["人口"] is None]
    r = world.data("open", filters=json.dumps({"日期__gt": "2024-02-25"}), fields="id,日期")
    assert [x["id"] for x in r.json()["records"]] == [
        x["id"] for x in expected if x["日期"] > date(2024, 2, 25)
    ]
    assert list(r.json()["records"][0]) == ["id", "日期"]

    # q: case-insensitive substring; % and _ are literal
    r = world.data("open", q="NOTE 1", fields="id")
    assert [x["id"] for x in r.json()["records"]] == [11]
    r = world.data("open", q="100%_", include_total="true", limit=0)
    assert r.json()["total"] == 6 and r.json()["records"] == []
    r = world.data("open", q="%", fields="id")
    assert [x["id"] for x in r.json()["records"]] == [x["id"] for x in expected if "%" in x["备注"]]

    # sort with nulls last, several keys; offset paging
    r = world.data("open", sort="人口 desc, id asc", limit=1000, fields="id,人口")
    got = [(x["id"], x["人口"]) for x in r.json()["records"]]
    non_null = sorted((x for x in expected if x["人口"] is not None), key=lambda x: (-x["人口"], x["id"]))
    nulls = [x for x in expected if x["人口"] is None]
    assert got == [(x["id"], x["人口"]) for x in non_null + nulls]
    r = world.data("open", sort="人口 desc, id asc", limit=5, offset=10, fields="id")
    assert [x["id"] for x in r.json()["records"]] == [x["id"] for x in (non_null + nulls)[10:15]]

    # cursor paging walks the same order exactly once, across null keys
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"sort": "人口 desc", "limit": 7, "fields": "id"}
        if cursor:
            params["cursor"] = cursor
        body = world.data("open", **params).json()
        seen += [x["id"] for x in body["records"]]
        cursor = body["next_cursor"]
        pages += 1
        if cursor is None:
            break
    full = [x["id"] for x in world.data("open", sort="人口 desc", limit=1000, fields="id").json()["records"]]
    assert seen == full and sorted(seen) == list(range(1, ROWS + 1))
    assert pages == -(-ROWS // 7)

    # CSV, streamed, with the same rows
    r = world.data("open", format="csv", filters=json.dumps({"区县": "上城区"}), sort="id desc", limit=3)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert rows[0] == ["id", "区县", "人口", "面积", "日期", "备注"]
    ids = [int(row[0]) for row in rows[1:]]
    assert ids == sorted((x["id"] for x in expected if x["区县"] == "上城区"), reverse=True)[:3]


def test_row_ids_are_a_virtual_field(app_client: TestClient) -> None:
    world = build_world(app_client)
    r = world.data("open", fields="_id,id", filters=json.dumps({"_id__gt": 58}))
    assert r.json()["records"] == [{"_id": 59, "id": 59}, {"_id": 60, "id": 60}]
    assert "_id" not in world.data("open", limit=1).json()["records"][0]


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"filters": json.dumps({"nope": 1})}, "nope"),
    ({"filters": json.dumps({'x"; drop table resource; --': 1})}, "drop table"),
    ({"filters": json.dumps({"id": "' or 1=1 --"})}, "id"),
    ({"filters": json.dumps({"面积__between": 3})}, "面积__between"),
    ({"filters": json.dumps({"id__gte": [1, 2]})}, "list"),
    ({"filters": json.dumps({"id": {"$gt": 1}})}, "id"),
    ({"filters": "{not json"}, "JSON"),
    ({"filters": "[1, 2]"}, "object"),
    ({"fields": "id,x\" FROM read_csv('/etc/passwd') --"}, "fields"),
    ({"sort": "id sideways"}, "sort"),
    ({"sort": 'id; DROP TABLE "t"'}, "sort"),
    ({"sort": "id, id desc"}, "twice"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"limit": 10001}, "limit"),
    ({"limit": -1}, "limit"),
    ({"offset": -5}, "offset"),
    ({"format": "xml"}, "format"),
    ({"filters": json.dumps({"日期": "yesterday"})}, "日期"),
]


def test_bad_queries_are_400_with_one_error_shape(app_client: TestClient) -> None:
    world = build_world(app_client)
    for params, needle in BAD_QUERIES:
        r = world.data("open", **params)
        assert r.status_code == 400, (params, r.text)
        assert set(r.json()) == {"error", "detail"}
        assert r.json()["error"] == "InvalidQuery"
        assert needle.lower() in r.json()["detail"].lower(), (params, r.json())


def test_injection_in_values_is_just_data(app_client: TestClient) -> None:
    world = build_world(app_client)
    r = world.data("open", filters=json.dumps({"区县": "' or 1=1 --"}), include_total="true")
    assert r.status_code == 200 and r.json()["total"] == 0
    r = world.data("open", q="' or 1=1 --", include_total="true", fields="id")
    assert [x["id"] for x in r.json()["records"]] == [1, 11, 21, 31, 41, 51]  # the 备注 text holds it
    r = world.data("open", q="x'); DROP TABLE t; --", include_total="true")
    assert r.status_code == 200 and r.json()["total"] == 0
    assert world.data("open", include_total="true").json()["total"] == ROWS


def test_cursor_of_another_query_is_refused(app_client: TestClient) -> None:
    world = build_world(app_client)
    cursor = world.data("open", sort="id desc", limit=5).json()["next_cursor"]
    assert world.data("open", sort="id desc", limit=5, cursor=cursor).status_code == 200
    r = world.data("open", sort="id asc", limit=5, cursor=cursor)
    assert r.status_code == 400 and "cursor" in r.json()["detail"]
    r = world.data("open", sort="id desc", limit=5, cursor=cursor, offset=3)
    assert r.status_code == 400


# --- who may query ----------------------------------------------------------------------------


def test_unconditional_data_is_open_to_anyone(app_client: TestClient) -> None:
    world = build_world(app_client)
    for who in (None, "outsider", "grantee", "member"):
        assert world.data("open", who).status_code == 200, who
        assert world.get(f"/api/v1/resources/{world.rid['open']}/preview", who).status_code == 200


def test_conditional_data_needs_a_grant_and_counts_its_query_quota(app_client: TestClient) -> None:
    world = build_world(app_client, query_quota=2)
    for who in (None, "outsider"):
        r = world.data("cond", who)
        assert r.status_code == 403, (who, r.text)
        assert set(r.json()) == {"error", "detail"}
    assert world.data("cond", "member").status_code == 200  # insiders need no grant, spend none
    assert world.data("cond", "grantee", filters="{bad").status_code == 400  # refused: spends nothing
    assert grant_usage(app_client, world.grant_id) == (0, 0)
    assert world.data("cond", "grantee").status_code == 200
    r = world.data("cond", "grantee", format="csv")
    assert r.status_code == 200 and r.text.startswith("id,")
    assert grant_usage(app_client, world.grant_id) == (2, 0)
    r = world.data("cond", "grantee")
    assert r.status_code == 403
    assert "quota" in r.json()["detail"].lower() or "配额" in r.json()["detail"]
    assert grant_usage(app_client, world.grant_id) == (2, 0)
    # the preview is still allowed under the grant and spends no quota
    r = world.get(f"/api/v1/resources/{world.rid['cond']}/preview", "grantee")
    assert r.status_code == 200
    assert world.get(f"/api/v1/resources/{world.rid['cond']}/preview", "outsider").status_code == 403


def test_closed_data_is_for_the_organization_only_and_drafts_are_hidden(app_client: TestClient) -> None:
    world = build_world(app_client)
    for who in (None, "outsider", "grantee"):
        assert world.data("closed", who).status_code == 403, who
        assert world.get(f"/api/v1/resources/{world.rid['closed']}/preview", who).status_code == 403
        r = world.data("draft", who)
        assert r.status_code == 404, who
        assert world.get(f"/api/v1/resources/{world.rid['draft']}/preview", who).status_code == 404
    assert world.data("closed", "member").status_code == 200
    assert world.data("draft", "member").status_code == 200


def test_preview_shows_first_rows_with_types(any_storage_client: TestClient) -> None:
    world = build_world(any_storage_client)
    r = world.get(f"/api/v1/resources/{world.rid['open']}/preview", params={"rows": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["id"] for x in body["records"]] == [1, 2, 3, 4, 5]
    assert body["fields"][1] == {"id": "区县", "type": "text"}
    assert body["fields"][3] == {"id": "面积", "type": "numeric"}
    assert (
        world.get(f"/api/v1/resources/{world.rid['open']}/preview", params={"rows": 5000}).status_code == 400
    )


def test_resource_without_a_table_is_404(app_client: TestClient) -> None:
    world = build_world(app_client)
    storage: Storage = app_client.app.state.storage  # type: ignore[attr-defined]
    with Session(app_client.app.state.engine) as s:  # type: ignore[attr-defined]
        ds = service.require_dataset(s, service.require_resource(s, uuid.UUID(world.rid["open"])).dataset_id)
        resource = service.create_resource(s, actor_id=None, dataset=ds, data=ResourceCreate(name="pdf"))
        service.upload_resource_file(
            s, storage, actor_id=None, resource=resource, filename="a.pdf", data=[b"%PDF-1.4"]
        )
        s.commit()
        rid = resource.id
    r = app_client.get(f"/api/v1/resources/{rid}/data")
    assert r.status_code == 404
    assert r.json()["error"] == "TableNotAvailable"


# --- signed download links ----------------------------------------------------------------------


def _link(world: World, kind: str, who: str | None) -> Any:
    return world.post(f"/api/v1/resources/{world.rid[kind]}/download-link", who)


def test_download_link_for_open_data_works_without_credentials(app_client: TestClient) -> None:
    world = build_world(app_client)
    assert _link(world, "open", None).status_code == 401
    r = _link(world, "open", "outsider")
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert f"/api/v1/resources/{world.rid['open']}/download?token=" in url
    direct = world.get(f"/api/v1/resources/{world.rid['open']}/download")
    got = app_client.get(url)
    assert got.status_code == 200 and got.content == direct.content
    # tampered, or replayed on another resource
    assert app_client.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")).status_code == 401
    token = url.split("token=", 1)[1]
    other = app_client.get(f"/api/v1/resources/{world.rid['closed']}/download", params={"token": token})
    assert other.status_code == 401


def test_download_link_is_bound_to_the_grant_and_dies_with_it(app_client: TestClient) -> None:
    world = build_world(app_client, download_quota=2)
    assert _link(world, "cond", "outsider").status_code == 403
    assert _link(world, "closed", "outsider").status_code == 403
    assert _link(world, "draft", "outsider").status_code == 404
    r = _link(world, "cond", "grantee")
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert app_client.get(url).status_code == 200
    assert grant_usage(app_client, world.grant_id) == (0, 1)
    # a resumed transfer (Range past 0) does not count again
    assert app_client.get(url, headers={"Range": "bytes=5-"}).status_code == 206
    assert grant_usage(app_client, world.grant_id) == (0, 1)
    with Session(app_client.app.state.engine) as s:  # type: ignore[attr-defined]
        revoke_grant(s, grant_id=world.grant_id, actor_id=None, reason="违规使用")
        s.commit()
    r = app_client.get(url)
    assert r.status_code == 403
    assert r.json()["error"] == "GrantRevoked"
    assert world.data("cond", "grantee").status_code == 403


def test_download_link_quota_runs_out(app_client: TestClient) -> None:
    world = build_world(app_client, download_quota=1)
    url = _link(world, "cond", "grantee").json()["url"]
    assert app_client.get(url).status_code == 200
    r = app_client.get(url)
    assert r.status_code == 403
    assert grant_usage(app_client, world.grant_id) == (0, 1)
