"""Run a harvest: read the remote page by page, apply each dataset, commit after every page.

The runner owns its transactions, like the quality worker: after each page the datasets, their
harvest records, the job's counts and its resume cursor are committed together, so an interrupted
run resumes where it stopped and a page is never half applied. A second run over an unchanged
remote finds every content hash equal and changes nothing.

CKAN: incremental by metadata_modified (fq `metadata_modified:[LAST TO *]`, sort `metadata_modified
asc`, paged by start/rows); a full pass (the first run, or `full=True`) also compares package_list
with what the source brought in before and withdraws what disappeared upstream. DCAT RDF and
DCAT-US catalogs are read whole, so every run is a full pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from catalog.errors import CatalogError
from catalog.harvest import apply, remote
from catalog.harvest.errors import HarvestError, RemoteUnreadable
from catalog.harvest.models import HarvestJob, HarvestRecord, HarvestSource
from catalog.harvest.schemas import HarvestMapping
from catalog.harvest.service import require_source, unfinished_job
from catalog.models import Organization, utcnow

MAX_REPORTED_FAILURES = 1000


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run stands, for a progress bar."""

    job_id: uuid.UUID
    done: int
    total: int | None
    created: int
    updated: int
    unchanged: int
    failed: int


ProgressFn = Callable[[Progress], None]
CkanFactory = Callable[[str], Any]
Fetcher = Callable[[str], bytes]


def remote_ckan(url: str) -> Any:
    """A ckanapi client of a CKAN site."""
    import ckanapi

    return ckanapi.RemoteCKAN(url, user_agent=remote.USER_AGENT)


def solr_date(value: str) -> str:
    """A remote metadata_modified as a Solr date (UTC, milliseconds, floored so the range includes it)."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    when = when.astimezone(UTC) if when.tzinfo else when
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def run_harvest(
    engine: Engine,
    source: str | uuid.UUID,
    *,
    actor_id: uuid.UUID | None = None,
    full: bool = False,
    resume: bool = True,
    page_size: int = 100,
    ckan_factory: CkanFactory = remote_ckan,
    fetcher: Fetcher = remote.fetch,
    progress: ProgressFn | None = None,
) -> uuid.UUID:
    """Harvest one source (resuming its unfinished job unless resume=False); the job's id.

    A remote that cannot be read fails the job (status "failed", the reason in its report); any
    other exception (an interruption) leaves it "interrupted" with its cursor, and is raised again.
    """
    job_id, kind, url = _start(engine, source, actor_id=actor_id, full=full, resume=resume)
    try:
        if kind == "ckan":
            _run_ckan(engine, job_id, url, page_size=page_size, factory=ckan_factory, progress=progress)
        else:
            _run_document(engine, job_id, url, kind, page_size=page_size, fetcher=fetcher, progress=progress)
    except (RemoteUnreadable, HarvestError) as exc:
        _finish(engine, job_id, status="failed", error=str(exc))
        return job_id
    except Exception as exc:
        if _is_ckan_error(exc):
            _finish(engine, job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            return job_id
        _finish(engine, job_id, status="interrupted", error=f"{type(exc).__name__}: {exc}")
        raise
    except BaseException as exc:  # KeyboardInterrupt: keep the cursor, resume later
        _finish(engine, job_id, status="interrupted", error=type(exc).__name__)
        raise
    _finish(engine, job_id, status="finished")
    return job_id


def _is_ckan_error(exc: Exception) -> bool:
    try:
        import ckanapi
        import requests
    except ImportError:  # pragma: no cover - ckanapi is a dependency
        return False
    return isinstance(exc, (ckanapi.errors.CKANAPIError, requests.RequestException))


def _start(
    engine: Engine, ref: str | uuid.UUID, *, actor_id: uuid.UUID | None, full: bool, resume: bool
) -> tuple[uuid.UUID, str, str]:
    with Session(engine, expire_on_commit=False) as s:
        source = require_source(s, ref)
        job = unfinished_job(s, source)
        if job is not None and not resume:
            job.status = "failed"
            job.report = {**job.report, "error": "superseded by a new run / 已被新的采集任务取代"}
            job.finished_at = utcnow()
            s.add(job)
            job = None
        if job is None:
            is_full = full or source.harvested_until is None or source.kind != "ckan"
            since = None if is_full else source.harvested_until
            job = HarvestJob(
                source_id=source.id,
                full=is_full,
                started_by=actor_id,
                cursor={"start": 0, "since": since, "max_modified": source.harvested_until},
                report={"failures": [], "withdrawn": []},
            )
        else:
            job.status = "running"
        s.add(job)
        s.commit()
        return job.id, source.kind, source.url


def _finish(engine: Engine, job_id: uuid.UUID, *, status: str, error: str | None = None) -> None:
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(HarvestJob, job_id)
        if job is None:  # pragma: no cover - the job row is committed before anything runs
            return
        source = s.get(HarvestSource, job.source_id)
        job.status = status
        job.finished_at = utcnow() if status != "interrupted" else None
        if error:
            job.report = {**job.report, "error": error}
        if source is not None:
            source.last_run_at = utcnow()
            if status == "finished":
                source.harvested_until = (job.cursor or {}).get("max_modified") or source.harvested_until
                job.cursor = None
            s.add(source)
        s.add(job)
        s.commit()


def _apply_page(
    engine: Engine,
    job_id: uuid.UUID,
    remotes: Sequence[remote.RemoteDataset],
    *,
    cursor: dict[str, Any],
    total: int | None,
    progress: ProgressFn | None,
) -> None:
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(HarvestJob, job_id)
        assert job is not None
        source = s.get(HarvestSource, job.source_id)
        assert source is not None
        org = s.get(Organization, source.organization_id)
        assert org is not None
        mapping = HarvestMapping.model_validate(source.mapping)
        ids = list({r.remote_id[:500] for r in remotes})
        records = {
            r.remote_id: r
            for r in s.exec(
                select(HarvestRecord).where(
                    HarvestRecord.source_id == source.id, col(HarvestRecord.remote_id).in_(ids)
                )
            )
        }
        failures = list(job.report.get("failures", []))
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        for item in remotes:
            try:
                with s.begin_nested():
                    outcome, record = apply.apply_remote(
                        s,
                        actor_id=job.started_by,
                        source=source,
                        mapping=mapping,
                        owner_org=org.name,
                        remote=item,
                        record=records.get(item.remote_id[:500]),
                    )
                records[record.remote_id] = record
                counts[outcome] += 1
            except (apply.RemoteRejected, CatalogError, SQLAlchemyError, ValueError) as exc:
                counts["failed"] += 1
                if len(failures) < MAX_REPORTED_FAILURES:
                    failures.append(
                        {"remote_id": item.remote_id, "title": item.title[:200], "reason": str(exc)[:500]}
                    )
        job.created += counts["created"]
        job.updated += counts["updated"]
        job.unchanged += counts["unchanged"]
        job.failed += counts["failed"]
        job.total = total
        job.report = {**job.report, "failures": failures}
        job.cursor = {**(job.cursor or {}), **cursor}
        s.add(job)
        s.commit()
        if progress is not None:
            done = job.created + job.updated + job.unchanged + job.failed
            progress(Progress(job.id, done, total, job.created, job.updated, job.unchanged, job.failed))


def _withdraw_missing(engine: Engine, job_id: uuid.UUID, present: set[str], *, by: str) -> None:
    """Withdraw the datasets whose remote ids (or names) are no longer in the remote's full list."""
    with Session(engine, expire_on_commit=False) as s:
        job = s.get(HarvestJob, job_id)
        assert job is not None
        stmt = select(HarvestRecord).where(
            HarvestRecord.source_id == job.source_id, HarvestRecord.state == "active"
        )
        withdrawn = list(job.report.get("withdrawn", []))
        for record in s.exec(stmt).all():
            key = record.remote_id if by == "id" else record.remote_name
            if key in present or (by == "name" and record.remote_id in present):
                continue
            apply.withdraw(s, actor_id=job.started_by, record=record)
            job.withdrawn += 1
            withdrawn.append({"remote_id": record.remote_id, "dataset_id": str(record.dataset_id)})
        job.report = {**job.report, "withdrawn": withdrawn}
        s.add(job)
        s.commit()


def _cursor(engine: Engine, job_id: uuid.UUID) -> tuple[dict[str, Any], bool]:
    with Session(engine) as s:
        job = s.get(HarvestJob, job_id)
        assert job is not None
        return dict(job.cursor or {}), job.full


def _run_ckan(
    engine: Engine,
    job_id: uuid.UUID,
    url: str,
    *,
    page_size: int,
    factory: CkanFactory,
    progress: ProgressFn | None,
) -> None:
    cursor, full = _cursor(engine, job_id)
    ckan = factory(url)
    start = int(cursor.get("start") or 0)
    since = cursor.get("since")
    max_modified = cursor.get("max_modified")
    params: dict[str, Any] = {"rows": page_size, "sort": "metadata_modified asc"}
    if since:
        params["fq"] = f"metadata_modified:[{solr_date(since)} TO *]"
    while True:
        result = ckan.call_action("package_search", {**params, "start": start})
        rows = result.get("results") or []
        total = int(result.get("count") or 0)
        if not rows:
            break
        remotes = [remote.from_ckan(pkg, site_url=url) for pkg in rows]
        start += len(rows)
        for item in remotes:
            if item.modified and (max_modified is None or item.modified > max_modified):
                max_modified = item.modified
        _apply_page(
            engine,
            job_id,
            remotes,
            cursor={"start": start, "max_modified": max_modified},
            total=total,
            progress=progress,
        )
        if start >= total:
            break
    if full:
        names = ckan.call_action("package_list", {})
        _withdraw_missing(engine, job_id, {str(n) for n in names}, by="name")


def _run_document(
    engine: Engine,
    job_id: uuid.UUID,
    url: str,
    kind: str,
    *,
    page_size: int,
    fetcher: Fetcher,
    progress: ProgressFn | None,
) -> None:
    cursor, _full = _cursor(engine, job_id)
    body = fetcher(url)
    remotes = remote.read_dcat_us(body) if kind == "dcat_us" else remote.read_dcat_rdf(body, url=url)
    start = int(cursor.get("start") or 0)
    for offset in range(start, len(remotes), page_size):
        page = remotes[offset : offset + page_size]
        _apply_page(
            engine, job_id, page, cursor={"start": offset + len(page)}, total=len(remotes), progress=progress
        )
    _withdraw_missing(engine, job_id, {r.remote_id[:500] for r in remotes}, by="id")
