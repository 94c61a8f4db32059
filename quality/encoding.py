"""Character-encoding detection for uploaded text files, tuned for Chinese government data."""

from __future__ import annotations

import codecs
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "HEAD_BYTES",
    "EncodingGuess",
    "decode_head",
    "detect_encoding",
    "detect_file_encoding",
    "iter_text",
    "transcode_to_utf8",
]

HEAD_BYTES = 256 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class EncodingGuess:
    """A detected encoding: a Python codec name, how sure we are (0..1), and whether a BOM was seen."""

    encoding: str
    confidence: float
    had_bom: bool = False


def _strict_decode(head: bytes, encoding: str, *, truncated: bool) -> str | None:
    """Decode strictly; a multi-byte character cut at the end of a truncated head is tolerated."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        text = decoder.decode(head, final=not truncated)
    except (UnicodeDecodeError, LookupError):
        return None
    return text


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _gb_common_share(text: str) -> tuple[float, int]:
    """Share of CJK characters that are GB2312 level-1 (the 3755 most common simplified characters)."""
    total = common = 0
    for ch in text:
        if _is_cjk(ch):
            total += 1
            try:
                lead = ch.encode("gb2312")[0]
            except UnicodeEncodeError:
                continue
            if 0xB0 <= lead <= 0xD7:
                common += 1
    return (common / total if total else 0.0), total


def _big5_common_share(text: str) -> tuple[float, int]:
    """Share of CJK characters in Big5 level 1 (the 5401 frequent traditional characters)."""
    total = common = 0
    for ch in text:
        if _is_cjk(ch):
            total += 1
            try:
                code = ch.encode("big5")
            except UnicodeEncodeError:
                continue
            if 0xA440 <= int.from_bytes(code[:2], "big") <= 0xC67E:
                common += 1
    return (common / total if total else 0.0), total


def _non_cjk_high_share(text: str) -> float:
    """Share of non-ASCII characters that are neither CJK nor CJK punctuation/full-width forms."""
    high = odd = 0
    for ch in text:
        if ch >= "\x80":
            high += 1
            if not (_is_cjk(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"):
                odd += 1
    return odd / high if high else 0.0


def _plausible_text(text: str) -> bool:
    if not text:
        return False
    good = sum(
        1
        for ch in text
        if (" " <= ch <= "~")
        or ch in "\t\r\n"
        or _is_cjk(ch)
        or "\u3000" <= ch <= "\u303f"
        or "\uff00" <= ch <= "\uffef"
        or "\u00a0" <= ch <= "\u024f"
    )
    return good / len(text) >= 0.9


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII delimiters and newlines leave NULs in one byte parity only."""
    sample = head[:8192]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0)
    odd_nul = sample[1::2].count(0)
    if max(even_nul, odd_nul) < 2 or min(even_nul, odd_nul) > 0.1 * max(even_nul, odd_nul):
        return None
    name = "utf-16-le" if odd_nul > even_nul else "utf-16-be"
    text = _strict_decode(sample[: len(sample) // 2 * 2], name, truncated=True)
    return name if text is not None and _plausible_text(text) else None


def _single_byte_fallback(head: bytes) -> EncodingGuess:
    """cp1252 for Western text (accents among ASCII letters); otherwise ask charset-normalizer."""
    text = head.decode("latin-1")
    letters = [ch for ch in text if ch.isalpha()]
    high = sum(1 for ch in letters if ch >= "\x80")
    if letters and high / len(letters) > 0.5:
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(head[:65536]).best()
        except Exception:  # charset-normalizer is only a hint here
            best = None
        if best is not None and _strict_decode(head, best.encoding, truncated=False) is not None:
            return EncodingGuess(codecs.lookup(best.encoding).name, 0.5)
    if _strict_decode(head, "cp1252", truncated=False) is not None:
        return EncodingGuess("cp1252", 0.6)
    return EncodingGuess("latin-1", 0.4)


def detect_encoding(head: bytes, *, truncated: bool = False) -> EncodingGuess:
    """Guess the encoding of the first bytes of a text file (BOM, UTF-8, GB18030, Big5, UTF-16, 8-bit)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return EncodingGuess(name, 1.0, had_bom=True)
    if not head:
        return EncodingGuess("utf-8", 1.0)
    utf16 = _utf16_without_bom(head)
    if utf16 is not None and _strict_decode(head, utf16, truncated=truncated) is not None:
        return EncodingGuess(utf16, 0.8)
    if head.isascii():
        return EncodingGuess("utf-8", 1.0)
    if _strict_decode(head, "utf-8", truncated=truncated) is not None:
        return EncodingGuess("utf-8", 0.99)

    gb_text = _strict_decode(head, "gb18030", truncated=truncated)
    big5_name = next(
        (
            n
            for n in ("big5", "cp950", "big5hkscs")
            if _strict_decode(head, n, truncated=truncated) is not None
        ),
        None,
    )
    gb_share, gb_cjk = _gb_common_share(gb_text) if gb_text is not None else (0.0, 0)
    big5_share, big5_cjk = (0.0, 0)
    if big5_name is not None:
        big5_share, big5_cjk = _big5_common_share(_strict_decode(head, big5_name, truncated=truncated) or "")

    # Latin text can decode as GB18030 by accident: then few characters are CJK or common.
    plausible_gb = gb_text is not None and gb_cjk > 0 and _non_cjk_high_share(gb_text) < 0.2
    if plausible_gb and gb_share >= 0.6 and gb_share >= big5_share:
        return EncodingGuess("gb18030", min(0.99, 0.5 + gb_share / 2))
    if big5_name is not None and big5_cjk and big5_share >= 0.6:
        return EncodingGuess(big5_name, min(0.95, 0.4 + big5_share / 2))
    if plausible_gb and gb_share >= 0.4:
        return EncodingGuess("gb18030", 0.5)
    return _single_byte_fallback(head)


def detect_file_encoding(path: Path, *, head_bytes: int = HEAD_BYTES) -> EncodingGuess:
    """Detect the encoding of a file from its first bytes."""
    with path.open("rb") as fh:
        head = fh.read(head_bytes)
        truncated = bool(fh.read(1))
    return detect_encoding(head, truncated=truncated)


def decode_head(head: bytes, guess: EncodingGuess) -> str:
    """Decode the head of a file with a guess, ignoring a character cut at the end."""
    decoder = codecs.getincrementaldecoder(guess.encoding)("replace")
    return decoder.decode(head, final=False)


def iter_text(fh: BinaryIO, encoding: str, *, chunk_bytes: int = 1 << 20) -> Iterator[str]:
    """Decode a binary stream into text chunks (invalid bytes become U+FFFD)."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    while True:
        block = fh.read(chunk_bytes)
        if not block:
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
            return
        text = decoder.decode(block)
        if text:
            yield text


def transcode_to_utf8(src: Path, dst: Path, *, guess: EncodingGuess | None = None) -> EncodingGuess:
    """Write a UTF-8 (no BOM) copy of a text file, streaming in bounded memory."""
    guess = guess or detect_file_encoding(src)
    with src.open("rb") as fin, dst.open("wb") as fout:
        if guess.encoding == "utf-8":
            shutil.copyfileobj(fin, fout)
        else:
            for text in iter_text(fin, guess.encoding):
                fout.write(text.encode("utf-8"))
    return guess
