"""The demo catalog loads through the services, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from catalog.demo import load_demo_spec
from catalog.models import Dataset, QualityJob
from catalog.search.query import SearchQuery, search
from portal.demo import load_demo
from storage import LocalStorage


def test_demo_loads_once_and_is_searchable(engine: Engine, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "objects")
    spec = load_demo_spec()
    first = load_demo(engine, storage)
    assert first.datasets == len(spec.datasets) >= 30
    assert first.users == len(spec.users)
    again = load_demo(engine, storage)
    assert (again.datasets, again.users, again.organizations) == (0, 0, 0)
    assert "nothing to do" in again.summary()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Dataset)).one() == len(spec.datasets)
        published = s.exec(
            select(func.count()).select_from(Dataset).where(Dataset.status == "published")
        ).one()
        assert published == len(spec.datasets)
        assert s.exec(select(func.count()).select_from(QualityJob)).one() >= len(spec.datasets)
        hits = search(s, SearchQuery(text="交通"))
        assert hits.total > 0
