"""Inputs and public shapes of harvest sources and jobs, and the mapping a source declares."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from catalog.enums import Grade, OpenType, ShareType, UpdateFrequency
from catalog.schemas import Slug

SourceKind = Literal["ckan", "dcat_rdf", "dcat_us"]

# Our fields a remote field may be mapped onto (values of vocabulary fields are looked up).
MAPPABLE_FIELDS = frozenset(
    {
        "title_en",
        "domain",
        "industry",
        "update_frequency",
        "spatial",
        "open_type",
        "share_type",
        "contact_name",
        "contact_email",
        "source_system",
        "license_id",
    }
)
_SCHEDULE = re.compile(r"^(|every\s+\d+\s*h|(\S+\s+){4}\S+)$")


class HarvestMapping(BaseModel):
    """How a source's datasets become ours: defaults, field renames and whether to publish.

    The defaults are the cautious ones: a draft, 有条件开放 / 有条件共享, no grade. `publish: true`
    needs a grade that allows the open type; the grade is then confirmed in the source's name.
    """

    model_config = ConfigDict(extra="forbid")

    open_type: OpenType = OpenType.CONDITIONAL
    share_type: ShareType = ShareType.CONDITIONAL
    grade: Grade | None = None
    publish: bool = False
    domain: str = ""
    update_frequency: UpdateFrequency = UpdateFrequency.IRREGULAR
    license_id: str = ""
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="remote field (top-level key or extras key) -> our field, e.g. {'Periodicidade': 'update_frequency'}",
    )
    keep_extras: bool = Field(True, description="keep the remote's scalar extras in Dataset.extras")

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - MAPPABLE_FIELDS)
        if unknown:
            raise ValueError(f"cannot map onto {', '.join(unknown)} / 不支持映射到这些字段")
        return value

    @model_validator(mode="after")
    def _publishable(self) -> Self:
        from catalog.grading import grade_allows_open_type

        if self.publish and (self.grade is None or not grade_allows_open_type(self.grade, self.open_type)):
            raise ValueError(
                "publish needs a grade that allows the open type / 自动发布须设置允许该开放属性的分级"
            )
        return self


class HarvestSourceCreate(BaseModel):
    """A new harvest source."""

    name: Slug
    title: str = Field(default="", max_length=200)
    kind: SourceKind
    url: str = Field(min_length=1, max_length=2000)
    organization: str = Field(description="name of the organization that owns the harvested datasets")
    mapping: HarvestMapping = Field(default_factory=HarvestMapping)
    schedule: str = Field(
        default="", max_length=64, description='"" (manual), "every 24h" or a cron expression'
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        value = value.strip()
        if not _SCHEDULE.match(value):
            raise ValueError('schedule is "every N h" or a 5-field cron expression / 调度格式错误')
        return value


class HarvestSourcePublic(BaseModel):
    """A harvest source as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    title: str
    kind: str
    url: str
    organization_id: uuid.UUID
    mapping: dict[str, Any]
    schedule: str
    state: str
    harvested_until: str | None
    last_run_at: datetime | None
    created_at: datetime


class HarvestJobPublic(BaseModel):
    """A harvest job and its report."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source_id: uuid.UUID
    status: str
    full: bool
    started_at: datetime
    finished_at: datetime | None
    created: int
    updated: int
    unchanged: int
    withdrawn: int
    failed: int
    total: int | None
    report: dict[str, Any]
    cursor: dict[str, Any] | None
