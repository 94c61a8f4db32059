"""Stream a large file up and down through the running portal; compare with reading it straight from storage.

Usage: .venv/bin/python bench/upload_download_rss.py [SIZE_MB] [--runs N] [--s3-size MB] [--backends local,s3]

For each storage backend it starts `dataledger serve` on a free loopback port (throwaway SQLite
database), uploads a SIZE_MB file of random bytes with `curl -T` to PUT /api/v1/resources/{id}/file,
then downloads it N times (default 5) with the same client on every side, alternating:

- local storage: `curl -o /dev/null` on GET /api/v1/resources/{id}/download, versus `curl -o /dev/null`
  on a `file://` URL of the stored object. Once with the file in the page cache ("warm"), and once
  with it evicted before each run (posix_fadvise DONTNEED, "cold": the disk is read, as for a file
  nobody asked for lately). A third reader, `curl` on bench/bare_sendfile_server.py (a few lines of
  asyncio that answer any GET with the file by sendfile), shows what loopback TCP itself allows.
- S3 storage (moto's server, in a process of its own): curl through the portal (stream mode) versus
  curl on a presigned URL straight from the S3 endpoint.

The server's resident memory (its whole process tree, and the server process alone) is sampled every
20 ms throughout, and its CPU
time per GiB served is printed. Ratios are medians of the N runs, measured in this one run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

MIB = 1024 * 1024
BIN = Path(sys.executable).parent
S3_KEY = "testing"


def free_port() -> int:
    """A TCP port nobody listens on, on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RssSampler:
    """Peak resident memory of a process tree, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.peak_main = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        """Current RSS of the process and its children."""
        procs = [self.proc, *self.proc.children(recursive=True)]
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def cpu(self) -> float:
        """CPU seconds (user + system) of the server process itself."""
        t = self.proc.cpu_times()
        return float(t.user + t.system)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            with contextlib.suppress(psutil.Error):
                self.peak_main = max(self.peak_main, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self.peak = self.rss()
        self.peak_main = self.proc.memory_info().rss
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def make_source(path: Path, size: int) -> str:
    """Write size random bytes to path; return their sha256."""
    digest = hashlib.sha256()
    block = os.urandom(8 * MIB)
    with path.open("wb") as f:
        left = size
        while left > 0:
            piece = block[: min(len(block), left)]
            digest.update(piece)
            f.write(piece)
            left -= len(piece)
    return digest.hexdigest()


def evict(path: Path) -> None:
    """Drop a file's pages from the page cache (no root needed), so the next read hits the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def curl(
    url: str, *, headers: dict[str, str] | None = None, upload: Path | None = None, out: str = "/dev/null"
) -> tuple[int, float]:
    """Run curl once; return (HTTP status, bytes per second); the body goes to out."""
    cmd = ["curl", "-sS", "-o", out, "-w", "%{http_code} %{speed_download} %{speed_upload}"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if upload is not None:
        cmd += ["-T", str(upload)]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout.split()
    status = int(out[0]) if out[0].isdigit() else 0
    speed = float(out[2] if upload is not None else out[1])
    return status, speed


def wait_for(url: str) -> None:
    """Wait up to 30 s for url to answer 200."""
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Figures:
    """What one backend's run measured."""

    backend: str
    size: int
    idle_rss: int = 0
    idle_main: int = 0
    upload_peak_main: int = 0
    download_peak_main: int = 0
    upload_peak: int = 0
    download_peak: int = 0
    upload_speed: float = 0.0
    rows: dict[str, list[float]] = field(default_factory=dict)
    cpu_per_gib: float = 0.0


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in a process of its own on a free loopback port; yields the endpoint URL.

    Its own process, so the memory sampler's thread in this one never holds the GIL moto needs.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{endpoint}/moto-api/")
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def run_backend(backend: str, tmp: Path, source: Path, sha: str, size: int, runs: int) -> Figures:
    """Upload source through a fresh portal on one backend and time the downloads."""
    figures = Figures(backend=backend, size=size)
    port = free_port()
    env = {
        **os.environ,
        "DATALEDGER_DATABASE_URL": f"sqlite:///{tmp}/{backend}.db",
        "DATALEDGER_STORAGE_URL": str(tmp / f"objects-{backend}"),
        "DATALEDGER_LOAD_DEMO": "false",
        "DATALEDGER_MAX_UPLOAD_BYTES": str(size * 2),
        "DATALEDGER_DOWNLOAD_RATE_LIMIT_PER_MINUTE": "100000",
        "DATALEDGER_VAR_DIR": str(tmp / f"var-{backend}"),
    }
    stack = contextlib.ExitStack()
    with stack:
        if backend == "s3":
            endpoint = stack.enter_context(moto_server())
            env.update(
                DATALEDGER_STORAGE_URL="s3://bench/objects",
                DATALEDGER_S3_ENDPOINT=endpoint,
                DATALEDGER_S3_ACCESS_KEY=S3_KEY,
                DATALEDGER_S3_SECRET_KEY=S3_KEY,
            )
            from minio import Minio

            Minio(endpoint.split("//")[1], access_key=S3_KEY, secret_key=S3_KEY, secure=False).make_bucket(
                "bench"
            )
        cli = str(BIN / "dataledger")

        def run(*args: str) -> str:
            return subprocess.run(
                [cli, *args], env=env, check=True, capture_output=True, text=True
            ).stdout.strip()

        run(
            "users",
            "create",
            "bench",
            "--email",
            "bench@example.org",
            "--password",
            "streaming-test-9",
            "--sysadmin",
        )
        root_token = run("tokens", "create", "bench")
        run("users", "create", "agency", "--email", "agency@example.org", "--password", "streaming-test-9")
        server = subprocess.Popen(
            [cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/healthz")
            httpx.post(
                f"{base}/api/v1/organizations",
                json={"name": "bench", "title": "基准测试"},
                headers={"Authorization": f"Bearer {root_token}"},
            ).raise_for_status()
            run("users", "member", "agency", "--org", "bench", "--role", "admin")
            auth = {"Authorization": f"Bearer {run('tokens', 'create', 'agency')}"}
            with httpx.Client(base_url=base, headers=auth, timeout=600) as c:
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
            time.sleep(1.0)  # the quality worker and the server settle
            figures.idle_rss = sampler.rss()
            figures.idle_main = psutil.Process(server.pid).memory_info().rss
            with sampler:
                status, figures.upload_speed = curl(
                    f"{base}/api/v1/resources/{rid}/file?filename=big.bin",
                    headers=auth,
                    upload=source,
                    out=str(tmp / "upload.json"),
                )
            assert status == 201, f"upload answered {status}"
            figures.upload_peak = sampler.peak
            figures.upload_peak_main = sampler.peak_main
            assert sha in (tmp / "upload.json").read_text(), "the stored sha256 differs from the source's"
            portal_url = f"{base}/api/v1/resources/{rid}/download"
            if backend == "local":
                obj = next(
                    p for p in (tmp / "objects-local").rglob("*") if p.is_file() and p.stat().st_size == size
                )
                direct_url = obj.resolve().as_uri()
                modes = [("warm", False), ("cold", True)]
            else:
                from storage import StorageSettings, open_storage

                store = open_storage(
                    StorageSettings(
                        storage_url=env["DATALEDGER_STORAGE_URL"],
                        s3_endpoint=env["DATALEDGER_S3_ENDPOINT"],
                        s3_access_key=S3_KEY,
                        s3_secret_key=S3_KEY,
                    )
                )
                key = next(o.key for o in store.list() if o.size == size)
                direct_url = store.presigned_url(key, expires_seconds=3600) or ""
                obj = None
                modes = [("stream", False)]
            if obj is not None:  # the same file from the barest sendfile server: loopback TCP's ceiling
                bare_port = free_port()
                bare = subprocess.Popen(
                    [
                        sys.executable,
                        str(Path(__file__).with_name("bare_sendfile_server.py")),
                        str(obj),
                        str(bare_port),
                    ]
                )
                stack.callback(bare.wait, 10)
                stack.callback(bare.terminate)
                bare_url = f"http://127.0.0.1:{bare_port}/"
                wait_for(bare_url)
            cpu_used, served = 0.0, 0
            for mode, cold in modes:
                speeds: dict[str, list[float]] = {"portal": [], "direct": []}
                if obj is not None:
                    speeds["bare http"] = []
                with sampler:
                    for _ in range(runs):
                        for reader in speeds:
                            if cold and obj is not None:
                                evict(obj)
                            if reader == "portal":
                                cpu0 = sampler.cpu()
                                status, speed = curl(portal_url, headers=auth)
                                cpu_used += sampler.cpu() - cpu0
                                served += size
                            else:
                                status, speed = curl(direct_url if reader == "direct" else bare_url)
                            assert status in (0, 200), f"{reader} answered {status}"
                            speeds[reader].append(speed)
                figures.download_peak = max(figures.download_peak, sampler.peak)
                figures.download_peak_main = max(figures.download_peak_main, sampler.peak_main)
                for reader, got in speeds.items():
                    figures.rows[f"{mode} {reader}"] = got
            figures.cpu_per_gib = cpu_used / (served / 1024**3)
        finally:
            server.terminate()
            server.wait(20)
    return figures


def report(all_figures: list[Figures]) -> None:
    """Print every figure, and the portal/direct ratios."""
    load = os.getloadavg()
    print(f"cpus {os.cpu_count()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for f in all_figures:
        mb = f.size / MIB
        print(f"\n[{f.backend}] file {mb:.0f} MiB")
        print(f"  server RSS idle             {f.idle_rss / MIB:8.1f} MiB")
        print(
            f"  server RSS peak, upload     {f.upload_peak / MIB:8.1f} MiB (+{(f.upload_peak - f.idle_rss) / MIB:.1f})"
        )
        print(
            f"  server RSS peak, downloads  {f.download_peak / MIB:8.1f} MiB (+{(f.download_peak - f.idle_rss) / MIB:.1f})"
        )
        print(
            f"  server process alone: idle {f.idle_main / MIB:.1f} MiB, upload peak "
            f"+{(f.upload_peak_main - f.idle_main) / MIB:.1f}, download peak +{(f.download_peak_main - f.idle_main) / MIB:.1f}"
        )
        print(f"  upload through portal (curl -T)  {f.upload_speed / MIB:8.1f} MiB/s")
        print(f"  server CPU per GiB downloaded    {f.cpu_per_gib:8.2f} s")
        for name, speeds in f.rows.items():
            runs = " ".join(f"{s / MIB:.0f}" for s in speeds)
            print(f"  {name:<14} median {statistics.median(speeds) / MIB:8.1f} MiB/s  (runs: {runs})")
        modes = sorted({k.split()[0] for k in f.rows})
        for mode in modes:
            portal = statistics.median(f.rows[f"{mode} portal"])
            direct = statistics.median(f.rows[f"{mode} direct"])
            print(f"  portal / direct, {mode:<6} {portal / direct:8.2f}")
            if f"{mode} bare http" in f.rows:
                bare = statistics.median(f.rows[f"{mode} bare http"])
                print(f"  portal / bare http, {mode:<6} {portal / bare:5.2f}")


def main() -> None:
    """Run the benchmark on each backend and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size_mb", nargs="?", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--s3-size", type=int, default=512, help="MiB for the S3 run (moto holds it in memory)"
    )
    parser.add_argument("--backends", default="local,s3")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", S3_KEY)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", S3_KEY)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    results = []
    with tempfile.TemporaryDirectory(prefix="dl-bench-") as name:
        tmp = Path(name)
        for backend in args.backends.split(","):
            size = (args.size_mb if backend == "local" else args.s3_size) * MIB
            source = tmp / f"source-{size}.bin"
            sha = (
                make_source(source, size)
                if not source.exists()
                else hashlib.sha256(source.read_bytes()).hexdigest()
            )
            print(f"{backend}: {size / MIB:.0f} MiB, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
            results.append(run_backend(backend, tmp, source, sha, size, args.runs))
            source.unlink()
    report(results)


if __name__ == "__main__":
    main()
