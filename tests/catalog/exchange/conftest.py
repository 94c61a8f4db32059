"""Fixtures of the exchange's domain tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import LocalStorage


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    """Cheap Argon2 parameters: these tests are about trading, not passwords."""
    from auth.passwords import configure_hasher, restore_hasher

    previous = configure_hasher(time_cost=1, memory_cost_kib=8, parallelism=1)
    yield
    restore_hasher(previous)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """Local object storage under tmp_path."""
    return LocalStorage(tmp_path / "objects")
