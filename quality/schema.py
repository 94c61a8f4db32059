"""Table schemas: declared fields, keys and a small declarative set of custom rules (no user code)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from quality.errors import QualityError

__all__ = [
    "FORMATS",
    "SENSITIVE_FORMATS",
    "ColumnFacts",
    "CompareRule",
    "CustomRule",
    "FieldFormat",
    "FieldSpec",
    "FieldType",
    "InvalidSchema",
    "RegexRule",
    "RowCountRule",
    "Severity",
    "TableSchema",
    "UniqueTogetherRule",
    "ValueSetRule",
    "parse_schema",
    "propose_schema",
]

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
FieldFormat = Literal["resident_id", "credit_code", "mobile", "bank_card", "email", "region_code", "cn_date"]
Severity = Literal["critical", "warning"]
SensitiveType = Literal["resident_id", "credit_code", "bank_card", "mobile", "email", "name", "address"]

FORMATS: tuple[str, ...] = (
    "resident_id",
    "credit_code",
    "mobile",
    "bank_card",
    "email",
    "region_code",
    "cn_date",
)
# Formats whose values identify a person or an account: examples of failures are masked.
SENSITIVE_FORMATS: frozenset[str] = frozenset({"resident_id", "credit_code", "mobile", "bank_card", "email"})

_NAME_MAX = 128
_PATTERN_MAX = 500
_ENUM_MAX = 1000
_RULE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_ORDERED_TYPES = frozenset({"integer", "number", "date", "datetime"})


class InvalidSchema(QualityError):
    """A table schema does not validate; the message lists every problem (zh-CN and English)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _check_pattern(pattern: str | None) -> str | None:
    if pattern is None:
        return None
    if not pattern or len(pattern) > _PATTERN_MAX:
        raise ValueError(f"正则表达式长度须为 1-{_PATTERN_MAX} / pattern must be 1-{_PATTERN_MAX} characters")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"正则表达式无效 / invalid regular expression {pattern!r}: {exc}") from None
    return pattern


def _bound_value(value: Any, type_: str, which: str) -> float | str | None:
    """Normalise a minimum/maximum for the field type: numbers stay numbers, dates become ISO text."""
    if value is None:
        return None
    if type_ not in _ORDERED_TYPES:
        raise ValueError(
            f"{which} 仅适用于数值或日期字段 / {which} applies only to integer, number, date or datetime "
            f"fields, not {type_}"
        )
    if type_ in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{which} 须为数字 / {which} must be a number, got {value!r}") from None
        return value
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{which} 须为 ISO 日期 / {which} must be an ISO date such as 2024-01-31, got {value!r}"
        ) from None
    return parsed.date().isoformat() if type_ == "date" else parsed.isoformat()


class FieldSpec(BaseModel):
    """One declared column: its type and the checks that its values must pass."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=_NAME_MAX)
    title: str = ""
    type: FieldType = "string"
    required: bool = False
    unique: bool = False
    enum: list[str] | None = None
    minimum: float | int | str | None = None
    maximum: float | int | str | None = None
    pattern: str | None = None
    format: FieldFormat | None = None
    # Kind of personal data held here (masks failure examples); formats like resident_id imply it.
    sensitive: SensitiveType | None = None
    severity: Severity = "critical"

    @field_validator("name")
    @classmethod
    def _name_is_trimmed(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError("字段名不能以空白开头或结尾 / field name must not start or end with whitespace")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        return _check_pattern(value)

    @field_validator("enum")
    @classmethod
    def _enum_is_a_set(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("枚举值不能为空 / enum must list at least one value")
        if len(value) > _ENUM_MAX:
            raise ValueError(f"枚举值最多 {_ENUM_MAX} 个 / enum may list at most {_ENUM_MAX} values")
        if len(set(value)) != len(value):
            raise ValueError("枚举值重复 / enum lists a value twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        self.minimum = _bound_value(self.minimum, self.type, "minimum")
        self.maximum = _bound_value(self.maximum, self.type, "maximum")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:  # type: ignore[operator]
            raise ValueError(
                f"字段 {self.name}: 最小值大于最大值 / minimum {self.minimum} is greater than "
                f"maximum {self.maximum}"
            )
        if self.format is not None and self.type != "string":
            raise ValueError(
                f"字段 {self.name}: 格式 {self.format} 要求字符串类型 / format {self.format} needs type "
                f"'string' (identifiers keep leading zeros), not {self.type!r}"
            )
        if self.pattern is not None and self.type != "string":
            raise ValueError(
                f"字段 {self.name}: 正则仅适用于字符串 / pattern needs type 'string', not {self.type!r}"
            )
        return self

    @property
    def mask_kind(self) -> str | None:
        """The masking kind for failure examples, or None when values may be shown."""
        if self.sensitive is not None:
            return self.sensitive
        return self.format if self.format in SENSITIVE_FORMATS else None


class _RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, description="stable rule id; generated from the rule when absent")
    description: str = ""
    severity: Severity = "critical"

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str | None) -> str | None:
        if value is not None and not _RULE_ID.match(value):
            raise ValueError(
                "规则编号只能包含字母、数字、._- 且不超过 64 个字符 / rule id may hold only letters, digits "
                "and . _ - (at most 64 characters)"
            )
        return value

    def referenced_columns(self) -> list[str]:
        """Columns this rule reads."""
        return []


class CompareRule(_RuleBase):
    """Row-wise comparison of two columns, e.g. start_date <= end_date (rows with a null are skipped)."""

    kind: Literal["compare"] = "compare"
    left: str
    op: Literal["<", "<=", "==", ">=", ">"]
    right: str

    @model_validator(mode="after")
    def _distinct(self) -> CompareRule:
        if self.left == self.right:
            raise ValueError("比较规则的两列不能相同 / compare rule needs two different columns")
        return self

    def referenced_columns(self) -> list[str]:
        """Columns this rule reads."""
        return [self.left, self.right]


class RegexRule(_RuleBase):
    """Every non-null value of a column matches a regular expression."""

    kind: Literal["regex"] = "regex"
    column: str
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        return _check_pattern(value)  # type: ignore[return-value]

    def referenced_columns(self) -> list[str]:
        """Columns this rule reads."""
        return [self.column]


class ValueSetRule(_RuleBase):
    """Every non-null value of a column is one of the listed values."""

    kind: Literal["value_set"] = "value_set"
    column: str
    values: list[str] = Field(min_length=1, max_length=_ENUM_MAX)

    def referenced_columns(self) -> list[str]:
        """Columns this rule reads."""
        return [self.column]


class RowCountRule(_RuleBase):
    """The table has between min_rows and max_rows rows."""

    kind: Literal["row_count"] = "row_count"
    min_rows: int | None = Field(default=None, ge=0)
    max_rows: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> RowCountRule:
        if self.min_rows is None and self.max_rows is None:
            raise ValueError("行数规则至少需要一个界限 / row_count rule needs min_rows or max_rows")
        if self.min_rows is not None and self.max_rows is not None and self.min_rows > self.max_rows:
            raise ValueError("min_rows 大于 max_rows / min_rows is greater than max_rows")
        return self


class UniqueTogetherRule(_RuleBase):
    """The combination of several columns is unique (rows where all of them are null are skipped)."""

    kind: Literal["unique_together"] = "unique_together"
    columns: list[str] = Field(min_length=2, max_length=16)

    @field_validator("columns")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("组合唯一规则的列重复 / unique_together lists a column twice")
        return value

    def referenced_columns(self) -> list[str]:
        """Columns this rule reads."""
        return list(self.columns)


CustomRule = Annotated[
    CompareRule | RegexRule | ValueSetRule | RowCountRule | UniqueTogetherRule, Field(discriminator="kind")
]


def rule_id(
    rule: CompareRule | RegexRule | ValueSetRule | RowCountRule | UniqueTogetherRule, index: int
) -> str:
    """The id of a custom rule: its own, or one derived from its kind and position."""
    return rule.id or f"rule{index + 1}.{rule.kind}"


class TableSchema(BaseModel):
    """The declared shape of one table: fields, primary key and custom rules."""

    model_config = ConfigDict(extra="forbid")

    fields: list[FieldSpec] = Field(min_length=1)
    primary_key: list[str] = Field(default_factory=list)
    rules: list[CustomRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> TableSchema:
        problems: list[str] = []
        names = [f.name for f in self.fields]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                problems.append(f"字段名重复 / duplicate field name {name!r}")
            seen.add(name)
        if len(set(self.primary_key)) != len(self.primary_key):
            problems.append("主键列重复 / primary key lists a column twice")
        problems += [
            f"主键列 {c!r} 不在字段中 / primary key column {c!r} is not a declared field"
            for c in self.primary_key
            if c not in seen
        ]
        ids: set[str] = set()
        for i, rule in enumerate(self.rules):
            rid = rule_id(rule, i)
            if rid in ids:
                problems.append(f"规则编号重复 / duplicate rule id {rid!r}")
            ids.add(rid)
            problems += [
                f"规则 {rid} 引用了未声明的列 {c!r} / rule {rid} refers to undeclared column {c!r}"
                for c in rule.referenced_columns()
                if c not in seen
            ]
            if isinstance(rule, CompareRule) and rule.left in seen and rule.right in seen:
                lt, rt = self.field(rule.left).type, self.field(rule.right).type
                if not _comparable(lt, rt):
                    problems.append(
                        f"规则 {rid}: {rule.left} ({lt}) 与 {rule.right} ({rt}) 类型不可比较 / "
                        f"rule {rid} compares {lt} with {rt}"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def field(self, name: str) -> FieldSpec:
        """The declared field of that name (KeyError if absent)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def get_field(self, name: str) -> FieldSpec | None:
        """The declared field of that name, or None."""
        return next((f for f in self.fields if f.name == name), None)


def _comparable(a: str, b: str) -> bool:
    numeric = {"integer", "number"}
    temporal = {"date", "datetime"}
    return a == b or {a, b} <= numeric or {a, b} <= temporal


def parse_schema(data: dict[str, Any] | str | bytes) -> TableSchema:
    """Validate a schema from a dict or JSON text; raise InvalidSchema listing every problem."""
    try:
        raw = json.loads(data) if isinstance(data, str | bytes) else data
        return TableSchema.model_validate(raw)
    except json.JSONDecodeError as exc:
        raise InvalidSchema([f"不是有效的 JSON / not valid JSON: {exc}"]) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {msg}" if where else msg)
        raise InvalidSchema(problems) from None


@dataclass(frozen=True)
class ColumnFacts:
    """What profiling found about one column; the input of propose_schema."""

    name: str
    inferred_type: str = "string"
    null_share: float = 0.0
    distinct_ratio: float = 0.0
    sensitive_type: str | None = None
    format_hint: str | None = None
    title: str = ""
    # The distinct values, when there are few of them (a candidate enum).
    values: tuple[str, ...] | None = None


_ID_NAME = re.compile(r"(^id$|_id$|^id_|编号$|代码$|编码$)", re.IGNORECASE)
_ENUM_LIMIT = 20


def propose_schema(columns: list[ColumnFacts]) -> TableSchema:
    """Propose a schema from profiling facts: a start for a person to review, never a verdict."""
    fields: list[FieldSpec] = []
    primary_key: list[str] = []
    for facts in columns:
        type_ = facts.inferred_type if facts.inferred_type in FieldType.__args__ else "string"  # type: ignore[attr-defined]
        fmt = facts.format_hint if facts.format_hint in FORMATS else None
        if fmt is None and facts.sensitive_type in FORMATS:
            fmt = facts.sensitive_type
        if fmt is not None:
            type_ = "string"
        sensitive = facts.sensitive_type if facts.sensitive_type in SensitiveType.__args__ else None  # type: ignore[attr-defined]
        required = facts.null_share == 0.0
        unique = required and facts.distinct_ratio >= 1.0 and type_ in ("string", "integer")
        enum = None
        if (
            facts.values
            and fmt is None
            and sensitive is None
            and len(facts.values) <= _ENUM_LIMIT
            and facts.distinct_ratio < 0.5
        ):
            enum = sorted({str(v) for v in facts.values})
        fields.append(
            FieldSpec(
                name=facts.name,
                title=facts.title,
                type=type_,
                required=required,
                unique=unique,
                enum=enum,
                format=fmt,
                sensitive=sensitive,
                # Guesses from a sample should warn, not block; a person promotes them to critical.
                severity="warning",
            )
        )
        if unique and not primary_key and _ID_NAME.search(facts.name):
            primary_key = [facts.name]
    return TableSchema(fields=fields, primary_key=primary_key)
