"""Storage keys: build them from untrusted parts, validate them before any backend call."""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import quote

from storage.errors import InvalidKey

MAX_KEY_BYTES = 1024  # S3's limit
MAX_SEGMENT_BYTES = 255  # common file-system limit for one path component
_SHORTEN_TO = 200
TEMP_MARKER = ".~dl-"  # LocalStorage's in-flight files; never a valid key segment
STAGING_PREFIX = "staging/"
_RFC5987_SAFE = "!#$&+-.^_`|~"


def _escape_char(char: str) -> str:
    if char.isalnum() or char in "-_.~()+,=@":
        return char
    return quote(char, safe="")


def _shorten(segment: str, original: str) -> str:
    """Cut an over-long escaped segment, keeping its extension and a hash of the original."""
    digest = hashlib.sha256(original.encode("utf-8")).hexdigest()[:12]
    stem, dot, ext = segment.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = segment, ""
    suffix = f"-{digest}" + (f".{ext}" if ext else "")
    budget = _SHORTEN_TO - len(suffix.encode())
    out = ""
    for char in stem:
        if len((out + char).encode()) > budget:
            break
        out += char
    while out.endswith("%") or out[-2:-1] == "%":  # never split a %XX escape
        out = out[:-1]
    return out + suffix


def escape_part(part: str) -> str:
    """Turn one untrusted string into one safe key segment (percent-escapes all but letters/digits)."""
    if not isinstance(part, str) or part == "":
        raise InvalidKey(repr(part), "a key part must be a non-empty string")
    original = part
    part = unicodedata.normalize("NFC", part)
    escaped = "".join(_escape_char(c) for c in part)
    if escaped.startswith("."):  # no hidden files, no "." / ".." segments, no temp-marker clash
        escaped = "%2E" + escaped[1:]
    if len(escaped.encode("utf-8")) > MAX_SEGMENT_BYTES:
        escaped = _shorten(escaped, original)
    return escaped


def make_key(*parts: str) -> str:
    """Join untrusted parts into a validated key, escaping each part into exactly one segment."""
    if not parts:
        raise InvalidKey("", "at least one key part is required")
    key = "/".join(escape_part(p) for p in parts)
    validate_key(key)
    return key


def validate_key(key: str) -> str:
    """Return the key unchanged if it is safe, else raise InvalidKey."""
    if not isinstance(key, str) or key == "":
        raise InvalidKey(repr(key), "empty key")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(key[:64] + "…", f"longer than {MAX_KEY_BYTES} bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise InvalidKey(key, "control characters (including NUL) are not allowed")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in key):
        raise InvalidKey(key, "lone surrogates are not allowed")
    if "\\" in key:
        raise InvalidKey(key, "backslashes are not allowed")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute keys are not allowed")
    for segment in key.split("/"):
        if segment == "":
            raise InvalidKey(key, "empty path segments are not allowed")
        if segment in (".", ".."):
            raise InvalidKey(key, "'.' and '..' segments are not allowed")
        if segment.startswith(TEMP_MARKER):
            raise InvalidKey(key, "segment uses a reserved name")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(key, f"a segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return key


def validate_prefix(prefix: str) -> str:
    """Return a listing prefix unchanged if safe ('' and a trailing '/' are allowed)."""
    if prefix == "":
        return prefix
    body = prefix[:-1] if prefix.endswith("/") else prefix
    validate_key(body)
    return prefix


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """Build an RFC 6266 Content-Disposition value with an ASCII fallback and a UTF-8 filename*."""
    filename = unicodedata.normalize("NFC", filename.replace("/", "_").replace("\\", "_"))
    filename = "".join(c for c in filename if ord(c) >= 32 and ord(c) != 127) or "download"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in filename)
    stem, dot, ext = fallback.rpartition(".")
    if dot and not stem.strip("_ "):
        fallback = f"download.{ext}"
    elif not fallback.strip("_ ."):
        fallback = "download"
    kind = "inline" if inline else "attachment"
    value = f'{kind}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe=_RFC5987_SAFE)}"
    return value
