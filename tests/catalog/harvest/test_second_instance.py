"""Harvest a second dataledger, served for real by uvicorn on a loopback port, through its CKAN API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from catalog import service
from catalog.harvest import runner
from catalog.harvest.models import HarvestJob, HarvestRecord
from catalog.models import Dataset
from catalog.schemas import DatasetCreate, OrganizationCreate, ResourceCreate
from tests.catalog.harvest.conftest import make_source
from tests.conftest import import_models
from tests.liveserver import free_port, serve_in_thread

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Upstream:
    """The second instance: its URL and its engine (to change it between harvests)."""

    url: str
    engine: Engine


def _populate(engine: Engine, count: int) -> None:
    with Session(engine, expire_on_commit=False) as s:
        org = service.create_organization(
            s, actor_id=None, data=OrganizationCreate(name="upstream-agency", title="上游部门")
        )
        for n in range(count):
            service.create_dataset_with_resources(
                s,
                actor_id=None,
                data=DatasetCreate(
                    name=f"up-{n:04d}",
                    title=f"上游数据集 {n}",
                    notes="由第二个实例提供",
                    owner_org=org.name,
                    open_type="unconditional",
                    grade="general_1",
                    domain="transport",
                    update_frequency="monthly",
                    tags=["上游", f"t{n % 7}"],
                ),
                resources=[
                    (None, ResourceCreate(name="接口", format="JSON", url=f"https://up.example.org/{n}"))
                ],
                publish=True,
            )
        s.commit()


@pytest.fixture
def upstream(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Upstream]:
    """A second dataledger with N published datasets (indirect parameter, default 30)."""
    from portal.app import create_app
    from portal.database import make_engine
    from storage import LocalStorage
    from tests.portal.conftest import make_settings

    count = getattr(request, "param", 30)
    folder = tmp_path / "upstream"
    folder.mkdir()
    url = f"sqlite:///{folder / 'upstream.db'}"
    import_models()
    bootstrap = sa.create_engine(url)
    SQLModel.metadata.create_all(bootstrap)
    bootstrap.dispose()
    engine = make_engine(url)
    _populate(engine, count)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(url, folder, base_url=base), storage=LocalStorage(folder / "objects"))
    try:
        with serve_in_thread(app, port, lifespan="off", start_timeout=20):
            yield Upstream(base, engine)
    finally:
        app.state.engine.dispose()
        engine.dispose()


def _job(engine: Engine, job_id: object) -> HarvestJob:
    with Session(engine) as s:
        job = s.get(HarvestJob, job_id)
        assert job is not None
        return job


@SQLITE_ONLY
def test_harvest_a_second_instance_then_withdraw_what_it_withdrew(
    engine: Engine, session: Session, upstream: Upstream
) -> None:
    source = make_source(
        session, kind="ckan", url=upstream.url, mapping={"publish": True, "grade": "general_2"}
    )
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=10))
    assert job.status == "finished", job.report
    assert (job.created, job.failed, job.total) == (30, 0, 30)
    with Session(engine) as s:
        mine = s.exec(select(Dataset).where(Dataset.name == "up-0007")).one()
        # Descriptive fields come across; openness and grade come from the source's mapping.
        assert (mine.domain, mine.update_frequency, mine.status) == ("transport", "monthly", "published")
        assert (mine.open_type, mine.grade, mine.grade_confirmed) == ("conditional", "general_2", True)
        assert [r.url for r in service.list_resources(s, mine)] == ["https://up.example.org/7"]

    with Session(upstream.engine) as s:
        gone = service.require_dataset(s, "up-0003")
        service.set_dataset_status(s, actor_id=None, dataset=gone, status="withdrawn")
        s.commit()
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=10, full=True))
    assert (job.created, job.updated, job.withdrawn, job.unchanged) == (0, 0, 1, 29)
    with Session(engine) as s:
        mine = s.exec(select(Dataset).where(Dataset.name == "up-0003")).one()
        assert mine.status == "withdrawn"


@pytest.mark.slow
@pytest.mark.parametrize("upstream", [1000], indirect=True)
@SQLITE_ONLY
def test_bench_harvest_1000_datasets_then_all_unchanged(
    engine: Engine, session: Session, upstream: Upstream
) -> None:
    source = make_source(session, kind="ckan", url=upstream.url)
    t0 = time.perf_counter()
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=250))
    first = time.perf_counter() - t0
    assert job.status == "finished", job.report
    assert (job.created, job.failed) == (1000, 0)
    t0 = time.perf_counter()
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=250, full=True))
    second = time.perf_counter() - t0
    assert (job.created, job.updated, job.unchanged, job.withdrawn, job.failed) == (0, 0, 1000, 0, 0)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(HarvestRecord)).one() == 1000
    print(f"\nharvest 1000 datasets: first run {first:.1f} s, second (all unchanged) {second:.1f} s")
