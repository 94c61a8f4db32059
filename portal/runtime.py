"""What a command-line run needs: settings, a migrated database and the object storage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from portal.database import make_engine
from portal.settings import Settings, get_settings
from storage import Storage, open_storage


@dataclass
class Runtime:
    """Settings, engine and storage of one command-line run."""

    settings: Settings
    engine: Engine
    storage: Storage


@contextmanager
def open_runtime(*, migrate: bool = False, settings: Settings | None = None) -> Iterator[Runtime]:
    """Open the database (migrated first if asked) and the storage; dispose of them afterwards."""
    settings = settings or get_settings()
    if migrate:
        from portal.migrate import upgrade

        upgrade(settings.portal.database_url)
    engine = make_engine(settings.portal.database_url)
    try:
        yield Runtime(settings=settings, engine=engine, storage=open_storage(settings.storage))
    finally:
        engine.dispose()
