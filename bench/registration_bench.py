"""Registration benchmark: register N datasets (default 10,000) through the HTTP API.

Each registration is two requests, as an agency's system would send them: POST /api/v1/datasets
(the draft entry) and POST /api/v1/datasets/{name}/registrations (the 首次登记 application).
The app runs under uvicorn on a free loopback port over a temporary SQLite database; requests carry
an API token and are sent by a few keep-alive clients in parallel. Target: under 60 s for 10,000.

With `--mode create` each registration is only the first request (the draft entry), to show what the
application adds. `--profile FILE` records the server with py-spy (all threads; `pip install py-spy`)
into FILE (speedscope JSON, or a flame graph when FILE ends in .svg).

The server is `uvicorn portal.app:create_app --factory --workers 2` (one process per core; SQLite in WAL
mode serializes the writes of both). Run:
.venv/bin/python bench/registration_bench.py [--count 10000] [--clients 4] [--workers 2] [--mode both|create]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx

TARGET_S = 60.0

SERVER = """
import uvicorn
from portal.server import UVICORN_OPTIONS
uvicorn.run("portal.app:create_app", factory=True, host="127.0.0.1", port={port}, log_level="warning",
            access_log=False, workers={workers}, **UVICORN_OPTIONS)
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


def server_cpu(pid: int) -> float:
    """User + system CPU seconds the server's processes (workers included) have used so far."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        times = proc.cpu_times()
        total += times.user + times.system
    return total


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


def register_range(base: str, token: str, start: int, stop: int, apply: bool = True) -> int:
    """Create (and, with apply, file a first registration for) datasets start..stop-1; return failures.

    The client is the standard library's http.client on one keep-alive connection: it costs a few
    hundred microseconds of CPU less per request than httpx, CPU this two-core machine's server needs.
    """
    failures = 0
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(path: str, payload: dict[str, object]) -> int:
        conn.request("POST", path, body=json.dumps(payload).encode("utf-8"), headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status

    try:
        for n in range(start, stop):
            name = f"bench-{n:06d}"
            status = post(
                "/api/v1/datasets",
                {
                    "name": name,
                    "title": f"公交线路运营数据{n}",
                    "owner_org": "jtt",
                    "domain": "transport",
                    "update_frequency": "monthly",
                    "tags": ["公交", "交通"],
                    "notes": "全省公交线路、站点与班次",
                },
            )
            if status != 201:
                failures += 1
                continue
            if apply:
                failures += post(f"/api/v1/datasets/{name}/registrations", {"kind": "first"}) != 201
    finally:
        conn.close()
    return failures


def main() -> None:
    """Run the benchmark and print (and return) the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--mode", choices=["both", "create"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (one per core)")
    parser.add_argument("--profile", default="", help="record the server with py-spy into this file")
    args = parser.parse_args()
    apply = args.mode == "both"
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = prepare(db_url)
        port = free_port()
        env = {
            **os.environ,
            "DATALEDGER_DATABASE_URL": db_url,
            "DATALEDGER_STORAGE_URL": str(Path(tmp) / "objects"),
            "DATALEDGER_VAR_DIR": tmp,
            "DATALEDGER_LOAD_DEMO": "false",
        }
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER.format(port=port, workers=args.workers)], env=env
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc)
            # Warm up every worker (jieba's dictionary, the first connection): a few on each connection.
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(lambda i: register_range(base, token, -3 * i - 3, -3 * i), range(args.clients)))
            step = -(-args.count // args.clients)
            spy = None
            if args.profile:
                fmt = "flamegraph" if args.profile.endswith(".svg") else "speedscope"
                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(proc.pid),
                        "--threads",
                        "--idle",
                        "--rate",
                        "200",
                        "--format",
                        fmt,
                        "--output",
                        args.profile,
                    ],
                    stdout=subprocess.DEVNULL,
                )
                time.sleep(1.0)
            cpu0 = server_cpu(proc.pid)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                parts = [
                    pool.submit(register_range, base, token, i, min(i + step, args.count), apply)
                    for i in range(0, args.count, step)
                ]
                failures = sum(p.result() for p in parts)
            elapsed = time.perf_counter() - t0
            cpu = server_cpu(proc.pid) - cpu0
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
        finally:
            proc.terminate()
            proc.wait(30)
    requests = (2 if apply else 1) * args.count
    verdict = "meets" if elapsed < TARGET_S * args.count / 10_000 else "misses"
    print(
        f"[{args.mode}, {args.clients} clients, {args.workers} server process(es)] registered {args.count} datasets ({requests} requests, "
        f"{failures} failed) in {elapsed:.1f} s: {args.count / elapsed:.0f} registrations/s, "
        f"{requests / elapsed:.0f} requests/s, server CPU {1000 * cpu / requests:.2f} ms/request; "
        f"{verdict} the target of {TARGET_S:.0f} s per 10,000 (cpus: {os.cpu_count()}, "
        f"load avg {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )


if __name__ == "__main__":
    main()
