"""Faceted full-text search over the index, the same on SQLite (FTS5) and PostgreSQL (GIN)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from catalog.search.errors import InvalidSearchQuery
from catalog.search.index import (
    FACETS,
    FTS_TABLE,
    LIST_FACETS,
    SCALAR_FACETS,
    TSVECTOR_SQL,
    SearchEntry,
    SearchFacet,
    facet_token,
)
from catalog.search.text import ParsedQuery, highlight, parse_query

SortKey = Literal["relevance", "modified", "title", "popularity"]
Order = Literal["asc", "desc"]


class SearchQuery(BaseModel):
    """What to look for, how to sort and page it, which facets to count, and who is asking."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    filters: dict[str, list[str]] = Field(default_factory=dict)
    sort: SortKey = "relevance"
    order: Order | None = None
    page: int = Field(default=1, ge=1)
    limit: int = Field(default=20, ge=0, le=1000)
    offset: int | None = Field(default=None, ge=0)
    facets: tuple[str, ...] = ()
    facet_limit: int = Field(default=50, ge=1, le=10000)
    visible_org_ids: frozenset[uuid.UUID] = frozenset()
    see_all: bool = False
    see_withdrawn: bool = False
    snippet_width: int = Field(default=160, ge=20, le=2000)

    @field_validator("filters")
    @classmethod
    def _known_filters(cls, filters: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(filters) - set(FACETS))
        if unknown:
            raise InvalidSearchQuery(f"不支持的筛选项 / unknown filter: {', '.join(unknown)}")
        return {k: list(dict.fromkeys(v)) for k, v in filters.items() if v}

    @field_validator("facets")
    @classmethod
    def _known_facets(cls, facets: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(facets) - set(FACETS))
        if unknown:
            raise InvalidSearchQuery(f"不支持的分面 / unknown facet: {', '.join(unknown)}")
        return tuple(dict.fromkeys(facets))

    @property
    def start(self) -> int:
        """The index of the first item of the requested page."""
        return self.offset if self.offset is not None else (self.page - 1) * self.limit


class SearchHit(BaseModel):
    """One dataset in a result page."""

    dataset_id: uuid.UUID
    name: str
    title: str
    title_en: str = ""
    organization: str | None = None
    organization_title: str = ""
    score: float = 0.0
    title_highlight: str = ""
    highlight: str = ""
    metadata_modified_at: datetime | None = None
    popularity: int = 0
    open_type: str | None = None
    grade: str | None = None
    status: str = ""
    formats: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class SearchResult(BaseModel):
    """A page of hits, the total over all pages, and facet counts over the whole filtered set."""

    total: int
    items: list[SearchHit]
    facets: dict[str, list[tuple[str, int]]] = Field(default_factory=dict)
    offset: int = 0
    limit: int = 20


def _visibility(q: SearchQuery, e: sa.Table) -> sa.ColumnElement[bool] | None:
    if q.see_all:
        return None
    allowed: list[sa.ColumnElement[bool]] = [e.c.visible_public.is_(True)]
    if q.visible_org_ids:
        allowed.append(e.c.owner_org_id.in_(sorted(q.visible_org_ids)))
    if q.see_withdrawn:
        allowed.append(e.c.status == "withdrawn")
    return sa.or_(*allowed)


def _filters(q: SearchQuery, e: sa.Table) -> list[sa.ColumnElement[bool]]:
    f = SearchFacet.__table__
    conds: list[sa.ColumnElement[bool]] = []
    for facet, values in q.filters.items():
        if facet in SCALAR_FACETS:
            col = e.c[SCALAR_FACETS[facet]]
            conds.append(col == values[0] if len(values) == 1 else col.in_(values))
        else:
            # Correlated, so only the rows the full-text match left are probed (by primary key).
            conds.append(
                sa.exists()
                .where(f.c.dataset_id == e.c.dataset_id, f.c.facet == facet, f.c.value.in_(values))
                .correlate(e)
            )
    return conds


def _fts_groups(q: SearchQuery, parsed: ParsedQuery) -> list[list[str]]:
    """The full-text query as an AND of OR-groups: text tokens, then filter values.

    Visibility is left to the column test: most datasets are public, and intersecting that
    long posting list costs more than checking the few rows the rest of the match leaves.
    """
    groups = [[t] for t in parsed.tokens]
    for facet, values in q.filters.items():
        groups.append([facet_token(facet, v) for v in values])
    return groups


def _fts_query_sqlite(groups: list[list[str]]) -> str:
    # Every token is a quoted FTS5 string, so no user text is ever read as query syntax.
    def quote(t: str) -> str:
        return '"' + t.replace('"', '""') + '"'

    return " AND ".join(
        quote(g[0]) if len(g) == 1 else "(" + " OR ".join(map(quote, g)) + ")" for g in groups
    )


def _fts_query_pg(groups: list[list[str]]) -> str:
    def quote(t: str) -> str:
        return "'" + t.replace("\\", "\\\\").replace("'", "''") + "'"

    return " & ".join(quote(g[0]) if len(g) == 1 else "(" + " | ".join(map(quote, g)) + ")" for g in groups)


def _title_score(parsed: ParsedQuery, e: sa.Table) -> sa.ColumnElement[Any]:
    """Relevance: the share of the query's words found in the title (0..1), the same on both databases.

    Engine scores (bm25, ts_rank) would also weigh the facet and visibility tokens that the
    match runs on, and FTS5's bm25 reads every posting of every phrase, which costs more than
    the whole rest of a search. A LIKE on the row's short title token string costs next to
    nothing (tokens hold only letters and digits, so no LIKE wildcard can occur in them);
    ties fall to popularity, then recency.
    """
    padded = sa.literal(" ") + e.c.title_tokens + sa.literal(" ")
    terms = [
        sa.case((padded.like(sa.bindparam(f"title_tok{i}", f"% {t} %", type_=sa.Text)), 1.0), else_=0.0)
        for i, t in enumerate(parsed.tokens)
    ]
    total: sa.ColumnElement[Any] = terms[0]
    for term in terms[1:]:
        total = total + term
    return total / float(len(terms))


class _Plan:
    """The FROM clause, WHERE conditions and score expression of one search."""

    def __init__(self, session: Session, q: SearchQuery, parsed: ParsedQuery) -> None:
        e = SearchEntry.__table__
        self.entry = e
        self.dialect = session.get_bind().dialect.name
        self.from_: sa.FromClause = e
        self.conds: list[sa.ColumnElement[bool]] = []
        self.score: sa.ColumnElement[Any] | None = None
        # Text, filters and visibility all go to the full-text engine, which intersects posting
        # lists far faster than a database can fetch rows; the column tests below stay as the
        # exact check, on the few rows that remain.
        groups = _fts_groups(q, parsed)
        if groups:
            if self.dialect == "sqlite":
                fts = sa.table(FTS_TABLE, sa.column("rowid", sa.BigInteger))
                fts_ref = sa.literal_column(FTS_TABLE)
                self.from_ = e.join(fts, fts.c.rowid == e.c.fts_rowid)
                match = sa.bindparam("fts_query", _fts_query_sqlite(groups), type_=sa.Text)
                self.conds.append(fts_ref.op("MATCH")(match))
                if not parsed.empty:
                    self.score = _title_score(parsed, e)
            elif self.dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import TSQUERY

                vec = sa.literal_column(TSVECTOR_SQL)
                tsq = sa.cast(sa.bindparam("fts_query", _fts_query_pg(groups), type_=sa.Text), TSQUERY)
                self.conds.append(vec.op("@@")(tsq))
                if not parsed.empty:
                    self.score = _title_score(parsed, e)
            else:
                raise InvalidSearchQuery(f"full-text search is not available on {self.dialect}")
        vis = _visibility(q, e)
        if vis is not None:
            self.conds.append(vis)
        self.conds.extend(_filters(q, e))

    def ids(self) -> sa.Select[Any]:
        return sa.select(self.entry.c.dataset_id).select_from(self.from_).where(*self.conds)

    def matches(self) -> sa.CTE:
        """The filtered, visible matches with their sort keys, computed once per search."""
        e = self.entry
        score = self.score if self.score is not None else sa.literal(0.0, sa.Float)
        stmt = (
            sa.select(
                e.c.dataset_id.label("id"),
                score.label("score"),
                e.c.metadata_modified_at.label("modified"),
                e.c.title.label("title"),
                e.c.popularity.label("popularity"),
            )
            .select_from(self.from_)
            .where(*self.conds)
        )
        return stmt.cte("m").prefix_with("MATERIALIZED")

    def order_by(self, q: SearchQuery, m: sa.CTE) -> list[sa.ColumnElement[Any]]:
        sort = q.sort
        if sort == "relevance" and self.score is None:
            sort = "modified"
        desc = sort != "title" if q.order is None else q.order == "desc"
        extra: list[sa.ColumnElement[Any]] = []
        if sort == "relevance":
            key: sa.ColumnElement[Any] = m.c.score
            extra = [m.c.popularity.desc(), m.c.modified.desc()]
        elif sort == "modified":
            key = m.c.modified
        elif sort == "popularity":
            key, extra = m.c.popularity, [m.c.modified.desc()]
        else:
            # Code point order on both databases; PostgreSQL would otherwise use its locale.
            key = m.c.title.collate("C") if self.dialect == "postgresql" else m.c.title
        return [key.desc() if desc else key.asc(), *extra, m.c.id.asc()]


_HIT = "#hit"  # facet names never start with "#"
_TOTAL = "#total"


def search(session: Session, q: SearchQuery) -> SearchResult:
    """Find the datasets the caller may see that match the text and filters, with facet counts."""
    parsed = parse_query(q.text)
    plan = _Plan(session, q, parsed)
    e = plan.entry
    f = SearchFacet.__table__
    m = plan.matches()

    # One statement: the match set is computed once and feeds the total, the page and the facets.
    parts: list[sa.Select[Any]] = [
        sa.select(
            sa.literal(_TOTAL, sa.String).label("kind"),
            sa.null().label("value"),
            sa.func.count().label("n"),
            sa.null().label("score"),
        ).select_from(m)
    ]
    if q.limit:
        order = plan.order_by(q, m)
        page = (
            sa.select(m.c.id, m.c.score, sa.func.row_number().over(order_by=order).label("pos"))
            .order_by(*order)
            .limit(q.limit)
            .offset(q.start)
            .subquery("p")
        )
        parts.append(
            sa.select(sa.literal(_HIT, sa.String), sa.cast(page.c.id, sa.String), page.c.pos, page.c.score)
        )
    if q.facets:
        parts.append(
            sa.select(f.c.facet, f.c.value, sa.func.count(), sa.null())
            # Walk the (usually few) matches through the primary key; "facet || ''" keeps SQLite
            # from choosing the facet index instead and scanning every facet row of the table.
            .where(f.c.dataset_id.in_(sa.select(m.c.id)), f.c.facet.concat("").in_(q.facets))
            .group_by(f.c.facet, f.c.value)
        )
    stmt = sa.union_all(*parts) if len(parts) > 1 else parts[0]

    total = 0
    page_ids: list[tuple[int, uuid.UUID, float]] = []
    buckets: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for kind, value, n, score in session.execute(stmt):
        if kind == _TOTAL:
            total = int(n)
        elif kind == _HIT:
            page_ids.append((int(n), uuid.UUID(value), float(score or 0.0)))
        else:
            buckets[kind].append((value, int(n)))

    items = _load_hits(session, e, sorted(page_ids), parsed, q)
    facets = {
        # Sorted here, not in SQL, so both databases agree on ties whatever their collation.
        facet: sorted(buckets.get(facet, []), key=lambda vc: (-vc[1], vc[0]))[: q.facet_limit]
        for facet in q.facets
    }
    return SearchResult(total=total, items=items, facets=facets, offset=q.start, limit=q.limit)


def _load_hits(
    session: Session,
    e: sa.Table,
    page_ids: list[tuple[int, uuid.UUID, float]],
    parsed: ParsedQuery,
    q: SearchQuery,
) -> list[SearchHit]:
    if not page_ids:
        return []
    cols = [
        e.c.dataset_id,
        e.c.name,
        e.c.title,
        e.c.title_en,
        e.c.notes,
        e.c.organization,
        e.c.organization_title,
        e.c.metadata_modified_at,
        e.c.popularity,
        e.c.open_type,
        e.c.grade,
        e.c.status,
        e.c.formats,
        e.c.tags,
    ]
    rows = {
        row["dataset_id"]: row
        for row in session.execute(
            sa.select(*cols).where(e.c.dataset_id.in_([i for _, i, _ in page_ids]))
        ).mappings()
    }
    items = []
    for _, dataset_id, score in page_ids:
        row = rows.get(dataset_id)
        if row is None:
            continue
        items.append(
            SearchHit(
                dataset_id=dataset_id,
                name=row["name"],
                title=row["title"],
                title_en=row["title_en"] or "",
                organization=row["organization"],
                organization_title=row["organization_title"] or "",
                score=score,
                title_highlight=highlight(row["title"], parsed, width=q.snippet_width),
                highlight=highlight(row["notes"] or "", parsed, width=q.snippet_width),
                metadata_modified_at=row["metadata_modified_at"],
                popularity=row["popularity"],
                open_type=row["open_type"],
                grade=row["grade"],
                status=row["status"],
                formats=list(row["formats"] or []),
                tags=list(row["tags"] or []),
            )
        )
    return items


__all__ = ["FACETS", "LIST_FACETS", "SearchHit", "SearchQuery", "SearchResult", "search"]
