"""Child process for the memory test: stream a large object through a backend under tracemalloc.

Run as `python memprobe.py local ROOT SIZE` or `python memprobe.py s3 ENDPOINT BUCKET SIZE`; prints JSON.
A separate process keeps the in-process moto server's own buffers out of the measurement.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

BLOCK = 256 * 1024


def blocks(size: int) -> Iterator[bytes]:
    """size bytes of distinct blocks, generated on the fly."""
    sent = 0
    counter = 0
    while sent < size:
        seed = hashlib.sha256(counter.to_bytes(8, "big")).digest()
        block = (seed * (BLOCK // len(seed)))[: size - sent]
        sent += len(block)
        counter += 1
        yield block


def expected_sha256(size: int) -> str:
    """SHA-256 of blocks(size)."""
    digest = hashlib.sha256()
    for block in blocks(size):
        digest.update(block)
    return digest.hexdigest()


def main(argv: list[str]) -> None:
    from storage import LocalStorage, S3Storage, StorageSettings

    kind = argv[0]
    if kind == "local":
        store = LocalStorage(Path(argv[1]))
        size = int(argv[2])
    else:
        from storage.s3 import minio_client

        settings = StorageSettings(
            s3_endpoint=argv[1], s3_access_key="testing", s3_secret_key="testing", s3_part_size=5 * 2**20
        )
        store = S3Storage(minio_client(settings), argv[2], "", part_size=settings.s3_part_size)
        store.ensure_bucket()
        size = int(argv[3])
    store.put("warmup", iter([b"x" * 1024]))  # connection pools, lazy imports
    b"".join(store.read("warmup"))

    tracemalloc.start()
    stored = store.put("big/object.bin", blocks(size))
    _, put_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    digest = hashlib.sha256()
    read_bytes = 0
    for chunk in store.read("big/object.bin"):
        digest.update(chunk)
        read_bytes += len(chunk)
    _, read_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store.delete("big/object.bin")
    store.delete("warmup")
    print(
        json.dumps(
            {
                "size": stored.size,
                "sha256": stored.sha256,
                "read_size": read_bytes,
                "read_sha256": digest.hexdigest(),
                "put_peak": put_peak,
                "read_peak": read_peak,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
