"""Storage fsck: orphan objects, missing objects and stale staging uploads, found and repaired."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from catalog import fsck, service
from catalog.models import LedgerEntry, Resource, ResourceVersion
from catalog.schemas import ResourceCreate
from storage import LocalStorage, Storage, make_key
from tests.conftest import make_s3_storage
from tests.factories import make_dataset, make_org

LATER = timedelta(hours=2)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """Local storage, then the S3 endpoint."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects")
    else:
        yield make_s3_storage(request.getfixturevalue("s3_endpoint"))  # type: ignore[misc]


def _ledger(session: Session, store: Storage) -> tuple[Resource, ResourceVersion, ResourceVersion]:
    """One resource with two versions; v1 has a normalized table."""
    org = make_org(session)
    dataset = make_dataset(session, org)
    resource = service.create_resource(
        session, actor_id=None, dataset=dataset, data=ResourceCreate(name="表")
    )
    v1 = service.upload_resource_file(
        session, store, actor_id=None, resource=resource, filename="a.csv", data=[b"a,b\n1,2\n"]
    )
    key = make_key("datasets", str(dataset.id), str(resource.id), "v1.normalized.parquet")
    store.put(key, [b"PAR1 not really"])
    v1.normalized_key = key
    v2 = service.upload_resource_file(
        session, store, actor_id=None, resource=resource, filename="a.csv", data=[b"a,b\n1,2\n3,4\n"]
    )
    session.commit()
    return resource, v1, v2


def test_consistent_storage_has_no_problems(session: Session, store: Storage) -> None:
    _ledger(session, store)
    report = fsck.check(session, store, staging_max_age_seconds=3600, now=datetime.now(UTC) + LATER)
    assert report.problems == 0
    assert report.objects_checked == 3
    assert report.versions_checked == 2


def test_fsck_finds_and_repairs_orphans_missing_objects_and_stale_staging(
    session: Session, store: Storage
) -> None:
    resource, v1, v2 = _ledger(session, store)
    orphan = make_key("datasets", "gone-dataset", "gone-resource", "v7")
    store.put(orphan, [b"nobody's bytes"])
    store.put("staging/abandoned", [b"half an upload"])
    store.put("exports/other-package-file", [b"not the catalog's"])
    store.delete(v2.storage_key)  # metadata without its file
    assert v1.normalized_key is not None
    store.delete(v1.normalized_key)  # and a lost table

    # Just now: the orphan could be an upload in flight, the staging object is fresh.
    fresh = fsck.check(session, store, staging_max_age_seconds=3600)
    assert fresh.orphan_objects == []
    assert fresh.stale_staging == [] and fresh.fresh_staging == 1
    assert len(fresh.missing_objects) == 2

    later = datetime.now(UTC) + LATER
    report = fsck.check(session, store, staging_max_age_seconds=3600, now=later)
    assert [o.key for o in report.orphan_objects] == [orphan]
    assert {(m.version, m.kind) for m in report.missing_objects} == {(2, "file"), (1, "normalized")}
    assert [o.key for o in report.stale_staging] == ["staging/abandoned"]
    assert report.problems == 4

    fixed = fsck.repair(session, store, report)
    session.commit()
    assert (fixed.deleted_objects, fixed.marked_missing, fixed.cleared_tables, fixed.swept_staging) == (
        1,
        1,
        1,
        1,
    )
    assert not store.exists(orphan)
    assert not store.exists("staging/abandoned")
    assert store.exists("exports/other-package-file")  # outside the catalog's prefix: never touched
    session.expire_all()
    assert session.get(ResourceVersion, v2.id).state == "missing"  # type: ignore[union-attr]
    assert session.get(ResourceVersion, v1.id).normalized_key is None  # type: ignore[union-attr]
    assert session.get(Resource, resource.id).latest_version == 1  # type: ignore[union-attr]
    assert service.require_version(session, session.get(Resource, resource.id)).version == 1  # type: ignore[arg-type]
    actions = set(session.exec(select(LedgerEntry.action)).all())
    assert {"resource.missing", "resource.table_missing"} <= actions

    again = fsck.check(session, store, staging_max_age_seconds=3600, now=later)
    assert again.problems == 0


def test_repair_keeps_an_object_whose_metadata_arrived_after_the_check(
    session: Session, store: Storage
) -> None:
    resource, _v1, _v2 = _ledger(session, store)
    late_key = make_key("datasets", "x", "y", "v3")
    store.put(late_key, [b"bytes"])
    report = fsck.check(session, store, staging_max_age_seconds=3600, now=datetime.now(UTC) + LATER)
    assert [o.key for o in report.orphan_objects] == [late_key]
    session.add(
        ResourceVersion(
            resource_id=resource.id,
            version=3,
            storage_key=late_key,
            filename="c.csv",
            size=5,
            sha256="0" * 64,
        )
    )
    session.flush()
    fixed = fsck.repair(session, store, report)
    assert fixed.deleted_objects == 0
    assert store.exists(late_key)


def test_sweep_deletes_only_old_staging_uploads(store: Storage) -> None:
    store.put("staging/old", [b"x"])
    store.put("datasets/a/b/v1", [b"y"])
    assert fsck.sweep(store, older_than_seconds=3600) == 0
    assert fsck.sweep(store, older_than_seconds=3600, now=datetime.now(UTC) + LATER) == 1
    assert [o.key for o in store.list()] == ["datasets/a/b/v1"]
