"""Every file of the messy-csv corpus ingests with a sensible report or raises UnreadableFile, never anything else."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from quality.errors import UnreadableFile
from quality.ingest import ingest_file

_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "messy-csv"
_FILES = sorted(
    p.relative_to(_ROOT).as_posix() for p in _ROOT.rglob("*") if p.is_file() and p.suffix != ".md"
)


@pytest.mark.parametrize("name", _FILES or ["(corpus missing)"])
def test_every_corpus_file(messy: Path, workdir: Path, name: str) -> None:
    src = messy / name
    if not src.is_file():
        pytest.skip(f"{name} not in the corpus")
    try:
        result = ingest_file(src, workdir)
    except UnreadableFile as exc:
        assert str(exc).strip(), "UnreadableFile needs a message"
        assert list(workdir.iterdir()) == [], "no half-written output"
        return
    report = result.read_report
    assert report.format in {"csv", "tsv", "xlsx", "xls", "json", "jsonl", "parquet"}
    assert report.columns and len(set(report.columns)) == len(report.columns)
    assert all(c.strip() for c in report.columns)
    meta = pq.ParquetFile(result.normalized_path).metadata
    assert meta.num_rows == report.rows == result.profile.row_count
    assert meta.num_columns == len(report.columns) == result.profile.column_count
    assert [p.name for p in workdir.iterdir()] == [result.normalized_path.name]


def _ingest(messy: Path, workdir: Path, name: str):
    return ingest_file(messy / name, workdir)


def test_big5_traditional_chinese(messy: Path, workdir: Path) -> None:
    result = _ingest(messy, workdir, "messytables-horror/characters.csv")
    assert result.read_report.encoding in {"big5", "cp950", "big5hkscs"}
    assert "景點中文名稱" in result.read_report.columns
    names = pq.read_table(result.normalized_path, columns=["景點中文名稱"]).column(0).to_pylist()
    assert "雲嘉南濱海國家風景區管理處" in names


@pytest.mark.parametrize("name", ["csvkit/test_utf16_little.csv", "messytables-horror/utf-16le_encoded.csv"])
def test_utf16(messy: Path, workdir: Path, name: str) -> None:
    result = _ingest(messy, workdir, name)
    assert result.read_report.encoding.startswith("utf-16")
    assert result.read_report.rows > 0


def test_leading_zero_codes_kept(messy: Path, workdir: Path) -> None:
    result = _ingest(messy, workdir, "frictionless/issue-1232.csv")
    table = pq.read_table(result.normalized_path)
    assert "030151360" in table.column("comune").to_pylist()
    assert result.profile.column("comune").inferred_type == "string"
    result = _ingest(messy, workdir, "frictionless/leading-zeros.csv")
    assert "01" in pq.read_table(result.normalized_path).column(0).to_pylist()


def test_semicolon_latin1_real_file(messy: Path, workdir: Path) -> None:
    result = _ingest(messy, workdir, "frictionless/issue-647.csv.txt")
    assert result.read_report.delimiter == ";"
    assert result.read_report.encoding in {"cp1252", "latin-1", "iso8859-15", "iso8859-1"}
    assert result.read_report.rows > 800


def test_preamble_and_blank_rows(messy: Path, workdir: Path) -> None:
    report = _ingest(messy, workdir, "messytables-horror/excel_pasting.csv").read_report
    assert report.columns[0] == "Year"
    assert report.skipped_rows == 2
    assert report.blank_rows >= 1
    report = _ingest(messy, workdir, "csvkit/test_skip_lines.csv").read_report
    assert report.columns == ["a", "b", "c"]


def test_ragged_rows_reported(messy: Path, workdir: Path) -> None:
    report = _ingest(messy, workdir, "frictionless/invalid.csv").read_report
    assert report.ragged_rows >= 2
    assert report.blank_rows >= 1
    assert len(report.columns) == len(set(report.columns))


def test_excel_skip_title_and_multiline_header(messy: Path, workdir: Path) -> None:
    report = _ingest(messy, workdir, "frictionless-excel/skip-rows.xlsx").read_report
    assert report.columns == ["A", "B"]
    report = _ingest(messy, workdir, "frictionless-excel/multiline-headers.xlsx").read_report
    assert report.header_rows == 5
    assert report.columns[1] == "Caloric contribution (%)"
    report = _ingest(messy, workdir, "frictionless-excel/table.xls").read_report
    assert report.format == "xls" and report.columns == ["id", "name"]
