"""The demo ledger (示例数据) for a 浙江省 portal: catalog.json and the CSV files it names.

`load_demo_spec()` parses and validates catalog.json (enum values, vocabulary codes, the grade/open-type
rule, credit-code check characters, references between entries, files on disk); the coordinator's
`dataledger demo` inserts it through the services. `generate.py` beside this module regenerates it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from catalog import vocab
from catalog.enums import Grade, OpenType, OrgType, ShareType, UpdateFrequency
from catalog.grading import MAX_OPEN_TYPE, grade_allows_open_type
from quality.validators import is_credit_code

__all__ = [
    "DEMO_DIR",
    "DemoDataset",
    "DemoMembership",
    "DemoOrganization",
    "DemoResource",
    "DemoSpec",
    "DemoUser",
    "demo_file",
    "is_credit_code",
    "load_demo_spec",
    "max_open_type",
    "parse_demo_spec",
]

DEMO_DIR = Path(__file__).resolve().parent

_SLUG = r"^[a-z0-9][a-z0-9_-]{1,99}$"
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def max_open_type(grade: Grade | str) -> OpenType:
    """The most open 开放属性 a grade allows (core, important, general_4: closed; general_3: conditional)."""
    return OpenType(MAX_OPEN_TYPE[Grade(grade)])


def _in_vocab(name: str, code: str) -> str:
    if vocab.get_term(name, code) is None:
        raise ValueError(f"{code!r} is not a code of vocabulary {name}")
    return code


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DemoOrganization(_Strict):
    """An organization of the demo ledger."""

    name: str = Field(pattern=_SLUG)
    title: str = Field(min_length=2)
    title_en: str = Field(min_length=2)
    org_type: OrgType
    credit_code: str
    region_code: str
    parent: str | None = None
    description: str = ""

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        if not is_credit_code(value):
            raise ValueError(f"{value!r} is not a valid 统一社会信用代码 (GB 32100-2015 check character)")
        return value

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        return _in_vocab("regions", value)


class DemoMembership(_Strict):
    """A user's membership of an organization."""

    organization: str
    role: Literal["admin", "editor", "member"]
    security_officer: bool = False


class DemoUser(_Strict):
    """A demo login."""

    name: str = Field(pattern=_SLUG)
    fullname: str
    email: str
    password: str = Field(min_length=8)
    sysadmin: bool = False
    platform_roles: list[Literal["regulator", "operator"]] = Field(default_factory=list)
    memberships: list[DemoMembership] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


class DemoResource(_Strict):
    """A file of a demo dataset; `file` is relative to the demo folder."""

    name: str
    description: str = ""
    file: str = Field(pattern=r"^files/[A-Za-z0-9_.-]+$")
    format: Literal["CSV"] = "CSV"
    encoding: str = "utf-8"

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        codecs.lookup(value)  # raises LookupError, which pydantic reports as a validation error
        return value

    @field_validator("file")
    @classmethod
    def _exists(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base", DEMO_DIR)
        if not (Path(base) / value).is_file():
            raise ValueError(f"file {value} does not exist in {base}")
        return value


class DemoDataset(_Strict):
    """A catalog entry of the demo ledger."""

    name: str = Field(pattern=_SLUG)
    title: str
    title_en: str
    notes: str
    organization: str
    domain: str
    industry: str
    tags: list[str] = Field(min_length=1)
    open_type: OpenType
    share_type: ShareType
    grade: Grade
    update_frequency: UpdateFrequency
    spatial: str
    temporal_start: dt.date
    temporal_end: dt.date
    license_id: str = Field(min_length=2)
    contact_name: str
    contact_email: str
    source_system: str
    resources: list[DemoResource] = Field(min_length=1, max_length=2)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return _in_vocab("domains", value)

    @field_validator("industry")
    @classmethod
    def _industry(cls, value: str) -> str:
        return _in_vocab("industries", value)

    @field_validator("spatial")
    @classmethod
    def _spatial(cls, value: str) -> str:
        return _in_vocab("regions", value)

    @field_validator("contact_email")
    @classmethod
    def _contact_email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _rules(self) -> DemoDataset:
        allowed = max_open_type(self.grade)
        if not grade_allows_open_type(self.grade, self.open_type):
            raise ValueError(
                f"dataset {self.name}: grade {self.grade.value} allows at most {allowed.value}, "
                f"not {self.open_type.value}"
            )
        if self.temporal_start > self.temporal_end:
            raise ValueError(f"dataset {self.name}: temporal_start is after temporal_end")
        if "示例数据" not in self.notes:
            raise ValueError(f"dataset {self.name}: notes must say 示例数据")
        return self


def _duplicates(names: list[str]) -> list[str]:
    return sorted(n for n, count in Counter(names).items() if count > 1)


class DemoSpec(_Strict):
    """The whole demo ledger: organizations (parents first), users, datasets."""

    organizations: list[DemoOrganization]
    users: list[DemoUser]
    datasets: list[DemoDataset]

    @model_validator(mode="after")
    def _references(self) -> DemoSpec:
        problems: list[str] = []
        for kind, names in (
            ("organization", [o.name for o in self.organizations]),
            ("user", [u.name for u in self.users]),
            ("dataset", [d.name for d in self.datasets]),
            ("resource file", [r.file for d in self.datasets for r in d.resources]),
            ("credit code", [o.credit_code for o in self.organizations]),
        ):
            problems += [f"duplicate {kind} {n}" for n in _duplicates(names)]
        seen: set[str] = set()
        for org in self.organizations:
            if org.parent is not None and org.parent not in seen:
                problems.append(f"organization {org.name}: parent {org.parent} is unknown or listed after it")
            seen.add(org.name)
        for user in self.users:
            problems += [
                f"user {user.name}: unknown organization {m.organization}"
                for m in user.memberships
                if m.organization not in seen
            ]
        problems += [
            f"dataset {d.name}: unknown organization {d.organization}"
            for d in self.datasets
            if d.organization not in seen
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def organization(self, name: str) -> DemoOrganization | None:
        """The organization with this slug, or None."""
        return next((o for o in self.organizations if o.name == name), None)


def parse_demo_spec(data: dict[str, Any], *, base: Path = DEMO_DIR) -> DemoSpec:
    """Validate a demo spec; resource files are looked up under `base`. Raises pydantic.ValidationError."""
    return DemoSpec.model_validate(data, context={"base": base})


@cache
def load_demo_spec() -> DemoSpec:
    """The shipped demo ledger, validated (cached; the models are frozen)."""
    data = json.loads((DEMO_DIR / "catalog.json").read_text(encoding="utf-8"))
    return parse_demo_spec(data)


def demo_file(path: str) -> Path:
    """The absolute path of a file named by the spec (e.g. "files/zj-schools-schools.csv")."""
    resolved = (DEMO_DIR / path).resolve()
    if not resolved.is_relative_to(DEMO_DIR / "files"):
        raise ValueError(f"{path!r} is outside the demo files folder")
    if not resolved.is_file():
        raise FileNotFoundError(resolved)
    return resolved
