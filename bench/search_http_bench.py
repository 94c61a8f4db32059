"""How much the HTTP endpoint adds over the service call: /api/v1/search vs catalog.search.search.

Run: .venv/bin/python bench/search_http_bench.py [--docs 100000] [--queries 200] [--db PATH]
Builds (or reuses, with --db) the SQLite search index of bench/search_bench.py, then runs the same
keyword + two-facet queries through the service and through `GET /api/v1/search` of the real app
served by uvicorn on a loopback port, interleaved, and prints p50/p99 of both and their ratio.
Target: the endpoint adds less than 2x over the service call.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from rich.console import Console
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).parent))
from search_bench import create_tables, load, make_docs, make_queries

from catalog.search import SearchQuery, search


def params_for(q: SearchQuery) -> list[tuple[str, str]]:
    """The query string that asks /api/v1/search for the same thing."""
    out = [("q", q.text), ("limit", str(q.limit))]
    out += [(facet, value) for facet, values in q.filters.items() for value in values]
    out += [("facet", f) for f in q.facets]
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--db", type=Path, help="keep (and reuse) the SQLite index here")
    args = parser.parse_args()
    console = Console(width=120)

    from auth.settings import AuthSettings
    from portal.app import create_app
    from portal.database import make_engine
    from portal.server import UVICORN_OPTIONS
    from portal.settings import PortalSettings, Settings
    from storage import LocalStorage, StorageSettings

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "search.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        create_tables(engine)
        with Session(engine) as s:
            filled = s.exec(search_count()).one()  # type: ignore[call-overload]
        if filled != args.docs:
            load(engine, list(make_docs(args.docs)), console, "SQLite", 2000)
        queries = make_queries(args.queries)

        settings = Settings(
            portal=PortalSettings(database_url=url, var_dir=Path(tmp), load_demo=False),
            storage=StorageSettings(storage_url=f"{tmp}/objects"),
            auth=AuthSettings(anonymous_rate_limit_per_minute=1_000_000),
        )
        app = create_app(settings, storage=LocalStorage(Path(tmp) / "objects"))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        service_ms: list[float] = []
        http_ms: list[float] = []
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
            Session(engine) as session,
        ):
            for q in queries[:10]:  # warm both paths
                search(session, q)
                client.get("/api/v1/search", params=params_for(q)).raise_for_status()
            for q in queries:
                t = time.perf_counter()
                expected = search(session, q).total
                service_ms.append((time.perf_counter() - t) * 1000)
                session.rollback()
                t = time.perf_counter()
                r = client.get("/api/v1/search", params=params_for(q))
                http_ms.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
                assert r.json()["total"] == expected, "the endpoint and the service disagree"
        server.should_exit = True
        thread.join(10)
        engine.dispose()

    s50, h50 = statistics.median(service_ms), statistics.median(http_ms)
    console.print(f"{args.docs:,} datasets, {len(queries)} keyword + two-facet queries, all facets counted")
    console.print(f"service  p50 {s50:7.1f} ms   p99 {pct(service_ms, 0.99):7.1f} ms")
    console.print(f"HTTP     p50 {h50:7.1f} ms   p99 {pct(http_ms, 0.99):7.1f} ms")
    console.print(f"HTTP / service at p50: {h50 / s50:.2f}x (target < 2x)")
    import os

    console.print("load average:", os.getloadavg())


def search_count():  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from catalog.search import SearchEntry

    return sa.select(sa.func.count()).select_from(SearchEntry.__table__)


if __name__ == "__main__":
    main()
