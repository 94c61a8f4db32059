"""Shared fixtures: one database per backend (SQLite file, throwaway PostgreSQL database)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata"
PG_ADMIN_URL = os.environ.get(
    "DATALEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_HOWTO = (
    "PostgreSQL is not reachable at 127.0.0.1:5432 (user postgres, trust auth); start it with "
    "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' or set "
    "DATALEDGER_TEST_PG_URL"
)


def import_models() -> None:
    """Import every module that defines tables so that SQLModel.metadata holds them all."""
    from portal.models import import_all_models

    import_all_models()


def create_schema(engine: Engine) -> None:
    """Create every table, through the migrations when they exist."""
    import_models()
    if os.environ.get("DATALEDGER_TEST_SCHEMA") == "create_all":
        SQLModel.metadata.create_all(engine)
    else:
        from portal.migrate import upgrade

        upgrade(engine.url.render_as_string(False))


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Real Argon2id with small parameters, so tests that make accounts stay fast."""
    from auth import passwords

    previous = passwords.configure_hasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
    yield
    passwords.restore_hasher(previous)


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The shared real-world test data folder."""
    if not TESTDATA.is_dir():
        pytest.skip(f"shared test data not found at {TESTDATA}")
    return TESTDATA


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, dropped afterwards."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError:
        admin.dispose()
        if IN_CI:
            pytest.fail(PG_HOWTO)
        pytest.skip(PG_HOWTO)
    name = f"dataledger_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("select pg_terminate_backend(pid) from pg_stat_activity where datname = :n"),
                {"n": name},
            )
            conn.execute(sa.text(f'drop database if exists "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """An engine on the throwaway PostgreSQL database with the schema in place."""
    engine = sa.create_engine(pg_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the schema in place, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    create_schema(engine)
    engine.dispose()
    return path


def _empty_all_tables(engine: Engine) -> None:
    """Delete every row, children first: on tiny tables far cheaper than TRUNCATE, which rewrites files."""
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with the schema in place and no rows, once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "dataledger.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        engine: Engine = request.getfixturevalue("pg_engine")
        _empty_all_tables(engine)
        yield engine.url.render_as_string(False)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database, once per backend."""
    from portal.database import make_engine

    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on an empty database, once per backend."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP endpoint (moto's threaded server) on a random loopback port."""
    from tests.s3server import running_s3_server

    with running_s3_server() as endpoint:
        yield endpoint


def make_s3_storage(endpoint: str) -> object:
    """An S3Storage on a fresh bucket of the test endpoint."""
    from storage import S3Storage, StorageSettings
    from tests.s3server import TEST_ACCESS_KEY, TEST_SECRET_KEY

    bucket = f"t{uuid.uuid4().hex[:20]}"
    settings = StorageSettings(
        storage_url=f"s3://{bucket}",
        s3_endpoint=endpoint,
        s3_access_key=TEST_ACCESS_KEY,
        s3_secret_key=TEST_SECRET_KEY,
    )
    store = S3Storage(settings, bucket, "")
    store.ensure_bucket()
    return store
