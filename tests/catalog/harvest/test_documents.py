"""Harvesting DCAT RDF catalogs (ckanext-dcat examples) and DCAT-US data.json (OpenDataPhilly)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog import service
from catalog.harvest import runner
from catalog.harvest.errors import RemoteUnreadable
from catalog.harvest.models import HarvestJob, HarvestRecord
from catalog.harvest.remote import read_dcat_rdf
from catalog.models import Dataset
from tests.catalog.harvest.conftest import make_source


def _job(engine: Engine, job_id: object) -> HarvestJob:
    with Session(engine) as s:
        job = s.get(HarvestJob, job_id)
        assert job is not None
        return job


def test_dcat_rdf_catalog(engine: Engine, session: Session, testdata: Path) -> None:
    path = testdata / "ckanext-dcat-examples" / "dcat" / "catalog.rdf"
    source = make_source(session, kind="dcat_rdf", url=str(path))
    job = _job(engine, runner.run_harvest(engine, source.name))
    assert (job.status, job.created, job.failed) == ("finished", 2, 0)
    with Session(engine) as s:
        rec = s.exec(
            select(HarvestRecord).where(HarvestRecord.remote_id == "https://data.some.org/catalog/datasets/1")
        ).one()
        dataset = s.get(Dataset, rec.dataset_id)
        assert dataset is not None and dataset.title == "Example dataset 1"
        resources = service.list_resources(s, dataset)
        assert len(resources) == 3 and all(r.kind == "link" and r.url for r in resources)
    assert _job(engine, runner.run_harvest(engine, source.name)).unchanged == 2


@pytest.mark.parametrize(
    "name", ["dataset_gov_de.rdf", "dataset_sweden.rdf", "dataset_gob_es.ttl", "catalog_pod.jsonld"]
)
def test_dcat_rdf_samples_read(testdata: Path, name: str) -> None:
    path = testdata / "ckanext-dcat-examples" / "dcat" / name
    [remote] = read_dcat_rdf(path.read_bytes(), url=str(path))
    assert remote.title and remote.remote_id and remote.resources


def test_unreadable_rdf_fails_the_job_with_a_reason(engine: Engine, session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text("this is not turtle <<<", encoding="utf-8")
    source = make_source(session, kind="dcat_rdf", url=str(bad))
    job = _job(engine, runner.run_harvest(engine, source.name))
    assert job.status == "failed" and "RDF" in job.report["error"]
    with pytest.raises(RemoteUnreadable):
        read_dcat_rdf(bad.read_bytes(), url=str(bad))


def test_dcat_us_data_json_and_upstream_deletion(
    engine: Engine, session: Session, testdata: Path, tmp_path: Path
) -> None:
    original = testdata / "dcat-us-catalogs" / "dcatus_with_none.json"
    copy = tmp_path / "data.json"
    whole = json.loads(original.read_text(encoding="utf-8"))
    # The first 60 of OpenDataPhilly's 402 records keep the test fast; the reader sees them all.
    copy.write_text(json.dumps({**whole, "dataset": whole["dataset"][:60]}), encoding="utf-8")
    source = make_source(session, kind="dcat_us", url=f"file://{copy}", mapping={"domain": "economy"})
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=100))
    doc = json.loads(copy.read_text(encoding="utf-8"))
    identifiers = {d["identifier"] for d in doc["dataset"]}
    assert job.status == "finished"
    assert job.created + job.failed == len(identifiers)
    assert job.created >= len(identifiers) - 5, job.report["failures"][:3]
    with Session(engine) as s:
        first = doc["dataset"][0]
        rec = s.exec(select(HarvestRecord).where(HarvestRecord.remote_id == first["identifier"])).one()
        dataset = s.get(Dataset, rec.dataset_id)
        assert dataset is not None
        assert dataset.title == first["title"] and dataset.domain == "economy"
        urls = [r.url for r in service.list_resources(s, dataset)]
        assert urls == [d.get("downloadURL") or d.get("accessURL") for d in first["distribution"]]
    # A second run changes nothing; a record dropped upstream is withdrawn.
    assert _job(engine, runner.run_harvest(engine, source.name, page_size=100)).unchanged == job.created
    dropped = doc["dataset"].pop(0)
    copy.write_text(json.dumps(doc), encoding="utf-8")
    job = _job(engine, runner.run_harvest(engine, source.name, page_size=100))
    assert job.withdrawn == 1 and job.report["withdrawn"][0]["remote_id"] == dropped["identifier"]
