"""docker-compose.yml is valid and wires the app to PostgreSQL and MinIO through the settings."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import IN_CI, REPO


def test_compose_file_validates() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        if IN_CI:
            pytest.fail("docker-compose (Debian package) should have been installed by make test")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    result = subprocess.run(
        [exe, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"},
    )
    assert result.returncode == 0, result.stderr


def test_compose_wires_settings() -> None:
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    env = spec["services"]["app"]["environment"]
    assert env["DATALEDGER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["DATALEDGER_STORAGE_URL"].startswith("s3://")
    assert {"db", "minio", "createbucket", "app"} <= set(spec["services"])
