"""`dataledger storage fsck` and `sweep`, run as an operator would: output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from catalog import service
from catalog.schemas import ResourceCreate
from portal.database import make_engine
from storage import LocalStorage, make_key
from tests.factories import make_dataset, make_org

BIN = Path(sys.executable).parent / "dataledger"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real console script, in its own process."""
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120)


def run_here(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The same command line in this process (faster; settings read from env like the script)."""
    from typer.testing import CliRunner

    from portal.cli import app
    from portal.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A fresh SQLite ledger (migrated by the CLI itself) and local storage."""
    return {
        **os.environ,
        "DATALEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "DATALEDGER_STORAGE_URL": str(tmp_path / "objects"),
        "DATALEDGER_VAR_DIR": str(tmp_path / "var"),
        "DATALEDGER_STAGING_MAX_AGE_SECONDS": "60",
        "COLUMNS": "200",
    }


def _age(store: LocalStorage, key: str, seconds: int) -> None:
    path = store.local_path(key)
    assert path is not None
    stamp = path.stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


def test_fsck_reports_fixes_and_then_passes(cli_env: dict[str, str], tmp_path: Path) -> None:
    r = run_here(["db", "upgrade"], cli_env)
    assert r.returncode == 0, r.stderr
    store = LocalStorage(tmp_path / "objects")
    engine = make_engine(cli_env["DATALEDGER_DATABASE_URL"])
    with Session(engine) as s:
        ds = make_dataset(s, make_org(s))
        resource = service.create_resource(s, actor_id=None, dataset=ds, data=ResourceCreate(name="表"))
        kept = service.upload_resource_file(
            s, store, actor_id=None, resource=resource, filename="a.csv", data=[b"a\n1\n"]
        )
        lost = service.upload_resource_file(
            s, store, actor_id=None, resource=resource, filename="a.csv", data=[b"a\n2\n"]
        )
        s.commit()
        lost_key, lost_id = lost.storage_key, lost.id
        ds_id, rid, kept_key = ds.id, resource.id, kept.storage_key
    store.delete(lost_key)
    orphan = make_key("datasets", str(ds_id), str(rid), "v9")
    store.put(orphan, [b"orphan bytes"])
    _age(store, orphan, 7200)
    store.put("staging/abandoned", [b"partial"])
    _age(store, "staging/abandoned", 600)

    r = run(["storage", "fsck"], cli_env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"orphan object   {orphan}" in r.stdout
    assert f"missing file    resource {rid} v2: {lost_key}" in r.stdout
    assert "stale staging   staging/abandoned" in r.stdout
    assert "1 orphan objects, 1 missing objects, 1 stale staging uploads" in r.stdout
    assert "--fix" in r.stderr

    r = run_here(["storage", "fsck", "--json"], cli_env)
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert [o["key"] for o in report["orphan_objects"]] == [orphan]
    assert report["missing_objects"][0]["version_id"] == str(lost_id)

    r = run_here(["storage", "fsck", "--fix"], cli_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fixed: deleted 1 orphan objects, marked 1 versions missing" in r.stdout
    assert "swept 1 staging uploads" in r.stdout
    assert not store.exists(orphan) and not store.exists("staging/abandoned")
    assert store.exists(kept_key)
    with engine.connect() as conn:
        state = conn.execute(
            sa.text("select state from resource_version where id = :id"), {"id": lost_id.hex}
        ).scalar_one()
    assert state == "missing"

    r = run_here(["storage", "fsck"], cli_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "storage is consistent" in r.stdout
    engine.dispose()


def test_sweep_removes_old_staging_uploads_only(cli_env: dict[str, str], tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "objects")
    store.put("staging/old", [b"x"])
    store.put("staging/new", [b"y"])
    _age(store, "staging/old", 3600)
    r = run(["storage", "sweep"], cli_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "swept 1 staging uploads older than 60 s"
    assert [o.key for o in store.list()] == ["staging/new"]
    r = run_here(["storage", "sweep", "--older-than", "0"], cli_env)
    assert r.stdout.strip() == "swept 1 staging uploads older than 0 s"
    assert list(store.list()) == []
