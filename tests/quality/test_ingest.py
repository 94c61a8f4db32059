"""ingest_file: the one entry point; clear UnreadableFile errors and no half-written output."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from quality.errors import (
    BinaryFile,
    CorruptWorkbook,
    EmptyFile,
    MalformedJson,
    UnknownFormat,
    UnreadableFile,
)
from quality.ingest import IngestResult, ingest_file


def test_ingest_csv_end_to_end(tmp_path: Path, workdir: Path, ids) -> None:
    rows = [(ids.name(), ids.resident_id(), ids.mobile(), f"{i:05d}", str(i * 10)) for i in range(30)]
    src = tmp_path / "人员名单.csv"
    lines = ["数据来源：某区民政局", "姓名,身份证号,手机号,编号,金额", *(",".join(r) for r in rows)]
    src.write_bytes("\n".join(lines).encode("gbk"))
    result = ingest_file(src, workdir)
    assert isinstance(result, IngestResult)
    assert result.read_report.encoding == "gb18030"
    assert result.read_report.header_row == 1
    assert result.read_report.rows == 30
    assert result.normalized_path.parent == workdir and result.normalized_path.exists()
    assert [p for p in workdir.iterdir() if p.name.startswith(".")] == []
    table = pq.read_table(result.normalized_path)
    assert table.column("编号").to_pylist()[:2] == ["00000", "00001"]
    assert table.column("身份证号").to_pylist() == [r[1] for r in rows]
    profile = result.profile
    assert profile.sensitive_columns == {"姓名": "name", "身份证号": "resident_id", "手机号": "mobile"}
    assert profile.column("编号").inferred_type == "string"
    assert profile.column("金额").inferred_type == "integer"
    dumped = result.model_dump_json()
    assert not any(r[1] in dumped or r[2] in dumped for r in rows)


@pytest.mark.parametrize(
    ("content", "error", "words"),
    [
        (b"", EmptyFile, "empty"),
        (b"\n\n  \n", EmptyFile, "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), BinaryFile, "binary"),
        (bytes(range(256)) * 8, BinaryFile, "binary"),
        (b'[{"a": 1}, {"a": ', MalformedJson, "JSON"),
        (b'{"a": 1}\n{"a": oops}\n', MalformedJson, "line 2"),
        (b"[1, 2, 3]", MalformedJson, "JSON"),
        (b"[]", EmptyFile, "empty"),
        (b"<html><body><table></table></body></html>", UnknownFormat, "HTML"),
    ],
)
def test_unreadable_files_raise_clear_errors(
    tmp_path: Path, workdir: Path, content: bytes, error: type[UnreadableFile], words: str
) -> None:
    src = tmp_path / "upload.csv"
    src.write_bytes(content)
    with pytest.raises(error) as info:
        ingest_file(src, workdir)
    assert words.lower() in str(info.value).lower()
    assert "upload.csv" in str(info.value)
    assert list(workdir.iterdir()) == []


def test_corrupt_xlsx(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not really a workbook")
    with pytest.raises(CorruptWorkbook) as info:
        ingest_file(src, workdir)
    assert "Excel" in str(info.value)
    assert list(workdir.iterdir()) == []


def test_truncated_xlsx(tmp_path: Path, workdir: Path) -> None:
    import openpyxl

    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])
    wb.save(good)
    src = tmp_path / "cut.xlsx"
    src.write_bytes(good.read_bytes()[:300])
    with pytest.raises(UnreadableFile):
        ingest_file(src, workdir)
    assert list(workdir.iterdir()) == []


def test_missing_file(tmp_path: Path, workdir: Path) -> None:
    with pytest.raises(UnreadableFile):
        ingest_file(tmp_path / "nope.csv", workdir)


def test_header_only_file_ingests_with_zero_rows(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "h.csv"
    src.write_text("编号,名称\n", encoding="utf-8")
    result = ingest_file(src, workdir)
    assert result.read_report.rows == 0
    assert result.read_report.columns == ["编号", "名称"]
    assert result.profile.row_count == 0


def test_result_is_json_serializable(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text('{"x": "1"}\n{"x": "2"}\n', encoding="utf-8")
    result = ingest_file(src, workdir)
    again = IngestResult.model_validate(json.loads(result.model_dump_json()))
    assert again.read_report == result.read_report
