"""The one entry point for uploaded tables: sniff, read, normalize to Parquet, profile."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from pydantic import BaseModel

from quality.errors import UnreadableFile
from quality.profile import TableProfile, profile_table
from quality.tables import ReadReport, read_table

__all__ = ["IngestResult", "ingest_file"]


class IngestResult(BaseModel):
    """What ingesting a file produced: how it was read, its profile, and the normalized Parquet copy."""

    read_report: ReadReport
    profile: TableProfile
    normalized_path: Path


def ingest_file(
    src: Path, workdir: Path, *, source_name: str | None = None, memory_limit: str = "1GB"
) -> IngestResult:
    """Read, normalize and profile an uploaded table; raise UnreadableFile (never anything else) if it can't."""
    src = Path(src)
    workdir = Path(workdir)
    name = source_name or src.name
    workdir.mkdir(parents=True, exist_ok=True)
    final = workdir / f"{Path(name).stem or 'table'}.{uuid.uuid4().hex[:8]}.parquet"
    staged = workdir / f".{final.name}.{os.getpid()}.staged"
    try:
        report = read_table(src, staged, source_name=name)
        profile = profile_table(staged, memory_limit=memory_limit)
        os.replace(staged, final)
    except UnreadableFile:
        raise
    except MemoryError as exc:
        raise UnreadableFile("内存不足 / out of memory while reading", filename=name) from exc
    except Exception as exc:  # a broken upload must never surface as a raw exception
        raise UnreadableFile(f"{type(exc).__name__}: {exc}", filename=name) from exc
    finally:
        staged.unlink(missing_ok=True)
    return IngestResult(read_report=report, profile=profile, normalized_path=final)
