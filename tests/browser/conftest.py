"""The real app under uvicorn on a free loopback port (SQLite, demo loaded), driven by Debian's
Chromium through Playwright. Skipped with a reason when Chromium is absent, unless CI=true."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.liveserver import free_port, serve_in_thread

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "tests" / "_artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEMO_PASSWORD = "demo-password-1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class Portal:
    """The running portal: its URL, engine and storage (to run quality jobs as the worker would)."""

    url: str
    engine: Engine
    storage: Any
    workdir: Path

    def run_quality_jobs(self, dataset_name: str) -> int:
        """Run the queued quality jobs of one dataset synchronously, as the worker would."""
        from catalog import pipeline, service

        with Session(self.engine) as s:
            dataset = service.require_dataset(s, dataset_name)
            jobs = [j.id for j in pipeline.pending_jobs(s, dataset_id=dataset.id)]
        for job_id in jobs:
            pipeline.run_job(self.engine, self.storage, job_id, workdir=self.workdir)
        return len(jobs)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, or a skip (a failure on CI)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if IN_CI:
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Portal]:
    """uvicorn serving create_app() in a thread, on a demo-loaded SQLite database."""
    from sqlmodel import SQLModel

    from auth.passwords import configure_hasher, restore_hasher
    from auth.settings import AuthSettings
    from portal.app import create_app
    from portal.database import make_engine
    from portal.demo import load_demo
    from portal.models import import_all_models
    from portal.settings import PortalSettings, Settings
    from storage import LocalStorage, StorageSettings

    previous = configure_hasher(time_cost=1, memory_cost_kib=8, parallelism=1)
    root = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{root / 'portal.db'}"
    engine = make_engine(db_url)
    import_all_models()
    SQLModel.metadata.create_all(engine)  # the schema of the models as they are (full text included)
    storage = LocalStorage(root / "objects")
    load_demo(engine, storage)
    port = free_port()
    settings = Settings(
        portal=PortalSettings(
            database_url=db_url, var_dir=root, load_demo=False, base_url=f"http://127.0.0.1:{port}"
        ),
        storage=StorageSettings(storage_url=str(root / "objects")),
        auth=AuthSettings(secret_key="browser-test-secret-0123456789abcdef"),
    )
    the_portal = Portal(url=f"http://127.0.0.1:{port}", engine=engine, storage=storage, workdir=root / "work")
    the_portal.run_quality_jobs("nb-bus-routes")
    app = create_app(settings, storage=storage)
    try:
        with serve_in_thread(app, port, lifespan="on"):
            yield the_portal
    finally:
        app.state.engine.dispose()
        engine.dispose()
        restore_hasher(previous)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, portal: Portal) -> Iterator[Any]:
    """A fresh browser context (no cookies) with a phone-or-desktop sized window."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot of the journey's last page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, portal: Portal, name: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form with the keyboard-reachable controls."""
    page.goto(f"{portal.url}/user/login")
    page.get_by_label("用户名或邮箱").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/user/login" not in url)


def sign_out(page: Any) -> None:
    """Sign out with the header button."""
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(lambda url: not url.endswith("/workspace"))
