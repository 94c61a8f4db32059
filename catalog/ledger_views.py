"""Views of the one ledger (一本账): counts, completeness, history, and XLSX/CSV exports.

Every view takes a scope: one agency (`organization_id`) or the whole province (None), and the
statuses to include (None: all, for the regulator; ("published",) for the public). Counting runs
in SQL where it can and in one streamed pass where it cannot (overdue updates, completeness).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import distinct
from sqlmodel import Session, col, func, select

from catalog import ledger, vocab
from catalog.models import DataItem, Dataset, LedgerEntry, Organization, Resource, utcnow

# Recommended fields of a catalog entry; an entry missing any of them is incomplete.
RECOMMENDED = ("notes", "tags", "contact", "licence", "temporal", "spatial", "resources", "data_dictionary")
RECOMMENDED_LABELS = {
    "notes": "摘要",
    "tags": "标签",
    "contact": "联系方式",
    "licence": "许可协议",
    "temporal": "时间范围",
    "spatial": "空间范围",
    "resources": "资源",
    "data_dictionary": "数据字典",
}
UPDATE_STATUSES = ("on_time", "overdue", "irregular")
UPDATE_STATUS_LABELS = {"on_time": "按时更新", "overdue": "逾期未更新", "irregular": "不定期"}
STATUS_LABELS = {"draft": "草稿", "submitted": "已提交", "published": "已发布", "withdrawn": "已注销"}
UNSET = "(none)"

EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("resource_code", "资源代码"),
    ("name", "标识"),
    ("title", "资源名称"),
    ("title_en", "英文名称"),
    ("organization", "提供单位"),
    ("organization_name", "单位标识"),
    ("domain", "数据领域"),
    ("industry", "行业分类"),
    ("open_type", "开放属性"),
    ("share_type", "共享属性"),
    ("grade", "数据分级"),
    ("grade_confirmed", "分级已确认"),
    ("update_frequency", "更新频率"),
    ("update_status", "更新状态"),
    ("data_updated_at", "数据更新时间"),
    ("spatial", "空间范围"),
    ("temporal_start", "时间范围起"),
    ("temporal_end", "时间范围止"),
    ("formats", "资源格式"),
    ("license_id", "许可协议"),
    ("contact_name", "联系人"),
    ("contact_email", "联系邮箱"),
    ("source_system", "来源系统"),
    ("record_count", "数据量"),
    ("status", "状态"),
    ("missing", "缺失的推荐字段"),
    ("tags", "标签"),
    ("notes", "摘要"),
    ("created_at", "登记时间"),
    ("published_at", "发布时间"),
    ("updated_at", "最后修改时间"),
)
EXPORT_HEADERS = [zh for _, zh in EXPORT_COLUMNS]
_BATCH = 1000


@dataclass
class LedgerSummary:
    """Counts of one scope of the ledger."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_domain: dict[str, int] = field(default_factory=dict)
    by_grade: dict[str, int] = field(default_factory=dict)
    by_open_type: dict[str, int] = field(default_factory=dict)
    by_format: dict[str, int] = field(default_factory=dict)
    by_update_status: dict[str, int] = field(default_factory=dict)
    by_organization: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    complete: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


@dataclass(frozen=True)
class IncompleteEntry:
    """One entry that lacks recommended fields."""

    dataset_id: uuid.UUID
    name: str
    title: str
    owner_org_id: uuid.UUID
    missing: tuple[str, ...]


def _scoped(stmt: Any, organization_id: uuid.UUID | None, statuses: Iterable[str] | None) -> Any:
    if organization_id is not None:
        stmt = stmt.where(Dataset.owner_org_id == organization_id)
    if statuses is not None:
        stmt = stmt.where(col(Dataset.status).in_(list(statuses)))
    return stmt


def _group(
    session: Session, column: Any, organization_id: uuid.UUID | None, statuses: Iterable[str] | None
) -> dict[str, int]:
    stmt = _scoped(select(column, func.count()).select_from(Dataset), organization_id, statuses).group_by(
        column
    )
    counts = {(value if value not in (None, "") else UNSET): int(n) for value, n in session.exec(stmt)}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def update_status(frequency: str, data_updated_at: datetime | None, now: datetime) -> str:
    """on_time, overdue (older than the declared frequency allows) or irregular."""
    from quality.scoring import is_overdue

    if frequency in ("", "irregular"):
        return "irregular"
    return "overdue" if is_overdue(data_updated_at, frequency, now) else "on_time"


def _ids_with(
    session: Session, column: Any, ids: list[uuid.UUID], *, active_only: bool = False
) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stmt = select(column).where(column.in_(chunk)).distinct()
        if active_only:
            stmt = stmt.where(Resource.state == "active")
        found.update(session.exec(stmt).all())
    return found


def _missing(row: Any, has_resources: bool, has_items: bool) -> tuple[str, ...]:
    checks = {
        "notes": bool((row.notes or "").strip()),
        "tags": bool(row.tags),
        "contact": bool((row.contact_name or "").strip() or (row.contact_email or "").strip()),
        "licence": bool((row.license_id or "").strip()),
        "temporal": row.temporal_start is not None or row.temporal_end is not None,
        "spatial": bool((row.spatial or "").strip()),
        "resources": has_resources,
        "data_dictionary": has_items,
    }
    return tuple(name for name in RECOMMENDED if not checks[name])


_SCAN_COLUMNS = (
    Dataset.id,
    Dataset.name,
    Dataset.title,
    Dataset.owner_org_id,
    Dataset.notes,
    Dataset.tags,
    Dataset.contact_name,
    Dataset.contact_email,
    Dataset.license_id,
    Dataset.temporal_start,
    Dataset.temporal_end,
    Dataset.spatial,
    Dataset.update_frequency,
    Dataset.data_updated_at,
)


def _scan(
    session: Session, organization_id: uuid.UUID | None, statuses: Iterable[str] | None
) -> Iterator[tuple[Any, bool, bool]]:
    """Every entry of the scope in id order, with whether it has resources and a data dictionary."""
    last: uuid.UUID | None = None
    while True:
        stmt = _scoped(select(*_SCAN_COLUMNS), organization_id, statuses)
        if last is not None:
            stmt = stmt.where(Dataset.id > last)
        rows = list(session.exec(stmt.order_by(Dataset.id).limit(_BATCH)))
        if not rows:
            return
        ids = [r.id for r in rows]
        with_resources = _ids_with(session, Resource.dataset_id, ids, active_only=True)
        with_items = _ids_with(session, DataItem.dataset_id, ids)
        for r in rows:
            yield r, r.id in with_resources, r.id in with_items
        last = rows[-1].id


def summary(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    statuses: Iterable[str] | None = None,
    now: datetime | None = None,
) -> LedgerSummary:
    """Counts by status, domain, grade, open type, format, update status and agency, and completeness."""
    now = now or utcnow()
    statuses = list(statuses) if statuses is not None else None
    out = LedgerSummary()
    out.by_status = _group(session, Dataset.status, organization_id, statuses)
    out.total = sum(out.by_status.values())
    out.by_domain = _group(session, Dataset.domain, organization_id, statuses)
    out.by_grade = _group(session, Dataset.grade, organization_id, statuses)
    out.by_open_type = _group(session, Dataset.open_type, organization_id, statuses)
    fmt = _scoped(
        select(Resource.format, func.count(distinct(Resource.dataset_id)))
        .join(Dataset, col(Dataset.id) == Resource.dataset_id)
        .where(Resource.state == "active"),
        organization_id,
        statuses,
    ).group_by(Resource.format)
    formats = {(f or UNSET): int(n) for f, n in session.exec(fmt)}
    out.by_format = dict(sorted(formats.items(), key=lambda kv: (-kv[1], kv[0])))
    orgs = _scoped(
        select(Organization.name, Organization.title, func.count())
        .select_from(Dataset)
        .join(Organization, col(Organization.id) == Dataset.owner_org_id),
        organization_id,
        statuses,
    ).group_by(Organization.name, Organization.title)
    out.by_organization = sorted(
        ({"organization": n, "title": t, "count": int(c)} for n, t, c in session.exec(orgs)),
        key=lambda d: (-d["count"], d["organization"]),
    )
    updates = dict.fromkeys(UPDATE_STATUSES, 0)
    missing = dict.fromkeys(RECOMMENDED, 0)
    for row, has_resources, has_items in _scan(session, organization_id, statuses):
        updates[update_status(row.update_frequency, row.data_updated_at, now)] += 1
        gaps = _missing(row, has_resources, has_items)
        for name in gaps:
            missing[name] += 1
        out.complete += not gaps
    out.by_update_status = updates
    out.missing = missing
    return out


def incomplete_entries(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    statuses: Iterable[str] | None = None,
    limit: int = 100,
) -> list[IncompleteEntry]:
    """Entries missing recommended fields (notes, tags, contact, licence, temporal, spatial, resources, dictionary)."""
    found: list[IncompleteEntry] = []
    for row, has_resources, has_items in _scan(session, organization_id, statuses):
        gaps = _missing(row, has_resources, has_items)
        if gaps:
            found.append(IncompleteEntry(row.id, row.name, row.title, row.owner_org_id, gaps))
            if len(found) >= limit:
                break
    return found


def dataset_history(
    session: Session, dataset: Dataset, *, limit: int = 100, offset: int = 0
) -> list[LedgerEntry]:
    """Ledger entries of one dataset, newest first."""
    return ledger.history(session, dataset_id=dataset.id, limit=limit, offset=offset)


def organization_history(
    session: Session, organization: Organization, *, limit: int = 100, offset: int = 0
) -> list[LedgerEntry]:
    """Ledger entries of one agency and its datasets, newest first."""
    return ledger.history(session, organization_id=organization.id, limit=limit, offset=offset)


# --- export -------------------------------------------------------------------------------------


def _label(vocabulary: str, code: str | None) -> str:
    if not code:
        return ""
    term = vocab.get_term(vocabulary, code)
    return term.zh if term is not None else code


def _when(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def export_rows(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    statuses: Iterable[str] | None = None,
    now: datetime | None = None,
) -> Iterator[list[Any]]:
    """The ledger's rows for export, in EXPORT_COLUMNS order, read in batches (keyset on id)."""
    now = now or utcnow()
    statuses = list(statuses) if statuses is not None else None
    org_cache: dict[uuid.UUID, Organization] = {}
    last: uuid.UUID | None = None
    while True:
        stmt = _scoped(select(Dataset), organization_id, statuses)
        if last is not None:
            stmt = stmt.where(Dataset.id > last)
        batch = list(session.exec(stmt.order_by(Dataset.id).limit(_BATCH)))
        if not batch:
            return
        ids = [d.id for d in batch]
        formats: dict[uuid.UUID, list[str]] = {}
        for start in range(0, len(ids), 500):
            stmt_f = select(Resource.dataset_id, Resource.format).where(
                col(Resource.dataset_id).in_(ids[start : start + 500]), Resource.state == "active"
            )
            for dataset_id, fmt in session.exec(stmt_f.order_by(Resource.position)):
                if fmt and fmt not in formats.setdefault(dataset_id, []):
                    formats[dataset_id].append(fmt)
        with_items = _ids_with(session, DataItem.dataset_id, ids)
        with_resources = _ids_with(session, Resource.dataset_id, ids, active_only=True)
        missing_orgs = {d.owner_org_id for d in batch} - set(org_cache)
        if missing_orgs:
            for org in session.exec(select(Organization).where(col(Organization.id).in_(list(missing_orgs)))):
                org_cache[org.id] = org
        for d in batch:
            org = org_cache.get(d.owner_org_id)
            gaps = _missing(d, d.id in with_resources, d.id in with_items)
            values = {
                "resource_code": d.resource_code or "",
                "name": d.name,
                "title": d.title,
                "title_en": d.title_en,
                "organization": org.title if org else "",
                "organization_name": org.name if org else "",
                "domain": _label("domains", d.domain),
                "industry": _label("industries", d.industry),
                "open_type": _label("open_types", d.open_type),
                "share_type": _label("share_types", d.share_type),
                "grade": _label("grades", d.grade),
                "grade_confirmed": "是" if d.grade_confirmed else "否",
                "update_frequency": _label("frequencies", d.update_frequency),
                "update_status": UPDATE_STATUS_LABELS[
                    update_status(d.update_frequency, d.data_updated_at, now)
                ],
                "data_updated_at": _when(d.data_updated_at),
                "spatial": d.spatial,
                "temporal_start": _when(d.temporal_start),
                "temporal_end": _when(d.temporal_end),
                "formats": ",".join(formats.get(d.id, [])),
                "license_id": d.license_id,
                "contact_name": d.contact_name,
                "contact_email": d.contact_email or "",
                "source_system": d.source_system,
                "record_count": d.record_count if d.record_count is not None else "",
                "status": STATUS_LABELS.get(d.status, d.status),
                "missing": "、".join(RECOMMENDED_LABELS[g] for g in gaps),
                "tags": ",".join(d.tags or []),
                "notes": d.notes,
                "created_at": _when(d.created_at),
                "published_at": _when(d.published_at),
                "updated_at": _when(d.updated_at),
            }
            yield [values[key] for key, _ in EXPORT_COLUMNS]
        last = batch[-1].id
        session.expunge_all()  # keep memory flat over a big ledger
        org_cache.clear()


def iter_csv(
    session: Session,
    *,
    organization_id: uuid.UUID | None = None,
    statuses: Iterable[str] | None = None,
    now: datetime | None = None,
) -> Iterator[bytes]:
    """The ledger as CSV bytes, UTF-8 with a BOM (so Excel reads the Chinese), chunk by chunk."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(EXPORT_HEADERS)
    yield "\ufeff".encode() + buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    for n, row in enumerate(
        export_rows(session, organization_id=organization_id, statuses=statuses, now=now), 1
    ):
        writer.writerow(row)
        if n % 500 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.getvalue():
        yield buf.getvalue().encode("utf-8")


def write_csv(session: Session, out: IO[bytes], **scope: Any) -> None:
    """Write the ledger as CSV (UTF-8 with BOM) to a binary file."""
    for chunk in iter_csv(session, **scope):
        out.write(chunk)


def write_xlsx(
    session: Session,
    out: IO[bytes] | str,
    *,
    organization_id: uuid.UUID | None = None,
    statuses: Iterable[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Write the ledger as an XLSX workbook (write-only, so memory stays flat); returns the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据资源目录")
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in EXPORT_HEADERS:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    count = 0
    for row in export_rows(session, organization_id=organization_id, statuses=statuses, now=now):
        ws.append([_xlsx_safe(v) for v in row])
        count += 1
    wb.save(out)
    return count


def _xlsx_safe(value: Any) -> Any:
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value
