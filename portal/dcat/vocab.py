"""URIs of the vocabularies a DCAT-AP export uses, and our codes mapped onto them."""

from __future__ import annotations

from rdflib import Namespace

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
DCATAP = Namespace("http://data.europa.eu/r5r/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")

EU = "http://publications.europa.eu/resource/authority/"
EU_FREQUENCY = Namespace(EU + "frequency/")
EU_ACCESS_RIGHT = Namespace(EU + "access-right/")
EU_FILE_TYPE = Namespace(EU + "file-type/")
EU_DATA_THEME = Namespace(EU + "data-theme/")
EU_LANGUAGE = Namespace(EU + "language/")
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

# Our update frequencies (catalog.enums.UpdateFrequency values) -> EU frequency authority table.
FREQUENCY: dict[str, str] = {
    "realtime": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
}
FREQUENCY_BACK: dict[str, str] = {eu: ours for ours, eu in FREQUENCY.items()} | {
    "CONT": "realtime",
    "ANNUAL_2": "yearly",
    "ANNUAL_3": "yearly",
    "BIWEEKLY": "weekly",
    "WEEKLY_2": "weekly",
    "WEEKLY_3": "weekly",
    "MONTHLY_2": "monthly",
    "MONTHLY_3": "monthly",
    "BIMONTHLY": "quarterly",
    "DAILY_2": "daily",
    "QUARTERLY": "quarterly",
    "BIENNIAL": "irregular",
    "IRREG": "irregular",
}

# 开放属性 -> EU access-right: 无条件开放 is public, 有条件开放 restricted, 不予开放 non-public.
ACCESS_RIGHT: dict[str, str] = {
    "unconditional": "PUBLIC",
    "conditional": "RESTRICTED",
    "closed": "NON_PUBLIC",
}
ACCESS_RIGHT_LABEL: dict[str, tuple[str, str]] = {
    "PUBLIC": ("无条件开放", "public"),
    "RESTRICTED": ("有条件开放", "restricted"),
    "NON_PUBLIC": ("不予开放", "non-public"),
}

# Our data domains (catalog/vocab/domains.json) -> EU data themes, where one fits.
DATA_THEME: dict[str, tuple[str, ...]] = {
    "economy": ("ECON",),
    "credit": ("ECON",),
    "finance": ("ECON",),
    "transport": ("TRAN",),
    "education": ("EDUC",),
    "health": ("HEAL",),
    "employment": ("SOCI",),
    "public_safety": ("JUST",),
    "housing": ("REGI",),
    "environment": ("ENVI",),
    "agriculture": ("AGRI",),
    "life_services": ("SOCI",),
    "social_assistance": ("SOCI",),
    "science": ("TECH",),
    "commerce": ("ECON",),
    "market_regulation": ("ECON",),
    "institutions": ("GOVE",),
    "weather": ("ENVI",),
    "work_safety": ("JUST",),
    "geospatial": ("REGI",),
    "legal": ("JUST",),
    "culture_leisure": ("EDUC",),
    "industry_agriculture": ("ECON", "AGRI"),
}
DATA_THEME_LABEL: dict[str, str] = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}

# Resource formats as agencies write them -> (EU file type, IANA media type).
FILE_TYPE: dict[str, tuple[str | None, str | None]] = {
    "CSV": ("CSV", "text/csv"),
    "TSV": ("TSV", "text/tab-separated-values"),
    "XLS": ("XLS", "application/vnd.ms-excel"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ODS": ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "JSON": ("JSON", "application/json"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "JSONLD": ("JSON_LD", "application/ld+json"),
    "JSON-LD": ("JSON_LD", "application/ld+json"),
    "XML": ("XML", "application/xml"),
    "RDF": ("RDF_XML", "application/rdf+xml"),
    "TTL": ("RDF_TURTLE", "text/turtle"),
    "PDF": ("PDF", "application/pdf"),
    "DOC": ("DOC", "application/msword"),
    "DOCX": ("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "TXT": ("TXT", "text/plain"),
    "HTML": ("HTML", "text/html"),
    "ZIP": ("ZIP", "application/zip"),
    "SHP": ("SHP", None),
    "KML": ("KML", "application/vnd.google-earth.kml+xml"),
    "PARQUET": ("PARQUET", "application/vnd.apache.parquet"),
    "API": (None, None),
}

# Licence ids (CKAN's, which portal.ckan lists) -> licence URIs.
LICENSE_URI: dict[str, str] = {
    "cc-by": "http://www.opendefinition.org/licenses/cc-by",
    "cc-by-sa": "http://www.opendefinition.org/licenses/cc-by-sa",
    "cc-zero": "http://www.opendefinition.org/licenses/cc-zero",
    "cc-nc": "http://creativecommons.org/licenses/by-nc/2.0/",
    "odc-by": "http://www.opendefinition.org/licenses/odc-by",
    "odc-odbl": "http://www.opendefinition.org/licenses/odc-odbl",
    "odc-pddl": "http://www.opendefinition.org/licenses/odc-pddl",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
}


def file_type(fmt: str) -> tuple[str | None, str | None]:
    """The EU file-type code and IANA media type of a resource format ("csv", ".CSV", "CSV.")."""
    key = fmt.strip().strip(".").upper()
    return FILE_TYPE.get(key, (None, None))
