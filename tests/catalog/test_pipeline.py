"""An uploaded table is ingested, profiled, checked and scored by a quality job."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog import pipeline, service
from catalog.models import DataItem, QualityJob, ResourceVersion
from catalog.schemas import ResourceCreate
from storage import LocalStorage
from tests.factories import make_dataset, make_org


def resident_id(body17: str) -> str:
    """A made-up 18-digit resident ID number with a valid ISO 7064 MOD 11-2 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


IDS = [resident_id(f"33010219900115{n:03d}") for n in range(1, 4)]
CSV = "姓名,身份证号,手机号,金额\n" + "".join(
    f"张{i},{IDS[i % 3]},1380013{i:04d},{i * 10}\n" for i in range(30)
)


def _upload(
    engine: Engine, storage: LocalStorage, body: bytes, filename: str = "people.csv"
) -> tuple[str, str]:
    with Session(engine, expire_on_commit=False) as s:
        org = make_org(s)
        ds = make_dataset(s, org, domain="transport", open_type="conditional", grade="general_3")
        res = service.create_resource(s, actor_id=None, dataset=ds, data=ResourceCreate(name="人员"))
        version = service.upload_resource_file(
            s, storage, actor_id=None, resource=res, filename=filename, data=io.BytesIO(body)
        )
        job = s.exec(
            select(QualityJob).where(QualityJob.version_id == version.id)
        ).one()  # queued by the upload
        s.commit()
        return str(job.id), ds.name


def test_job_ingests_profiles_checks_and_proposes_grade(engine: Engine, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "objects")
    job_id, name = _upload(engine, storage, CSV.encode("gbk"))
    assert pipeline.claim_next(engine) is not None
    job = pipeline.run_job(engine, storage, uuid.UUID(job_id), workdir=tmp_path / "w")
    assert job.state == "done", job.error
    with Session(engine) as s:
        ds = service.require_dataset(s, name)
        version = s.exec(select(ResourceVersion)).one()
        assert version.encoding in {"gb18030", "gbk"}
        assert version.row_count == 30
        assert storage.exists(version.normalized_key or "")
        by_name = {c["name"]: c for c in version.columns}
        assert by_name["身份证号"]["sensitive_type"] == "resident_id"
        assert all("*" in v for v in by_name["身份证号"]["sample_values"])  # masked, never raw
        assert ds.proposed_grade == "general_4"  # resident ID numbers are sensitive personal information
        assert version.quality_report is not None
        assert version.quality_status in {"passed", "blocked"}
        assert 0 <= (ds.quality_score or -1) <= 100
        items = {
            i.name: i.sensitive_type for i in s.exec(select(DataItem).where(DataItem.dataset_id == ds.id))
        }
        assert items["手机号"] == "mobile"


def test_unreadable_table_is_rejected_not_served(engine: Engine, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "objects")
    broken = b"PK\x03\x04" + b"\x00garbage" * 50  # claims to be a zip (xlsx) but is not
    job_id, name = _upload(engine, storage, broken, filename="table.xlsx")
    job = pipeline.run_job(engine, storage, uuid.UUID(job_id), workdir=tmp_path / "w")
    assert job.state == "done"
    with Session(engine) as s:
        version = s.exec(select(ResourceVersion)).one()
        ds = service.require_dataset(s, name)
        resource = service.list_resources(s, ds)[0]
        if version.quality_status == "not_tabular":
            return  # sniffing judged it not a table at all: kept as a plain file
        assert version.state == "rejected"
        assert version.ingest_error
        assert resource.latest_version == 0
