"""Read CSV/TSV, Excel, JSON, JSON Lines and Parquet into a normalized all-text Parquet copy.

A well-formed CSV (header on the first record, every record as wide as the header, strictly
decodable, a one-byte delimiter) is parsed by pyarrow's streaming CSV reader; anything else, or a
file that turns out odd half-way, is read by the careful row-by-row reader, which gives the same
output for well-formed files and also pads, trims and reports odd rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from quality.errors import (
    BinaryFile,
    CorruptParquet,
    CorruptWorkbook,
    EmptyFile,
    MalformedJson,
    NoHeader,
    UnknownFormat,
    UnreadableFile,
)
from quality.formats import Sniffed, sniff

__all__ = ["ReadReport", "clean_header", "find_header", "read_table"]

SAMPLE_ROWS = 50
CHUNK_ROWS = 50_000
FAST_BLOCK_BYTES = 4 << 20
FULL_EXCEL_MAX_BYTES = 20 * 1024 * 1024
_WS = re.compile(r"\s+")
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?$|^[+-]?\.\d+$")
_YEAR = re.compile(r"^(?:1[89]|20)\d\d(?:年)?$")
_ZERO_FORMAT = re.compile(r"^0+$")

csv.field_size_limit(64 * 1024 * 1024)


class ReadReport(BaseModel):
    """How a file was read: format, encoding, layout, and what was odd about it."""

    source_name: str
    format: str
    encoding: str | None = None
    encoding_confidence: float | None = None
    had_bom: bool = False
    delimiter: str | None = None
    parser: str | None = Field(
        None, description="CSV only: pyarrow (well-formed files) or python (careful reader)"
    )
    sheet: str | None = None
    header_row: int | None = Field(None, description="0-based record index of the (first) header row")
    header_rows: int = 1
    rows: int = 0
    columns: list[str] = Field(default_factory=list)
    original_columns: list[str] = Field(default_factory=list)
    ragged_rows: int = 0
    blank_rows: int = 0
    skipped_rows: int = 0
    warnings: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- header handling


def _nonempty(row: Sequence[Any]) -> int:
    return sum(1 for c in row if c is not None and str(c).strip())


def _is_comment(row: Sequence[Any]) -> bool:
    cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
    return len(cells) == 1 and cells[0].startswith("#")


def find_header(sample: Sequence[Sequence[Any]]) -> int | None:
    """Index of the header row among the first records: skip blank, comment and title rows."""
    counts = [_nonempty(r) for r in sample]
    usable = [i for i, r in enumerate(sample) if counts[i] and not _is_comment(r)]
    if not usable:
        return None
    target = max(counts[i] for i in usable)
    need = max(2 if target >= 2 else 1, math.ceil(0.5 * target))
    for i in usable:
        if counts[i] >= need:
            return i
    return usable[0]


def _numeric(cell: Any) -> bool:
    return cell is not None and bool(_NUMBER.match(str(cell).strip()))


def looks_like_data(header: Sequence[Any], below: Sequence[Sequence[Any]]) -> bool:
    """True when the candidate header is typed like the rows below it (numbers over numbers)."""
    votes = 0
    for j, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        values = [r[j] for r in below if j < len(r) and r[j] is not None and str(r[j]).strip()]
        if len(values) < 1:
            continue
        numeric_share = sum(1 for v in values if _numeric(v)) / len(values)
        if numeric_share >= 0.8:
            if _YEAR.match(str(cell).strip()):
                continue  # year headers over numbers are common in statistical tables
            votes += -1 if _numeric(cell) else 1
    return votes < 0


def clean_header(names: Sequence[Any]) -> list[str]:
    """Collapse whitespace, name blank headers column_N and make duplicates unique (name_2, name_3)."""
    base = [_WS.sub(" ", str(n)).strip() if n is not None else "" for n in names]
    base = [b or f"column_{i + 1}" for i, b in enumerate(base)]
    taken = {b for b in base}
    seen: dict[str, int] = {}
    out: list[str] = []
    for b in base:
        if b not in seen:
            seen[b] = 1
            out.append(b)
            continue
        k = seen[b]
        while True:
            k += 1
            candidate = f"{b}_{k}"
            if candidate not in taken:
                break
        seen[b] = k
        taken.add(candidate)
        out.append(candidate)
    return out


# ---------------------------------------------------------------- output


class _ParquetSink:
    """Buffer rows and write them as all-string Parquet row groups."""

    def __init__(self, dest: Path, names: list[str], *, chunk_rows: int = CHUNK_ROWS) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.names = names
        self.schema = pa.schema([pa.field(n, pa.string()) for n in names])
        self.writer = pq.ParquetWriter(dest, self.schema, compression="zstd")
        self.rows: list[Sequence[str | None]] = []
        self.chunk_rows = chunk_rows
        self.count = 0
        self.replaced_chars = 0
        self.nul_cells = 0

    def add(self, row: Sequence[str | None]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        pa = self.pa
        width = len(self.names)
        columns = list(zip(*self.rows, strict=True)) if width else []
        self.write_arrays([pa.array(col, type=pa.string()) for col in columns], len(self.rows))
        self.rows = []

    def normalize(self, arr: Any) -> Any:
        """Blank (whitespace-only) cells become null; NUL characters are removed and counted."""
        import pyarrow.compute as pc

        pa = self.pa
        blank = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))
        if pc.any(blank).as_py():
            arr = pc.if_else(blank, pa.scalar(None, pa.string()), arr)
        nul = pc.match_substring(arr, "\x00")
        if pc.any(nul).as_py():
            self.nul_cells += pc.sum(nul).as_py() or 0
            arr = pc.replace_substring(arr, "\x00", "")
        if pc.any(pc.match_substring(arr, "\ufffd")).as_py():
            self.replaced_chars += pc.sum(pc.count_substring(arr, "\ufffd")).as_py() or 0
        return arr

    def write_arrays(self, arrays: list[Any], rows: int) -> None:
        """Normalize and write one row group of string columns."""
        arrays = [self.normalize(arr) for arr in arrays]
        table = self.pa.Table.from_arrays(arrays, schema=self.schema)
        self.writer.write_table(table, row_group_size=self.chunk_rows)
        self.count += rows

    def abort(self) -> None:
        """Close the writer without flushing (the caller discards the file)."""
        self.rows = []
        self.writer.close()

    def close(self) -> None:
        self.flush()
        if self.count == 0:
            self.writer.write_table(self.schema.empty_table())
        self.writer.close()


def _shape_and_write(
    records: Iterator[Sequence[Any]],
    dest: Path,
    report: ReadReport,
    *,
    sample_rows: int = SAMPLE_ROWS,
    header_block: Any = None,
) -> None:
    """Find the header in a record stream, then write normalized rows; fills the report."""
    sample: list[Sequence[Any]] = []
    for rec in records:
        sample.append(rec)
        if len(sample) >= sample_rows:
            break
    start, width, names = _layout(sample, report, header_block=header_block)
    _write_rows(itertools.chain(sample[start:], records), dest, report, names, width)


def _layout(
    sample: list[Sequence[Any]], report: ReadReport, *, header_block: Any = None
) -> tuple[int, int, list[str]]:
    """Header, width and column names from the first records; fills the report; (first data record, width, names)."""
    h = find_header(sample)
    if h is None:
        raise EmptyFile("no cell has a value / 没有任何非空单元格", filename=report.source_name)
    skipped_before = sum(1 for r in sample[:h] if _nonempty(r))
    if header_block is not None:
        header, nrows = header_block(sample, h)
    else:
        header, nrows = list(sample[h]), 1
    body_sample = [r for r in sample[h + nrows :] if _nonempty(r) and not _is_comment(r)]
    generated = False
    if body_sample and looks_like_data(header, body_sample) and nrows == 1:
        generated = True
        nrows = 0
        report.warnings.append(
            "未发现表头行，已生成列名 column_1… / no header row detected; columns named column_1, column_2, ..."
        )
    # Width: the header, or the usual data width when the data is wider.
    widths: dict[int, int] = {}
    for r in body_sample:
        w = len(r)
        while w and (r[w - 1] is None or not str(r[w - 1]).strip()):
            w -= 1
        widths[w] = widths.get(w, 0) + 1
    data_width = max(widths.items(), key=lambda kv: (kv[1], kv[0]))[0] if widths else 0
    hdr = list(header)
    while len(hdr) > data_width and hdr and (hdr[-1] is None or not str(hdr[-1]).strip()):
        hdr.pop()  # trailing blank header cells over empty data
    width = max(len(hdr), data_width, 1)
    names_raw: list[Any] = [None] * width if generated else hdr + [None] * (width - len(hdr))
    names = clean_header(names_raw)
    report.original_columns = ["" if n is None else str(n) for n in names_raw]
    report.columns = names
    report.header_row = None if generated else h
    report.header_rows = nrows
    report.skipped_rows = skipped_before
    if skipped_before:
        report.warnings.append(
            f"跳过表头前的 {skipped_before} 行（标题/说明）/ skipped {skipped_before} title or note row(s) "
            "above the header"
        )
    if not generated and len(set(report.original_columns)) < len(report.original_columns):
        report.warnings.append("表头有重复列名，已重命名 / duplicate header names were renamed")
    if not generated and any(not str(n).strip() for n in report.original_columns):
        report.warnings.append("表头有空列名，已命名为 column_N / blank header names were named column_N")
    return (h if generated else h + nrows), width, names


def _write_rows(
    records: Iterator[Sequence[Any]], dest: Path, report: ReadReport, names: list[str], width: int
) -> None:
    """Write data records (padding short rows, dropping blank and comment rows); fills the report."""
    sink = _ParquetSink(dest, names)
    blank = ragged = comments = dropped = 0
    buffer = sink.rows
    limit = sink.chunk_rows
    try:
        for rec in records:
            if len(rec) == width:
                if not any(rec):
                    blank += 1
                    continue
                buffer.append(rec)
                if len(buffer) >= limit:
                    sink.flush()
                    buffer = sink.rows
                continue
            n = len(rec)
            if not _nonempty(rec):
                blank += 1
                continue
            if width > 1 and _is_comment(rec) and n <= 2:
                comments += 1
                continue
            if n < width:
                ragged += 1
                sink.add(list(rec) + [None] * (width - n))
            else:
                extra = rec[width:]
                if any(c is not None and str(c).strip() for c in extra):
                    ragged += 1
                    dropped += 1
                sink.add(rec[:width])
            buffer = sink.rows
    finally:
        sink.close()
    _finish_report(report, sink, blank=blank, ragged=ragged, dropped=dropped, comments=comments)


def _finish_report(
    report: ReadReport, sink: _ParquetSink, *, blank: int, ragged: int, dropped: int, comments: int
) -> None:
    report.rows = sink.count
    report.blank_rows = blank
    report.ragged_rows = ragged
    if blank:
        report.warnings.append(f"忽略了 {blank} 个空行 / ignored {blank} blank row(s)")
    if ragged:
        report.warnings.append(
            f"{ragged} 行的单元格数与表头不一致（短行已补空，长行多余单元格已丢弃 {dropped} 行）/ "
            f"{ragged} row(s) had a different number of cells than the header (short rows padded; "
            f"extra cells dropped in {dropped} row(s))"
        )
    if comments:
        report.skipped_rows += comments
        report.warnings.append(f"跳过了 {comments} 个注释行 / skipped {comments} comment row(s)")
    if sink.nul_cells:
        report.warnings.append(f"删除了 {sink.nul_cells} 个单元格中的 NUL 字符 / removed NUL bytes in cells")
    if sink.replaced_chars:
        report.warnings.append(
            f"{sink.replaced_chars} 个字符无法按 {report.encoding} 解码，已替换为 U+FFFD / "
            f"{sink.replaced_chars} character(s) could not be decoded as {report.encoding}"
        )


# ---------------------------------------------------------------- CSV


def _read_csv(src: Path, dest: Path, sniffed: Sniffed, report: ReadReport, *, fast: bool = True) -> None:
    assert sniffed.encoding is not None
    enc = sniffed.encoding
    report.encoding = enc.encoding
    report.encoding_confidence = round(enc.confidence, 3)
    report.had_bom = enc.had_bom
    report.delimiter = sniffed.delimiter or ","
    raw = src.open("rb")
    text = io.TextIOWrapper(raw, encoding=enc.encoding, errors="replace", newline="")
    try:
        reader = csv.reader(text, delimiter=report.delimiter, quotechar='"', doublequote=True, strict=False)
        report.parser = "python"
        if fast:
            sample = list(itertools.islice(reader, SAMPLE_ROWS))
            start, width, names = _layout(sample, report)
            if _fast_csv(src, dest, report, sample, start=start, width=width, names=names):
                report.parser = "pyarrow"
                return
            _write_rows(itertools.chain(sample[start:], reader), dest, report, names, width)
        else:
            _shape_and_write(iter(reader), dest, report)
    except csv.Error as exc:
        raise UnknownFormat(f"CSV 解析失败 / CSV parse error: {exc}", filename=report.source_name) from exc
    finally:
        text.close()


def _fast_csv(
    src: Path,
    dest: Path,
    report: ReadReport,
    sample: list[Sequence[Any]],
    *,
    start: int,
    width: int,
    names: list[str],
) -> bool:
    """Read a well-formed CSV with pyarrow's streaming parser; False (nothing written) when it is not one.

    Well-formed: the header (if any) is the first record, every record has as many cells as the
    header, the text decodes strictly and the delimiter is one ASCII character. The result is the
    same as the careful path's (same cells, blank rows and blank cells, NUL and U+FFFD handling);
    anything else falls back to the careful path, which pads, trims and reports odd rows.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    delimiter = report.delimiter or ","
    if len(delimiter) != 1 or not delimiter.isascii() or start > 1 or width < 1:
        return False
    if any(len(rec) != width for rec in sample):
        return False
    if start == 1 and any("\n" in c or "\r" in c for c in sample[0]):
        return False  # a header cell spanning lines: leave row counting to the careful path
    encoding = (report.encoding or "utf-8").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8", "utf-8-sig", "ascii"):
        encoding = "utf8"

    def on_invalid(_row: Any) -> str:
        return "error"  # a ragged row: the careful path pads it and reports it

    string = pa.string()
    try:
        stream = pacsv.open_csv(
            src,
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(width)],
                skip_rows=start,
                encoding=encoding,
                block_size=FAST_BLOCK_BYTES,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": string for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, UnicodeError, LookupError, ValueError):
        return False
    sink = _ParquetSink(dest, names)
    blank = 0
    pending: list[Any] = []
    pending_rows = 0
    try:
        with stream:
            for batch in stream:
                if batch.num_rows == 0:
                    continue
                batch, dropped = _drop_blank_rows(batch)
                blank += dropped
                if batch.num_rows:
                    pending.append(batch)
                    pending_rows += batch.num_rows
                if pending_rows >= sink.chunk_rows:
                    pending = _flush_batches(sink, pending, final=False)
                    pending_rows = sum(b.num_rows for b in pending)
            _flush_batches(sink, pending, final=True)
    except (pa.ArrowException, UnicodeError, ValueError):
        sink.abort()
        dest.unlink(missing_ok=True)
        return False
    sink.close()
    _finish_report(report, sink, blank=blank, ragged=0, dropped=0, comments=0)
    return True


def _drop_blank_rows(batch: Any) -> tuple[Any, int]:
    """Drop rows whose cells are all empty (an empty line or ,,,), as the careful path does."""
    import pyarrow.compute as pc

    empty = None
    for col in batch.columns:
        this = pc.equal(pc.binary_length(col), 0)
        empty = this if empty is None else pc.and_(empty, this)
    count = pc.sum(empty).as_py() or 0
    return (batch.filter(pc.invert(empty)), count) if count else (batch, 0)


def _flush_batches(sink: _ParquetSink, batches: list[Any], *, final: bool) -> list[Any]:
    """Write whole row groups of chunk_rows rows (all rows when final); return the rows left over."""
    if not batches:
        return []
    import pyarrow as pa

    table = pa.Table.from_batches(batches)
    take = table.num_rows if final else table.num_rows // sink.chunk_rows * sink.chunk_rows
    if take:
        head = table.slice(0, take).combine_chunks()
        sink.write_arrays(
            [
                head.column(i).chunk(0) if head.column(i).num_chunks else pa.array([], pa.string())
                for i in range(head.num_columns)
            ],
            take,
        )
    return table.slice(take).to_batches() if take < table.num_rows else []


# ---------------------------------------------------------------- Excel


def _excel_text(value: Any, number_format: str | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else format(value, ".15g")
    elif isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    elif isinstance(value, dt.date | dt.time):
        return value.isoformat()
    else:
        return str(value)
    # A number shown with a zero-padding format ("000000") is a code: keep its leading zeros.
    if number_format and _ZERO_FORMAT.match(number_format) and text.isdigit():
        text = text.zfill(len(number_format))
    return text


def _merged_header_block(merged: list[tuple[int, int, int, int]]) -> Any:
    """Build a header_block callback that fills merged cells and joins multi-row headers."""

    def block(sample: list[list[Any]], h: int) -> tuple[list[Any], int]:
        end = h
        changed = True
        while changed:
            changed = False
            for r0, _c0, r1, _c1 in merged:
                if h <= r0 <= end and r1 > end and r1 - h < 5:
                    end, changed = r1, True
        rows = [list(sample[i]) if i < len(sample) else [] for i in range(h, end + 1)]
        width = max((len(r) for r in rows), default=0)
        rows = [r + [None] * (width - len(r)) for r in rows]
        for r0, c0, r1, c1 in merged:
            top = sample[r0][c0] if r0 < len(sample) and c0 < len(sample[r0]) else None
            for r in range(max(r0, h), min(r1, end) + 1):
                for c in range(c0, min(c1 + 1, width)):
                    rows[r - h][c] = top
        header: list[Any] = []
        for c in range(width):
            parts: list[str] = []
            for r in rows:
                v = r[c]
                text = _WS.sub(" ", str(v)).strip() if v is not None else ""
                if text and (not parts or parts[-1] != text):
                    parts.append(text)
            header.append(" ".join(parts) or None)
        return header, end - h + 1

    return block


def _read_xlsx(src: Path, dest: Path, report: ReadReport) -> None:
    import warnings
    import zipfile

    import openpyxl

    read_only = src.stat().st_size > FULL_EXCEL_MAX_BYTES
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(src, read_only=read_only, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise CorruptWorkbook(f"{type(exc).__name__}: {exc}", filename=report.source_name) from exc
    try:
        sheets = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
        chosen = None
        for ws in sheets or wb.worksheets:
            if any(any(v is not None for v in row) for row in ws.iter_rows(max_row=200, values_only=True)):
                chosen = ws
                break
        if chosen is None:
            raise EmptyFile("工作簿没有数据 / the workbook has no data", filename=report.source_name)
        report.sheet = chosen.title
        if len(wb.worksheets) > 1:
            report.warnings.append(
                f"工作簿有 {len(wb.worksheets)} 个工作表，读取了「{chosen.title}」/ the workbook has "
                f"{len(wb.worksheets)} sheets; read '{chosen.title}'"
            )
        merged: list[tuple[int, int, int, int]] = []
        if not read_only:
            for rng in chosen.merged_cells.ranges:
                merged.append((rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1))

        def records() -> Iterator[list[str | None]]:
            if read_only:
                for row in chosen.iter_rows(values_only=True):
                    yield [_excel_text(v) for v in row]
            else:
                for row in chosen.iter_rows():
                    yield [
                        _excel_text(c.value, c.number_format if isinstance(c.value, int | float) else None)
                        for c in row
                    ]

        _shape_and_write(
            records(), dest, report, header_block=_merged_header_block(merged) if merged else None
        )
    finally:
        wb.close()


def _read_xls(src: Path, dest: Path, report: ReadReport) -> None:
    try:
        import xlrd
    except ImportError as exc:  # pragma: no cover - xlrd is a declared dependency
        raise UnknownFormat(
            "读取 .xls 需要 xlrd / reading .xls needs xlrd", filename=report.source_name
        ) from exc
    try:
        book = xlrd.open_workbook(str(src), formatting_info=True, on_demand=True)
    except Exception as exc:  # xlrd raises many kinds of errors on corrupt files
        try:
            book = xlrd.open_workbook(str(src), on_demand=True)
        except Exception:
            raise CorruptWorkbook(f"{type(exc).__name__}: {exc}", filename=report.source_name) from exc
    try:
        chosen = None
        for i in range(book.nsheets):
            sh = book.sheet_by_index(i)
            if sh.nrows and sh.ncols:
                chosen = sh
                break
        if chosen is None:
            raise EmptyFile("工作簿没有数据 / the workbook has no data", filename=report.source_name)
        report.sheet = chosen.name
        if book.nsheets > 1:
            report.warnings.append(
                f"工作簿有 {book.nsheets} 个工作表，读取了「{chosen.name}」/ the workbook has "
                f"{book.nsheets} sheets; read '{chosen.name}'"
            )
        merged = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in getattr(chosen, "merged_cells", [])]

        def fmt(cell: Any) -> str | None:
            try:
                xf = book.xf_list[cell.xf_index]
                return book.format_map[xf.format_key].format_str
            except (AttributeError, IndexError, KeyError, TypeError):
                return None

        def records() -> Iterator[list[str | None]]:
            for r in range(chosen.nrows):
                out: list[str | None] = []
                for cell in chosen.row(r):
                    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        out.append(None)
                    elif cell.ctype == xlrd.XL_CELL_DATE:
                        try:
                            out.append(_excel_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
                        except (ValueError, OverflowError):
                            out.append(_excel_text(cell.value))
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        out.append(_excel_text(bool(cell.value)))
                    elif cell.ctype == xlrd.XL_CELL_ERROR:
                        out.append(xlrd.error_text_from_code.get(cell.value, "#ERR"))
                    elif cell.ctype == xlrd.XL_CELL_NUMBER:
                        out.append(_excel_text(cell.value, fmt(cell)))
                    else:
                        out.append(_excel_text(cell.value))
                yield out

        _shape_and_write(
            records(), dest, report, header_block=_merged_header_block(merged) if merged else None
        )
    finally:
        book.release_resources()


# ---------------------------------------------------------------- JSON


def _json_cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def _write_records(
    records: Iterable[dict[str, Any]], keys: list[str], dest: Path, report: ReadReport
) -> None:
    names = clean_header(keys)
    report.original_columns = list(keys)
    report.columns = names
    report.header_row = None
    sink = _ParquetSink(dest, names)
    try:
        for rec in records:
            sink.add([_json_cell(rec.get(k)) for k in keys])
    finally:
        sink.close()
    report.rows = sink.count


def _ordered_keys(records: Iterable[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for rec in records:
        for k in rec:
            keys.setdefault(str(k), None)
    return list(keys)


def _text_of(src: Path, sniffed: Sniffed, report: ReadReport) -> io.TextIOWrapper:
    enc = sniffed.encoding.encoding if sniffed.encoding else "utf-8"
    report.encoding = enc
    report.had_bom = bool(sniffed.encoding and sniffed.encoding.had_bom)
    if sniffed.encoding:
        report.encoding_confidence = round(sniffed.encoding.confidence, 3)
    return io.TextIOWrapper(src.open("rb"), encoding=enc, errors="replace")


def _read_json(src: Path, dest: Path, sniffed: Sniffed, report: ReadReport) -> None:
    with _text_of(src, sniffed, report) as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise MalformedJson(str(exc), filename=report.source_name) from exc
    if isinstance(data, dict):
        inner = next(
            (v for v in data.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)),
            None,
        )
        if inner is not None:
            report.warnings.append(
                "读取了 JSON 对象中的记录列表 / read the list of records inside the JSON object"
            )
            data = inner
        else:
            data = [data]
    if not isinstance(data, list):
        raise MalformedJson(
            "顶层不是数组或对象 / top level is not an array or object", filename=report.source_name
        )
    if not data:
        raise EmptyFile("JSON 数组为空 / the JSON array is empty", filename=report.source_name)
    if not all(isinstance(x, dict) for x in data):
        if all(isinstance(x, list) for x in data):
            rows = [[_json_cell(v) for v in x] for x in data]
            _shape_and_write(iter(rows), dest, report)
            return
        raise MalformedJson("数组元素不是对象 / array items are not objects", filename=report.source_name)
    _write_records(data, _ordered_keys(data), dest, report)


def _iter_jsonl(src: Path, sniffed: Sniffed, report: ReadReport) -> Iterator[dict[str, Any]]:
    with _text_of(src, sniffed, report) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MalformedJson(f"line {lineno}: {exc}", filename=report.source_name) from exc
            if not isinstance(obj, dict):
                raise MalformedJson(f"line {lineno}: not an object / 不是对象", filename=report.source_name)
            yield obj


def _read_jsonl(src: Path, dest: Path, sniffed: Sniffed, report: ReadReport) -> None:
    keys = _ordered_keys(_iter_jsonl(src, sniffed, report))
    if not keys:
        raise EmptyFile("没有记录 / no records", filename=report.source_name)
    _write_records(_iter_jsonl(src, sniffed, report), keys, dest, report)


# ---------------------------------------------------------------- Parquet


def _read_parquet(src: Path, dest: Path, report: ReadReport) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(src)
    except (pa.ArrowException, OSError) as exc:
        raise CorruptParquet(str(exc), filename=report.source_name) from exc
    keys = [f.name for f in pf.schema_arrow]
    names = clean_header(keys)
    report.original_columns = keys
    report.columns = names
    report.encoding = "utf-8"
    schema = pa.schema([pa.field(n, pa.string()) for n in names])
    writer = pq.ParquetWriter(dest, schema, compression="zstd")
    rows = 0
    try:
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
            arrays = []
            for col in batch.columns:
                if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                    arr = col.cast(pa.string())
                elif pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
                    arr = pc.strftime(
                        col, format="%Y-%m-%d" if pa.types.is_date(col.type) else "%Y-%m-%d %H:%M:%S"
                    )
                else:
                    try:
                        arr = col.cast(pa.string())
                    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                        arr = pa.array([_json_cell(v) for v in col.to_pylist()], type=pa.string())
                arrays.append(arr)
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            rows += batch.num_rows
        if rows == 0:
            writer.write_table(schema.empty_table())
    except pa.ArrowException as exc:
        raise CorruptParquet(str(exc), filename=report.source_name) from exc
    finally:
        writer.close()
    report.rows = rows


# ---------------------------------------------------------------- entry point

_BINARY_NOTES = ("binary", "image", "archive", "database", "PDF", "Arrow")


def read_table(
    src: Path,
    dest: Path,
    *,
    sniffed: Sniffed | None = None,
    source_name: str | None = None,
    fast_csv: bool = True,
) -> ReadReport:
    """Read any supported table file into an all-text Parquet file at dest (written atomically).

    Well-formed CSV goes through pyarrow's parser; ``fast_csv=False`` forces the careful row-by-row
    reader (the fallback for ragged, oddly encoded or oddly delimited files) for every CSV.
    """
    src = Path(src)
    dest = Path(dest)
    name = source_name or src.name
    if not src.is_file():
        raise UnreadableFile("文件不存在 / file not found", filename=name)
    if src.stat().st_size == 0:
        raise EmptyFile("0 字节 / 0 bytes", filename=name)
    sniffed = sniffed or sniff(src)
    report = ReadReport(source_name=name, format=sniffed.format)
    if sniffed.format == "unknown":
        if any(word in sniffed.note for word in _BINARY_NOTES):
            raise BinaryFile(sniffed.note, filename=name)
        raise UnknownFormat(sniffed.note, filename=name)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        if sniffed.format in ("csv", "tsv"):
            _read_csv(src, tmp, sniffed, report, fast=fast_csv)
        elif sniffed.format == "xlsx":
            _read_xlsx(src, tmp, report)
        elif sniffed.format == "xls":
            _read_xls(src, tmp, report)
        elif sniffed.format == "json":
            _read_json(src, tmp, sniffed, report)
        elif sniffed.format == "jsonl":
            _read_jsonl(src, tmp, sniffed, report)
        elif sniffed.format == "parquet":
            _read_parquet(src, tmp, report)
        else:  # pragma: no cover - sniff() only returns the formats above
            raise UnknownFormat(sniffed.format, filename=name)
        if not report.columns:
            raise NoHeader("没有列 / no columns", filename=name)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return report
