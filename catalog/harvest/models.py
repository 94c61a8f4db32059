"""Tables of harvesting: sources, jobs, and the remote ids each source has brought in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from catalog.models import UTCDateTime, utcnow


class HarvestSource(SQLModel, table=True):
    """A remote catalog harvested into the ledger on behalf of one organization."""

    __tablename__ = "harvest_source"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=100, unique=True, index=True)
    title: str = Field(default="", max_length=200)
    kind: str = Field(max_length=16)  # ckan | dcat_rdf | dcat_us
    url: str = Field(max_length=2000)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    schedule: str = Field(default="", max_length=64)  # "" (manual), "every 24h" or a cron expression
    state: str = Field(default="active", max_length=16)  # active | paused
    # The latest remote metadata_modified fully harvested: the next incremental run starts there.
    harvested_until: str | None = Field(default=None, max_length=40)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HarvestJob(SQLModel, table=True):
    """One run of a source: its counts, its report and where to resume it."""

    __tablename__ = "harvest_job"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    source_id: uuid.UUID = Field(foreign_key="harvest_source.id", index=True)
    status: str = Field(default="running", max_length=16, index=True)  # running|interrupted|finished|failed
    full: bool = Field(default=False)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    withdrawn: int = Field(default=0)
    failed: int = Field(default=0)
    total: int | None = Field(default=None)  # what the remote said it holds, when it says
    report: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    cursor: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    started_by: uuid.UUID | None = Field(default=None)


class HarvestRecord(SQLModel, table=True):
    """A remote dataset a source has brought in, the dataset it became and the hash of what was read."""

    __tablename__ = "harvest_record"
    __table_args__ = (sa.UniqueConstraint("source_id", "remote_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    source_id: uuid.UUID = Field(foreign_key="harvest_source.id", index=True)
    remote_id: str = Field(max_length=500)
    remote_name: str = Field(default="", max_length=300)
    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", index=True)
    remote_modified: str | None = Field(default=None, max_length=40)
    content_hash: str = Field(max_length=64)
    state: str = Field(default="active", max_length=16)  # active | withdrawn
    harvested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
