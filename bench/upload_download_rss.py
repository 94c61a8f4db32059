"""Stream a large file up and down through the running portal; report the server's memory and speed.

Usage: .venv/bin/python bench/upload_download_rss.py [SIZE_MB]   (default 1024)
Starts `dataledger serve` on a free loopback port with a throwaway SQLite database and local
storage, uploads SIZE_MB through PUT /api/v1/resources/{id}/file, downloads it through
/api/v1/resources/{id}/download, and samples the server's RSS every 20 ms throughout. It also
reads the stored object straight from disk, for the portal/direct throughput ratio.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

CHUNK = 1024 * 1024
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RssSampler:
    """Peak resident memory of a process tree, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        procs = [self.proc, *self.proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop.clear()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def body(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    block = os.urandom(CHUNK)
    sent = 0
    while sent < size:
        piece = block[: min(CHUNK, size - sent)]
        digest.update(piece)
        sent += len(piece)
        yield piece


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    size = size_mb * CHUNK
    with tempfile.TemporaryDirectory(prefix="dl-bench-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "DATALEDGER_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "DATALEDGER_STORAGE_URL": f"{tmp}/objects",
            "DATALEDGER_LOAD_DEMO": "false",
            "DATALEDGER_MAX_UPLOAD_BYTES": str(size * 2),
        }
        cli = str(BIN / "dataledger")
        subprocess.run(
            [
                cli,
                "users",
                "create",
                "bench",
                "--email",
                "bench@example.org",
                "--password",
                "streaming-test-9",
                "--sysadmin",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        root_token = subprocess.run(
            [cli, "tokens", "create", "bench"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        subprocess.run(
            [
                cli,
                "users",
                "create",
                "agency",
                "--email",
                "agency@example.org",
                "--password",
                "streaming-test-9",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            [cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            httpx.post(
                f"{base}/api/v1/organizations",
                json={"name": "bench", "title": "基准测试"},
                headers={"Authorization": f"Bearer {root_token}"},
            ).raise_for_status()
            subprocess.run(
                [cli, "users", "member", "agency", "--org", "bench", "--role", "admin"],
                env=env,
                check=True,
                capture_output=True,
            )
            token = subprocess.run(
                [cli, "tokens", "create", "agency"], env=env, check=True, capture_output=True, text=True
            ).stdout.strip()
            h = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=h, timeout=600) as c:
                c.post(
                    "/api/v1/datasets",
                    json={
                        "name": "big",
                        "title": "大文件",
                        "owner_org": "bench",
                        "grade": "general_1",
                        "open_type": "unconditional",
                    },
                ).raise_for_status()
                rid = c.post("/api/v1/datasets/big/resources", json={"name": "大文件"}).json()["id"]
                sampler = RssSampler(server.pid)
                idle = sampler.rss()
                sent = hashlib.sha256()
                with sampler:
                    t0 = time.perf_counter()
                    r = c.put(
                        f"/api/v1/resources/{rid}/file",
                        params={"filename": "big.bin"},
                        content=body(size, sent),
                    )
                    up_s = time.perf_counter() - t0
                r.raise_for_status()
                up_peak = sampler.peak
                assert r.json()["sha256"] == sent.hexdigest(), "stored sha256 differs"
                got = hashlib.sha256()
                with sampler:
                    t0 = time.perf_counter()
                    with c.stream("GET", f"/api/v1/resources/{rid}/download") as resp:
                        resp.raise_for_status()
                        for chunk in resp.iter_bytes(CHUNK):
                            got.update(chunk)
                    down_s = time.perf_counter() - t0
                down_peak = sampler.peak
                assert got.hexdigest() == sent.hexdigest(), "downloaded bytes differ"
            stored = next(Path(tmp, "objects").rglob("v1"))
            t0 = time.perf_counter()
            with stored.open("rb") as f:
                while f.read(CHUNK):
                    pass
            direct_s = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(10)
    mb = size / CHUNK
    print(f"file size                 {mb:10.0f} MiB")
    print(f"server RSS idle           {idle / CHUNK:10.1f} MiB")
    print(f"server RSS peak, upload   {up_peak / CHUNK:10.1f} MiB  (+{(up_peak - idle) / CHUNK:.1f})")
    print(f"server RSS peak, download {down_peak / CHUNK:10.1f} MiB  (+{(down_peak - idle) / CHUNK:.1f})")
    print(f"upload through portal     {mb / up_s:10.1f} MiB/s")
    print(f"download through portal   {mb / down_s:10.1f} MiB/s")
    print(f"direct read from storage  {mb / direct_s:10.1f} MiB/s")
    print(f"portal / direct           {direct_s / down_s:10.2f}")


if __name__ == "__main__":
    main()
