"""Reading tables: delimiters, header detection, renamed headers, ragged and blank rows, text-only values."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quality.errors import EmptyFile, UnreadableFile
from quality.tables import ReadReport, clean_header, find_header, read_table


def _read(tmp_path: Path, name: str, content: str | bytes) -> tuple[ReadReport, pa.Table]:
    src = tmp_path / name
    if isinstance(content, str):
        src.write_text(content, encoding="utf-8")
    else:
        src.write_bytes(content)
    out = tmp_path / "out.parquet"
    report = read_table(src, out)
    return report, pq.read_table(out)


def test_leading_zeros_and_long_ids_stay_text(tmp_path: Path, ids) -> None:
    rid, card = ids.resident_id(), ids.bank_card()
    text = f"编码,身份证号,卡号,金额\n000123,{rid},{card},1.50\n012,110105491231002,6222000000000000,2\n"
    report, table = _read(tmp_path, "ids.csv", text)
    assert report.rows == 2
    assert all(pa.types.is_string(f.type) for f in table.schema)
    assert table.column("编码").to_pylist() == ["000123", "012"]
    assert table.column("身份证号").to_pylist() == [rid, "110105491231002"]
    assert table.column("卡号").to_pylist()[0] == card
    assert table.column("金额").to_pylist() == ["1.50", "2"]


def test_title_rows_before_header_are_skipped(tmp_path: Path) -> None:
    text = "表1 2023年各区县财政收支情况\n单位：万元\n\n区县,收入,支出\n西湖区,100,90\n上城区,80,70\n"
    report, table = _read(tmp_path, "t.csv", text)
    assert report.header_row == 3
    assert report.columns == ["区县", "收入", "支出"]
    assert report.skipped_rows == 2
    assert table.column("区县").to_pylist() == ["西湖区", "上城区"]


def test_duplicate_and_blank_headers_renamed(tmp_path: Path) -> None:
    report, table = _read(tmp_path, "d.csv", "id,name,,name,id\n1,a,b,c,d\n")
    assert report.columns == ["id", "name", "column_3", "name_2", "id_2"]
    assert report.original_columns == ["id", "name", "", "name", "id"]
    assert table.num_columns == 5
    assert any("duplicate" in w for w in report.warnings)


def test_clean_header_is_deterministic_and_unique() -> None:
    assert clean_header(["a", "a", "a_2", " a\n b ", None]) == ["a", "a_3", "a_2", "a b", "column_5"]


def test_ragged_and_blank_rows_counted(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3\n\n4,5\n,,\n6,7,8,9\n10,11,12,,\n"
    report, table = _read(tmp_path, "r.csv", text)
    assert report.rows == 4
    assert report.blank_rows == 2
    assert report.ragged_rows == 2  # short row and row with an extra non-empty cell
    assert table.column("c").to_pylist() == ["3", None, "8", "12"]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("a;b\n1;2\n", ";"), ("a\tb\n1\t2\n", "\t"), ("a|b\n1|2\n", "|"), ("甲，乙\n1，2\n", "，")],
)
def test_delimiters(tmp_path: Path, text: str, delimiter: str) -> None:
    report, table = _read(tmp_path, "x.txt", text)
    assert report.delimiter == delimiter
    assert table.num_columns == 2
    assert table.to_pylist() == [dict(zip(report.columns, ["1", "2"], strict=True))]


def test_quoted_newlines_and_cr_only_lines(tmp_path: Path) -> None:
    report, table = _read(tmp_path, "q.csv", b'a,b\r1,"x\ny"\r2,z\r')
    assert report.rows == 2
    assert table.column("b").to_pylist() == ["x\ny", "z"]


def test_no_header_gets_generated_names(tmp_path: Path) -> None:
    report, _table = _read(tmp_path, "n.csv", "1,2,3\n4,5,6\n7,8,9\n")
    assert report.header_row is None
    assert report.columns == ["column_1", "column_2", "column_3"]
    assert report.rows == 3


def test_find_header_skips_comment_and_title() -> None:
    sample = [["# comment"], ["Report title", None, None], [None], ["a", "b", "c"], ["1", "2", "3"]]
    assert find_header(sample) == 3


def test_big_file_is_written_in_chunks(tmp_path: Path) -> None:
    rows = 120_000
    src = tmp_path / "big.csv"
    with src.open("w", encoding="utf-8") as fh:
        fh.write("id,code,name\n")
        for i in range(rows):
            fh.write(f"{i},{i % 1000:06d},名{i % 97}\n")
    report = read_table(src, tmp_path / "big.parquet")
    meta = pq.ParquetFile(tmp_path / "big.parquet").metadata
    assert report.rows == rows == meta.num_rows
    assert meta.num_row_groups >= 2
    assert pq.read_table(tmp_path / "big.parquet", columns=["code"]).column(0)[1001].as_py() == "000001"


def test_excel_merged_title_and_multirow_header(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["表2 人口统计", None, None, None])
    ws.merge_cells("A1:D1")
    ws.append(["地区", "2023年", None, "代码"])
    ws.append([None, "男", "女", None])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:C2")
    ws.merge_cells("D2:D3")
    ws.append(["西湖区", 100, 98.5, "330106"])
    ws.append(["上城区", 80, 81, 330102])
    ws["D5"].number_format = "000000"
    ws.append(["临安区", 1, 2, 1])
    ws["D6"].number_format = "000000"
    path = tmp_path / "pop.xlsx"
    wb.save(path)
    report = read_table(path, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert report.sheet == "数据"
    assert report.header_row == 1
    assert report.header_rows == 2
    assert report.columns == ["地区", "2023年 男", "2023年 女", "代码"]
    assert table.column("代码").to_pylist() == ["330106", "330102", "000001"]
    assert table.column("2023年 女").to_pylist() == ["98.5", "81", "2"]


def test_excel_text_ids_keep_leading_zeros(tmp_path: Path, ids) -> None:
    wb = openpyxl.Workbook()
    rid = ids.resident_id()
    wb.active.append(["身份证号", "邮编", "日期"])
    wb.active.append([rid, "010010", None])
    import datetime as dt

    wb.active["C2"] = dt.datetime(2024, 1, 5)
    path = tmp_path / "x.xlsx"
    wb.save(path)
    read_table(path, tmp_path / "o.parquet")
    assert pq.read_table(tmp_path / "o.parquet").to_pylist() == [
        {"身份证号": rid, "邮编": "010010", "日期": "2024-01-05"}
    ]


def test_json_records_and_lines(tmp_path: Path) -> None:
    records = [{"编号": "001", "值": 1.5, "有效": True}, {"编号": "002", "值": None, "备注": {"k": "中"}}]
    report, table = _read(tmp_path, "r.json", json.dumps(records, ensure_ascii=False))
    assert report.format == "json"
    assert report.columns == ["编号", "值", "有效", "备注"]
    assert table.to_pylist()[0] == {"编号": "001", "值": "1.5", "有效": "true", "备注": None}
    assert table.to_pylist()[1]["备注"] == '{"k": "中"}'
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    report, table = _read(tmp_path, "r.jsonl", lines)
    assert report.format == "jsonl"
    assert report.rows == 2
    assert table.column("编号").to_pylist() == ["001", "002"]


def test_parquet_input_cast_to_text(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"n": [1, 2], "s": ["01", None], "d": pa.array([0, 1], pa.date32())}), src)
    report = read_table(src, tmp_path / "out.parquet")
    assert report.format == "parquet"
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == [
        {"n": "1", "s": "01", "d": "1970-01-01"},
        {"n": "2", "s": None, "d": "1970-01-02"},
    ]


def test_blank_only_file_is_empty(tmp_path: Path) -> None:
    src = tmp_path / "blank.csv"
    src.write_text("\n\n,,,\n", encoding="utf-8")
    with pytest.raises(EmptyFile):
        read_table(src, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()
    assert list(tmp_path.iterdir()) == [src]


# ---------------------------------------------------------------- pyarrow fast path == careful path

_FAST_CASES = {
    "plain": "id,code,name\n1,007,张三\n2,008,李四\n".encode(),
    "bom_and_blank_cells": "\ufeffa,b,c\n1, ,3\n,,\n4,\u3000,6\n".encode(),
    "no_header": b"1,2,3\n4,5,6\n7,8,9\n",
    "quoted": b'a,b\n"x, y","say ""hi"""\n"multi\nline",2\r\n3,4\r5,6\n',
    "gb18030": "名称,代码\n张三,001\n李四,002\n".encode("gb18030"),
    "semicolon": b"a;b;c\n1;2;3\n4;5;6\n",
    "nul_cells": b"a,b\n1,x\x00y\n2,3\n",
    "blank_line_late": b"a,b\n" + b"1,2\n" * 60 + b"\n3,4\n,\n5,6\n",
    "ragged_late": b"a,b,c\n" + b"1,2,3\n" * 60 + b"4,5\n6,7,8,9\n",
    "comment_late": b"a,b,c\n" + b"1,2,3\n" * 60 + b"# note\n7,8,9\n",
    "bad_utf8_late": b"a,b\n" + "名,1\n".encode() * 60 + b"x,\xff\xfe\n",
    "unterminated_quote": b'a,b\n1,2\n3,"x\n4,5\n',
    "quote_inside_cell": b'a,b\n1,x"y\n3,"x"y\n',
    "space_before_quote": b'a,b\n1, "x,y"\n3,4\n',
    "trailing_delimiter": b"a,b,\n1,2,\n3,4,\n",
    "header_only": b"a,b\n",
    "tab": b"a\tb\n1\t2\n",
}


@pytest.mark.parametrize("name", sorted(_FAST_CASES))
def test_fast_csv_path_matches_careful_path(tmp_path: Path, name: str) -> None:
    src = tmp_path / f"{name}.csv"
    src.write_bytes(_FAST_CASES[name])
    fast = read_table(src, tmp_path / "fast.parquet")
    careful = read_table(src, tmp_path / "careful.parquet", fast_csv=False)
    assert careful.parser == "python"
    assert fast.model_dump(exclude={"parser"}) == careful.model_dump(exclude={"parser"})
    assert pq.read_table(tmp_path / "fast.parquet").equals(pq.read_table(tmp_path / "careful.parquet"))


def test_well_formed_csv_takes_the_fast_path_and_odd_rows_fall_back(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(_FAST_CASES["quoted"])
    assert read_table(good, tmp_path / "g.parquet").parser == "pyarrow"
    ragged = tmp_path / "ragged.csv"
    ragged.write_bytes(_FAST_CASES["ragged_late"])
    report = read_table(ragged, tmp_path / "r.parquet")
    assert report.parser == "python"
    assert report.ragged_rows == 2 and report.rows == 62


def test_fast_path_row_groups_have_chunk_rows(tmp_path: Path) -> None:
    src = tmp_path / "groups.csv"
    src.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(120_000)), encoding="utf-8")
    report = read_table(src, tmp_path / "g.parquet")
    meta = pq.ParquetFile(tmp_path / "g.parquet").metadata
    assert report.parser == "pyarrow"
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [50_000, 50_000, 20_000]


def test_fast_path_matches_careful_path_on_the_whole_corpus(testdata: Path, tmp_path: Path) -> None:
    """Every CSV/TSV of the real-world corpus reads the same either way; most take the fast path."""
    files = sorted(
        p for p in testdata.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".txt")
    )
    if not files:
        pytest.skip("no CSV files in the test data")
    fast_count = 0
    for src in files:
        outcomes = []
        for fast in (True, False):
            dest = tmp_path / f"{fast}.parquet"
            try:
                report = read_table(src, dest, fast_csv=fast)
            except UnreadableFile as exc:
                outcomes.append((type(exc).__name__, None))
                continue
            fast_count += fast and report.parser == "pyarrow"
            outcomes.append((report.model_dump(exclude={"parser"}), pq.read_table(dest)))
        (fast_report, fast_table), (careful_report, careful_table) = outcomes
        assert fast_report == careful_report, src.name
        assert fast_table is None or fast_table.equals(careful_table), src.name
    assert fast_count >= len(files) // 2
