"""Recorded dados.gov.br packages behind a loopback CKAN, and a source that harvests them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from catalog.harvest import service as harvest_service
from catalog.harvest.models import HarvestSource
from catalog.harvest.schemas import HarvestSourceCreate
from tests.catalog.harvest.ckanserver import FakeCkan, serving
from tests.factories import make_org


@pytest.fixture(scope="session")
def dados_packages(testdata: Path) -> list[dict[str, Any]]:
    """The 800 recorded dados.gov.br package dicts."""
    path = testdata / "ckan-api-responses" / "dados-gov-br" / "datasets_800.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"recorded CKAN packages not found at {path}")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def fake_ckan(dados_packages: list[dict[str, Any]]) -> Iterator[FakeCkan]:
    """120 recorded packages (the oldest ones) served by a loopback CKAN."""
    packages = sorted(dados_packages, key=lambda p: p["metadata_modified"])[:120]
    with serving(FakeCkan(json.loads(json.dumps(packages)))) as ckan:
        yield ckan


def make_source(session: Session, *, kind: str, url: str, **overrides: Any) -> HarvestSource:
    """A harvest source owned by a fresh agency."""
    org = make_org(session)
    data: dict[str, Any] = {"name": f"src-{org.name}", "kind": kind, "url": url, "organization": org.name}
    data.update(overrides)
    source = harvest_service.create_source(session, actor_id=None, data=HarvestSourceCreate(**data))
    session.commit()
    return source
