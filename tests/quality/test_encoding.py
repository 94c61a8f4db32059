"""Encoding detection on generated Chinese samples, and decoding through the table reader."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from quality.encoding import detect_encoding, detect_file_encoding, transcode_to_utf8
from quality.tables import read_table

SIMPLIFIED = (
    "姓名,单位,地址,备注\n"
    "张三,杭州市数据资源管理局,浙江省杭州市西湖区文三路100号,数据共享开放\n"
    "李四,深圳市政务服务数据管理局,广东省深圳市福田区福中三路,公共数据资源目录\n"
    "王五,成都市网络理政办公室,四川省成都市高新区天府大道,政务信息系统整合\n"
)
TRADITIONAL = (
    "名稱,地址,電話,說明\n"
    "臺北市立動物園,臺北市文山區新光路二段30號,02-29382300,開放時間為每日九點至下午五點\n"
    "國立故宮博物院,臺北市士林區至善路二段221號,02-28812021,典藏豐富的中華文物與藝術品\n"
    "國立自然科學博物館,臺中市北區館前路1號,04-23226940,臺灣第一座科學博物館\n"
)
# 𠮷 (U+20BB7) and 䶮 (U+4DAE) are outside GBK: only GB18030 can encode them.
BEYOND_GBK = SIMPLIFIED + "赵𠮷,刘䶮公司,广州市越秀区,生僻字测试\n"


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (SIMPLIFIED, "utf-8", "utf-8"),
        (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED, "gb2312", "gb18030"),
        (BEYOND_GBK, "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (SIMPLIFIED, "utf-16", "utf-16"),
        (SIMPLIFIED, "utf-16-le", "utf-16-le"),
        (SIMPLIFIED, "utf-16-be", "utf-16-be"),
        (SIMPLIFIED, "utf-32", "utf-32"),
        ("name,city\nJosé,Zürich\nRenée,Besançon\n", "latin-1", "cp1252"),
        ("a,b\n1,2\n", "ascii", "utf-8"),
    ],
)
def test_detect_encoding(text: str, codec: str, expected: str) -> None:
    data = text.encode(codec)
    guess = detect_encoding(data)
    assert guess.encoding == expected
    assert data.decode(guess.encoding) == text.removeprefix("\ufeff")
    assert guess.had_bom == (codec in {"utf-8-sig", "utf-16", "utf-32"})


def test_gbk_is_not_taken_for_big5_and_back() -> None:
    assert detect_encoding(SIMPLIFIED.encode("gbk")).encoding == "gb18030"
    assert detect_encoding(TRADITIONAL.encode("big5")).encoding.startswith(("big5", "cp950"))


def test_truncated_head_inside_a_character() -> None:
    data = SIMPLIFIED.encode("utf-8")
    cut = data[: len("姓名,单".encode()) - 1]  # ends in the middle of 单
    assert detect_encoding(cut, truncated=True).encoding == "utf-8"
    gbk = SIMPLIFIED.encode("gbk")
    assert detect_encoding(gbk[:41], truncated=True).encoding == "gb18030"


def test_empty_head_is_utf8() -> None:
    assert detect_encoding(b"").encoding == "utf-8"


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (SIMPLIFIED, "gbk"),
        (BEYOND_GBK, "gb18030"),
        (TRADITIONAL, "big5"),
        (SIMPLIFIED, "utf-16-le"),
        (SIMPLIFIED, "utf-16"),
    ],
)
def test_reader_decodes_to_utf8(tmp_path: Path, text: str, codec: str) -> None:
    src = tmp_path / "sample.csv"
    src.write_bytes(text.encode(codec))
    report = read_table(src, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    header = text.splitlines()[0].split(",")
    assert report.columns == header
    assert table.column(header[0]).to_pylist() == [line.split(",")[0] for line in text.splitlines()[1:]]
    assert not any("U+FFFD" in w for w in report.warnings)


def test_transcode_streams_to_utf8(tmp_path: Path) -> None:
    src = tmp_path / "big5.csv"
    src.write_bytes((TRADITIONAL * 2000).encode("big5"))
    guess = detect_file_encoding(src)
    out = tmp_path / "utf8.csv"
    transcode_to_utf8(src, out, guess=guess)
    assert out.read_text(encoding="utf-8") == TRADITIONAL * 2000
