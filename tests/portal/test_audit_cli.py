"""`dataledger audit` as scripts use it: verify (exit codes), export CSV, anomalies.

Run in-process (typer's runner, settings from the environment as in a real run) to stay fast;
tests/portal/test_access_e2e.py runs `dataledger audit verify` in a subprocess.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from auth import audit
from tests.factories import make_user


@dataclass
class Result:
    """What a command run printed and returned."""

    returncode: int
    stdout: str
    stderr: str


def run(args: list[str], env: dict[str, str]) -> Result:
    """Run `dataledger ARGS` in-process against the test database."""
    from typer.testing import CliRunner

    from portal.cli import app

    done = CliRunner().invoke(app, args, env=env)
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        raise done.exception
    return Result(done.exit_code, done.stdout, done.stderr)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from portal.settings import get_settings

    env = {
        "DATALEDGER_DATABASE_URL": db_url,
        "DATALEDGER_STORAGE_URL": str(tmp_path / "objects"),
        "DATALEDGER_VAR_DIR": str(tmp_path / "var"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def _fill(engine: Engine) -> dict[str, str]:
    """A few users (each creation is audited) and some denied downloads by one of them."""
    with Session(engine, expire_on_commit=False) as s:
        users = [make_user(s, fullname="审计测试") for _ in range(3)]
        for _ in range(12):
            audit.record(
                s,
                action="resource.download",
                actor_id=users[0].id,
                actor_name=users[0].name,
                object_type="resource",
                object_id="r-1",
                outcome="denied",
                detail={"reason": "有条件开放"},
            )
        s.commit()
        return {"name": users[0].name, "id": str(users[0].id)}


def test_verify_passes_then_names_the_altered_record(engine: Engine, cli_env: dict[str, str]) -> None:
    empty = run(["audit", "verify"], cli_env)
    assert empty.returncode == 0, empty.stderr
    _fill(engine)
    ok = run(["audit", "verify"], cli_env)
    assert ok.returncode == 0, ok.stderr
    assert "verifies: 15 records" in ok.stdout
    with engine.begin() as conn:
        conn.execute(sa.text("update audit_event set outcome = 'allowed' where id = 7"))
    bad = run(["audit", "verify"], cli_env)
    assert bad.returncode == 1
    assert "record 7" in bad.stderr and "altered" in bad.stderr
    assert "7" in bad.stdout


def test_verify_sees_a_deleted_record_and_a_truncated_head(engine: Engine, cli_env: dict[str, str]) -> None:
    _fill(engine)
    with Session(engine) as s:
        head = audit.head(s)
    assert head is not None
    r = run(["audit", "verify", "--head-id", str(head[0]), "--head-hash", head[1]], cli_env)
    assert r.returncode == 0, r.stderr
    with engine.begin() as conn:
        conn.execute(sa.text("delete from audit_event where id = :i"), {"i": head[0]})
    assert run(["audit", "verify"], cli_env).returncode == 0  # the newest record: only the head tells
    r = run(["audit", "verify", "--head-id", str(head[0]), "--head-hash", head[1]], cli_env)
    assert r.returncode == 1 and f"record {head[0]}" in r.stderr
    with engine.begin() as conn:
        conn.execute(sa.text("delete from audit_event where id = 3"))
    r = run(["audit", "verify"], cli_env)
    assert r.returncode == 1 and "record 4" in r.stderr and "missing" in r.stderr


def test_export_filters_and_writes_csv(engine: Engine, cli_env: dict[str, str], tmp_path: Path) -> None:
    who = _fill(engine)
    out = tmp_path / "audit.csv"
    r = run(["audit", "export", "-o", str(out)], cli_env)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [int(row["id"]) for row in rows] == list(range(1, 16))
    assert "exported 15" in r.stderr
    r = run(["audit", "export", "--action", "user.", "-o", str(out)], cli_env)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert {row["action"] for row in rows} == {"user.create"} and len(rows) == 3
    r = run(["audit", "export", "--actor", who["name"], "--action", "resource.download", "-o", "-"], cli_env)
    assert r.returncode == 0
    rows = list(csv.DictReader(r.stdout.splitlines()))
    assert len(rows) == 12 and {row["actor_id"] for row in rows} == {who["id"]}
    assert '"reason": "有条件开放"' in rows[0]["detail"]
    r = run(["audit", "export", "--since", "2999-01-01", "-o", str(out)], cli_env)
    assert r.returncode == 0 and out.read_text(encoding="utf-8").strip() == ",".join(audit.CSV_COLUMNS)
    assert run(["audit", "export", "--since", "yesterday", "-o", str(out)], cli_env).returncode == 2
    assert run(["audit", "export", "--actor", "nobody", "-o", str(out)], cli_env).returncode == 1


def test_anomalies_lists_repeated_denials(engine: Engine, cli_env: dict[str, str]) -> None:
    who = _fill(engine)
    r = run(["audit", "anomalies"], cli_env)
    assert r.returncode == 0, r.stderr
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert lines == [["repeated_denials", who["name"], "12", lines[0][3], lines[0][4]]]
    r = run(["audit", "anomalies", "--min-denials", "20"], cli_env)
    assert r.returncode == 0 and r.stdout == ""
