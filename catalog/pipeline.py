"""What happens to an uploaded file after it is stored: ingestion, profile, checks, score, grade.

The upload route only enqueues a QualityJob; the worker (`dataledger quality worker`, started by
`serve`) or `dataledger quality run` takes jobs and calls run_job. great-expectations is imported
inside quality.checks, so it never loads in the web process.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalog import grading, ledger
from catalog.models import DataItem, Dataset, QualityJob, Resource, ResourceVersion, utcnow
from quality.errors import UnreadableFile
from storage import Storage, make_key

Progress = Callable[[float, str], None]
MACHINE_READABLE = {"CSV", "TSV", "XLSX", "XLS", "JSON", "JSONL", "PARQUET", "XML"}


def enqueue(session: Session, version: ResourceVersion) -> QualityJob:
    """Queue a quality job for one uploaded version."""
    job = QualityJob(version_id=version.id)
    session.add(job)
    session.flush()
    return job


def claim_next(engine: Engine) -> uuid.UUID | None:
    """Take the oldest queued job for this worker, or None when there is none."""
    with Session(engine) as session:
        stmt = select(QualityJob.id).where(QualityJob.state == "queued").order_by(QualityJob.created_at)
        if engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        job_id = session.exec(stmt.limit(1)).first()
        if job_id is None:
            return None
        claimed = session.execute(
            update(QualityJob)
            .where(col(QualityJob.id) == job_id, col(QualityJob.state) == "queued")
            .values(state="running", started_at=utcnow())
        )
        session.commit()
        return job_id if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def pending_jobs(session: Session, *, dataset_id: uuid.UUID | None = None) -> list[QualityJob]:
    """Queued jobs, oldest first, optionally of one dataset only."""
    stmt = select(QualityJob).where(QualityJob.state == "queued")
    if dataset_id is not None:
        stmt = (
            stmt.join(ResourceVersion, col(ResourceVersion.id) == QualityJob.version_id)
            .join(Resource, col(Resource.id) == ResourceVersion.resource_id)
            .where(Resource.dataset_id == dataset_id)
        )
    return list(session.exec(stmt.order_by(QualityJob.created_at)))


def run_job(
    engine: Engine,
    storage: Storage,
    job_id: uuid.UUID,
    *,
    workdir: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> QualityJob:
    """Run one job to the end; its outcome is recorded on the job and on the version, never raised."""
    report = progress or (lambda _f, _m: None)
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(QualityJob, job_id)
        if job is None:
            raise LookupError(f"no quality job {job_id}")
        job.state, job.started_at, job.progress = "running", job.started_at or utcnow(), 0.0
        session.add(job)
        session.commit()
        try:
            check_version(
                session, storage, version_id=job.version_id, workdir=workdir, progress=report, now=now
            )
            job.state, job.progress = "done", 1.0
        except Exception as exc:  # the worker must survive any single bad file
            session.rollback()
            job = session.get(QualityJob, job_id)  # type: ignore[assignment]
            assert job is not None
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
        job.finished_at = utcnow()
        session.add(job)
        session.commit()
        return job


def _fetch(storage: Storage, key: str, dest: Path) -> Path:
    local = storage.local_path(key)
    if local is not None:
        return local
    with dest.open("wb") as out:
        for chunk in storage.read(key):
            out.write(chunk)
    return dest


def check_version(
    session: Session,
    storage: Storage,
    *,
    version_id: uuid.UUID,
    workdir: Path,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ResourceVersion:
    """Ingest, profile, check and score one version; update its dataset; the caller commits."""
    from quality.formats import sniff_format
    from quality.ingest import ingest_file

    report = progress or (lambda _f, _m: None)
    version = session.get(ResourceVersion, version_id)
    if version is None:
        raise LookupError(f"no resource version {version_id}")
    resource = session.get(Resource, version.resource_id)
    dataset = session.get(Dataset, resource.dataset_id) if resource else None
    assert resource is not None and dataset is not None
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        report(0.05, "fetching")
        src = _fetch(storage, version.storage_key, Path(tmp) / "original")
        fmt = sniff_format(src).upper()
        if fmt == "UNKNOWN":
            version.quality_status = "not_tabular"
            session.add(version)
            session.flush()
            return version
        report(0.15, "reading")
        try:
            result = ingest_file(src, Path(tmp), source_name=version.filename)
        except UnreadableFile as exc:
            _reject(session, version, resource, dataset, str(exc))
            return version
        report(0.45, "profiling")
        normalized_key = make_key(
            "datasets", str(dataset.id), str(resource.id), f"v{version.version}.normalized.parquet"
        )
        with result.normalized_path.open("rb") as fh:
            storage.put(normalized_key, fh, content_type="application/vnd.apache.parquet")
        profile = result.profile
        version.normalized_key = normalized_key
        version.encoding = result.read_report.encoding
        version.row_count = profile.row_count
        version.columns = [c.model_dump(mode="json") for c in profile.columns]
        version.read_report = result.read_report.model_dump(mode="json")
        if not resource.format or resource.format not in MACHINE_READABLE:
            resource.format = fmt
        _fill_data_items(session, dataset, profile)
        _propose_grade(session, dataset, profile)
        report(0.55, "checking")
        check = _run_checks(dataset, profile, result.normalized_path, report)
        _score(session, dataset, resource, version, check, now=now or datetime.now(UTC))
        shutil.rmtree(Path(tmp), ignore_errors=True)
    from catalog.service import reindex_dataset

    reindex_dataset(session, dataset)
    report(1.0, "done")
    return version


def _reject(
    session: Session, version: ResourceVersion, resource: Resource, dataset: Dataset, why: str
) -> None:
    """A tabular upload that cannot be read: kept for the record, never served or published."""
    before = ledger.snapshot(version)
    version.state = "rejected"
    version.quality_status = "unreadable"
    version.ingest_error = why
    previous = session.exec(
        select(ResourceVersion.version)
        .where(ResourceVersion.resource_id == resource.id, ResourceVersion.state == "active")
        .order_by(col(ResourceVersion.version).desc())
    ).first()
    resource.latest_version = previous or 0
    session.add_all([version, resource])
    ledger.append(
        session, actor_id=None, action="resource.reject", subject=version, before=before, dataset=dataset
    )
    session.flush()


def _fill_data_items(session: Session, dataset: Dataset, profile: Any) -> None:
    """Fill the data dictionary from the profile; columns the agency already described stay as they are."""
    existing = {
        item.name: item for item in session.exec(select(DataItem).where(DataItem.dataset_id == dataset.id))
    }
    for column in profile.columns:
        item = existing.get(column.name)
        if item is None:
            session.add(
                DataItem(
                    dataset_id=dataset.id,
                    position=column.position,
                    name=column.name,
                    name_zh=column.name if not column.name.isascii() else "",
                    name_en=column.name if column.name.isascii() else "",
                    type=column.inferred_type,
                    sensitive_type=column.sensitive_type,
                )
            )
        elif item.sensitive_type is None and column.sensitive_type:
            item.sensitive_type = column.sensitive_type
            session.add(item)


def _propose_grade(session: Session, dataset: Dataset, profile: Any) -> None:
    kinds = {c.sensitive_type for c in profile.columns if c.sensitive_type}
    items = session.exec(select(DataItem.sensitive_type).where(DataItem.dataset_id == dataset.id)).all()
    kinds |= {k for k in items if k}
    proposed, reasons = grading.propose_grade(kinds, dataset.domain)
    if dataset.proposed_grade != proposed:
        before = ledger.snapshot(dataset)
        dataset.proposed_grade = proposed
        extras = dict(dataset.extras or {})
        extras["proposed_grade_reasons"] = reasons
        dataset.extras = extras
        session.add(dataset)
        ledger.append(session, actor_id=None, action="dataset.grade_propose", subject=dataset, before=before)


def table_schema_for(dataset: Dataset, profile: Any) -> Any:
    """The dataset's declared table schema when this file has its columns, else one proposed from the profile.

    A dataset whose files hold different tables (routes and stops, say) is not judged by one
    file's schema: a file sharing fewer than half the declared fields gets its own proposal.
    """
    from quality.schema import ColumnFacts, parse_schema, propose_schema

    if dataset.table_schema:
        declared = parse_schema(dataset.table_schema)
        names = {c.name for c in profile.columns}
        fields = {f.name for f in declared.fields}
        if not fields or len(fields & names) * 2 >= len(fields):
            return declared
    facts = [
        ColumnFacts(
            name=c.name,
            inferred_type=c.inferred_type,
            null_share=c.null_share,
            distinct_ratio=(c.distinct_count / c.non_null_count) if c.non_null_count else 0.0,
            sensitive_type=c.sensitive_type,
            values=tuple(v.value for v in c.top_values)
            if 0 < c.distinct_count <= len(c.top_values)
            else None,
        )
        for c in profile.columns
    ]
    return propose_schema(facts)


def _run_checks(dataset: Dataset, profile: Any, parquet: Path, report: Progress) -> Any:
    from quality.checks import run_checks

    schema = table_schema_for(dataset, profile)
    if not dataset.table_schema:
        dataset.table_schema = schema.model_dump(mode="json")
    return run_checks(parquet, schema, on_progress=lambda f: report(0.55 + 0.4 * f, "checking"))


def _score(
    session: Session,
    dataset: Dataset,
    resource: Resource,
    version: ResourceVersion,
    check: Any,
    *,
    now: datetime,
) -> None:
    from quality.scoring import score

    result = score(
        check,
        last_updated_at=dataset.data_updated_at,
        frequency=dataset.update_frequency,
        now=now,
        readable=True,
        machine_readable=(resource.format or "").upper() in MACHINE_READABLE,
        has_licence=bool(dataset.license_id),
    )
    version.quality_report = {
        "checks": check.model_dump(mode="json"),
        "score": result.model_dump(mode="json"),
    }
    version.quality_score = result.overall
    version.quality_status = "blocked" if check.has_critical_failures else "passed"
    dataset.quality_score = result.overall
    session.add_all([version, dataset])
    session.flush()


def job_for_version(session: Session, version_id: uuid.UUID) -> QualityJob | None:
    """The newest quality job of a version, or None."""
    stmt = select(QualityJob).where(QualityJob.version_id == version_id)
    return session.exec(stmt.order_by(col(QualityJob.created_at).desc())).first()


def overdue_datasets(
    session: Session, *, now: datetime, owner_org_id: uuid.UUID | None = None
) -> list[Dataset]:
    """Published datasets whose data is older than their declared update frequency allows."""
    from quality.scoring import is_overdue

    stmt = select(Dataset).where(Dataset.status == "published")
    if owner_org_id is not None:
        stmt = stmt.where(Dataset.owner_org_id == owner_org_id)
    return [
        d
        for d in session.exec(stmt.order_by(Dataset.name))
        if is_overdue(d.data_updated_at or d.created_at, d.update_frequency, now)
    ]


def refresh_timeliness(session: Session, *, now: datetime) -> int:
    """Rescore every checked version for the time that has passed; overdue data scores lower."""
    from quality.checks import CheckReport

    changed = 0
    stmt = select(ResourceVersion).where(col(ResourceVersion.quality_report).is_not(None))
    for version in session.exec(stmt):
        resource = session.get(Resource, version.resource_id)
        dataset = session.get(Dataset, resource.dataset_id) if resource else None
        if dataset is None or resource is None or not version.quality_report:
            continue
        check = CheckReport.model_validate(version.quality_report["checks"])
        old = version.quality_score
        _score(session, dataset, resource, version, check, now=now)
        changed += int(old != version.quality_score)
    return changed
