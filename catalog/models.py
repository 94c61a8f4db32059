"""Tables of the ledger: organizations, datasets, resources and their versions, ledger entries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """value as an aware datetime: a naive one (a caller's, or a row read before UTCDateTime) is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp that reads back as aware UTC on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _ts_opt(**kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kw)


class Organization(SQLModel, table=True):
    """An agency, enterprise, broker, service provider or the exchange operator."""

    __tablename__ = "organization"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    title: str = Field(max_length=200)
    title_en: str = Field(default="", max_length=200)
    description: str = Field(default="")
    org_type: str = Field(default="agency", max_length=32, index=True)
    credit_code: str | None = Field(default=None, max_length=18, unique=True)
    region_code: str = Field(default="", max_length=12, index=True)
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id", index=True)
    state: str = Field(default="active", max_length=16)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Dataset(SQLModel, table=True):
    """One catalog entry of the ledger (数据资源目录)."""

    __tablename__ = "dataset"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    title: str = Field(max_length=300)
    title_en: str = Field(default="", max_length=300)
    notes: str = Field(default="")
    owner_org_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    domain: str = Field(default="", max_length=64, index=True)
    industry: str = Field(default="", max_length=16, index=True)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    open_type: str = Field(default="conditional", max_length=16, index=True)
    share_type: str = Field(default="conditional", max_length=16)
    grade: str | None = Field(default=None, max_length=16, index=True)
    proposed_grade: str | None = Field(default=None, max_length=16)
    grade_confirmed: bool = Field(default=False)
    grade_confirmed_by: uuid.UUID | None = Field(default=None)
    grade_confirmed_at: datetime | None = _ts_opt()
    grade_reason: str = Field(default="")
    update_frequency: str = Field(default="irregular", max_length=16)
    spatial: str = Field(default="", max_length=12)
    temporal_start: date | None = Field(default=None)
    temporal_end: date | None = Field(default=None)
    license_id: str = Field(default="", max_length=64)
    contact_name: str = Field(default="", max_length=100)
    contact_email: str | None = Field(default=None, max_length=200)
    source_system: str = Field(default="", max_length=200)
    record_count: int | None = Field(default=None)
    status: str = Field(default="draft", max_length=16, index=True)
    version: int = Field(default=1)
    resource_code: str | None = Field(default=None, max_length=64, unique=True)
    extras: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    table_schema: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    quality_score: float | None = Field(default=None)
    download_count: int = Field(default=0)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    published_at: datetime | None = _ts_opt()
    data_updated_at: datetime | None = _ts_opt()


class Resource(SQLModel, table=True):
    """A file in object storage, or a link to an API, within a dataset."""

    __tablename__ = "resource"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", index=True)
    name: str = Field(max_length=300)
    description: str = Field(default="")
    format: str = Field(default="", max_length=32)
    kind: str = Field(default="file", max_length=8)
    url: str = Field(default="", max_length=2000)
    position: int = Field(default=0)
    latest_version: int = Field(default=0)
    state: str = Field(default="active", max_length=16)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ResourceVersion(SQLModel, table=True):
    """One immutable upload of a resource's file."""

    __tablename__ = "resource_version"
    __table_args__ = (sa.UniqueConstraint("resource_id", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    resource_id: uuid.UUID = Field(foreign_key="resource.id", index=True)
    version: int
    storage_key: str = Field(max_length=500)
    normalized_key: str | None = Field(default=None, max_length=500)
    filename: str = Field(max_length=300)
    media_type: str = Field(default="application/octet-stream", max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    encoding: str | None = Field(default=None, max_length=32)
    row_count: int | None = Field(default=None)
    columns: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    read_report: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    ingest_error: str | None = Field(default=None)
    quality_report: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    quality_score: float | None = Field(default=None)
    quality_status: str = Field(default="pending", max_length=16)
    state: str = Field(default="active", max_length=16)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()


class QualityJob(SQLModel, table=True):
    """A quality check of one resource version, run by the background worker."""

    __tablename__ = "quality_job"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version_id: uuid.UUID = Field(foreign_key="resource_version.id", index=True)
    state: str = Field(default="queued", max_length=16, index=True)
    progress: float = Field(default=0.0)
    error: str | None = Field(default=None)
    created_at: datetime = _ts()
    started_at: datetime | None = _ts_opt()
    finished_at: datetime | None = _ts_opt()


class DataItem(SQLModel, table=True):
    """One column of a dataset's data dictionary (信息项)."""

    __tablename__ = "data_item"
    __table_args__ = (sa.UniqueConstraint("dataset_id", "name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", index=True)
    position: int = Field(default=0)
    name: str = Field(max_length=200)
    name_zh: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)
    type: str = Field(default="string", max_length=16)
    description: str = Field(default="")
    sensitive_type: str | None = Field(default=None, max_length=32)


class LedgerEntry(SQLModel, table=True):
    """An append-only record of one change to the ledger, written with the change."""

    __tablename__ = "ledger_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)
    subject_type: str = Field(max_length=32)
    subject_id: uuid.UUID = Field(index=True)
    dataset_id: uuid.UUID | None = Field(default=None, index=True)
    organization_id: uuid.UUID | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
