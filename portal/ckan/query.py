"""package_search: CKAN's Solr-style q, fq and sort read into our search.

What reads: free text; `field:value`, `field:"quoted value"`, `field:(a OR b)`, `+`/`AND`
between clauses; `*:*`; ranges `metadata_modified:[2024-01-01T00:00:00Z TO *]` (also
metadata_created, with NOW and NOW-7DAYS); fields organization, owner_org, tags, res_format,
groups (our data domains), our facets (domain, industry, grade, open_type, update_frequency,
region/spatial), name (with * wildcards), id, license_id, capacity, private, and the no-ops
type/dataset_type:dataset and state:active. Negation, OR between clauses and other fields are a
Search Query Error rather than a silently wrong answer.

Facet filters and text go to catalog.search; name/id/licence/date conditions and sorts the index
cannot do (name, id, metadata_created) are applied over the matching set here.
"""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from auth.policy import Actor
from catalog import service
from catalog.errors import OrganizationNotFound
from catalog.models import Dataset
from catalog.search.query import SearchHit, SearchQuery, search
from portal.ckan.errors import CkanValidationError, SearchQueryError
from portal.visibility import search_visibility

# CKAN field -> our facet.
FIELD_FACET: dict[str, str] = {
    "organization": "organization",
    "tags": "tags",
    "res_format": "format",
    "format": "format",
    "groups": "domain",
    "domain": "domain",
    "industry": "industry",
    "grade": "grade",
    "open_type": "open_type",
    "update_frequency": "update_frequency",
    "region": "region",
    "spatial": "region",
}
ROWS_MAX = 1000

_CLAUSE = re.compile(
    r"""\s*(?P<sign>[+-]?)(?:(?P<field>[A-Za-z_][\w.]*|\*):)?"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{[^}]*\}|\([^)]*\)|[^\s()]+)"""
)
_NOW = re.compile(r"^NOW(?:([+-])(\d+)(SECOND|MINUTE|HOUR|DAY|WEEK)S?)?(?:/DAY)?$")

DatasetTest = Callable[[Dataset], bool]


@dataclass
class Plan:
    """What one package_search asks for, in our terms."""

    text: list[str] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    tests: list[DatasetTest] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)
    nothing: bool = False  # a condition no dataset here can meet (type:harvest, unknown owner_org)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return re.sub(r"\\(.)", r"\1", value)


def _values(value: str) -> list[str]:
    if value.startswith("(") and value.endswith(")"):
        parts = re.split(r"\s+OR\s+", value[1:-1].strip())
        return [_unquote(p.strip()) for p in parts if p.strip()]
    return [_unquote(value)]


def _when(text: str, *, end: bool) -> datetime | None:
    text = text.strip()
    if text == "*":
        return None
    m = _NOW.match(text)
    if m:
        now = datetime.now(UTC)
        if m.group(1):
            delta = timedelta(**{m.group(3).lower() + "s": int(m.group(2))})
            now = now + delta if m.group(1) == "+" else now - delta
        return now
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SearchQueryError(f"not a date: {text!r} / 日期格式错误") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _range(field_name: str, value: str) -> DatasetTest:
    inclusive = value.startswith("[")
    body = value[1:-1].strip()
    parts = re.split(r"\s+TO\s+", body)
    if len(parts) != 2:
        raise SearchQueryError(f"{field_name}: a range is [FROM TO UNTIL] / 范围格式错误")
    low, high = _when(parts[0], end=False), _when(parts[1], end=True)
    attr = "updated_at" if field_name == "metadata_modified" else "created_at"

    def test(d: Dataset) -> bool:
        value = getattr(d, attr)
        if low is not None and (value < low or (not inclusive and value == low)):
            return False
        return not (high is not None and (value > high or (not inclusive and value == high)))

    return test


def _add_clause(session: Session, plan: Plan, field_name: str | None, value: str) -> None:
    if field_name is None or field_name == "*":
        if value in ("AND", "&&", "*", "*:*") or (field_name == "*" and value == "*"):
            return
        if value in ("OR", "||", "NOT", "!"):
            raise SearchQueryError(f"{value} between clauses is not supported here / 不支持 {value}")
        plan.text.append(_unquote(value))
        return
    if field_name in ("text", "title", "notes", "title_en"):
        plan.text.extend(_values(value))
        return
    if field_name in ("metadata_modified", "metadata_created"):
        if value[:1] in "[{":
            plan.tests.append(_range(field_name, value))
        else:
            when = _when(_unquote(value), end=False)
            attr = "updated_at" if field_name == "metadata_modified" else "created_at"
            plan.tests.append(lambda d, w=when, a=attr: getattr(d, a) == w)
        return
    values = _values(value)
    if field_name in FIELD_FACET:
        if values == ["*"]:
            return
        facet = FIELD_FACET[field_name]
        if facet == "format":
            values = [v.upper().lstrip(".") for v in values]
        current = plan.filters.get(facet)
        plan.filters[facet] = values if current is None else [v for v in current if v in values]
        if current is not None and not plan.filters[facet]:
            plan.nothing = True
        return
    if field_name == "owner_org":
        names = []
        for ref in values:
            try:
                names.append(service.require_organization(session, ref).name)
            except OrganizationNotFound:
                continue
        if not names:
            plan.nothing = True
        else:
            _add_clause(session, plan, "organization", "(" + " OR ".join(f'"{n}"' for n in names) + ")")
        return
    if field_name in ("type", "dataset_type"):
        if "dataset" not in values and "*" not in values:
            plan.nothing = True
        return
    if field_name == "state":
        if "active" not in values and "*" not in values:
            plan.tests.append(lambda d, vs=tuple(values): _state_of(d) in vs)
        return
    if field_name in ("capacity", "private"):
        public = {"public": True, "private": False, "false": True, "true": False}
        wanted = {public[v.lower()] for v in values if v.lower() in public}
        if len(wanted) == 1:
            plan.tests.append(lambda d, w=wanted.pop(): (d.status == "published") == w)
        return
    if field_name == "site_id":
        return
    if field_name == "name":
        plan.tests.append(lambda d, vs=tuple(values): any(fnmatch.fnmatchcase(d.name, v) for v in vs))
        return
    if field_name == "id":
        plan.tests.append(lambda d, vs=tuple(values): str(d.id) in vs)
        return
    if field_name == "license_id":
        plan.tests.append(lambda d, vs=tuple(values): d.license_id in vs)
        return
    raise SearchQueryError(f"field {field_name!r} cannot be searched here / 不支持按 {field_name} 检索")


def _state_of(d: Dataset) -> str:
    return {"published": "active", "withdrawn": "deleted"}.get(d.status, "draft")


def parse_query(session: Session, plan: Plan, text: str) -> None:
    """Read one q or fq string into the plan."""
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _CLAUSE.match(text, pos)
        if m is None or m.end() == pos:
            raise SearchQueryError(f"cannot read the query near {text[pos : pos + 30]!r} / 查询语法错误")
        pos = m.end()
        if m.group("sign") == "-":
            raise SearchQueryError("negative clauses (-field:value) are not supported / 不支持排除条件")
        _add_clause(session, plan, m.group("field"), m.group("value"))


_SORT_FIELDS = {
    "score",
    "metadata_modified",
    "metadata_created",
    "name",
    "id",
    "title_string",
    "title",
    "views_recent",
    "views_total",
    "popularity",
}


def parse_sort(text: str | None) -> list[tuple[str, str]]:
    """`metadata_modified desc, name asc` as [(field, direction)]."""
    keys: list[tuple[str, str]] = []
    for part in (text or "score desc, metadata_modified desc").split(","):
        words = part.split()
        if not words:
            continue
        name = words[0]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if name not in _SORT_FIELDS or direction not in ("asc", "desc") or len(words) > 2:
            raise SearchQueryError(f"cannot sort by {part.strip()!r} / 不支持的排序")
        keys.append((name, direction))
    return keys or [("score", "desc")]


def _direct_sort(keys: list[tuple[str, str]]) -> tuple[str, str | None] | None:
    """The index's own sort for these keys, when it has one."""
    first, direction = keys[0]
    if first == "score":
        return ("relevance", None) if direction == "desc" else None
    if len(keys) > 1 and first != "metadata_modified":
        return None
    return {
        "metadata_modified": ("modified", direction),
        "title_string": ("title", direction),
        "title": ("title", direction),
        "views_recent": ("popularity", direction),
        "views_total": ("popularity", direction),
        "popularity": ("popularity", direction),
    }.get(first)


@dataclass
class Found:
    """One page of datasets and the facet counts of the whole matching set."""

    count: int
    datasets: list[Dataset]
    facets: dict[str, list[tuple[str, int]]]


def visibility(actor: Actor, include_private: bool) -> dict[str, Any]:
    """SearchQuery's visibility fields for this caller."""
    # CKAN lists only public packages unless the caller asks for its private ones too.
    return search_visibility(actor) if include_private else {}


def run(
    session: Session,
    plan: Plan,
    *,
    actor: Actor,
    include_private: bool,
    start: int,
    rows: int,
    facets: tuple[str, ...],
    facet_limit: int,
) -> Found:
    """Run a planned search for this caller and return one page of datasets."""
    if plan.nothing:
        return Found(0, [], {f: [] for f in facets})
    base = {
        "text": " ".join(plan.text),
        "filters": plan.filters,
        "facets": facets,
        "facet_limit": facet_limit,
        **visibility(actor, include_private),
    }
    direct = None if plan.tests else _direct_sort(plan.sort)
    if direct is not None:
        q = SearchQuery(**base, sort=direct[0], order=direct[1], limit=rows, offset=start)
        result = search(session, q)
        datasets = service.get_datasets(session, (h.dataset_id for h in result.items))
        return Found(result.total, datasets, result.facets)
    hits: list[SearchHit] = []
    offset = 0
    while True:
        q = SearchQuery(**{**base, "facets": ()}, sort="relevance", limit=1000, offset=offset)
        page = search(session, q)
        hits.extend(page.items)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    ids = [h.dataset_id for h in hits]
    datasets: list[Dataset] = []
    for i in range(0, len(ids), 500):
        datasets.extend(service.get_datasets(session, ids[i : i + 500]))
    datasets = [d for d in datasets if all(t(d) for t in plan.tests)]
    _sort(datasets, plan.sort)
    counted = (
        service.count_facets_of(
            session, dataset_ids=(d.id for d in datasets), facets=facets, limit=facet_limit
        )
        if facets
        else {}
    )
    return Found(len(datasets), datasets[start : start + rows], counted)


def _sort(datasets: list[Dataset], keys: list[tuple[str, str]]) -> None:
    # Python's sort is stable: sort by the last key first; "score" keeps the search's order.
    for name, direction in reversed(keys):
        if name == "score":
            if direction == "asc":
                datasets.reverse()
            continue
        getter: Callable[[Dataset], Any] = {
            "metadata_modified": lambda d: d.updated_at,
            "metadata_created": lambda d: d.created_at,
            "name": lambda d: d.name,
            "id": lambda d: str(d.id),
            "title_string": lambda d: d.title,
            "title": lambda d: d.title,
            "views_recent": lambda d: d.download_count,
            "views_total": lambda d: d.download_count,
            "popularity": lambda d: d.download_count,
        }[name]
        datasets.sort(key=getter, reverse=direction == "desc")


def facet_fields(value: Any) -> list[str]:
    """facet.field as a list: a JSON list, a repeated parameter, or one name."""
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip().startswith("[") else [value]
        except ValueError as exc:
            raise CkanValidationError({"facet.field": ["not a JSON list / 须为 JSON 列表"]}) from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CkanValidationError({"facet.field": ["a list of field names / 须为字段名列表"]})
    return list(dict.fromkeys(value))


def our_facet(name: str) -> str | None:
    """Our facet behind a CKAN facet field (None when the index does not count it)."""
    if name in FIELD_FACET:
        return FIELD_FACET[name]
    return name if name in ("status",) else None


def is_uuid(value: str) -> bool:
    """True for a UUID string."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
