"""File-format sniffing from content (magic bytes, zip members, JSON shape, delimiters)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from quality.encoding import HEAD_BYTES, EncodingGuess, decode_head, detect_encoding

__all__ = ["DELIMITERS", "FORMATS", "Sniffed", "detect_delimiter", "sniff", "sniff_format"]

FORMATS = ("csv", "tsv", "xlsx", "xls", "json", "jsonl", "parquet", "unknown")
DELIMITERS = (",", "\t", ";", "|", "，")

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!", "RAR archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ", "xz archive"),
    (b"SQLite format 3", "SQLite database"),
    (b"ARROW1", "Arrow IPC file"),
)
_EXTENSION_DELIMITER = {".tsv": "\t", ".tab": "\t", ".psv": "|", ".ssv": ";"}


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes of a file say: format, encoding (text formats), delimiter, and why."""

    format: str
    encoding: EncodingGuess | None = None
    delimiter: str | None = None
    note: str = ""


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for ch in text if (ch < " " and ch not in "\t\n\r\f\v") or ch == "\ufffd")
    return controls > 2 and controls / len(text) > 0.05


def detect_delimiter(lines: list[str], *, hint: str | None = None) -> str:
    """Pick the delimiter that splits the sample lines into the most consistent number of fields."""
    best: tuple[float, int, int] | None = None
    chosen = hint or ","
    for order, delim in enumerate(DELIMITERS):
        if not any(delim in line for line in lines):
            continue
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim, strict=False))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if any(c.strip() for c in r)]
        if not widths:
            continue
        counts: dict[int, int] = {}
        for w in widths:
            counts[w] = counts.get(w, 0) + 1
        mode, _freq = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if mode < 2:
            continue
        # Rows at least as wide as the modal width agree with it (title rows are narrower).
        consistency = sum(1 for w in widths if w == mode) / len(widths)
        key = (round(consistency, 1) + (0.2 if delim == hint else 0.0), min(mode, 50), -order)
        if best is None or key > best:
            best, chosen = key, delim
    return chosen


def _json_kind(text: str) -> str | None:
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "[{":
        return None
    if stripped[0] == "[":
        return "json"
    lines = [line.strip() for line in stripped.splitlines() if line.strip()]
    try:
        json.loads(lines[0])
    except (json.JSONDecodeError, IndexError):
        return "json"
    return "jsonl" if len(lines) > 1 and lines[1].startswith("{") else "json"


def sniff(path: Path) -> Sniffed:
    """Sniff a file's format from its content; the extension only breaks ties."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        truncated = bool(fh.read(1))
    if not head:
        return Sniffed("unknown", note="empty")
    if head.startswith(b"PAR1"):
        return Sniffed("parquet")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError):
            return Sniffed("unknown", note="corrupt zip archive")
        if any(n.startswith("xl/") for n in names):
            return Sniffed("xlsx")
        if "content.xml" in names:
            return Sniffed("unknown", note="OpenDocument spreadsheet (.ods) - save it as .xlsx")
        if any(n.startswith("word/") for n in names):
            return Sniffed("unknown", note="Word document")
        return Sniffed("unknown", note="zip archive")
    if head.startswith(_OLE2):
        return Sniffed("xls")
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            return Sniffed("unknown", note=what)
    guess = detect_encoding(head, truncated=truncated)
    text = decode_head(head, guess)
    if _looks_binary(text[:20000]):
        return Sniffed("unknown", encoding=guess, note="binary")
    kind = _json_kind(text)
    if kind is not None:
        return Sniffed(kind, encoding=guess)
    low = text.lstrip()[:200].lower()
    if low.startswith(("<!doctype html", "<html", "<?xml", "<table")):
        return Sniffed("unknown", encoding=guess, note="HTML/XML document")
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    if truncated and len(lines) > 1:
        lines = lines[:-1]
    delimiter = detect_delimiter(lines, hint=_EXTENSION_DELIMITER.get(path.suffix.lower()))
    return Sniffed("tsv" if delimiter == "\t" else "csv", encoding=guess, delimiter=delimiter)


def sniff_format(path: Path) -> str:
    """Return csv, tsv, xlsx, xls, json, jsonl, parquet or unknown, judged from the file's content."""
    return sniff(Path(path)).format
