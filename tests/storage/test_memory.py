"""A ~64 MB object streams through put() and read() without being held in memory."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.storage import memprobe

SIZE = 64 * 1024 * 1024
PROBE = Path(memprobe.__file__)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "s3"])
def test_large_object_streams_in_bounded_memory(backend: str, tmp_path: Path, request: pytest.FixtureRequest):
    if backend == "local":
        args = ["local", str(tmp_path / "objects"), str(SIZE)]
        limit = 8 * 1024 * 1024
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        args = ["s3", endpoint, f"mem-{uuid.uuid4().hex[:12]}", str(SIZE)]
        limit = 20 * 1024 * 1024  # about two 5 MiB parts in flight, against a 64 MiB object
    done = subprocess.run(
        [sys.executable, str(PROBE), *args], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = memprobe.expected_sha256(SIZE)
    assert result["size"] == result["read_size"] == SIZE
    assert result["sha256"] == result["read_sha256"] == expected
    assert result["put_peak"] < limit, result
    assert result["read_peak"] < limit, result
