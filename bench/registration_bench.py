"""Registration benchmark: register N datasets (default 10,000) through the HTTP API.

Each registration is two requests, as an agency's system would send them: POST /api/v1/datasets
(the draft entry) and POST /api/v1/datasets/{name}/registrations (the 首次登记 application).
The app runs under uvicorn on a free loopback port over a temporary SQLite database; requests carry
an API token and are sent by a few keep-alive clients in parallel. Target: under 60 s for 10,000.

Run: .venv/bin/python bench/registration_bench.py [--count 10000] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

TARGET_S = 60.0

SERVER = """
import uvicorn
from portal.app import create_app
from portal.settings import Settings
uvicorn.run(create_app(Settings.from_env(load_demo=False)), host="127.0.0.1", port={port}, log_level="warning",
            access_log=False)
"""


def free_port() -> int:
    """A TCP port nobody listens on, on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(db_url: str) -> str:
    """Create the schema, an agency and an editor; return the editor's API token."""
    from sqlmodel import Session, SQLModel

    from auth.api_tokens import issue_api_token
    from auth.users import add_membership, create_user
    from catalog import service
    from catalog.schemas import OrganizationCreate
    from catalog.search import index
    from portal.database import make_engine
    from portal.models import import_all_models

    import_all_models()
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with engine.begin() as conn:
        for statement in index.fts_ddl(engine.dialect.name):
            conn.exec_driver_sql(statement)
    with Session(engine) as s:
        org = service.create_organization(
            s,
            actor_id=None,
            data=OrganizationCreate(name="jtt", title="浙江省交通运输厅", region_code="330000"),
        )
        user = create_user(s, name="bench", email="bench@example.org", password="correct-horse-battery-9")
        add_membership(s, user_id=user.id, organization_id=org.id, role="editor")
        _token, raw = issue_api_token(s, user_id=user.id, name="bench")
        s.commit()
    engine.dispose()
    return raw


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until the server answers its health probe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def register_range(base: str, token: str, start: int, stop: int) -> int:
    """Create and file a first registration for datasets start..stop-1; return failures."""
    failures = 0
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for n in range(start, stop):
            name = f"bench-{n:06d}"
            r = client.post(
                "/api/v1/datasets",
                json={
                    "name": name,
                    "title": f"公交线路运营数据{n}",
                    "owner_org": "jtt",
                    "domain": "transport",
                    "update_frequency": "monthly",
                    "tags": ["公交", "交通"],
                    "notes": "全省公交线路、站点与班次",
                },
            )
            if r.status_code != 201:
                failures += 1
                continue
            r = client.post(f"/api/v1/datasets/{name}/registrations", json={"kind": "first"})
            failures += r.status_code != 201
    return failures


def main() -> None:
    """Run the benchmark and print (and return) the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = prepare(db_url)
        port = free_port()
        env = {
            **os.environ,
            "DATALEDGER_DATABASE_URL": db_url,
            "DATALEDGER_STORAGE_URL": str(Path(tmp) / "objects"),
            "DATALEDGER_VAR_DIR": tmp,
        }
        proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port)], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc)
            register_range(base, token, -1, 0)  # warm up (jieba's dictionary, the first connection)
            step = -(-args.count // args.clients)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                parts = [
                    pool.submit(register_range, base, token, i, min(i + step, args.count))
                    for i in range(0, args.count, step)
                ]
                failures = sum(p.result() for p in parts)
            elapsed = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(30)
    requests = 2 * args.count
    verdict = "meets" if elapsed < TARGET_S * args.count / 10_000 else "misses"
    print(
        f"registered {args.count} datasets ({requests} requests, {failures} failed) in {elapsed:.1f} s: "
        f"{args.count / elapsed:.0f} registrations/s, {requests / elapsed:.0f} requests/s; "
        f"{verdict} the target of {TARGET_S:.0f} s per 10,000 (cpus: {os.cpu_count()}, "
        f"load avg {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
