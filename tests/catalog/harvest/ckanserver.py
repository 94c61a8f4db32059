"""A tiny CKAN Action API on a loopback port, answering from recorded package dicts.

It answers package_search (q=*:*, fq metadata_modified:[X TO *], sort metadata_modified asc|desc,
start, rows), package_list and package_show, by GET or by POST (JSON), in CKAN's envelope; tests
change `packages` between runs to play an upstream that edits and deletes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

_RANGE = re.compile(r"metadata_modified:\[(\S+) TO \*\]")


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


class FakeCkan:
    """The recorded packages, keyed by name, and the requests seen."""

    def __init__(self, packages: list[dict[str, Any]]) -> None:
        self.packages: dict[str, dict[str, Any]] = {p["name"]: p for p in packages}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.url = ""

    def package_search(self, data: dict[str, Any]) -> dict[str, Any]:
        rows = list(self.packages.values())
        fq = str(data.get("fq") or "")
        if found := _RANGE.search(fq):
            low = _utc(found.group(1))
            rows = [p for p in rows if _utc(p["metadata_modified"]) >= low]
        sort = str(data.get("sort") or "metadata_modified desc")
        rows.sort(key=lambda p: p["metadata_modified"], reverse=sort.endswith("desc"))
        start, count = int(data.get("start") or 0), int(data.get("rows") or 10)
        return {"count": len(rows), "results": rows[start : start + count], "sort": sort, "facets": {}}

    def package_list(self, data: dict[str, Any]) -> list[str]:
        return sorted(self.packages)

    def package_show(self, data: dict[str, Any]) -> dict[str, Any] | None:
        ref = data.get("id")
        return next((p for p in self.packages.values() if ref in (p["id"], p["name"])), None)


def _handler(ckan: FakeCkan) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self, data: dict[str, Any]) -> None:
            action = urlparse(self.path).path.rstrip("/").rsplit("/", 1)[-1]
            ckan.requests.append((action, data))
            fn = getattr(ckan, action, None)
            result = fn(data) if fn is not None else None
            if result is None:
                status = 404
                body: dict[str, Any] = {
                    "help": "",
                    "success": False,
                    "error": {"__type": "Not Found Error", "message": "Not found"},
                }
            else:
                status, body = 200, {"help": "", "success": True, "result": result}
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._answer(dict(parse_qsl(urlparse(self.path).query)))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            self._answer(json.loads(raw or b"{}"))

    return Handler


@contextmanager
def serving(ckan: FakeCkan) -> Iterator[FakeCkan]:
    """Serve the fake CKAN on a free loopback port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ckan))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ckan.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield ckan
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
