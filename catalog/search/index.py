"""The search index: one denormalized row per dataset, a facet side table, and the full-text DDL.

The catalog service fills a :class:`SearchDocument` and calls :func:`index_document` in the same
transaction as the change, so the index never disagrees with the ledger after a commit.

Full text lives in one place, :func:`fts_ddl`:

* SQLite: an external-content FTS5 table ``search_fts`` over ``search_entry`` (columns
  ``title_tokens`` and ``tokens``, rowid = ``search_entry.fts_rowid``) kept in step by triggers,
  so any insert, update or delete of ``search_entry`` keeps the full-text index right.
* PostgreSQL: a stored generated column ``search_entry.search_fts_tsv`` =
  ``setweight(to_tsvector('simple', title_tokens), 'A') || to_tsvector('simple', tokens)``
  with a GIN index ``search_fts_gin``.

``SQLModel.metadata.create_all`` installs it through an ``after_create`` hook; an alembic migration
runs ``for stmt in fts_ddl(op.get_bind().dialect.name): op.execute(stmt)`` after creating the
table, and should exclude names for which :func:`is_fts_object` is true from autogenerate.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, field_validator
from pydantic import Field as PydField
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel

from catalog.search.text import document_tokens

FTS_TABLE = "search_fts"
FTS_PG_INDEX = "search_fts_gin"
FTS_PG_COLUMN = "search_fts_tsv"
TSVECTOR_SQL = f"search_entry.{FTS_PG_COLUMN}"
"""The PostgreSQL document vector: a stored generated column outside the model, GIN-indexed."""
_PG_VECTOR_EXPR = (
    "setweight(to_tsvector('simple'::regconfig, title_tokens), 'A') "
    "|| setweight(to_tsvector('simple'::regconfig, tokens), 'B') "
    "|| setweight(to_tsvector('simple'::regconfig, facet_tokens), 'D')"
)

SCALAR_FACETS: dict[str, str] = {
    "organization": "organization",
    "domain": "domain",
    "industry": "industry",
    "grade": "grade",
    "open_type": "open_type",
    "update_frequency": "update_frequency",
    "region": "region",
    "status": "status",
}
"""Facet name -> search_entry column, for facets with one value per dataset."""
LIST_FACETS: dict[str, str] = {"format": "formats", "tags": "tags"}
"""Facet name -> search_entry JSON list column, for facets with several values per dataset."""
FACETS: tuple[str, ...] = (*SCALAR_FACETS, *LIST_FACETS)
"""Every facet that can be filtered on and counted."""

_FACET_VALUE_MAX = 200


class _UTCDateTime(sa.TypeDecorator[datetime]):
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


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SearchEntry(SQLModel, table=True):
    """One dataset as the search sees it: tokens, sort keys, facet values and visibility."""

    __tablename__ = "search_entry"
    __table_args__ = (sa.Index("ix_search_entry_visible_modified", "visible_public", "metadata_modified_at"),)

    # Small columns first and the long texts last: SQLite then reads filters and sort keys from the
    # first page of a row without following its overflow pages.
    dataset_id: uuid.UUID = Field(primary_key=True)
    fts_rowid: int = Field(sa_type=sa.BigInteger, unique=True)
    visible_public: bool = Field(default=False)
    status: str = Field(default="draft", max_length=16, index=True)
    owner_org_id: uuid.UUID | None = Field(default=None, index=True)
    organization: str | None = Field(default=None, max_length=100, index=True)
    domain: str | None = Field(default=None, max_length=64, index=True)
    industry: str | None = Field(default=None, max_length=16, index=True)
    grade: str | None = Field(default=None, max_length=16, index=True)
    open_type: str | None = Field(default=None, max_length=16, index=True)
    update_frequency: str | None = Field(default=None, max_length=16)
    region: str | None = Field(default=None, max_length=12, index=True)
    metadata_modified_at: datetime = Field(default_factory=_utcnow, sa_type=_UTCDateTime, index=True)
    popularity: int = Field(default=0, index=True)
    name: str = Field(max_length=100)
    title: str = Field(max_length=300, index=True)
    title_en: str = Field(default="", max_length=300)
    organization_title: str = Field(default="", max_length=200)
    formats: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    title_tokens: str = Field(default="", sa_type=sa.Text)
    notes: str = Field(default="")
    tokens: str = Field(default="", sa_type=sa.Text)
    facet_tokens: str = Field(default="", sa_type=sa.Text)


class SearchFacet(SQLModel, table=True):
    """One facet value of one dataset; counting facets is a GROUP BY over this table."""

    __tablename__ = "search_facet"
    __table_args__ = (sa.Index("ix_search_facet_facet_value", "facet", "value"),)

    dataset_id: uuid.UUID = Field(primary_key=True)
    facet: str = Field(primary_key=True, max_length=32)
    value: str = Field(primary_key=True, max_length=_FACET_VALUE_MAX)


class SearchDocument(BaseModel):
    """Everything the index needs to know about one dataset; the catalog service fills it."""

    dataset_id: uuid.UUID
    name: str
    title: str
    title_en: str = ""
    notes: str = ""
    tags: list[str] = PydField(default_factory=list)
    owner_org_id: uuid.UUID | None = None
    organization: str | None = None
    organization_title: str = ""
    organization_title_en: str = ""
    column_names: list[str] = PydField(default_factory=list)
    resource_names: list[str] = PydField(default_factory=list)
    extra_text: list[str] = PydField(default_factory=list)
    formats: list[str] = PydField(default_factory=list)
    domain: str | None = None
    industry: str | None = None
    grade: str | None = None
    open_type: str | None = None
    update_frequency: str | None = None
    region: str | None = None
    status: str = "draft"
    visible_public: bool | None = None
    metadata_modified_at: datetime | None = None
    popularity: int = 0

    @field_validator("tags", "formats", "column_names", "resource_names", "extra_text")
    @classmethod
    def _clean_list(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))

    @field_validator("domain", "industry", "grade", "open_type", "update_frequency", "region", "organization")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("formats")
    @classmethod
    def _upper_formats(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(v.upper().lstrip(".") for v in values))

    @property
    def is_public(self) -> bool:
        """Whether anonymous callers may find it: published, unless the service says otherwise."""
        if self.visible_public is not None:
            return self.visible_public
        return self.status == "published"


def fts_rowid_for(dataset_id: uuid.UUID) -> int:
    """The stable FTS5 rowid of a dataset: 63 bits of its UUID."""
    return int.from_bytes(dataset_id.bytes[:8], "big") >> 1


def _letters(data: str) -> str:
    digest = hashlib.blake2b(data.encode("utf-8"), digest_size=8).digest()
    return "".join(chr(97 + (b >> 4)) + chr(97 + (b & 15)) for b in digest)


def facet_token(facet: str, value: str) -> str:
    """The full-text token standing for one facet value (letters only, read alike by both engines)."""
    return "zzf" + _letters(f"{facet}\x1f{value[:_FACET_VALUE_MAX]}")


def _facet_tokens(doc: SearchDocument) -> str:
    # Filters run inside the full-text engine, so a search joins only the rows that match them.
    return " ".join(facet_token(r["facet"], r["value"]) for r in facet_rows(doc))


def _split_name(name: str) -> str:
    return name.replace("-", " ").replace("_", " ")


def entry_row(doc: SearchDocument) -> dict[str, Any]:
    """The search_entry row for a document, as a dict of column values."""
    body = [
        _split_name(doc.name),
        doc.notes,
        doc.tags,
        doc.organization_title,
        doc.organization_title_en,
        _split_name(doc.organization or ""),
        [_split_name(c) for c in doc.column_names],
        doc.resource_names,
        doc.formats,
        doc.extra_text,
    ]
    return {
        "dataset_id": doc.dataset_id,
        "fts_rowid": fts_rowid_for(doc.dataset_id),
        "name": doc.name,
        "title": doc.title,
        "title_en": doc.title_en,
        "notes": doc.notes,
        "title_tokens": document_tokens(doc.title, doc.title_en),
        "tokens": document_tokens(*body),
        "facet_tokens": _facet_tokens(doc),
        "owner_org_id": doc.owner_org_id,
        "organization": doc.organization,
        "organization_title": doc.organization_title,
        "domain": doc.domain,
        "industry": doc.industry,
        "grade": doc.grade,
        "open_type": doc.open_type,
        "update_frequency": doc.update_frequency,
        "region": doc.region,
        "status": doc.status,
        "formats": doc.formats,
        "tags": doc.tags,
        "metadata_modified_at": doc.metadata_modified_at or _utcnow(),
        "popularity": doc.popularity,
        "visible_public": doc.is_public,
    }


def facet_rows(doc: SearchDocument) -> list[dict[str, Any]]:
    """The search_facet rows for a document."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for facet in SCALAR_FACETS:
        value = getattr(doc, facet)
        if value:
            rows[(facet, value[:_FACET_VALUE_MAX])] = {}
    for facet, attr in LIST_FACETS.items():
        for value in getattr(doc, attr):
            rows[(facet, value[:_FACET_VALUE_MAX])] = {}
    return [{"dataset_id": doc.dataset_id, "facet": f, "value": v} for f, v in rows]


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def index_documents(session: Session, docs: Iterable[SearchDocument], *, new: bool = False) -> int:
    """Insert or replace many documents in the index (and its full text); flush only.

    `new=True` says none of the datasets is indexed yet (created in this transaction): nothing to delete.
    """
    latest: dict[uuid.UUID, SearchDocument] = {d.dataset_id: d for d in docs}
    if not latest:
        return 0
    conn = session.connection()
    entry = SearchEntry.__table__
    facet = SearchFacet.__table__
    for chunk in [] if new else _chunks(list(latest), 500):
        conn.execute(sa.delete(facet).where(facet.c.dataset_id.in_(chunk)))
        conn.execute(sa.delete(entry).where(entry.c.dataset_id.in_(chunk)))
    entries = [entry_row(d) for d in latest.values()]
    facets = [row for d in latest.values() for row in facet_rows(d)]
    conn.execute(sa.insert(entry), entries)
    if facets:
        conn.execute(sa.insert(facet), facets)
    # Entries loaded through the ORM would now be stale.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SearchEntry | SearchFacet):
            session.expire(obj)
    session.flush()
    return len(entries)


def index_document(session: Session, doc: SearchDocument, *, new: bool = False) -> None:
    """Insert or replace one dataset in the index (and its full text); flush only."""
    index_documents(session, [doc], new=new)


def remove_document(session: Session, dataset_id: uuid.UUID) -> None:
    """Take a dataset out of the index; flush only. Removing an absent dataset does nothing."""
    conn = session.connection()
    conn.execute(sa.delete(SearchFacet.__table__).where(SearchFacet.__table__.c.dataset_id == dataset_id))
    conn.execute(sa.delete(SearchEntry.__table__).where(SearchEntry.__table__.c.dataset_id == dataset_id))
    session.flush()


def get_entry(session: Session, dataset_id: uuid.UUID) -> SearchEntry | None:
    """The index row of a dataset, or None."""
    return session.get(SearchEntry, dataset_id)


# --- full-text DDL -------------------------------------------------------------------------------

_COLS = "title_tokens, tokens, facet_tokens"
_NEW = "new.fts_rowid, new.title_tokens, new.tokens, new.facet_tokens"
_OLD = "'delete', old.fts_rowid, old.title_tokens, old.tokens, old.facet_tokens"
_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"{_COLS}, content='search_entry', content_rowid='fts_rowid', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON search_entry BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES ({_NEW}); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON search_entry BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ({_OLD}); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF fts_rowid, {_COLS} "
    f"ON search_entry BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ({_OLD}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES ({_NEW}); END",
    # Index rows that existed before the FTS table (a migration over a filled database).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ai",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ad",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
# A stored vector, not an expression index: ranking then reads the vector instead of re-parsing
# every matching document. It is not a model column, so the models stay free of PG-only types.
_PG_DDL = [
    f"ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS {FTS_PG_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({_PG_VECTOR_EXPR}) STORED",
    f"CREATE INDEX IF NOT EXISTS {FTS_PG_INDEX} ON search_entry USING gin ({FTS_PG_COLUMN})",
]
_PG_DROP = [
    f"DROP INDEX IF EXISTS {FTS_PG_INDEX}",
    f"ALTER TABLE search_entry DROP COLUMN IF EXISTS {FTS_PG_COLUMN}",
]


def fts_ddl(dialect_name: str) -> list[str]:
    """The statements that install full-text search for a dialect ("sqlite" or "postgresql")."""
    if dialect_name == "sqlite":
        return list(_SQLITE_DDL)
    if dialect_name == "postgresql":
        return list(_PG_DDL)
    raise ValueError(f"full-text search is not available on {dialect_name!r}")


def fts_drop_ddl(dialect_name: str) -> list[str]:
    """The statements that remove full-text search for a dialect (for a downgrade)."""
    if dialect_name == "sqlite":
        return list(_SQLITE_DROP)
    if dialect_name == "postgresql":
        return list(_PG_DROP)
    raise ValueError(f"full-text search is not available on {dialect_name!r}")


def install_fts(connection: Connection) -> None:
    """Install full-text search on a database whose search_entry table exists; idempotent."""
    for stmt in fts_ddl(connection.dialect.name):
        connection.exec_driver_sql(stmt)


def is_fts_object(name: str | None) -> bool:
    """True for database objects that fts_ddl creates (for alembic's include_object filter)."""
    return bool(name) and str(name).startswith(FTS_TABLE)


def _after_create(target: sa.Table, connection: Connection, **_: Any) -> None:
    install_fts(connection)


def _before_drop(target: sa.Table, connection: Connection, **_: Any) -> None:
    for stmt in fts_drop_ddl(connection.dialect.name):
        connection.exec_driver_sql(stmt)


sa.event.listen(SearchEntry.__table__, "after_create", _after_create)
sa.event.listen(SearchEntry.__table__, "before_drop", _before_drop)
