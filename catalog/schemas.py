"""Validated inputs and public shapes of organizations, datasets and resources."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from catalog.enums import DatasetStatus, Grade, OpenType, OrgType, ShareType, UpdateFrequency

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
NAME_RULE = "2-100 lowercase letters, digits, - or _ / 名称须为 2-100 位小写字母、数字、- 或 _"


def _check_name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(NAME_RULE)
    return value


Slug = Annotated[str, AfterValidator(_check_name)]


class OrganizationBase(BaseModel):
    """Fields an organization is registered with."""

    title: str = Field(min_length=1, max_length=200)
    title_en: str = Field(default="", max_length=200)
    description: str = ""
    org_type: OrgType = OrgType.AGENCY
    credit_code: str | None = Field(default=None, description="统一社会信用代码")
    region_code: str = Field(default="", pattern=r"^(\d{6}(\d{3})?)?$")

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        from quality.validators import is_credit_code

        value = value.strip().upper()
        if not is_credit_code(value):
            raise ValueError("invalid unified social credit code / 统一社会信用代码校验失败")
        return value


class OrganizationCreate(OrganizationBase):
    """A new organization."""

    name: Slug
    parent: str | None = Field(default=None, description="name of the parent organization")


class OrganizationUpdate(BaseModel):
    """A partial change to an organization."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    title_en: str | None = None
    description: str | None = None
    region_code: str | None = Field(default=None, pattern=r"^(\d{6}(\d{3})?)?$")


class OrganizationPublic(OrganizationBase):
    """An organization as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    created_at: datetime


class DatasetBase(BaseModel):
    """Fields of a catalog entry that its agency declares."""

    title: str = Field(min_length=1, max_length=300)
    title_en: str = Field(default="", max_length=300)
    notes: str = ""
    domain: str = Field(default="", max_length=64)
    industry: str = Field(default="", max_length=16)
    tags: list[str] = Field(default_factory=list)
    open_type: OpenType = OpenType.CONDITIONAL
    share_type: ShareType = ShareType.CONDITIONAL
    grade: Grade | None = None
    update_frequency: UpdateFrequency = UpdateFrequency.IRREGULAR
    spatial: str = Field(default="", pattern=r"^(\d{6}(\d{3})?)?$")
    temporal_start: date | None = None
    temporal_end: date | None = None
    license_id: str = Field(default="", max_length=64)
    contact_name: str = Field(default="", max_length=100)
    contact_email: EmailStr | None = None
    source_system: str = Field(default="", max_length=200)
    record_count: int | None = Field(default=None, ge=0)
    extras: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned: list[str] = []
        for tag in value:
            tag = tag.strip()
            if not tag:
                continue
            if len(tag) > 100:
                raise ValueError("a tag is at most 100 characters / 标签最多 100 个字符")
            if tag not in cleaned:
                cleaned.append(tag)
        return cleaned

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.temporal_start and self.temporal_end and self.temporal_start > self.temporal_end:
            raise ValueError("temporal_start is after temporal_end / 时间范围起点晚于终点")
        return self


class DatasetCreate(DatasetBase):
    """A new catalog entry, registered by an agency."""

    name: Slug
    owner_org: str = Field(description="name of the owning organization")


class DatasetUpdate(BaseModel):
    """A partial change to a catalog entry; fields left out stay as they are."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    title_en: str | None = None
    notes: str | None = None
    domain: str | None = None
    industry: str | None = None
    tags: list[str] | None = None
    open_type: OpenType | None = None
    share_type: ShareType | None = None
    update_frequency: UpdateFrequency | None = None
    spatial: str | None = Field(default=None, pattern=r"^(\d{6}(\d{3})?)?$")
    temporal_start: date | None = None
    temporal_end: date | None = None
    license_id: str | None = None
    contact_name: str | None = None
    contact_email: EmailStr | None = None
    source_system: str | None = None
    record_count: int | None = Field(default=None, ge=0)
    extras: dict[str, Any] | None = None


class ResourceCreate(BaseModel):
    """A new resource: a file to upload later, or a link."""

    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    format: str = Field(default="", max_length=32)
    url: str = Field(default="", max_length=2000)


class ResourceVersionPublic(BaseModel):
    """One upload of a resource's file."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version: int
    filename: str
    media_type: str
    size: int
    sha256: str
    encoding: str | None
    row_count: int | None
    state: str
    created_at: datetime


class ResourcePublic(BaseModel):
    """A resource as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    dataset_id: uuid.UUID
    name: str
    description: str
    format: str
    kind: str
    url: str
    latest_version: int
    created_at: datetime
    updated_at: datetime


class DatasetPublic(DatasetBase):
    """A catalog entry as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    owner_org_id: uuid.UUID
    status: DatasetStatus
    grade_confirmed: bool
    proposed_grade: Grade | None
    version: int
    resource_code: str | None
    quality_score: float | None
    download_count: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
