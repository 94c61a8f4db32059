"""DCAT export: each format, content negotiation, paging, visibility, and schema.org JSON-LD."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from sqlmodel import Session

from catalog import service
from portal.dcat import schema_org_jsonld
from portal.dcat.negotiation import negotiate
from portal.dcat.router import DcatSettings
from tests.factories import make_dataset, make_org, publish
from tests.portal.dcat.conftest import Described

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
BASE = "http://127.0.0.1:8000"
PARSE = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}
MEDIA = {"ttl": "text/turtle", "rdf": "application/rdf+xml", "jsonld": "application/ld+json"}


def _graph(text: str, suffix: str) -> Graph:
    return Graph().parse(data=text, format=PARSE[suffix])


@pytest.mark.parametrize("suffix", ["ttl", "rdf", "jsonld"])
def test_dataset_in_each_format(app_client: TestClient, described: Described, suffix: str) -> None:
    r = app_client.get(f"/dataset/{described.published}.{suffix}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(MEDIA[suffix])
    g = _graph(r.text, suffix)
    ds = URIRef(f"{BASE}/dataset/bus-lines")
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert (ds, DCT.title, Literal("杭州市公交线路", lang="zh")) in g
    assert (ds, DCT.title, Literal("Hangzhou bus lines", lang="en")) in g
    assert (ds, DCAT.keyword, Literal("公交", lang="zh")) in g
    freq = URIRef("http://publications.europa.eu/resource/authority/frequency/MONTHLY")
    assert (ds, DCT.accrualPeriodicity, freq) in g
    public = URIRef("http://publications.europa.eu/resource/authority/access-right/PUBLIC")
    assert (ds, DCT.accessRights, public) in g
    assert (ds, DCAT.theme, URIRef(f"{BASE}/vocab/domains/transport")) in g
    assert (ds, DCAT.theme, URIRef("http://publications.europa.eu/resource/authority/data-theme/TRAN")) in g
    [issued] = g.objects(ds, DCT.issued)
    assert str(issued.datatype).endswith("#dateTime")
    [publisher] = g.objects(ds, DCT.publisher)
    assert Literal("浙江省交通运输厅", lang="zh") in set(
        g.objects(publisher, URIRef("http://xmlns.com/foaf/0.1/name"))
    )
    distributions = set(g.objects(ds, DCAT.distribution))
    assert len(distributions) == 2
    uploaded = URIRef(f"{BASE}/dataset/bus-lines/resource/{described.file_resource_id}")
    assert uploaded in distributions
    [checksum] = g.objects(uploaded, SPDX.checksum)
    [value] = g.objects(checksum, SPDX.checksumValue)
    import hashlib

    from tests.portal.dcat.conftest import CSV

    assert str(value) == hashlib.sha256(CSV).hexdigest()
    assert int(next(g.objects(uploaded, DCAT.byteSize))) == len(CSV)
    assert (
        uploaded,
        DCT["format"],
        URIRef("http://publications.europa.eu/resource/authority/file-type/CSV"),
    ) in g
    assert (uploaded, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/text/csv")) in g
    link = next(d for d in distributions if d != uploaded)
    assert (link, DCAT.accessURL, URIRef("https://api.example.org/bus/lines")) in g


def test_drafts_are_absent_for_outsiders_and_present_for_their_agency(
    app_client: TestClient, described: Described
) -> None:
    g = _graph(app_client.get("/catalog.ttl").text, "ttl")
    datasets = set(g.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {URIRef(f"{BASE}/dataset/bus-lines")}
    assert app_client.get(f"/dataset/{described.draft}.ttl").status_code == 404
    assert app_client.get(f"/dataset/{described.draft}", headers={"Accept": "text/turtle"}).status_code == 404
    auth = {"Authorization": f"Bearer {described.editor_token}"}
    g = _graph(app_client.get("/catalog.ttl", headers=auth).text, "ttl")
    assert URIRef(f"{BASE}/dataset/secret-draft") in set(g.subjects(RDF.type, DCAT.Dataset))
    assert app_client.get(f"/dataset/{described.draft}.ttl", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("accept", "suffix"),
    [
        ("text/turtle", "ttl"),
        ("application/rdf+xml", "rdf"),
        ("application/ld+json", "jsonld"),
        ("text/html;q=0.5, application/ld+json", "jsonld"),
        ("text/turtle;q=0.2, application/rdf+xml;q=0.9", "rdf"),
    ],
)
def test_content_negotiation(app_client: TestClient, described: Described, accept: str, suffix: str) -> None:
    for path in ("/catalog", f"/dataset/{described.published}"):
        r = app_client.get(path, headers={"Accept": accept})
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith(MEDIA[suffix])
        assert "accept" in r.headers["vary"].lower()
        g = _graph(r.text, suffix)
        assert URIRef(f"{BASE}/dataset/bus-lines") in set(g.subjects(RDF.type, DCAT.Dataset))


def test_negotiation_without_a_page_route_and_406(app_client: TestClient, described: Described) -> None:
    r = app_client.get(f"/dataset/{described.published}", headers={"Accept": "image/png"})
    assert r.status_code == 406
    r = app_client.get("/vocab/domains", headers={"Accept": "*/*"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = _graph(r.text, "ttl")
    scheme = URIRef(f"{BASE}/vocab/domains")
    assert (
        URIRef(f"{BASE}/vocab/domains/health"),
        URIRef("http://www.w3.org/2004/02/skos/core#inScheme"),
        scheme,
    ) in g


def test_html_goes_to_the_page_when_there_is_one(app_client: TestClient, described: Described) -> None:
    """A browser on /catalog gets whatever page route the app has, or Turtle when it has none."""
    from portal.dcat.negotiation import _has_other_route

    path = f"/dataset/{described.published}"
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }
    has_page = _has_other_route({**scope, "app": app_client.app})
    r = app_client.get(f"/dataset/{described.published}", headers={"Accept": "text/html,*/*;q=0.8"})
    if has_page:
        assert r.headers["content-type"].startswith("text/html")
    else:
        assert r.headers["content-type"].startswith("text/turtle")


def test_negotiate_parses_quality_values() -> None:
    assert negotiate(None) == "*"
    assert negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") == "html"
    assert negotiate("application/ld+json;q=0.1, text/turtle") == "ttl"
    assert negotiate("*/*, text/turtle") == "ttl"
    assert negotiate("image/png") is None
    assert negotiate("text/turtle;q=0") is None


def test_catalog_paging(app_client: TestClient, described: Described) -> None:
    app_client.app.state.dcat_settings = DcatSettings(page_size=2)  # type: ignore[attr-defined]
    with Session(app_client.app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        org = service.require_organization(s, described.org)
        for n in range(4):
            publish(s, make_dataset(s, org, name=f"extra-{n}", title=f"附加数据{n}"))
        s.commit()
    seen: list[URIRef] = []
    page, pages = 1, 0
    while True:
        g = _graph(app_client.get("/catalog.ttl", params={"page": page}).text, "ttl")
        here = URIRef(f"{BASE}/catalog.ttl?page={page}")
        assert int(next(g.objects(here, HYDRA.totalItems))) == 5
        assert int(next(g.objects(here, HYDRA.itemsPerPage))) == 2
        assert next(g.objects(here, HYDRA.lastPage)) == URIRef(f"{BASE}/catalog.ttl?page=3")
        items = sorted(g.subjects(RDF.type, DCAT.Dataset))
        assert len(items) <= 2
        seen += items
        pages += 1
        nxt = list(g.objects(here, HYDRA.nextPage))
        if not nxt:
            break
        page += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    g = _graph(app_client.get("/catalog.jsonld", params={"page": 1, "page_size": 10}).text, "jsonld")
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 5


def test_schema_org_jsonld(app_client: TestClient, described: Described) -> None:
    with Session(app_client.app.state.engine) as s:  # type: ignore[attr-defined]
        dataset = service.require_dataset(s, described.published)
        org = service.require_organization(s, dataset.owner_org_id)
        resources = service.list_resources(s, dataset)
        versions = service.latest_versions(s, resources)
        doc = schema_org_jsonld(
            dataset, organization=org, resources=resources, versions=versions, base_url=BASE
        )
    text = json.dumps(doc, ensure_ascii=False)
    back = json.loads(text)
    assert back["@context"] == "https://schema.org/"
    assert back["@type"] == "Dataset"
    for key in ("name", "description", "url", "identifier", "license", "creator", "distribution"):
        assert back[key], key
    assert back["name"] == "杭州市公交线路"
    assert back["creator"]["@type"] == "Organization" and back["creator"]["name"] == "浙江省交通运输厅"
    assert back["temporalCoverage"] == "2020-01-01/2024-12-31"
    assert back["isAccessibleForFree"] is True
    assert {d["@type"] for d in back["distribution"]} == {"DataDownload"}
    assert any(d.get("encodingFormat") == "text/csv" for d in back["distribution"])
    # It is also valid JSON-LD: rdflib reads it with the schema.org vocabulary.
    g = Graph().parse(
        data=json.dumps({**back, "@context": {"@vocab": "https://schema.org/"}}), format="json-ld"
    )
    assert (URIRef(back["@id"]), RDF.type, URIRef("https://schema.org/Dataset")) in g


def test_withdrawn_dataset_leaves_the_public_catalog(app_client: TestClient, described: Described) -> None:
    with Session(app_client.app.state.engine) as s:  # type: ignore[attr-defined]
        other = make_org(s)
        d = publish(s, make_dataset(s, other, name="to-withdraw"))
        service.set_dataset_status(s, actor_id=None, dataset=d, status="withdrawn")
        s.commit()
    g = _graph(app_client.get("/catalog.rdf").text, "rdf")
    assert URIRef(f"{BASE}/dataset/to-withdraw") not in set(g.subjects(RDF.type, DCAT.Dataset))
