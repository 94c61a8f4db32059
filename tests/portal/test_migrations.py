"""The migrations build the same schema as the models, on SQLite and PostgreSQL, and go both ways."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from catalog.search.index import SearchDocument, index_document
from catalog.search.query import SearchQuery, search
from portal.migrate import current_revision, pending_changes, upgrade


def test_models_match_migrations(db_url: str) -> None:
    upgrade(db_url)  # already at head: a no-op
    assert current_revision(db_url) is not None
    assert pending_changes(db_url) == []


def test_full_text_search_works_on_a_migrated_database(db_url: str) -> None:
    import uuid

    engine = sa.create_engine(db_url)
    with Session(engine) as session:
        did = uuid.uuid4()
        index_document(
            session, SearchDocument(dataset_id=did, name="bus", title="公交线路数据", status="published")
        )
        session.commit()
        result = search(session, SearchQuery(text="公交"))
        assert [hit.dataset_id for hit in result.items] == [did]
    engine.dispose()
