"""Our ledger as DCAT-AP 3 RDF: datasets, distributions, the catalog and its theme taxonomy.

Every node a DCAT-AP range shape points to is typed (dct:LicenseDocument, dct:Frequency,
dct:MediaType ...), because SHACL's sh:class checks the data graph, not an ontology. Chinese text
carries @zh and English text @en. Identifiers are URLs under the portal's base_url.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef

from auth.policy import effective_open_type
from catalog import vocab as catvocab
from catalog.models import Dataset, Organization, Resource, ResourceVersion
from portal.dcat import vocab as v
from portal.dcat.vocab import ADMS, DCAT, DCT, FOAF, HYDRA, SKOS, SPDX, VCARD

CATALOG_TITLE = ("数据资源一本账", "dataledger — public data catalog")
CATALOG_DESCRIPTION = (
    "省级公共数据资源目录与数据流通门户",
    "Provincial public data catalog (data resource ledger) and data exchange portal",
)
DOMAIN_SCHEME_TITLE = ("数据领域分类", "Data domains")


@dataclass(frozen=True, slots=True)
class DatasetBundle:
    """A dataset with what its description needs: its organization, resources and latest files."""

    dataset: Dataset
    organization: Organization | None
    resources: list[Resource]
    versions: Mapping[uuid.UUID, ResourceVersion]


class Uris:
    """The URIs of our things, under the portal's base URL."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def catalog(self) -> URIRef:
        """The catalog."""
        return URIRef(f"{self.base}/catalog")

    def dataset(self, name: str) -> URIRef:
        """A dataset (its page is the same URL)."""
        return URIRef(f"{self.base}/dataset/{name}")

    def distribution(self, dataset_name: str, resource_id: uuid.UUID) -> URIRef:
        """A resource of a dataset."""
        return URIRef(f"{self.base}/dataset/{dataset_name}/resource/{resource_id}")

    def download(self, resource_id: uuid.UUID) -> URIRef:
        """Where a stored file is downloaded (under the access policy)."""
        return URIRef(f"{self.base}/api/v1/resources/{resource_id}/download")

    def organization(self, name: str) -> URIRef:
        """A publisher."""
        return URIRef(f"{self.base}/organization/{name}")

    def operator(self) -> URIRef:
        """The portal's operator, publisher of the catalog."""
        return URIRef(f"{self.base}/#operator")

    def domain_scheme(self) -> URIRef:
        """Our data-domain taxonomy."""
        return URIRef(f"{self.base}/vocab/domains")

    def domain(self, code: str) -> URIRef:
        """One data domain."""
        return URIRef(f"{self.base}/vocab/domains/{code}")

    def region(self, code: str) -> URIRef:
        """An administrative division (GB/T 2260 code)."""
        return URIRef(f"{self.base}/vocab/regions/{code}")


def new_graph() -> Graph:
    """An empty graph with the usual prefixes bound."""
    g = Graph()
    for prefix, ns in (
        ("dcat", DCAT),
        ("dct", DCT),
        ("dcatap", v.DCATAP),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("skos", SKOS),
        ("spdx", SPDX),
        ("hydra", HYDRA),
        ("adms", ADMS),
    ):
        g.bind(prefix, ns)
    return g


def _dt(value: datetime) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.dateTime)


def _date(value: date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def _zh_en(g: Graph, node: URIRef | BNode, prop: URIRef, zh: str, en: str = "") -> None:
    if zh:
        g.add((node, prop, Literal(zh, lang="zh")))
    if en:
        g.add((node, prop, Literal(en, lang="en")))


def _typed(g: Graph, uri: str, *classes: URIRef) -> URIRef:
    node = URIRef(uri)
    for cls in classes:
        g.add((node, RDF.type, cls))
    return node


def add_domain_scheme(g: Graph, uris: Uris) -> URIRef:
    """Our data domains as a skos:ConceptScheme, each domain a skos:Concept (zh and en labels)."""
    scheme = uris.domain_scheme()
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    _zh_en(g, scheme, DCT.title, *DOMAIN_SCHEME_TITLE)
    for term in catvocab.domains():
        concept = uris.domain(term.code)
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.inScheme, scheme))
        g.add((concept, SKOS.notation, Literal(term.code)))
        _zh_en(g, concept, SKOS.prefLabel, term.zh, term.en)
        g.add((scheme, SKOS.hasTopConcept, concept))
        for theme in v.DATA_THEME.get(term.code, ()):
            g.add((concept, SKOS.closeMatch, v.EU_DATA_THEME[theme]))
    return scheme


def _eu_theme_scheme(g: Graph) -> URIRef:
    scheme = URIRef(v.EU + "data-theme")
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, DCT.title, Literal("Data theme", lang="en")))
    return scheme


def _publisher(g: Graph, uris: Uris, org: Organization) -> URIRef:
    node = uris.organization(org.name)
    g.add((node, RDF.type, FOAF.Agent))
    g.add((node, RDF.type, FOAF.Organization))
    _zh_en(g, node, FOAF.name, org.title, org.title_en)
    return node


def _license(g: Graph, license_id: str) -> URIRef | None:
    if not license_id:
        return None
    uri = v.LICENSE_URI.get(license_id.lower())
    if uri is None:
        if not license_id.startswith(("http://", "https://")):
            return None
        uri = license_id
    node = _typed(g, uri, DCT.LicenseDocument)
    g.add((node, DCT.identifier, Literal(license_id)))
    return node


def _period(g: Graph, start: date | None, end: date | None) -> BNode | None:
    if start is None and end is None:
        return None
    node = BNode()
    g.add((node, RDF.type, DCT.PeriodOfTime))
    if start is not None:
        g.add((node, DCAT.startDate, _date(start)))
    if end is not None:
        g.add((node, DCAT.endDate, _date(end)))
    return node


def _add_distribution(
    g: Graph, uris: Uris, bundle: DatasetBundle, resource: Resource, license_node: URIRef | None
) -> URIRef:
    dataset = bundle.dataset
    node = uris.distribution(dataset.name, resource.id)
    g.add((node, RDF.type, DCAT.Distribution))
    g.add((node, DCT.identifier, Literal(str(resource.id))))
    g.add((node, DCT.title, Literal(resource.name, lang="zh")))
    if resource.description:
        g.add((node, DCT.description, Literal(resource.description, lang="zh")))
    version = bundle.versions.get(resource.id)
    if resource.kind == "link" and resource.url:
        access = _typed(g, resource.url, RDFS.Resource)
        g.add((node, DCAT.accessURL, access))
    else:
        access = _typed(g, str(uris.download(resource.id)), RDFS.Resource)
        g.add((node, DCAT.accessURL, access))
        if version is not None:
            g.add((node, DCAT.downloadURL, access))
    eu_type, media_type = v.file_type(resource.format)
    if version is not None and version.media_type and version.media_type != "application/octet-stream":
        media_type = version.media_type.split(";")[0].strip()
    if eu_type:
        fmt = _typed(g, str(v.EU_FILE_TYPE[eu_type]), DCT.MediaTypeOrExtent)
        g.add((node, DCT["format"], fmt))
    if media_type:
        g.add((node, DCAT.mediaType, _typed(g, v.IANA_MEDIA_TYPES + media_type, DCT.MediaType)))
    if version is not None:
        g.add((node, DCAT.byteSize, Literal(version.size, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add(
            (checksum, SPDX.algorithm, _typed(g, str(SPDX.checksumAlgorithm_sha256), SPDX.ChecksumAlgorithm))
        )
        g.add((checksum, SPDX.checksumValue, Literal(version.sha256, datatype=XSD.hexBinary)))
        g.add((node, SPDX.checksum, checksum))
        g.add((node, DCT.issued, _dt(version.created_at)))
    else:
        g.add((node, DCT.issued, _dt(resource.created_at)))
    g.add((node, DCT.modified, _dt(resource.updated_at)))
    if license_node is not None:
        g.add((node, DCT.license, license_node))
    return node


def add_dataset(g: Graph, uris: Uris, bundle: DatasetBundle) -> URIRef:
    """Describe one dataset (with its distributions, publisher, contact point and themes) in `g`."""
    d = bundle.dataset
    node = uris.dataset(d.name)
    g.add((node, RDF.type, DCAT.Dataset))
    _zh_en(g, node, DCT.title, d.title, d.title_en)
    g.add((node, DCT.description, Literal(d.notes or d.title, lang="zh")))
    g.add((node, DCT.identifier, Literal(str(d.id))))
    if d.resource_code:
        ident = BNode()
        g.add((ident, RDF.type, ADMS.Identifier))
        g.add((ident, SKOS.notation, Literal(d.resource_code)))
        g.add((node, ADMS.identifier, ident))
    g.add((node, DCT.language, _typed(g, str(v.EU_LANGUAGE.ZHO), DCT.LinguisticSystem)))
    if bundle.organization is not None:
        g.add((node, DCT.publisher, _publisher(g, uris, bundle.organization)))
    contact_name = d.contact_name or (bundle.organization.title if bundle.organization else "")
    if contact_name or d.contact_email:
        contact = URIRef(f"{node}#contact")
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, RDF.type, VCARD.Organization))
        if contact_name:
            g.add((contact, VCARD.fn, Literal(contact_name, lang="zh")))
        if d.contact_email:
            g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{d.contact_email}")))
        g.add((node, DCAT.contactPoint, contact))
    if d.domain and (term := catvocab.get_term("domains", d.domain)) is not None:
        concept = uris.domain(term.code)
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.inScheme, uris.domain_scheme()))
        _zh_en(g, concept, SKOS.prefLabel, term.zh, term.en)
        g.add((node, DCAT.theme, concept))
        eu_scheme = _eu_theme_scheme(g) if v.DATA_THEME.get(term.code) else None
        for code in v.DATA_THEME.get(term.code, ()):
            theme = _typed(g, str(v.EU_DATA_THEME[code]), SKOS.Concept)
            g.add((theme, SKOS.prefLabel, Literal(v.DATA_THEME_LABEL[code], lang="en")))
            g.add((theme, SKOS.inScheme, eu_scheme))  # type: ignore[arg-type]
            g.add((node, DCAT.theme, theme))
    for tag in d.tags or []:
        g.add((node, DCAT.keyword, Literal(tag, lang="zh")))
    if d.spatial and (region := catvocab.get_term("regions", d.spatial)) is not None:
        place = uris.region(region.code)
        g.add((place, RDF.type, DCT.Location))
        _zh_en(g, place, SKOS.prefLabel, region.zh, region.en)
        g.add((place, SKOS.notation, Literal(region.code)))
        g.add((node, DCT.spatial, place))
    if (period := _period(g, d.temporal_start, d.temporal_end)) is not None:
        g.add((node, DCT.temporal, period))
    freq = v.FREQUENCY.get(d.update_frequency)
    if freq:
        g.add((node, DCT.accrualPeriodicity, _typed(g, str(v.EU_FREQUENCY[freq]), DCT.Frequency)))
    right = v.ACCESS_RIGHT[effective_open_type(d)]
    rights = _typed(g, str(v.EU_ACCESS_RIGHT[right]), DCT.RightsStatement)
    _zh_en(g, rights, RDFS.label, *v.ACCESS_RIGHT_LABEL[right])
    g.add((node, DCT.accessRights, rights))
    license_node = _license(g, d.license_id)
    g.add((node, DCT.issued, _dt(d.published_at or d.created_at)))
    g.add((node, DCT.modified, _dt(d.updated_at)))
    for resource in bundle.resources:
        g.add((node, DCAT.distribution, _add_distribution(g, uris, bundle, resource, license_node)))
    return node


@dataclass(frozen=True, slots=True)
class Page:
    """Which page of the catalog a graph shows, for the hydra paging links."""

    number: int
    size: int
    total: int
    url: str  # the page's URL without ?page=
    custom_size: bool = False  # repeat page_size in the links (it was asked for)

    @property
    def last(self) -> int:
        """The number of the last page (1 for an empty catalog)."""
        return max(1, -(-self.total // self.size))

    def link(self, number: int) -> URIRef:
        """The URL of page `number`."""
        return URIRef(f"{self.url}?page={number}" + (f"&page_size={self.size}" if self.custom_size else ""))


def catalog_graph(
    bundles: Iterable[DatasetBundle],
    *,
    base_url: str,
    page: Page | None = None,
    modified: datetime | None = None,
) -> Graph:
    """The catalog (one page of it) with its datasets, theme taxonomy and hydra paging links."""
    g = new_graph()
    uris = Uris(base_url)
    cat = uris.catalog()
    g.add((cat, RDF.type, DCAT.Catalog))
    _zh_en(g, cat, DCT.title, *CATALOG_TITLE)
    _zh_en(g, cat, DCT.description, *CATALOG_DESCRIPTION)
    operator = uris.operator()
    g.add((operator, RDF.type, FOAF.Agent))
    _zh_en(g, operator, FOAF.name, "数据资源一本账平台运营方", "dataledger portal operator")
    g.add((cat, DCT.publisher, operator))
    g.add((cat, FOAF.homepage, _typed(g, f"{uris.base}/", FOAF.Document)))
    g.add((cat, DCT.language, _typed(g, str(v.EU_LANGUAGE.ZHO), DCT.LinguisticSystem)))
    g.add((cat, DCAT.themeTaxonomy, add_domain_scheme(g, uris)))
    g.add((cat, DCAT.themeTaxonomy, _eu_theme_scheme(g)))
    if modified is not None:
        g.add((cat, DCT.modified, _dt(modified)))
    for bundle in bundles:
        g.add((cat, DCAT.dataset, add_dataset(g, uris, bundle)))
    if page is not None:
        here = page.link(page.number)
        g.add((here, RDF.type, HYDRA.PagedCollection))
        g.add((here, HYDRA.totalItems, Literal(page.total, datatype=XSD.integer)))
        g.add((here, HYDRA.itemsPerPage, Literal(page.size, datatype=XSD.integer)))
        g.add((here, HYDRA.firstPage, page.link(1)))
        g.add((here, HYDRA.lastPage, page.link(page.last)))
        if page.number > 1:
            g.add((here, HYDRA.previousPage, page.link(min(page.number - 1, page.last))))
        if page.number < page.last:
            g.add((here, HYDRA.nextPage, page.link(page.number + 1)))
    return g


def dataset_graph(bundle: DatasetBundle, *, base_url: str) -> Graph:
    """One dataset's DCAT-AP description."""
    g = new_graph()
    add_dataset(g, Uris(base_url), bundle)
    return g


def domains_graph(*, base_url: str) -> Graph:
    """Our data-domain taxonomy on its own (served at /vocab/domains)."""
    g = new_graph()
    add_domain_scheme(g, Uris(base_url))
    return g


JSONLD_CONTEXT: dict[str, Any] = {
    "dcat": str(DCAT),
    "dct": str(DCT),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "hydra": str(HYDRA),
    "adms": str(ADMS),
    "xsd": str(XSD),
    "rdfs": str(RDFS),
}

FORMATS: dict[str, tuple[str, str]] = {
    # our suffix -> (rdflib serializer, media type)
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "rdf": ("pretty-xml", "application/rdf+xml; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json; charset=utf-8"),
}


def serialize(g: Graph, suffix: str) -> bytes:
    """The graph as Turtle, RDF/XML or JSON-LD (UTF-8)."""
    fmt, _media = FORMATS[suffix]
    if fmt == "json-ld":
        return g.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True, encoding="utf-8")
    return g.serialize(format=fmt, encoding="utf-8")
