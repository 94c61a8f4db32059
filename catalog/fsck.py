"""Storage consistency: objects without metadata, metadata without objects, stale staging uploads.

``check`` only reads; ``repair`` acts on what check found and the caller commits::

    report = fsck.check(session, storage, staging_max_age_seconds=86400)
    if report.problems:
        fsck.repair(session, storage, report)   # delete orphans, mark missing versions, sweep staging
        session.commit()

Only keys under ``datasets/`` (the catalog's own) are ever called orphans, and only when older than
``min_orphan_age_seconds``: an upload between its move to the final key and its commit looks like
an orphan for a moment, and must not be deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session, select

from catalog import ledger
from catalog.models import Dataset, Resource, ResourceVersion
from storage import STAGING_PREFIX, ObjectInfo, Storage

CATALOG_PREFIX = "datasets/"
MISSING = "missing"
DEFAULT_MIN_ORPHAN_AGE = 3600

# progress(phase, done, total): phase is "objects", "versions", "staging" or "repair".
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class MissingObject:
    """A version whose file (kind "file") or normalized table (kind "normalized") is not stored."""

    version_id: uuid.UUID
    resource_id: uuid.UUID
    version: int
    key: str
    kind: str


@dataclass
class FsckReport:
    """What check() found."""

    objects_checked: int = 0
    versions_checked: int = 0
    orphan_objects: list[ObjectInfo] = field(default_factory=list)
    missing_objects: list[MissingObject] = field(default_factory=list)
    stale_staging: list[ObjectInfo] = field(default_factory=list)
    fresh_staging: int = 0

    @property
    def problems(self) -> int:
        """How many things need repair."""
        return len(self.orphan_objects) + len(self.missing_objects) + len(self.stale_staging)


@dataclass
class RepairResult:
    """What repair() did."""

    deleted_objects: int = 0
    marked_missing: int = 0
    cleared_tables: int = 0
    swept_staging: int = 0


def _noop(_phase: str, _done: int, _total: int | None) -> None:
    return None


def check(
    session: Session,
    storage: Storage,
    *,
    staging_max_age_seconds: int,
    min_orphan_age_seconds: int = DEFAULT_MIN_ORPHAN_AGE,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> FsckReport:
    """Compare stored objects with version metadata; read-only."""
    report_progress = progress or _noop
    moment = (now or datetime.now(UTC)).timestamp()
    report = FsckReport()

    rows = session.exec(
        select(
            ResourceVersion.id,
            ResourceVersion.resource_id,
            ResourceVersion.version,
            ResourceVersion.storage_key,
            ResourceVersion.normalized_key,
            ResourceVersion.state,
        )
    ).all()
    known: set[str] = set()
    for _id, _rid, _n, key, normalized, _state in rows:
        known.add(key)
        if normalized:
            known.add(normalized)

    stored: set[str] = set()
    for info in storage.list(CATALOG_PREFIX):
        stored.add(info.key)
        report.objects_checked += 1
        if report.objects_checked % 200 == 0:
            report_progress("objects", report.objects_checked, None)
        if info.key not in known and moment - info.modified_at.timestamp() >= min_orphan_age_seconds:
            report.orphan_objects.append(info)
    report_progress("objects", report.objects_checked, report.objects_checked)

    total = len(rows)
    for done, (vid, rid, number, key, normalized, state) in enumerate(rows, start=1):
        report.versions_checked += 1
        if state == MISSING:
            continue  # already recorded as lost
        if key not in stored and not storage.exists(key):
            report.missing_objects.append(MissingObject(vid, rid, number, key, "file"))
        if normalized and normalized not in stored and not storage.exists(normalized):
            report.missing_objects.append(MissingObject(vid, rid, number, normalized, "normalized"))
        if done % 200 == 0 or done == total:
            report_progress("versions", done, total)

    for info in storage.list(STAGING_PREFIX):
        if moment - info.modified_at.timestamp() >= staging_max_age_seconds:
            report.stale_staging.append(info)
        else:
            report.fresh_staging += 1
    report_progress("staging", 1, 1)
    return report


def repair(
    session: Session,
    storage: Storage,
    report: FsckReport,
    *,
    actor_id: uuid.UUID | None = None,
    progress: Progress | None = None,
) -> RepairResult:
    """Delete orphan objects, mark versions with a lost file "missing" (a lost table is just unset),
    and sweep stale staging uploads; the caller commits."""
    report_progress = progress or _noop
    result = RepairResult()
    total = report.problems
    done = 0
    known = _known_keys(session)
    for info in report.orphan_objects:
        if info.key not in known:  # re-checked: metadata may have arrived since check()
            storage.delete(info.key)
            result.deleted_objects += 1
        done += 1
        report_progress("repair", done, total)
    for lost in report.missing_objects:
        version = session.get(ResourceVersion, lost.version_id)
        done += 1
        report_progress("repair", done, total)
        if version is None or storage.exists(lost.key):
            continue
        before = ledger.snapshot(version)
        resource = session.get(Resource, version.resource_id)
        dataset = session.get(Dataset, resource.dataset_id) if resource else None
        if lost.kind == "file":
            version.state = MISSING
            result.marked_missing += 1
            if resource is not None and resource.latest_version == version.version:
                resource.latest_version = _latest_active(session, resource, excluding=version.id)
                session.add(resource)
            action = "resource.missing"
        else:
            version.normalized_key = None
            result.cleared_tables += 1
            action = "resource.table_missing"
        session.add(version)
        ledger.append(
            session, actor_id=actor_id, action=action, subject=version, before=before, dataset=dataset
        )
    for info in report.stale_staging:
        storage.delete(info.key)
        result.swept_staging += 1
        done += 1
        report_progress("repair", done, total)
    session.flush()
    return result


def sweep(storage: Storage, *, older_than_seconds: int, now: datetime | None = None) -> int:
    """Delete staging uploads (and stray temp files) older than the given age; return the count."""
    return storage.sweep_staging(STAGING_PREFIX, older_than_seconds, now=now)


def _known_keys(session: Session) -> set[str]:
    rows = session.exec(select(ResourceVersion.storage_key, ResourceVersion.normalized_key)).all()
    return {k for pair in rows for k in pair if k}


def _latest_active(session: Session, resource: Resource, *, excluding: uuid.UUID) -> int:
    numbers = session.exec(
        select(ResourceVersion.version).where(
            ResourceVersion.resource_id == resource.id,
            ResourceVersion.state == "active",
            ResourceVersion.id != excluding,
        )
    ).all()
    return max(numbers, default=0)
