"""One remote dataset into the ledger: build our fields under the source's mapping, hash them, and
create, update or leave alone the dataset it became (through catalog.service)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any, Literal

from pydantic import ValidationError
from sqlmodel import Session

from catalog import service, vocab
from catalog.harvest.models import HarvestRecord, HarvestSource
from catalog.harvest.remote import RemoteDataset
from catalog.harvest.schemas import HarvestMapping
from catalog.models import Dataset, utcnow
from catalog.schemas import NAME_RE, DatasetCreate, DatasetUpdate, ResourceCreate

Outcome = Literal["created", "updated", "unchanged"]

# Our fields whose values are vocabulary codes, and their vocabulary.
VOCAB_FIELDS = {
    "domain": "domains",
    "industry": "industries",
    "update_frequency": "frequencies",
    "spatial": "regions",
    "open_type": "open_types",
    "share_type": "share_types",
}
# Fields dropped (left at their defaults) when the remote value does not validate.
DROPPABLE = ("contact_email", "spatial", "temporal_start", "temporal_end", "title_en", "license_id", "tags")
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")


class RemoteRejected(ValueError):
    """The remote dataset cannot become one of ours; the message says why (for the job report)."""


def _vocab_value(field: str, value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if field in VOCAB_FIELDS:
        return vocab.lookup(VOCAB_FIELDS[field], text)
    return text


def declared_fields(source: HarvestSource, mapping: HarvestMapping, remote: RemoteDataset) -> dict[str, Any]:
    """Our dataset fields (as for DatasetCreate, without name and owner) for a remote dataset."""
    tags = []
    for tag in remote.tags:
        tag = tag.strip()[:100]
        if tag and tag not in tags:
            tags.append(tag)
    extras: dict[str, Any] = dict(remote.extras) if mapping.keep_extras else {}
    extras.update(
        {
            "harvest_source": source.name,
            "harvest_remote_id": remote.remote_id,
            "harvest_url": remote.landing_url,
        }
    )
    if remote.license_id and len(remote.license_id) > 64:
        extras["license_uri"] = remote.license_id
    fields: dict[str, Any] = {
        "title": (remote.title or remote.name or remote.remote_id)[:300],
        "title_en": remote.title_en[:300],
        "notes": remote.notes,
        "tags": tags,
        "open_type": mapping.open_type.value,
        "share_type": mapping.share_type.value,
        "grade": mapping.grade.value if mapping.grade else None,
        "domain": _vocab_value("domain", remote.domain) or mapping.domain,
        "update_frequency": _vocab_value("update_frequency", remote.update_frequency)
        or mapping.update_frequency.value,
        "spatial": _vocab_value("spatial", remote.spatial) or "",
        "temporal_start": remote.temporal_start,
        "temporal_end": remote.temporal_end,
        "license_id": (remote.license_id if len(remote.license_id) <= 64 else "") or mapping.license_id,
        "contact_name": remote.contact_name[:100],
        "contact_email": remote.contact_email or None,
        "source_system": (source.title or source.name)[:200],
        "extras": extras,
    }
    for remote_key, ours in mapping.fields.items():
        value = _vocab_value(ours, remote.raw.get(remote_key))
        if value is not None:
            fields[ours] = value[:200] if ours in ("contact_name", "source_system") else value
    return fields


def resource_specs(remote: RemoteDataset) -> list[ResourceCreate]:
    """The remote's distributions as link resources (never downloaded)."""
    out = []
    for r in remote.resources:
        if not r.url or len(r.url) > 2000:
            continue
        name = r.name.strip() or r.url.rstrip("/").rsplit("/", 1)[-1] or "resource"
        fmt = r.format.strip().strip(".").upper()[:32]
        out.append(ResourceCreate(name=name[:300], description=r.description, format=fmt, url=r.url))
    return out


def validated(fields: dict[str, Any], *, name: str, owner_org: str) -> DatasetCreate:
    """A DatasetCreate from the fields, leaving out optional values that do not validate."""
    attempt = dict(fields)
    for _ in range(len(DROPPABLE) + 1):
        try:
            return DatasetCreate(**attempt, name=name, owner_org=owner_org)
        except ValidationError as exc:
            bad = {str(err["loc"][0]) if err["loc"] else "temporal_start" for err in exc.errors()}
            if bad & {"temporal_start", "temporal_end"}:
                bad |= {"temporal_start", "temporal_end"}  # a period checked as a whole
            if not bad <= set(DROPPABLE) or not bad & attempt.keys():
                raise RemoteRejected(_reason(exc)) from exc
            for key in bad:
                attempt.pop(key, None)
    raise RemoteRejected("fields do not validate / 字段校验失败")


def _reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())[:500]


def content_hash(data: DatasetCreate, resources: list[ResourceCreate]) -> str:
    """A hash of what we would write: equal hashes mean nothing changed upstream (for us)."""
    doc = {
        "dataset": data.model_dump(mode="json", exclude={"name", "owner_org"}),
        "resources": [r.model_dump(mode="json") for r in resources],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _slug(text: str) -> str:
    return _NOT_SLUG.sub("-", text.lower()).strip("-_")[:100]


def choose_name(session: Session, source: HarvestSource, remote: RemoteDataset) -> str:
    """A free dataset name: the remote's, else prefixed with the source's, else with a hash."""
    digest = hashlib.sha1(remote.remote_id.encode()).hexdigest()[:10]
    base = _slug(remote.name) or _slug(remote.title)
    candidates = []
    if NAME_RE.match(base):
        candidates += [base, _slug(f"{source.name}-{base}")[:100]]
    candidates.append(f"{_slug(f'{source.name}-{base}')[:89]}-{digest}".strip("-"))
    candidates.append(f"{source.name[:89]}-{digest}")
    for name in candidates:
        if NAME_RE.match(name) and service.get_dataset_by_name(session, name) is None:
            return name
    raise RemoteRejected(f"no free name for {remote.remote_id} / 无可用名称")


def apply_remote(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    source: HarvestSource,
    mapping: HarvestMapping,
    owner_org: str,
    remote: RemoteDataset,
    record: HarvestRecord | None,
) -> tuple[Outcome, HarvestRecord]:
    """Create, update or leave alone the dataset a remote dataset became; the caller commits."""
    fields = declared_fields(source, mapping, remote)
    name = record.remote_name if record is not None else ""
    data = validated(fields, name=name if NAME_RE.match(name) else "xx", owner_org=owner_org)
    resources = resource_specs(remote)
    digest = content_hash(data, resources)
    if record is not None and record.content_hash == digest and record.state == "active":
        if record.remote_modified != remote.modified:
            record.remote_modified = remote.modified
            session.add(record)
        return "unchanged", record
    if record is None:
        name = choose_name(session, source, remote)
        dataset = service.create_dataset_with_resources(
            session,
            actor_id=actor_id,
            data=data.model_copy(update={"name": name}),
            resources=[(None, r) for r in resources],
            publish=mapping.publish,
        )
        record = HarvestRecord(
            source_id=source.id,
            remote_id=remote.remote_id[:500],
            remote_name=name,
            dataset_id=dataset.id,
            remote_modified=remote.modified,
            content_hash=digest,
        )
        session.add(record)
        session.flush()
        return "created", record
    dataset = service.require_dataset(session, record.dataset_id)
    existing = {r.url: r.id for r in service.list_resources(session, dataset) if r.url}
    update = DatasetUpdate(**{k: v for k, v in data.model_dump().items() if k in DatasetUpdate.model_fields})
    service.update_dataset_with_resources(
        session,
        actor_id=actor_id,
        dataset=dataset,
        data=update,
        resources=[(existing.get(r.url), r) for r in resources],
        publish=mapping.publish,
    )
    if record.state == "withdrawn" and not mapping.publish:
        service.set_dataset_status(session, actor_id=actor_id, dataset=dataset, status="draft")
    record.content_hash = digest
    record.remote_modified = remote.modified
    record.state = "active"
    record.harvested_at = utcnow()
    session.add(record)
    session.flush()
    return "updated", record


def withdraw(session: Session, *, actor_id: uuid.UUID | None, record: HarvestRecord) -> Dataset | None:
    """Record that a remote dataset disappeared upstream: its dataset is withdrawn."""
    dataset = session.get(Dataset, record.dataset_id)
    if dataset is not None and dataset.status != "withdrawn":
        service.set_dataset_status(session, actor_id=actor_id, dataset=dataset, status="withdrawn")
    record.state = "withdrawn"
    record.harvested_at = utcnow()
    session.add(record)
    session.flush()
    return dataset
