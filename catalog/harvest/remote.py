"""What a remote catalog says about one dataset, read from CKAN packages, DCAT RDF and DCAT-US JSON.

Readers only read: they produce RemoteDataset values in the remote's terms (with our vocabulary
codes where the remote speaks ours or an EU vocabulary); catalog.harvest.apply turns them into
our datasets under a source's mapping.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from catalog import vocab
from catalog.harvest.errors import RemoteUnreadable

USER_AGENT = "dataledger-harvester/0.1"
# EU frequency authority table codes -> our update frequencies.
EU_FREQUENCY = {
    "UPDATE_CONT": "realtime",
    "CONT": "realtime",
    "DAILY": "daily",
    "DAILY_2": "daily",
    "WEEKLY": "weekly",
    "WEEKLY_2": "weekly",
    "WEEKLY_3": "weekly",
    "BIWEEKLY": "weekly",
    "MONTHLY": "monthly",
    "MONTHLY_2": "monthly",
    "MONTHLY_3": "monthly",
    "BIMONTHLY": "quarterly",
    "QUARTERLY": "quarterly",
    "ANNUAL": "yearly",
    "ANNUAL_2": "yearly",
    "ANNUAL_3": "yearly",
    "IRREG": "irregular",
}
# ISO 8601 repeating intervals of DCAT-US accrualPeriodicity -> ours (rounded up, like catalog.vocab).
ISO_FREQUENCY = {
    "R/PT1S": "realtime",
    "R/PT1H": "realtime",
    "R/P1D": "daily",
    "R/P3.5D": "weekly",
    "R/P1W": "weekly",
    "R/P0.5M": "monthly",
    "R/P2W": "monthly",
    "R/P1M": "monthly",
    "R/P2M": "quarterly",
    "R/P3M": "quarterly",
    "R/P4M": "yearly",
    "R/P6M": "yearly",
    "R/P1Y": "yearly",
    "irregular": "irregular",
}
_OUR_DOMAIN_URI = re.compile(r"/vocab/domains/([a-z_]+)$")
_OUR_REGION_URI = re.compile(r"/vocab/regions/(\d{6}(?:\d{3})?)$")


@dataclass
class RemoteResource:
    """A distribution / resource as a link."""

    url: str
    name: str = ""
    description: str = ""
    format: str = ""


@dataclass
class RemoteDataset:
    """One remote dataset in neutral terms."""

    remote_id: str
    name: str = ""
    title: str = ""
    title_en: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    modified: str | None = None
    license_id: str = ""
    contact_name: str = ""
    contact_email: str = ""
    landing_url: str = ""
    domain: str = ""
    update_frequency: str = ""
    spatial: str = ""
    temporal_start: date | None = None
    temporal_end: date | None = None
    resources: list[RemoteResource] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # flat scalar fields, for the source's field map
    extras: dict[str, Any] = field(default_factory=dict)  # scalar extras worth keeping


def fetch(url: str, *, timeout: float = 60.0) -> bytes:
    """The bytes at an http(s) URL, a file:// URL or a local path."""
    try:
        if url.startswith(("http://", "https://")):
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()  # type: ignore[no-any-return]
        path = Path(url.removeprefix("file://"))
        return path.read_bytes()
    except OSError as exc:
        raise RemoteUnreadable(f"cannot read {url}: {exc} / 无法读取采集源") from exc


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _date(value: Any) -> date | None:
    text = _text(value)[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _email(value: Any) -> str:
    return _text(value).removeprefix("mailto:").strip()


def _scalars(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items:
        if isinstance(value, (str, int, float, bool)) and not str(key).startswith("_"):
            out[str(key)] = value[:2000] if isinstance(value, str) else value
    return out


# --- CKAN ------------------------------------------------------------------------------------


def from_ckan(pkg: Mapping[str, Any], *, site_url: str = "") -> RemoteDataset:
    """A CKAN package dict (package_search / package_show) read as a RemoteDataset."""
    extras_list = pkg.get("extras") or []
    extras = _scalars(
        (e.get("key", ""), e.get("value")) for e in extras_list if isinstance(e, Mapping) and e.get("key")
    )
    tags = [_text(t.get("name") if isinstance(t, Mapping) else t) for t in pkg.get("tags") or []]
    domain = _text(pkg.get("domain"))
    if not domain:
        for group in pkg.get("groups") or []:
            name = group.get("name") if isinstance(group, Mapping) else group
            if isinstance(name, str) and vocab.get_term("domains", name) is not None:
                domain = name
                break
    resources = [
        RemoteResource(
            url=_text(r.get("url")),
            name=_text(r.get("name")),
            description=_text(r.get("description")),
            format=_text(r.get("format")),
        )
        for r in pkg.get("resources") or []
        if isinstance(r, Mapping) and _text(r.get("url"))
    ]
    name = _text(pkg.get("name"))
    return RemoteDataset(
        remote_id=_text(pkg.get("id")) or name,
        name=name,
        title=_text(pkg.get("title")),
        title_en=_text(pkg.get("title_en")),
        notes=_text(pkg.get("notes")),
        tags=[t for t in tags if t],
        modified=_text(pkg.get("metadata_modified")) or None,
        license_id=_text(pkg.get("license_id")),
        contact_name=_text(pkg.get("maintainer")) or _text(pkg.get("author")),
        contact_email=_email(pkg.get("maintainer_email")) or _email(pkg.get("author_email")),
        landing_url=f"{site_url.rstrip('/')}/dataset/{name}" if site_url and name else _text(pkg.get("url")),
        domain=domain,
        update_frequency=_text(pkg.get("update_frequency")),
        spatial=_text(pkg.get("spatial"))
        if re.fullmatch(r"\d{6}(\d{3})?", _text(pkg.get("spatial")))
        else "",
        temporal_start=_date(pkg.get("temporal_start")),
        temporal_end=_date(pkg.get("temporal_end")),
        resources=resources,
        raw={**_scalars(pkg.items()), **extras},
        extras=extras,
    )


# --- DCAT-US data.json ---------------------------------------------------------------------


def read_dcat_us(body: bytes) -> list[RemoteDataset]:
    """Every dataset of a DCAT-US (Project Open Data) data.json catalog."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise RemoteUnreadable(f"not JSON: {exc} / 不是有效的 JSON") from exc
    items = doc.get("dataset") if isinstance(doc, Mapping) else doc
    if not isinstance(items, list):
        raise RemoteUnreadable("no 'dataset' list in data.json / data.json 中没有 dataset 列表")
    return [from_dcat_us(item) for item in items if isinstance(item, Mapping)]


def from_dcat_us(item: Mapping[str, Any]) -> RemoteDataset:
    """One DCAT-US dataset object."""
    contact = item.get("contactPoint") if isinstance(item.get("contactPoint"), Mapping) else {}
    publisher = item.get("publisher") if isinstance(item.get("publisher"), Mapping) else {}
    start = end = None
    temporal = _text(item.get("temporal"))
    if "/" in temporal:
        left, _, right = temporal.partition("/")
        start, end = _date(left), _date(right)
    resources = []
    for dist in item.get("distribution") or []:
        if not isinstance(dist, Mapping):
            continue
        url = _text(dist.get("downloadURL")) or _text(dist.get("accessURL"))
        if url:
            fmt = _text(dist.get("format")) or _text(dist.get("mediaType")).rsplit("/", 1)[-1]
            resources.append(
                RemoteResource(
                    url=url,
                    name=_text(dist.get("title")),
                    description=_text(dist.get("description")),
                    format=fmt,
                )
            )
    keywords = item.get("keyword") or []
    extras = _scalars(item.items())
    if publisher.get("name"):
        extras["publisher"] = _text(publisher.get("name"))
    title = _text(item.get("title"))
    return RemoteDataset(
        remote_id=_text(item.get("identifier")) or _text(item.get("@id")) or title,
        title=title,
        notes=_text(item.get("description")),
        tags=[_text(k) for k in keywords if _text(k)] if isinstance(keywords, list) else [],
        modified=_text(item.get("modified")) or None,
        license_id=_text(item.get("license")),
        contact_name=_text(contact.get("fn")),
        contact_email=_email(contact.get("hasEmail")),
        landing_url=_text(item.get("landingPage")),
        update_frequency=ISO_FREQUENCY.get(_text(item.get("accrualPeriodicity")), ""),
        temporal_start=start,
        temporal_end=end,
        resources=resources,
        raw=extras,
        extras=extras,
    )


# --- DCAT RDF ----------------------------------------------------------------------------------


def _rdf_format(url: str, body: bytes) -> str:
    lowered = url.lower().split("?")[0]
    for suffix, fmt in (
        (".ttl", "turtle"),
        (".rdf", "xml"),
        (".xml", "xml"),
        (".jsonld", "json-ld"),
        (".nt", "nt"),
    ):
        if lowered.endswith(suffix):
            return fmt
    head = body.lstrip()[:1]
    return {b"{": "json-ld", b"[": "json-ld", b"<": "xml"}.get(head, "turtle")


def read_dcat_rdf(body: bytes, *, url: str = "") -> list[RemoteDataset]:
    """Every dcat:Dataset of an RDF catalog (Turtle, RDF/XML, JSON-LD or N-Triples)."""
    from rdflib import Graph

    graph = Graph()
    try:
        graph.parse(data=body, format=_rdf_format(url, body))
    except Exception as exc:  # rdflib raises many kinds; all mean "not a catalog we can read"
        raise RemoteUnreadable(f"cannot parse RDF: {exc} / 无法解析 RDF") from exc
    return _rdf_datasets(graph)


def _rdf_datasets(graph: Any) -> list[RemoteDataset]:
    from rdflib import RDF, RDFS, BNode, Literal, Namespace, URIRef

    dcat = Namespace("http://www.w3.org/ns/dcat#")
    dct = Namespace("http://purl.org/dc/terms/")
    vcard = Namespace("http://www.w3.org/2006/vcard/ns#")
    foaf = Namespace("http://xmlns.com/foaf/0.1/")
    schema = Namespace("http://schema.org/")

    def literals(node: Any, prop: Any) -> list[Literal]:
        return sorted((o for o in graph.objects(node, prop) if isinstance(o, Literal)), key=str)

    def pick(node: Any, prop: Any, langs: tuple[str | None, ...] = ("zh", None, "en")) -> str:
        values = literals(node, prop)
        for lang in langs:
            for value in values:
                if (value.language or None) == lang or (lang and (value.language or "").startswith(lang)):
                    return str(value).strip()
        return str(values[0]).strip() if values else ""

    def first(node: Any, *props: Any) -> Any:
        for prop in props:
            values = sorted(graph.objects(node, prop), key=str)
            if values:
                return values[0]
        return None

    out: list[RemoteDataset] = []
    for ds in sorted(set(graph.subjects(RDF.type, dcat.Dataset)), key=str):
        identifier = pick(ds, dct.identifier, (None, "en", "zh"))
        remote_id = str(ds) if isinstance(ds, URIRef) else identifier
        if not remote_id and isinstance(ds, BNode):
            remote_id = pick(ds, dct.title)
        # RDF has no order: sort what we read, so that the content hash is stable between runs.
        keywords = sorted({str(value).strip() for value in literals(ds, dcat.keyword)} - {""})
        contact = first(ds, dcat.contactPoint)
        contact_name = pick(contact, vcard.fn) if contact is not None else ""
        email = first(contact, vcard.hasEmail) if contact is not None else None
        publisher = first(ds, dct.publisher)
        frequency = first(ds, dct.accrualPeriodicity)
        domain = ""
        for theme in graph.objects(ds, dcat.theme):
            found = _OUR_DOMAIN_URI.search(str(theme))
            if found and vocab.get_term("domains", found.group(1)) is not None:
                domain = found.group(1)
                break
        spatial = ""
        for place in graph.objects(ds, dct.spatial):
            found = _OUR_REGION_URI.search(str(place))
            if found and vocab.get_term("regions", found.group(1)) is not None:
                spatial = found.group(1)
        period = first(ds, dct.temporal)
        start = end = None
        if period is not None:
            start = _date(first(period, dcat.startDate, schema.startDate))
            end = _date(first(period, dcat.endDate, schema.endDate))
        license_node = first(ds, dct.license)
        resources: list[RemoteResource] = []
        dist_licenses: list[str] = []
        for dist in graph.objects(ds, dcat.distribution):
            url = first(dist, dcat.downloadURL, dcat.accessURL)
            if url is None:
                continue
            fmt_node = first(dist, dct["format"], dcat.mediaType)
            fmt = ""
            if isinstance(fmt_node, BNode):  # [ a dct:IMT ; rdf:value "text/csv" ; rdfs:label "CSV" ]
                fmt_node = first(fmt_node, RDFS.label, RDF.value)
            if isinstance(fmt_node, URIRef):
                fmt = str(fmt_node).rstrip("/").rsplit("/", 1)[-1]
            elif isinstance(fmt_node, Literal):
                fmt = str(fmt_node)
            dist_licenses.extend(str(x) for x in graph.objects(dist, dct.license))
            resources.append(
                RemoteResource(
                    url=str(url),
                    name=pick(dist, dct.title),
                    description=pick(dist, dct.description),
                    format=fmt,
                )
            )
        resources.sort(key=lambda r: (r.url, r.name, r.format))
        if license_node is None and dist_licenses:
            license_node = min(dist_licenses)
        extras: dict[str, Any] = {}
        if publisher is not None and (name := pick(publisher, foaf.name)):
            extras["publisher"] = name
        if identifier:
            extras["identifier"] = identifier
        landing = first(ds, dcat.landingPage)
        modified = first(ds, dct.modified)
        freq_code = str(frequency).rstrip("/").rsplit("/", 1)[-1] if frequency is not None else ""
        out.append(
            RemoteDataset(
                remote_id=remote_id,
                title=pick(ds, dct.title),
                title_en=pick(ds, dct.title, ("en",))
                if any(v.language == "en" for v in literals(ds, dct.title))
                else "",
                notes=pick(ds, dct.description),
                tags=keywords,
                modified=str(modified) if modified is not None else None,
                license_id=str(license_node) if license_node is not None else "",
                contact_name=contact_name,
                contact_email=_email(email) if email is not None else "",
                landing_url=str(landing)
                if landing is not None
                else (str(ds) if isinstance(ds, URIRef) else ""),
                domain=domain,
                update_frequency=EU_FREQUENCY.get(freq_code, ""),
                spatial=spatial,
                temporal_start=start,
                temporal_end=end,
                resources=resources,
                raw=dict(extras),
                extras=extras,
            )
        )
    return out
