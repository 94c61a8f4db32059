"""/api/v1/search: Chinese words, Traditional finds Simplified, facets, and nothing the caller may not see."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_dataset, make_org, make_token, make_user, publish


def test_search_words_facets_and_visibility(app_client: TestClient) -> None:
    with Session(app_client.app.state.engine) as s:  # type: ignore[attr-defined]
        jtt = make_org(s, name="jtt", title="交通运输厅")
        wjw = make_org(s, name="wjw", title="卫生健康委员会")
        publish(s, make_dataset(s, jtt, name="bus", title="公交线路数据", domain="transport", tags=["公交"]))
        publish(s, make_dataset(s, wjw, name="clinics", title="医疗机构名录", domain="health"))
        make_dataset(s, jtt, name="draft-roads", title="道路交通事故数据（草稿）", domain="transport")
        insider = make_token(s, make_user(s, org=jtt))
        s.commit()
    r = app_client.get("/api/v1/search", params={"q": "交通"})
    assert r.status_code == 200, r.text
    assert [h["name"] for h in r.json()["items"]] == ["bus"]  # 交通运输厅 owns it; the draft stays hidden
    r = app_client.get("/api/v1/search", params={"q": "醫療"})
    assert [h["name"] for h in r.json()["items"]] == ["clinics"]
    r = app_client.get("/api/v1/search", params={"q": "数据", "facet": ["domain", "organization"]})
    assert r.json()["total"] == 1
    facets = r.json()["facets"]
    assert dict((v, c) for v, c in facets["domain"]) == {"transport": 1}
    r = app_client.get("/api/v1/search", params={"q": "交通"}, headers={"Authorization": f"Bearer {insider}"})
    assert {h["name"] for h in r.json()["items"]} == {"bus", "draft-roads"}
    r = app_client.get("/api/v1/search", params={"domain": "health"})
    assert [h["name"] for h in r.json()["items"]] == ["clinics"]
    r = app_client.get("/api/v1/search", params={"facet": "nonsense"})
    assert r.status_code == 400
    assert r.json()["error"] == "InvalidSearchQuery"
