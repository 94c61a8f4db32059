"""The command line, as scripts use it: exact forms, stdout only what is promised."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "dataledger"


def run(args: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATALEDGER_DATABASE_URL": db_url,
        "DATALEDGER_STORAGE_URL": str(tmp_path / "objects"),
        "DATALEDGER_VAR_DIR": str(tmp_path / "var"),
    }


def test_help_is_fast() -> None:
    t0 = time.perf_counter()
    result = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, timeout=30)
    elapsed = time.perf_counter() - t0
    assert result.returncode == 0
    for command in ("serve", "demo", "db", "users", "tokens", "quality"):
        assert command in result.stdout
    assert elapsed < 3.0  # generous for a loaded CI machine; ~0.4 s when idle


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys, portal.cli; "
        "heavy = [m for m in ('fastapi', 'sqlmodel', 'great_expectations', 'pandas', 'duckdb', 'jieba') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_users_and_tokens(cli_env: dict[str, str]) -> None:
    r = run(["db", "upgrade"], cli_env)
    assert r.returncode == 0, r.stderr
    r = run(
        [
            "users",
            "create",
            "alice",
            "--email",
            "alice@example.org",
            "--password",
            "a-long-password",
            "--sysadmin",
        ],
        cli_env,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    r = run(["tokens", "create", "alice", "--name", "laptop"], cli_env)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert r.stdout == token + "\n"  # the token and nothing else
    assert token.startswith("dl_")
    r = run(
        ["users", "create", "alice", "--email", "other@example.org", "--password", "a-long-password"], cli_env
    )
    assert r.returncode == 1
    assert "alice" in r.stderr
    r = run(["tokens", "create", "nobody"], cli_env)
    assert r.returncode == 1
    assert r.stdout == ""
    assert "nobody" in r.stderr


def test_users_member(cli_env: dict[str, str], engine) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from auth.users import get_membership, get_user_by_name
    from tests.factories import make_org

    with Session(engine) as s:
        org = make_org(s, name="jtt")
        s.commit()
        org_id = org.id
    assert (
        run(
            ["users", "create", "bob", "--email", "bob@example.org", "--password", "a-long-password"], cli_env
        ).returncode
        == 0
    )
    r = run(["users", "member", "bob", "--org", "jtt", "--role", "admin", "--security-officer"], cli_env)
    assert r.returncode == 0, r.stderr
    with Session(engine) as s:
        user = get_user_by_name(s, "bob")
        assert user is not None
        m = get_membership(s, user_id=user.id, organization_id=org_id)
        assert m is not None and m.role == "admin" and m.security_officer
    r = run(["users", "member", "bob", "--org", "nope"], cli_env)
    assert r.returncode == 1
    assert "nope" in r.stderr


def test_serve_with_two_worker_processes(cli_env: dict[str, str]) -> None:
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**cli_env, "DATALEDGER_LOAD_DEMO": "false"}
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert r.status_code == 200
        assert r.json()["database"] == "ok"
    finally:
        server.terminate()
        server.wait(30)
