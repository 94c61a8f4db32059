"""Format sniffing looks at content, not at the file name."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quality.formats import detect_delimiter, sniff, sniff_format


def _xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["统一社会信用代码", "名称"])
    wb.active.append(["91350100M000100Y43", "某某公司"])
    wb.save(path)
    return path


def test_xlsx_by_content_even_with_wrong_extension(tmp_path: Path) -> None:
    assert sniff_format(_xlsx(tmp_path / "upload.csv")) == "xlsx"


def test_zip_without_workbook_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert sniff_format(path) == "unknown"


def test_xls_is_ole2(tmp_path: Path) -> None:
    path = tmp_path / "legacy.bin"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    assert sniff_format(path) == "xls"


def test_parquet_magic(tmp_path: Path) -> None:
    path = tmp_path / "data.dat"
    pq.write_table(pa.table({"a": ["1"]}), path)
    assert sniff_format(path) == "parquet"


def test_json_array_object_and_lines(tmp_path: Path) -> None:
    arr = tmp_path / "a.txt"
    arr.write_text(json.dumps([{"a": 1}, {"a": 2}], ensure_ascii=False), encoding="utf-8")
    obj = tmp_path / "b.txt"
    obj.write_text(json.dumps({"data": [{"a": 1}]}, indent=2), encoding="utf-8")
    lines = tmp_path / "c.json"
    lines.write_text('{"a": 1}\n{"a": 2}\n', encoding="utf-8")
    assert [sniff_format(p) for p in (arr, obj, lines)] == ["json", "json", "jsonl"]


@pytest.mark.parametrize(
    ("text", "delimiter", "fmt"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ",", "csv"),
        ("a\tb\tc\n1\t2\t3\n", "\t", "tsv"),
        ("a;b;c\n1,5;2,5;3\n4,1;5,2;6\n", ";", "csv"),  # decimal commas do not fool it
        ("a|b|c\n1|2|3\n", "|", "csv"),
        ("编号，名称，金额\n1，甲，2\n2，乙，3\n", "，", "csv"),
        ("title only\n", ",", "csv"),
    ],
)
def test_delimited_text(tmp_path: Path, text: str, delimiter: str, fmt: str) -> None:
    path = tmp_path / "data.txt"
    path.write_text(text, encoding="utf-8")
    sniffed = sniff(path)
    assert sniffed.format == fmt
    assert sniffed.delimiter == delimiter


def test_delimiter_ignores_title_rows() -> None:
    lines = ["表1 2023年各区财政收入（单位：万元）", "区县,收入,支出", "西湖区,100,90", "上城区,80,70"]
    assert detect_delimiter(lines) == ","


@pytest.mark.parametrize(
    "head",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"%PDF-1.7\n",
        b"\x1f\x8b\x08\x00" + b"\x00" * 30,
        bytes(range(256)) * 4,
    ],
)
def test_binary_is_unknown(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(head)
    assert sniff_format(path) == "unknown"


def test_empty_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert sniff_format(path) == "unknown"
