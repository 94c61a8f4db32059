"""Harvesting a CKAN portal (recorded dados.gov.br packages) through ckanapi over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from catalog import service
from catalog.harvest import runner
from catalog.harvest.models import HarvestJob, HarvestRecord
from catalog.models import Dataset, Resource
from tests.catalog.harvest.ckanserver import FakeCkan
from tests.catalog.harvest.conftest import make_source


def _job(engine: Engine, job_id: object) -> HarvestJob:
    with Session(engine) as s:
        job = s.get(HarvestJob, job_id)
        assert job is not None
        return job


def test_first_run_creates_drafts_with_link_resources_and_second_run_changes_nothing(
    engine: Engine, session: Session, fake_ckan: FakeCkan
) -> None:
    source = make_source(session, kind="ckan", url=fake_ckan.url)
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=50))
    assert job.status == "finished", job.report
    assert (job.created, job.updated, job.failed, job.withdrawn) == (120, 0, 0, 0)
    assert job.total == 120 and job.full
    # Paged by start/rows, sorted by metadata_modified ascending.
    searches = [d for action, d in fake_ckan.requests if action == "package_search"]
    assert [int(d["start"]) for d in searches] == [0, 50, 100]
    assert all(d["sort"] == "metadata_modified asc" for d in searches)

    with Session(engine) as s:
        pkg = next(iter(fake_ckan.packages.values()))
        record = s.exec(select(HarvestRecord).where(HarvestRecord.remote_id == pkg["id"])).one()
        dataset = s.get(Dataset, record.dataset_id)
        assert dataset is not None
        assert dataset.title == pkg["title"][:300]
        # The cautious defaults: a draft, open on conditions, no grade.
        assert (dataset.status, dataset.open_type, dataset.grade) == ("draft", "conditional", None)
        assert dataset.extras["harvest_remote_id"] == pkg["id"]
        resources = service.list_resources(s, dataset)
        assert [r.url for r in resources] == [r["url"] for r in pkg["resources"] if r.get("url")]
        assert {r.kind for r in resources} <= {"link"}
        assert all(r.latest_version == 0 for r in resources)  # nothing downloaded
        before = s.exec(select(func.count()).select_from(Dataset)).one()
        before_resources = s.exec(select(func.count()).select_from(Resource)).one()
        source_row = service_source(s, source.name)
        assert source_row.harvested_until == max(p["metadata_modified"] for p in fake_ckan.packages.values())

    # An incremental run asks only for what changed since the last one, and finds it unchanged.
    fake_ckan.requests.clear()
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=50))
    assert job.status == "finished" and not job.full
    assert (job.created, job.updated, job.withdrawn) == (0, 0, 0)
    assert job.unchanged >= 1
    fq = [d.get("fq") for action, d in fake_ckan.requests if action == "package_search"]
    assert fq and fq[0].startswith("metadata_modified:[") and fq[0].endswith(" TO *]")
    # A full run compares everything: all unchanged, nothing written.
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=50, full=True))
    assert (job.created, job.updated, job.unchanged, job.withdrawn, job.failed) == (0, 0, 120, 0, 0)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Dataset)).one() == before
        assert s.exec(select(func.count()).select_from(Resource)).one() == before_resources


def service_source(session: Session, name: str):  # type: ignore[no-untyped-def]
    from catalog.harvest.service import require_source

    return require_source(session, name)


def test_upstream_edit_updates_and_deletion_withdraws(
    engine: Engine, session: Session, fake_ckan: FakeCkan
) -> None:
    source = make_source(session, kind="ckan", url=fake_ckan.url)
    runner.run_harvest(engine, source.name, page_size=40)
    names = sorted(fake_ckan.packages)
    edited, deleted = fake_ckan.packages[names[0]], names[1]
    edited["title"] = "Título alterado"
    edited["metadata_modified"] = "2030-01-01T00:00:00.000001"
    del fake_ckan.packages[deleted]

    job = _job(engine, runner.run_harvest(engine, source.name, page_size=40))
    assert (job.updated, job.created, job.withdrawn) == (1, 0, 0)  # incremental: no deletions seen
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=40, full=True))
    assert (job.updated, job.created, job.withdrawn, job.unchanged) == (0, 0, 1, 119)
    assert job.report["withdrawn"][0]["remote_id"] != edited["id"]
    with Session(engine) as s:
        rec = s.exec(select(HarvestRecord).where(HarvestRecord.remote_name == deleted)).one()
        assert rec.state == "withdrawn"
        gone = s.get(Dataset, rec.dataset_id)
        assert gone is not None and gone.status == "withdrawn"
        rec = s.exec(select(HarvestRecord).where(HarvestRecord.remote_id == edited["id"])).one()
        dataset = s.get(Dataset, rec.dataset_id)
        assert dataset is not None and dataset.title == "Título alterado"


class Interrupt(Exception):
    """Stands for a crash or Ctrl-C in the middle of a run."""


def test_interrupted_run_resumes_from_its_cursor(
    engine: Engine, session: Session, fake_ckan: FakeCkan
) -> None:
    source = make_source(session, kind="ckan", url=fake_ckan.url)
    pages: list[int] = []

    def stop_after_two(progress: runner.Progress) -> None:
        pages.append(progress.done)
        if len(pages) == 2:
            raise Interrupt("stop")

    with pytest.raises(Interrupt):
        runner.run_harvest(engine, source.name, page_size=25, progress=stop_after_two)
    with Session(engine) as s:
        job = s.exec(select(HarvestJob).where(HarvestJob.source_id == source.id)).one()
        assert job.status == "interrupted"
        assert job.cursor is not None and job.cursor["start"] == 50
        assert job.created == 50
        assert s.exec(select(func.count()).select_from(HarvestRecord)).one() == 50
    fake_ckan.requests.clear()
    job_id = runner.run_harvest(engine, source.name, page_size=25)
    job = _job(engine, job_id)
    assert job.status == "finished"
    assert job.created == 120 and job.failed == 0
    starts = [int(d["start"]) for action, d in fake_ckan.requests if action == "package_search"]
    assert starts[0] == 50  # resumed, not restarted
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(HarvestRecord)).one() == 120
        assert s.exec(select(func.count()).select_from(Dataset)).one() == 120
