"""Import another portal's catalog export (CSV, JSON, JSONL, XLSX) into the ledger by a declared mapping.

A mapping (JSON, shipped in catalog/importer_mappings/ or given as a file) says which source column
feeds which of our fields, the defaults, extra value maps, and how the owning agency is found (or
created). Values of open type, frequency, domain, industry and region go through catalog.vocab.lookup.
Every row is validated first; a row that cannot be imported is rejected with its row number, field
and a reason in Chinese and English, never with a crash. Accepted rows become draft entries without
a grade (it must be confirmed later), created through catalog.service so the search index follows.

    mapping = load_mapping("anhui_anhui")
    report = import_file(session, path, mapping=mapping, actor_id=None, commit=session.commit)

`commit` is the edge's commit, called after each flushed batch (an import is many transactions so
that a big catalog neither holds one huge transaction nor loses everything to one late failure).
Without it the whole import stays in the caller's transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from catalog import ledger, service, vocab
from catalog.errors import CatalogError, DatasetNameTaken
from catalog.models import Dataset, Organization, Resource
from catalog.schemas import DatasetCreate, OrganizationCreate
from catalog.search import index as search_index
from catalog.search.index import SearchDocument

MAPPINGS_DIR = Path(__file__).resolve().parent / "importer_mappings"
DEFAULT_BATCH = 500

# Our fields a source column may feed; "" or "ignore" drops the column.
TARGETS = frozenset(
    {
        "title",
        "title_en",
        "notes",
        "provider",
        "domain",
        "industry",
        "region",
        "open_type",
        "share_type",
        "update_frequency",
        "tags",
        "formats",
        "contact_name",
        "contact_email",
        "contact_phone",
        "record_count",
        "issued",
        "data_updated_at",
        "source_url",
        "license_id",
        "temporal_start",
        "temporal_end",
    }
)
# Target field -> vocabulary its values are looked up in.
VOCAB_FIELDS = {
    "open_type": "open_types",
    "share_type": "share_types",
    "update_frequency": "frequencies",
    "domain": "domains",
    "industry": "industries",
    "region": "regions",
}
FIELD_LABELS = {
    "title": "名称",
    "provider": "提供单位",
    "domain": "数据领域",
    "industry": "行业分类",
    "region": "行政区划",
    "open_type": "开放属性",
    "share_type": "共享属性",
    "update_frequency": "更新频率",
    "tags": "标签",
    "formats": "资源格式",
    "contact_email": "联系邮箱",
    "record_count": "数据量",
    "issued": "发布日期",
    "data_updated_at": "更新日期",
    "temporal_start": "时间范围起",
    "temporal_end": "时间范围止",
    "row": "行",
}
_EMPTY = frozenset({"", "none", "null", "nan", "暂无", "无", "-", "/", "[]", "n/a"})
_LIST_SPLIT = re.compile(r"[\r\n\t,，、;；|]+")
_FORMAT_SPLIT = re.compile(r"[\s,，、;；|/]+")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_DIVISION = re.compile(r"\d{6}(\d{3})?")
_FORMAT_ALIASES = {
    "EXCEL": "XLSX",
    "DB数据库": "DB",
    "数据库": "DB",
    "接口": "API",
    "文件": "FILE",
    "其他": "",
    "TABLE": "TABLE",
}


class ImporterError(CatalogError):
    """Base of the importer's errors (a bad mapping or an unreadable file; not a bad row)."""


class MappingNotFound(ImporterError):
    """No shipped mapping has that name."""


class InvalidMapping(ImporterError):
    """The mapping is not well formed; the message says where."""


class UnreadableCatalog(ImporterError):
    """The catalog file could not be read as the format it claims."""


# --- mappings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgRule:
    """How the owning organization of a row is found: by the provider column, created when missing."""

    create_missing: bool = True
    region_code: str = ""
    org_type: str = "agency"
    parent: str | None = None


@dataclass(frozen=True)
class Mapping:
    """A declared field mapping of one portal's catalog export."""

    name: str
    portal: str
    name_prefix: str
    columns: dict[str, str]
    defaults: dict[str, Any] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    organizations: OrgRule = field(default_factory=OrgRule)
    key: tuple[str, ...] = ("provider", "title", "source_url")
    portal_url: str = ""
    file_format: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Mapping:
        """Build a mapping from its JSON form, checking every target and default."""
        try:
            name = str(raw["name"])
            columns = {str(k): str(v) for k, v in dict(raw["columns"]).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidMapping(
                f"映射须有 name 与 columns / a mapping needs name and columns: {exc}"
            ) from exc
        for source, target in columns.items():
            if target not in TARGETS and target not in ("", "ignore"):
                raise InvalidMapping(
                    f"映射 {name}: 未知目标字段 / unknown target {target!r} of column {source!r}"
                )
        defaults = dict(raw.get("defaults") or {})
        for target in defaults:
            if target not in TARGETS:
                raise InvalidMapping(f"映射 {name}: 未知默认字段 / unknown default field {target!r}")
        prefix = str(raw.get("name_prefix") or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", prefix):
            raise InvalidMapping(f"映射 {name}: name_prefix 须为小写字母数字 / bad name_prefix {prefix!r}")
        orgs = dict(raw.get("organizations") or {})
        key = tuple(raw.get("key") or ("provider", "title", "source_url"))
        if not key or any(k not in TARGETS for k in key):
            raise InvalidMapping(f"映射 {name}: key 须为目标字段 / key must list target fields: {key}")
        return cls(
            name=name,
            portal=str(raw.get("portal", name)),
            portal_url=str(raw.get("portal_url", "")),
            name_prefix=prefix,
            columns=columns,
            defaults=defaults,
            value_maps={
                str(k): {str(a): str(b) for a, b in dict(v).items()}
                for k, v in (raw.get("value_maps") or {}).items()
            },
            organizations=OrgRule(
                create_missing=bool(orgs.get("create_missing", True)),
                region_code=str(orgs.get("region_code", "")),
                org_type=str(orgs.get("org_type", "agency")),
                parent=orgs.get("parent"),
            ),
            key=key,
            file_format=raw.get("format"),
        )


def shipped_mappings() -> list[str]:
    """Names of the mappings shipped with the product."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.json"))


@cache
def _load_shipped(name: str) -> Mapping:
    path = MAPPINGS_DIR / f"{name}.json"
    if not path.is_file():
        raise MappingNotFound(
            f"没有名为 {name} 的映射 / no mapping named {name!r}; shipped: {', '.join(shipped_mappings())}"
        )
    return Mapping.from_dict(json.loads(path.read_text(encoding="utf-8")))


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A shipped mapping by name, or a mapping JSON file by path."""
    path = Path(name_or_path)
    if path.suffix == ".json" and path.is_file():
        try:
            return Mapping.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise InvalidMapping(f"映射文件不是合法 JSON / mapping is not valid JSON: {exc}") from exc
    return _load_shipped(str(name_or_path))


# --- reading ------------------------------------------------------------------------------------


def read_rows(path: Path, *, file_format: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) pairs of a catalog file; CSV and XLSX rows count the header as row 1."""
    kind = (file_format or path.suffix.lstrip(".")).lower()
    try:
        if kind == "json":
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            if isinstance(data, dict):
                data = next((v for v in data.values() if isinstance(v, list)), [data])
            for n, record in enumerate(data, 1):
                yield n, record if isinstance(record, dict) else {"": record}
        elif kind in ("jsonl", "ndjson"):
            with path.open(encoding="utf-8-sig") as fh:
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        record = json.loads(line)
                        yield n, record if isinstance(record, dict) else {"": record}
        elif kind == "csv":
            text = _decode(path.read_bytes())
            for n, record in enumerate(csv.DictReader(io.StringIO(text)), 2):
                yield n, {k: v for k, v in record.items() if k is not None}
        elif kind in ("xlsx", "xlsm"):
            yield from _xlsx_rows(path)
        else:
            raise UnreadableCatalog(
                f"不支持的目录格式 / unsupported catalog format: {kind!r} (csv, json, jsonl, xlsx)"
            )
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableCatalog(f"无法读取目录文件 / cannot read {path.name}: {exc}") from exc


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise UnreadableCatalog("无法识别文件编码 / cannot detect the file's encoding")
    return str(best)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise UnreadableCatalog(f"无法读取 XLSX / cannot read {path.name}: {exc}") from exc
    try:
        rows = wb.active.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = [str(h).strip() if h is not None else "" for h in header]
        for n, values in enumerate(rows, 2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            yield n, {names[i]: v for i, v in enumerate(values) if i < len(names) and names[i]}
    finally:
        wb.close()


# --- report -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """Why one row was not imported."""

    row: int
    field: str
    value: str
    reason_zh: str
    reason_en: str
    code: str = "invalid"  # missing, duplicate, exists, unknown_value, unknown_provider, invalid

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "value": self.value,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    mapping: str
    dry_run: bool
    rows: int = 0
    imported: int = 0
    organizations_created: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    dataset_names: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Number of rows rejected (a row is rejected once, for its first problem)."""
        return len(self.rejections)

    def reasons(self) -> dict[str, int]:
        """How many rows were rejected for each "field: code", most frequent first."""
        counts: dict[str, int] = {}
        for r in self.rejections:
            key = f"{r.field}: {r.code}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with every rejection."""
        return {
            "mapping": self.mapping,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "imported": self.imported,
            "rejected": self.rejected,
            "organizations_created": self.organizations_created,
            "rejections": [r.as_dict() for r in self.rejections],
        }

    def write_csv(self, out: io.TextIOBase | Any) -> None:
        """Write the rejections as CSV (row, field, value, reason_zh, reason_en)."""
        writer = csv.writer(out)
        writer.writerow(["行 row", "字段 field", "类别 code", "值 value", "原因", "reason"])
        for r in self.rejections:
            writer.writerow([r.row, r.field, r.code, r.value, r.reason_zh, r.reason_en])


class _Reject(Exception):
    def __init__(self, field_name: str, value: Any, zh: str, en: str, code: str = "invalid") -> None:
        super().__init__(en)
        self.field, self.code = field_name, code
        self.value = "" if value is None else str(value)[:200]
        self.zh, self.en = zh, en


# --- row mapping --------------------------------------------------------------------------------


@dataclass
class _Prepared:
    row: int
    name: str
    provider: str
    data: dict[str, Any]
    formats: list[str]
    source_url: str
    data_updated_at: datetime | None


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list | tuple):
        return all(_blank(v) for v in value)
    return str(value).strip().lower() in _EMPTY


def _as_list(value: Any) -> list[str]:
    """A list-like cell: a real list, "[a,b]", "['a', 'b']", or "a、b\r\n\tc"."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text.replace("'", '"'))
                items = [str(v) for v in parsed] if isinstance(parsed, list) else [text]
            except json.JSONDecodeError:
                items = [text[1:-1]]
        else:
            items = [text]
    out: list[str] = []
    for item in items:
        for part in _LIST_SPLIT.split(item):
            part = part.strip().strip("'\"").strip()
            if part and part.lower() not in _EMPTY and part not in out:
                out.append(part)
    return out


def _first(record: dict[str, Any], mapping: Mapping) -> dict[str, Any]:
    """Each target's value: the first non-blank source column mapped to it, else the default."""
    values: dict[str, Any] = {}
    for source, target in mapping.columns.items():
        if target in ("", "ignore") or target in values:
            continue
        value = record.get(source)
        if not _blank(value):
            values[target] = value
    for target, default in mapping.defaults.items():
        values.setdefault(target, default)
    return values


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _vocab_value(target: str, value: Any, mapping: Mapping) -> str:
    """The code a label stands for; raises _Reject for a label no vocabulary or value map knows."""
    overrides = mapping.value_maps.get(target, {})
    items = value if isinstance(value, list | tuple) else [value]
    vocabulary = VOCAB_FIELDS[target]
    for item in items:
        text = _text(item)
        if target == "region" and _DIVISION.fullmatch(text):
            return text  # a division code outside our own province's vocabulary is still a code
        if text in overrides:
            mapped = overrides[text]
            if mapped:
                return mapped
            continue
        code = vocab.lookup(vocabulary, text)
        if code is None:
            found = vocab.lookup_all(vocabulary, text)
            code = found[0] if found else None
        if code is not None:
            return code
    if all(_text(i) in overrides for i in items):
        return ""
    label = FIELD_LABELS.get(target, target)
    return _raise(
        target,
        value,
        f"{label}取值“{_text(value)}”无法识别，请在映射中补充取值对照",
        f"unknown {target} value {_text(value)!r}: add it to the mapping's value_maps",
        "unknown_value",
    )


def _raise(field_name: str, value: Any, zh: str, en: str, code: str = "invalid") -> Any:
    raise _Reject(field_name, value, zh, en, code)


def _date(target: str, value: Any) -> datetime | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = _text(value)
    m = _DATE.match(text)
    if m is not None:
        try:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            hh, mm, ss = int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0)
            return datetime(y, mo, d, hh, mm, ss, tzinfo=UTC)
        except ValueError:
            pass
    label = FIELD_LABELS.get(target, target)
    return _raise(target, value, f"{label}“{text}”不是有效日期", f"{target} {text!r} is not a valid date")


def _count(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = _text(value).replace(",", "").replace("，", "")
        if text.endswith("条"):
            text = text[:-1]
        if not text.isdigit():
            return _raise(
                "record_count",
                value,
                f"数据量“{_text(value)}”不是非负整数",
                f"record count {_text(value)!r} is not a whole number",
            )
        number = int(text)
    if number < 0:
        return _raise("record_count", value, "数据量不能为负", "the record count cannot be negative")
    return number


def _formats(value: Any) -> list[str]:
    out: list[str] = []
    for item in _as_list(value):
        for part in _FORMAT_SPLIT.split(item):
            fmt = part.strip().strip(".").upper()
            fmt = _FORMAT_ALIASES.get(fmt, fmt)
            if fmt and len(fmt) <= 32 and fmt not in out:
                out.append(fmt)
    return out


def _slug_hash(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def dataset_name_for(mapping: Mapping, key: Iterable[str]) -> str:
    """The stable dataset name of a source entry, so re-importing finds what was imported before."""
    return f"{mapping.name_prefix}-{_slug_hash(*key)[:16]}"


def organization_name_for(mapping: Mapping, provider: str) -> str:
    """The name an agency created by this mapping gets (stable, derived from its title)."""
    return f"{mapping.name_prefix}-org-{_slug_hash(provider)[:12]}"


def prepare_row(row: int, record: dict[str, Any], mapping: Mapping) -> _Prepared:
    """Map one source record to our fields; raises _Reject with the first problem."""
    values = _first(record, mapping)
    title = _text(values.get("title"))
    if not title:
        _raise("title", values.get("title"), "缺少名称", "the title is missing", "missing")
    if len(title) > 300:
        _raise("title", title, "名称超过 300 字", "the title is longer than 300 characters")
    provider = _text(values.get("provider"))
    if not provider:
        _raise(
            "provider", values.get("provider"), "缺少提供单位", "the providing agency is missing", "missing"
        )
    if len(provider) > 200:
        _raise(
            "provider", provider, "提供单位名称超过 200 字", "the agency name is longer than 200 characters"
        )
    data: dict[str, Any] = {
        "title": title,
        "title_en": _text(values.get("title_en"))[:300],
        "notes": str(values.get("notes") or "").strip(),
    }
    extras: dict[str, Any] = {
        "source_portal": mapping.portal,
        "source_mapping": mapping.name,
        "source_row": row,
    }
    for target in ("open_type", "share_type", "update_frequency", "domain", "industry"):
        if not _blank(values.get(target)):
            code = _vocab_value(target, values[target], mapping)
            if code:
                data[target] = code
    if not _blank(values.get("region")):
        region = _vocab_value("region", values["region"], mapping)
        if region:
            data["spatial"] = region
    data["tags"] = [t[:100] for t in _as_list(values.get("tags"))]
    email = _text(values.get("contact_email"))
    if email and email.lower() not in _EMPTY:
        data["contact_email"] = email
    if not _blank(values.get("contact_name")):
        data["contact_name"] = _text(values["contact_name"])[:100]
    if not _blank(values.get("contact_phone")):
        extras["contact_phone"] = _text(values["contact_phone"])
    if not _blank(values.get("license_id")):
        data["license_id"] = _text(values["license_id"])[:64]
    data["record_count"] = _count(values.get("record_count"))
    issued = _date("issued", values.get("issued"))
    updated = _date("data_updated_at", values.get("data_updated_at"))
    if issued is not None:
        extras["source_issued"] = issued.date().isoformat()
    if updated is not None:
        extras["source_updated"] = updated.date().isoformat()
    for target in ("temporal_start", "temporal_end"):
        moment = _date(target, values.get(target))
        if moment is not None:
            data[target] = moment.date()
    source_url = _text(values.get("source_url"))[:2000]
    if source_url:
        extras["source_url"] = source_url
    data["source_system"] = mapping.portal[:200]
    data["extras"] = extras
    keyed = {"title": title, "provider": provider, "source_url": source_url}
    key = [str(keyed.get(k, _text(values.get(k)))) for k in mapping.key]
    return _Prepared(
        row=row,
        name=dataset_name_for(mapping, key),
        provider=provider,
        data=data,
        formats=_formats(values.get("formats")),
        source_url=source_url,
        data_updated_at=updated,
    )


_FIELD_OF_ERROR = {"contact_email": "contact_email", "tags": "tags", "spatial": "region"}


def _validate(prepared: _Prepared, owner_org: str) -> DatasetCreate:
    try:
        return DatasetCreate.model_validate({**prepared.data, "name": prepared.name, "owner_org": owner_org})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = str(err["loc"][0]) if err["loc"] else "row"
        name = _FIELD_OF_ERROR.get(loc, loc)
        value = prepared.data.get(loc, "")
        label = FIELD_LABELS.get(name, name)
        raise _Reject(
            name, value, f"{label}校验失败：{err['msg']}", f"{name} is invalid: {err['msg']}"
        ) from exc


# --- the import ---------------------------------------------------------------------------------


class _Orgs:
    """Finds the owning organization of a provider, creating it when the mapping says so."""

    def __init__(
        self, session: Session, mapping: Mapping, *, actor_id: uuid.UUID | None, dry_run: bool
    ) -> None:
        self.session, self.mapping, self.actor_id, self.dry_run = session, mapping, actor_id, dry_run
        self.names: dict[str, str | None] = {}
        self.created = 0

    def resolve(self, provider: str) -> str | None:
        """The name of the organization for a provider, or None when it is unknown and not created."""
        if provider in self.names:
            return self.names[provider]
        found = self._find(provider)
        self.names[provider] = found
        return found

    def _find(self, provider: str) -> str | None:
        wanted = organization_name_for(self.mapping, provider)
        if service.get_organization_by_name(self.session, wanted) is not None:
            return wanted
        rule = self.mapping.organizations
        stmt = select(Organization.name).where(Organization.title == provider, Organization.state == "active")
        if rule.region_code:
            stmt = stmt.where(Organization.region_code == rule.region_code)
        existing = self.session.exec(stmt.order_by(col(Organization.created_at))).first()
        if existing is not None:
            return existing
        if not rule.create_missing:
            return None
        self.created += 1
        if not self.dry_run:
            service.create_organization(
                self.session,
                actor_id=self.actor_id,
                data=OrganizationCreate(
                    name=wanted,
                    title=provider,
                    org_type=rule.org_type,  # type: ignore[arg-type]
                    region_code=rule.region_code,
                    parent=rule.parent,
                    description=f"由 {self.mapping.portal} 目录导入 / imported from {self.mapping.portal}",
                ),
            )
        return wanted


def import_rows(
    session: Session,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    mapping: Mapping,
    actor_id: uuid.UUID | None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    commit: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import (row number, record) pairs by the mapping; a dry run validates everything and writes nothing."""
    report = ImportReport(mapping=mapping.name, dry_run=dry_run)
    records = list(rows)
    report.rows = len(records)
    orgs = _Orgs(session, mapping, actor_id=actor_id, dry_run=dry_run)
    accepted: list[tuple[_Prepared, DatasetCreate]] = []
    seen: dict[str, int] = {}
    candidates: list[_Prepared] = []
    for row, record in records:
        try:
            candidates.append(prepare_row(row, record, mapping))
        except _Reject as rej:
            report.rejections.append(Rejection(row, rej.field, rej.value, rej.zh, rej.en, rej.code))
    existing = _existing_names(session, [p.name for p in candidates])
    for prepared in candidates:
        try:
            if prepared.name in seen:
                _raise(
                    "row",
                    prepared.data["title"],
                    f"与第 {seen[prepared.name]} 行重复（同一名称与提供单位）",
                    f"duplicate of row {seen[prepared.name]} (same title and provider)",
                    "duplicate",
                )
            seen[prepared.name] = prepared.row
            if prepared.name in existing:
                _raise(
                    "row",
                    prepared.data["title"],
                    "该目录已导入过",
                    "already in the ledger (imported before)",
                    "exists",
                )
            owner = orgs.resolve(prepared.provider)
            if owner is None:
                _raise(
                    "provider",
                    prepared.provider,
                    f"提供单位“{prepared.provider}”不在本账中，映射未允许新建",
                    f"agency {prepared.provider!r} is not in the ledger and the mapping does not create agencies",
                    "unknown_provider",
                )
            accepted.append((prepared, _validate(prepared, owner or "")))
        except _Reject as rej:
            report.rejections.append(Rejection(prepared.row, rej.field, rej.value, rej.zh, rej.en, rej.code))
    report.rejections.sort(key=lambda r: r.row)
    report.organizations_created = orgs.created
    if dry_run:
        report.imported = len(accepted)
        report.dataset_names = [p.name for p, _ in accepted]
        if progress is not None:
            progress(len(accepted), len(accepted))
        return report
    if commit is not None and orgs.created:
        session.flush()
        commit()
    org_rows = {o.name: o for o in _organizations(session, {d.owner_org for _, d in accepted})}
    done = 0
    for start in range(0, len(accepted), max(1, batch_size)):
        created = _create_batch(
            session, accepted[start : start + batch_size], actor_id=actor_id, orgs=org_rows
        )
        report.dataset_names.extend(created)
        done += len(created)
        if commit is not None:
            commit()
        if progress is not None:
            progress(done, len(accepted))
    report.imported = done
    return report


def _create_batch(
    session: Session,
    batch: list[tuple[_Prepared, DatasetCreate]],
    *,
    actor_id: uuid.UUID | None,
    orgs: dict[str, Organization],
) -> list[str]:
    """Register a batch of drafts as catalog.service.create_dataset_with_resources does, one flush for all.

    The rows, ledger entries and search documents are the same the service writes one dataset at a
    time (tests/catalog/test_importer.py holds the two to each other); doing it per batch is what
    makes a whole portal import in seconds instead of minutes.
    """
    names = [data.name for _, data in batch]
    taken = _existing_names(session, names)
    if taken:
        raise DatasetNameTaken(f"dataset name already in use: {sorted(taken)[0]}")
    docs: list[SearchDocument] = []
    for prepared, data in batch:
        org = orgs[data.owner_org]
        dataset = Dataset.model_validate(
            data.model_dump(mode="json", exclude={"owner_org"}),
            update={"owner_org_id": org.id, "created_by": actor_id, "status": "draft"},
        )
        dataset.temporal_start, dataset.temporal_end = data.temporal_start, data.temporal_end
        dataset.data_updated_at = prepared.data_updated_at
        session.add(dataset)
        ledger.append(session, actor_id=actor_id, action="dataset.create", subject=dataset)
        resources = []
        for position, fmt in enumerate(prepared.formats):
            resource = Resource(
                dataset_id=dataset.id,
                name=f"{data.title[:280]} ({fmt})",
                format=fmt,
                url=prepared.source_url,
                kind="link" if prepared.source_url else "file",
                position=position,
            )
            session.add(resource)
            ledger.append(
                session, actor_id=actor_id, action="resource.create", subject=resource, dataset=dataset
            )
            resources.append(resource)
        docs.append(_document(dataset, org, resources))
    session.flush()
    search_index.index_documents(session, docs)
    return names


def _document(dataset: Dataset, org: Organization, resources: list[Resource]) -> SearchDocument:
    """The search document of a new dataset, as catalog.service.reindex_dataset builds it."""
    return SearchDocument(
        dataset_id=dataset.id,
        name=dataset.name,
        title=dataset.title,
        title_en=dataset.title_en,
        notes=dataset.notes,
        tags=list(dataset.tags or []),
        owner_org_id=dataset.owner_org_id,
        organization=org.name,
        organization_title=org.title,
        organization_title_en=org.title_en,
        column_names=[],
        resource_names=[r.name for r in resources],
        formats=[r.format for r in resources if r.format],
        domain=dataset.domain,
        industry=dataset.industry,
        grade=dataset.grade,
        open_type=dataset.open_type,
        update_frequency=dataset.update_frequency,
        region=dataset.spatial,
        status=dataset.status,
        metadata_modified_at=dataset.updated_at,
        popularity=dataset.download_count,
    )


def _organizations(session: Session, names: set[str]) -> list[Organization]:
    found: list[Organization] = []
    wanted = sorted(names)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.extend(session.exec(select(Organization).where(col(Organization.name).in_(chunk))).all())
    return found


def import_file(
    session: Session,
    path: Path,
    *,
    mapping: Mapping,
    actor_id: uuid.UUID | None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    commit: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Read a catalog file (CSV, JSON, JSONL, XLSX) and import it by the mapping."""
    rows = read_rows(Path(path), file_format=mapping.file_format if Path(path).suffix == "" else None)
    return import_rows(
        session,
        rows,
        mapping=mapping,
        actor_id=actor_id,
        dry_run=dry_run,
        batch_size=batch_size,
        commit=commit,
        progress=progress,
    )


def _existing_names(session: Session, names: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        found.update(session.exec(select(Dataset.name).where(col(Dataset.name).in_(chunk))).all())
    return found
