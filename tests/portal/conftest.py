"""An app per test, on each database backend, with local storage (and S3 where asked)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from auth.settings import AuthSettings
from portal.app import create_app
from portal.settings import PortalSettings, Settings
from storage import LocalStorage, StorageSettings
from tests.conftest import make_s3_storage


def make_settings(db_url: str, tmp_path: Path, **portal: object) -> Settings:
    """Settings for a test app: the test database, storage under tmp_path."""
    return Settings(
        portal=PortalSettings(database_url=db_url, var_dir=tmp_path, load_demo=False, **portal),
        storage=StorageSettings(storage_url=str(tmp_path / "objects")),
        auth=AuthSettings(secret_key="test-secret-key-0123456789abcdef"),
    )


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings of the test app."""
    return make_settings(db_url, tmp_path)


@pytest.fixture
def app_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """A client of an app on local storage."""
    app = create_app(settings, storage=LocalStorage(tmp_path / "objects"))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


@pytest.fixture(params=["local", "s3"])
def any_storage_client(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> Iterator[TestClient]:
    """A client of an app on local storage, then on the S3 endpoint."""
    if request.param == "local":
        store = LocalStorage(tmp_path / "objects")
    else:
        store = make_s3_storage(request.getfixturevalue("s3_endpoint"))
    app = create_app(settings, storage=store)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()
