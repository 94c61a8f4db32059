"""schema.org `Dataset` JSON-LD of a dataset, for the dataset page (search engines read it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from auth.policy import effective_open_type
from catalog import vocab as catvocab
from catalog.models import Dataset, Organization, Resource, ResourceVersion
from portal.dcat.graph import Uris
from portal.dcat.vocab import LICENSE_URI, file_type


def schema_org_jsonld(
    dataset: Dataset,
    *,
    organization: Organization | None,
    resources: list[Resource],
    versions: Mapping[uuid.UUID, ResourceVersion] | None = None,
    base_url: str,
) -> dict[str, Any]:
    """A schema.org Dataset as a JSON-LD dict: embed it in <script type="application/ld+json">."""
    uris = Uris(base_url)
    versions = versions or {}
    url = str(uris.dataset(dataset.name))
    out: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": url,
        "url": url,
        "name": dataset.title,
        "description": dataset.notes or dataset.title,
        "identifier": [str(dataset.id)] + ([dataset.resource_code] if dataset.resource_code else []),
        "inLanguage": "zh-CN",
        "isAccessibleForFree": effective_open_type(dataset) == "unconditional",
        "dateCreated": dataset.created_at.isoformat(),
        "dateModified": dataset.updated_at.isoformat(),
    }
    if dataset.title_en:
        out["alternateName"] = dataset.title_en
    if dataset.published_at is not None:
        out["datePublished"] = dataset.published_at.isoformat()
    if dataset.tags:
        out["keywords"] = list(dataset.tags)
    if dataset.license_id:
        out["license"] = LICENSE_URI.get(dataset.license_id.lower(), dataset.license_id)
    if organization is not None:
        org: dict[str, Any] = {
            "@type": "Organization",
            "@id": str(uris.organization(organization.name)),
            "name": organization.title,
        }
        if organization.title_en:
            org["alternateName"] = organization.title_en
        out["creator"] = org
        out["publisher"] = org
    if dataset.contact_name or dataset.contact_email:
        contact: dict[str, Any] = {"@type": "ContactPoint", "contactType": "data steward"}
        if dataset.contact_name:
            contact["name"] = dataset.contact_name
        if dataset.contact_email:
            contact["email"] = dataset.contact_email
        out["contactPoint"] = contact
    if dataset.domain and (term := catvocab.get_term("domains", dataset.domain)) is not None:
        out["about"] = {
            "@type": "DefinedTerm",
            "name": term.zh,
            "alternateName": term.en,
            "termCode": term.code,
        }
    if dataset.spatial and (region := catvocab.get_term("regions", dataset.spatial)) is not None:
        out["spatialCoverage"] = {"@type": "Place", "name": region.zh, "identifier": region.code}
    if dataset.temporal_start or dataset.temporal_end:
        start = dataset.temporal_start.isoformat() if dataset.temporal_start else ".."
        end = dataset.temporal_end.isoformat() if dataset.temporal_end else ".."
        out["temporalCoverage"] = f"{start}/{end}"
    distributions = []
    for resource in resources:
        version = versions.get(resource.id)
        item: dict[str, Any] = {"@type": "DataDownload", "name": resource.name}
        if resource.kind == "link" and resource.url:
            item["contentUrl"] = resource.url
        else:
            item["contentUrl"] = str(uris.download(resource.id))
        _eu, media_type = file_type(resource.format)
        if version is not None:
            media_type = version.media_type or media_type
            item["contentSize"] = f"{version.size} B"
            item["sha256"] = version.sha256
        if media_type or resource.format:
            item["encodingFormat"] = media_type or resource.format
        distributions.append(item)
    if distributions:
        out["distribution"] = distributions
    return out
