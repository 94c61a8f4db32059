"""Errors raised by the quality package; portal/errors.py maps them to HTTP."""

from __future__ import annotations


class QualityError(Exception):
    """Base class of every error the quality package raises."""


class UnreadableFile(QualityError):
    """The file cannot be read as a table; the message says why."""

    reason: str = "unreadable"
    message_zh: str = "文件无法读取为数据表"
    message_en: str = "The file cannot be read as a table"

    def __init__(self, detail: str = "", *, filename: str | None = None) -> None:
        self.detail = detail
        self.filename = filename
        where = f" ({filename})" if filename else ""
        text = f"{self.message_zh} / {self.message_en}{where}"
        super().__init__(f"{text}: {detail}" if detail else text)


class EmptyFile(UnreadableFile):
    """The file has no bytes, or no cells with any value."""

    reason = "empty"
    message_zh = "文件为空"
    message_en = "The file is empty"


class BinaryFile(UnreadableFile):
    """The file is binary and not a spreadsheet or Parquet file."""

    reason = "binary"
    message_zh = "文件是二进制格式，不是数据表"
    message_en = "The file is binary, not a table"


class UnknownFormat(UnreadableFile):
    """The content is none of the supported formats (CSV/TSV, Excel, JSON, JSON Lines, Parquet)."""

    reason = "unknown_format"
    message_zh = "无法识别的文件格式（支持 CSV/TSV、Excel、JSON、JSON Lines、Parquet）"
    message_en = "Unknown file format (supported: CSV/TSV, Excel, JSON, JSON Lines, Parquet)"


class NoHeader(UnreadableFile):
    """No header row could be found."""

    reason = "no_header"
    message_zh = "找不到表头行"
    message_en = "No header row found"


class CorruptWorkbook(UnreadableFile):
    """An Excel workbook that cannot be opened."""

    reason = "corrupt_workbook"
    message_zh = "Excel 工作簿已损坏或无法打开"
    message_en = "The Excel workbook is corrupt or cannot be opened"


class MalformedJson(UnreadableFile):
    """A JSON or JSON Lines file that does not parse or is not a list of records."""

    reason = "malformed_json"
    message_zh = "JSON 内容无效或不是记录列表"
    message_en = "The JSON is invalid or not a list of records"


class CorruptParquet(UnreadableFile):
    """A Parquet file that cannot be read."""

    reason = "corrupt_parquet"
    message_zh = "Parquet 文件已损坏"
    message_en = "The Parquet file is corrupt"


class UndecodableText(UnreadableFile):
    """Text whose character encoding cannot be determined."""

    reason = "undecodable"
    message_zh = "无法识别文本编码"
    message_en = "The text encoding cannot be determined"
