"""The CKAN surface in process: envelopes, error shapes and codes, fq, facets, paging, visibility."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from catalog.models import QualityJob, ResourceVersion
from tests.portal.ckan.conftest import Catalog

A = "/api/3/action/"


def _get(
    client: TestClient, action: str, token: str | None = None, /, **params: Any
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": token} if token else {}
    r = client.get(A + action, params=params, headers=headers, follow_redirects=False)
    return r.status_code, r.json()


def _post(
    client: TestClient, action: str, token: str | None = None, /, **data: Any
) -> tuple[int, dict[str, Any]]:
    headers = {"X-CKAN-API-Key": token} if token else {}
    r = client.post(A + action, json=data, headers=headers, follow_redirects=False)
    return r.status_code, r.json()


def _names(body: dict[str, Any]) -> list[str]:
    return [p["name"] for p in body["result"]["results"]]


def test_envelope_and_both_prefixes_without_redirects(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    for path in ("/api/action/package_list", "/api/3/action/package_list", "/api/3/action/package_list/"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 200, path
        body = r.json()
        assert body["success"] is True
        assert body["help"].endswith("/api/3/action/help_show?name=package_list")
        assert body["result"] == cat.public
    r = client.post("/api/action/package_show/", json={"id": "bus-lines"}, follow_redirects=False)
    assert r.status_code == 200 and r.json()["result"]["name"] == "bus-lines"
    status, body = _get(client, "help_show", name="package_search")
    assert status == 200 and "fq" in body["result"]


ERROR_CASES: list[tuple[str, str, dict[str, str], int, str]] = [
    ("get", "no_such_action", {}, 400, "Bad request - Action name not known"),
    ("get", "package_show", {"id": "nope"}, 404, "Not Found Error"),
    ("get", "package_show", {}, 409, "Validation Error"),
    ("get", "package_search", {"fq": "-tags:x"}, 400, "Search Query Error"),
    ("get", "package_search", {"fq": "license_id:x OR tags:y"}, 400, "Search Query Error"),
    ("get", "package_search", {"fq": "nosuchfield:x"}, 400, "Search Query Error"),
    ("get", "package_search", {"sort": "bogus desc"}, 400, "Search Query Error"),
    ("get", "package_search", {"fq": "metadata_modified:[yesterday TO *]"}, 400, "Search Query Error"),
    ("get", "package_search", {"rows": "many"}, 409, "Validation Error"),
    ("post", "package_create", {"name": "x-y", "owner_org": "jtt"}, 403, "Authorization Error"),
    ("get", "package_create", {"name": "x-y"}, 400, "Bad request - JSON Error"),
    (
        "get",
        "datastore_search",
        {"resource_id": "00000000-0000-0000-0000-000000000000"},
        404,
        "Not Found Error",
    ),
]


def test_error_shapes_and_status_codes(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, _cat = ckan_client
    public_res = _get(client, "package_show", id="bus-lines")[1]["result"]["resources"][0]["id"]
    cases = [*ERROR_CASES, ("get", "datastore_search", {"resource_id": public_res}, 404, "Not Found Error")]
    for method, action, data, status, kind in cases:
        got, body = (_get if method == "get" else _post)(client, action, **data)
        assert got == status, (action, data, body)
        assert body["success"] is False
        assert body["error"]["__type"] == kind
        assert body["error"]["message"]
        assert body["help"].endswith(f"help_show?name={action}")
    message = _get(client, "datastore_search", resource_id=public_res)[1]["error"]["message"]
    assert "datastore is not enabled for this resource" in message


def test_not_json_object_is_a_bad_request(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, _cat = ckan_client
    r = client.post(A + "package_show", content=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["__type"] == "Bad request - JSON Error"
    r = client.post(A + "package_show", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_validation_error_names_the_fields(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    status, body = _post(client, "package_create", cat.editor, name="bus-lines", owner_org="jtt")
    assert status == 409 and body["error"]["name"] and body["error"]["__type"] == "Validation Error"
    status, body = _post(client, "package_create", cat.editor, name="Bad Name", owner_org="jtt")
    assert status == 409 and "name" in body["error"]
    status, body = _post(client, "package_create", cat.editor, name="no-org")
    assert status == 409 and "owner_org" in body["error"]
    status, body = _post(
        client, "package_create", cat.editor, name="bad-open", owner_org="jtt", open_type="maybe"
    )
    assert status == 409 and "open_type" in body["error"]


def test_drafts_are_not_found_for_outsiders_and_listed_only_for_insiders(
    ckan_client: tuple[TestClient, Catalog],
) -> None:
    client, cat = ckan_client
    assert _get(client, "package_show", id=cat.draft)[0] == 404
    assert _get(client, "package_show", cat.outsider, id=cat.draft)[0] == 404
    status, body = _get(client, "package_show", cat.editor, id=cat.draft)
    assert status == 200 and body["result"]["private"] is True and body["result"]["state"] == "draft"
    assert cat.draft not in _get(client, "package_list", cat.editor)[1]["result"]
    assert cat.draft in _get(client, "package_list", cat.editor, include_private="true")[1]["result"]
    assert cat.draft not in _get(client, "package_list", cat.outsider, include_private="true")[1]["result"]
    assert cat.draft not in _names(_get(client, "package_search", cat.outsider, include_private="true")[1])
    assert cat.draft in _names(_get(client, "package_search", cat.sysadmin, include_private="true")[1])
    # A hidden package's activity and resources are hidden the same way.
    assert _get(client, "package_activity_list", id=cat.draft)[0] == 404


def test_package_dict_fields_and_types(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, _cat = ckan_client
    pkg = _get(client, "package_show", id="bus-lines")[1]["result"]
    assert pkg["type"] == "dataset" and pkg["state"] == "active" and pkg["private"] is False
    assert pkg["organization"]["name"] == "jtt" and pkg["owner_org"] == pkg["organization"]["id"]
    assert pkg["num_resources"] == 1 and pkg["num_tags"] == 2
    assert [t["name"] for t in pkg["tags"]] == ["公交", "交通"]
    assert pkg["license_id"] == "cc-by" and pkg["license_title"].startswith("Creative Commons")
    assert (
        pkg["grade"] == "general_1" and pkg["open_type"] == "unconditional" and pkg["domain"] == "transport"
    )
    assert "T" in pkg["metadata_modified"] and not pkg["metadata_modified"].endswith(("Z", "+00:00"))
    res = pkg["resources"][0]
    assert (
        res["package_id"] == pkg["id"]
        and res["format"] == "CSV"
        and res["url"] == "https://example.org/bus.csv"
    )
    assert res["url_type"] is None and res["position"] == 0
    assert _get(client, "resource_show", id=res["id"])[1]["result"]["id"] == res["id"]
    assert pkg["groups"][0]["name"] == "transport"


def test_fq_field_queries_and_facets(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, _cat = ckan_client
    cases = {
        "organization:jtt": ["bus-lines", "taxi-trips"],
        'tags:"公交"': ["bus-lines"],
        "tags:交通 +organization:jtt": ["bus-lines", "taxi-trips"],
        "tags:交通 AND res_format:JSON": ["taxi-trips"],
        "res_format:csv": ["bus-lines"],
        "organization:(jtt OR gat)": ["bus-lines", "crime-stats", "taxi-trips"],
        "metadata_modified:[2000-01-01T00:00:00Z TO *]": ["bus-lines", "crime-stats", "taxi-trips"],
        "metadata_modified:[* TO 2000-01-01T00:00:00Z]": [],
        "name:bus*": ["bus-lines"],
        "groups:transport": ["bus-lines", "taxi-trips"],
        "+dataset_type:dataset": ["bus-lines", "crime-stats", "taxi-trips"],
        "dataset_type:harvest": [],
    }
    for fq, expected in cases.items():
        status, body = _get(client, "package_search", fq=fq, sort="name asc")
        assert status == 200, (fq, body)
        assert _names(body) == expected, fq
        assert body["result"]["count"] == len(expected)
    status, body = _get(
        client,
        "package_search",
        q="*:*",
        **{"facet.field": json.dumps(["organization", "tags", "res_format"])},
    )
    result = body["result"]
    assert result["facets"]["organization"] == {"jtt": 2, "gat": 1}
    assert result["facets"]["tags"]["交通"] == 2
    items = result["search_facets"]["organization"]["items"]
    assert items[0] == {"name": "jtt", "display_name": "浙江省交通运输厅", "count": 2}
    assert result["search_facets"]["res_format"]["title"] == "res_format"
    # facets count the whole filtered set, also on the post-filtered path
    status, body = _get(
        client,
        "package_search",
        fq="metadata_modified:[2000-01-01T00:00:00Z TO *]",
        rows=1,
        **{"facet.field": '["organization"]', "facet.limit": "1"},
    )
    assert body["result"]["facets"]["organization"] == {"jtt": 2}
    assert body["result"]["count"] == 3 and len(body["result"]["results"]) == 1


def test_q_text_sort_and_paging(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, _cat = ckan_client
    assert _names(_get(client, "package_search", q="公交")[1]) == ["bus-lines"]
    assert _names(_get(client, "package_search", q="organization:gat")[1]) == ["crime-stats"]
    asc = _names(_get(client, "package_search", sort="name asc")[1])
    assert asc == sorted(asc) and len(asc) == 3
    assert _names(_get(client, "package_search", sort="name desc")[1]) == asc[::-1]
    ids = [p["id"] for p in _get(client, "package_search", sort="id asc")[1]["result"]["results"]]
    assert ids == sorted(ids)
    pages = [_names(_get(client, "package_search", sort="name asc", rows=1, start=i)[1]) for i in range(4)]
    assert pages == [[asc[0]], [asc[1]], [asc[2]], []]
    newest = _get(client, "package_search", sort="metadata_modified desc")[1]["result"]["results"]
    stamps = [p["metadata_modified"] for p in newest]
    assert stamps == sorted(stamps, reverse=True)
    assert _get(client, "package_search", rows=5000)[1]["result"]["count"] == 3  # rows capped, not refused
    assert _get(client, "package_list", limit=1, offset=1)[1]["result"] == [asc[1]]


def test_lists_orgs_groups_tags_licenses_users(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    assert _get(client, "organization_list")[1]["result"] == ["gat", "jtt"]
    orgs = {o["name"]: o for o in _get(client, "organization_list", all_fields="true")[1]["result"]}
    assert orgs["jtt"]["package_count"] == 2 and orgs["jtt"]["title"] == "浙江省交通运输厅"
    org = _get(client, "organization_show", cat.editor, id="jtt", include_datasets="true")[1]["result"]
    assert {p["name"] for p in org["packages"]} == {"bus-lines", "taxi-trips", cat.draft}
    org = _get(client, "organization_show", id="jtt", include_datasets="true")[1]["result"]
    assert {p["name"] for p in org["packages"]} == {"bus-lines", "taxi-trips"}
    assert "transport" in _get(client, "group_list")[1]["result"]
    group = _get(client, "group_show", id="transport", include_datasets="true")[1]["result"]
    assert group["package_count"] == 2 and group["title"]
    assert _get(client, "group_show", id="nope")[0] == 404
    assert _get(client, "tag_list")[1]["result"] == sorted(["交通", "公交", "公安"])
    assert _get(client, "tag_list", query="公")[1]["result"] == sorted(["公交", "公安"])
    assert "cc-by" in {lic["id"] for lic in _get(client, "license_list")[1]["result"]}
    user = _get(client, "user_show", id="editor")[1]["result"]
    assert user["name"] == "editor" and "email" not in user
    assert _get(client, "user_show", cat.editor, id="editor")[1]["result"]["email"] == "editor@example.org"
    assert _get(client, "user_show", id="ghost")[0] == 404
    listed = _get(client, "current_package_list_with_resources", limit=2)[1]["result"]
    assert len(listed) == 2 and all("resources" in p for p in listed)


def test_create_show_round_trip_and_publication_rights(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    pkg = {
        "name": "road-works",
        "title": "道路施工",
        "notes": "施工公告",
        "owner_org": "jtt",
        "tags": [{"name": "道路"}, {"name": "施工"}],
        "extras": [{"key": "source", "value": "交通厅"}, {"key": "a-key", "value": "1"}],
        "license_id": "cc-by",
        "author": "交通厅",
        "author_email": "a@example.org",
        "maintainer": "张三",
        "maintainer_email": "z@example.org",
        "url": "https://example.org/road",
        "version": "1.0",
        "grade": "general_2",
        "open_type": "unconditional",
        "update_frequency": "daily",
        "spatial": "330100",
        "temporal_start": "2024-01-01",
        "temporal_end": "2024-12-31",
        "private": False,
        "unknown_scalar": "kept",
        "unknown_nested": {"dropped": True},
        "resources": [
            {"name": "清单", "url": "https://example.org/r.csv", "format": "CSV", "description": "d"}
        ],
    }
    # An editor may create but not publish: the package is a draft.
    status, body = _post(client, "package_create", cat.editor, **pkg)
    assert status == 200, body
    created = body["result"]
    assert created["private"] is True and created["status"] == "draft"
    shown = _get(client, "package_show", cat.editor, id="road-works")[1]["result"]
    assert shown == created
    for key in (
        "name",
        "title",
        "notes",
        "license_id",
        "author",
        "author_email",
        "maintainer",
        "maintainer_email",
        "url",
        "version",
        "grade",
        "open_type",
        "update_frequency",
        "spatial",
        "temporal_start",
        "temporal_end",
    ):
        assert shown[key] == pkg[key], key
    assert [t["name"] for t in shown["tags"]] == ["道路", "施工"]
    extras = {e["key"]: e["value"] for e in shown["extras"]}
    assert extras == {"source": "交通厅", "a-key": "1", "unknown_scalar": "kept"}
    assert [e["key"] for e in shown["extras"]] == sorted(extras)
    res = shown["resources"][0]
    assert (res["name"], res["url"], res["format"], res["description"]) == (
        "清单",
        "https://example.org/r.csv",
        "CSV",
        "d",
    )
    # The org admin's private=false publishes (grade confirmed in the same call).
    status, body = _post(client, "package_create", cat.admin, **{**pkg, "name": "road-works-2"})
    assert status == 200 and body["result"]["private"] is False and body["result"]["state"] == "active"
    assert body["result"]["grade_confirmed"] is True
    assert _get(client, "package_show", id="road-works-2")[0] == 200
    # ... but not when the grade forbids the open type.
    status, body = _post(
        client, "package_create", cat.admin, **{**pkg, "name": "road-works-3", "grade": "general_4"}
    )
    assert status == 200 and body["result"]["private"] is True
    # Outsiders may not create in another agency; read-only tokens may not write.
    assert _post(client, "package_create", cat.outsider, **{**pkg, "name": "road-works-4"})[0] == 403
    assert _post(client, "package_create", cat.reader, **{**pkg, "name": "road-works-5"})[0] == 403
    assert _post(client, "package_create", "dl_not-a-real-token-at-all", **{**pkg, "name": "x-6"})[0] == 403


def test_update_patch_delete(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    status, body = _post(client, "package_patch", cat.editor, id="bus-lines", notes="新说明")
    assert status == 200 and body["result"]["notes"] == "新说明" and body["result"]["title"] == "公交线路"
    assert [t["name"] for t in body["result"]["tags"]] == ["公交", "交通"] and body["result"][
        "num_resources"
    ] == 1
    full = body["result"]
    full["title"] = "公交线路（新）"
    full["resources"].append({"name": "第二个", "url": "https://example.org/2.csv", "format": "CSV"})
    status, body = _post(client, "package_update", cat.editor, **full)
    assert status == 200, body
    assert body["result"]["title"] == "公交线路（新）" and body["result"]["num_resources"] == 2
    assert body["result"]["resources"][0]["id"] == full["resources"][0]["id"]  # kept in place
    # package_update replaces: tags left out are gone, resources given replace the list.
    status, body = _post(
        client,
        "package_update",
        cat.editor,
        id="bus-lines",
        title="只剩标题",
        resources=[{"name": "only", "url": "https://example.org/o.csv"}],
    )
    assert body["result"]["tags"] == [] and [r["name"] for r in body["result"]["resources"]] == ["only"]
    assert _post(client, "package_patch", cat.outsider, id="bus-lines", notes="x")[0] == 403
    assert _post(client, "package_patch", cat.outsider, id=cat.draft, notes="x")[0] == 404
    assert _post(client, "package_delete", cat.editor, id="bus-lines")[0] == 403  # admins delete
    status, body = _post(client, "package_delete", cat.admin, id="bus-lines")
    assert status == 200 and body["result"] is None
    assert _get(client, "package_show", id="bus-lines")[0] == 404
    assert _get(client, "package_show", cat.admin, id="bus-lines")[1]["result"]["state"] == "deleted"
    assert "bus-lines" not in _get(client, "package_list")[1]["result"]
    activity = _get(client, "package_activity_list", cat.admin, id="bus-lines")[1]["result"]
    assert activity[0]["activity_type"] == "deleted package"
    assert activity[-1]["activity_type"] == "new package"


def test_resource_upload_download_update_delete(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    body = "线路,站点\n1路,23\n".encode()
    r = client.post(
        A + "resource_create",
        data={"package_id": "bus-lines", "name": "上传表", "format": "CSV"},
        files={"upload": ("线路.csv", body, "text/csv")},
        headers={"Authorization": cat.editor},
    )
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["url_type"] == "upload" and res["size"] == len(body)
    assert res["hash"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert res["url"].endswith(f"/api/v1/resources/{res['id']}/download")
    download = client.get(res["url"].split("8000", 1)[-1])
    assert download.status_code == 200 and download.content == body
    status, found = _get(client, "datastore_search", resource_id=res["id"])
    assert status == 404 and "no queryable table" in found["error"]["message"]  # not ingested
    status, patched = _post(client, "resource_patch", cat.editor, id=res["id"], description="说明")
    assert (
        status == 200
        and patched["result"]["description"] == "说明"
        and patched["result"]["url_type"] == "upload"
    )
    r = client.post(
        A + "resource_update",
        data={"id": res["id"], "name": "上传表v2"},
        files={"upload": ("v2.csv", b"a,b\n1,2\n", "text/csv")},
        headers={"Authorization": cat.editor},
    )
    assert r.status_code == 200 and r.json()["result"]["version"] == 2 and r.json()["result"]["size"] == 8
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        queued = s.exec(
            select(ResourceVersion.version)
            .join(QualityJob, col(QualityJob.version_id) == ResourceVersion.id)
            .where(ResourceVersion.resource_id == uuid.UUID(res["id"]))
        ).all()
    assert sorted(queued) == [1, 2]  # files sent through CKAN are quality-checked like any other
    assert _post(client, "resource_delete", cat.outsider, id=res["id"])[0] == 403
    assert _post(client, "resource_delete", cat.editor, id=res["id"])[0] == 200
    assert _get(client, "resource_show", id=res["id"])[0] == 404
    assert _get(client, "resource_show", id="not-a-uuid")[0] == 404


def test_organization_patch_and_update(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    assert _post(client, "organization_patch", cat.editor, id="jtt", title="x")[0] == 403  # not its admin
    assert _post(client, "organization_patch", cat.outsider, id="jtt", title="x")[0] == 403
    assert _post(client, "organization_patch", cat.admin, id="jtt", region_code="abc")[0] == 409
    status, body = _post(client, "organization_patch", cat.admin, id="jtt", title="智慧交通数据局")
    org = body["result"]
    assert status == 200 and org["title"] == "智慧交通数据局" and org["package_count"] == 2
    assert _get(client, "organization_show", id="jtt")[1]["result"]["title"] == "智慧交通数据局"
    # the datasets' search entries follow the organization's new title
    assert sorted(_names(_get(client, "package_search", q="智慧交通数据局")[1])) == [
        "bus-lines",
        "taxi-trips",
    ]

    status, body = _post(client, "organization_update", cat.sysadmin, id="jtt", description="新的说明")
    org = body["result"]
    assert status == 200 and org["description"] == "新的说明"
    assert org["title"] == "jtt"  # update replaces: the title not given falls back to the name
    assert _post(client, "organization_patch", cat.admin, id="no-such-org", title="x")[0] == 404


def test_orgs_members_and_tokens(ckan_client: tuple[TestClient, Catalog]) -> None:
    client, cat = ckan_client
    assert _post(client, "organization_create", cat.editor, name="new-org", title="新机构")[0] == 403
    oid = "11111111-2222-3333-4444-555555555555"
    status, body = _post(
        client,
        "organization_create",
        cat.sysadmin,
        name="new-org",
        title="新机构",
        id=oid,
        image_url="http://x/logo.png",
        description="说明",
    )
    assert status == 200 and body["result"]["id"] == oid and body["result"]["description"] == "说明"
    assert _post(client, "organization_create", cat.sysadmin, name="new-org")[0] == 409
    assert (
        _post(client, "organization_member_create", cat.editor, id="jtt", username="outsider", role="editor")[
            0
        ]
        == 403
    )
    status, body = _post(
        client, "organization_member_create", cat.admin, id="jtt", username="outsider", role="editor"
    )
    assert status == 200 and body["result"]["capacity"] == "editor"
    assert _get(client, "package_show", cat.outsider, id=cat.draft)[0] == 200  # now an insider
    assert (
        _post(client, "organization_member_create", cat.admin, id="jtt", username="outsider", role="boss")[0]
        == 409
    )
    status, body = _post(client, "api_token_create", cat.editor, user="editor", name="ci")
    token = body["result"]["token"]
    assert status == 200 and _get(client, "package_show", token, id=cat.draft)[0] == 200
    assert _post(client, "api_token_create", cat.editor, user="boss", name="steal")[0] == 403
    assert _post(client, "api_token_create", cat.reader, user="editor", name="more")[0] == 403
    assert _post(client, "api_token_revoke", cat.outsider, token=token)[0] == 404
    assert _post(client, "api_token_revoke", cat.editor, token=token)[0] == 200
    status, body = _get(client, "package_show", token, id="taxi-trips")
    assert status == 403 and body["error"]["__type"] == "Authorization Error"
