"""The Storage protocol, its result types, and the streaming helpers both backends share."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from storage.errors import InvalidRange, ObjectTooLarge

MIB = 1024 * 1024
DEFAULT_CHUNK_SIZE = MIB
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What put() wrote: the key, its size in bytes, its SHA-256 (hex) and the backend's ETag."""

    key: str
    size: int
    sha256: str
    etag: str


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """Metadata of a stored object; content_type is None in list() results."""

    key: str
    size: int
    etag: str
    modified_at: datetime
    content_type: str | None


@runtime_checkable
class Storage(Protocol):
    """An object store: LocalStorage and S3Storage behave identically through this interface."""

    def put(
        self,
        key: str,
        data: BinaryIO | Iterable[bytes],
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_size: int | None = None,
    ) -> StoredObject:
        """Stream data into key atomically; nothing is left behind on failure or ObjectTooLarge."""
        ...

    def read(
        self, key: str, *, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream bytes start..end (inclusive, like HTTP Range); ObjectMissing is raised on the call."""
        ...

    def stat(self, key: str) -> ObjectInfo:
        """Metadata of key, or ObjectMissing."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        ...

    def delete(self, key: str) -> None:
        """Delete key; deleting a missing key is not an error."""
        ...

    def move(self, src: str, dst: str) -> None:
        """Move src to dst (replacing dst), e.g. from staging to its final key."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with prefix, in key order."""
        ...

    def presigned_url(
        self,
        key: str,
        *,
        expires_seconds: int | None = None,
        download_name: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """A time-limited direct download URL, or None when the backend has none (local)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file behind key for zero-copy serving, or None when the backend is remote."""
        ...

    def check(self) -> None:
        """Raise StorageUnavailable unless the backend is ready to serve."""
        ...

    def sweep_staging(
        self, prefix: str = "staging/", older_than_seconds: int | None = None, *, now: datetime | None = None
    ) -> int:
        """Delete objects under prefix last modified before now - older_than_seconds; return the count."""
        ...


class HashingReader:
    """A read()-able view of a file or an iterable of bytes that hashes, counts and enforces max_size."""

    def __init__(
        self, key: str, data: BinaryIO | Iterable[bytes], *, max_size: int | None, chunk_size: int = MIB
    ) -> None:
        self.key = key
        self.max_size = max_size
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._chunk_size = chunk_size
        self._file = data if callable(getattr(data, "read", None)) else None
        self._iter: Iterator[bytes] | None = None if self._file is not None else iter(data)  # type: ignore[arg-type]
        self._pending = b""
        self.source_error: BaseException | None = None

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of everything read so far."""
        return self._sha256.hexdigest()

    def _pull(self, size: int) -> bytes:
        if self._file is not None:
            chunk = self._file.read(size)
            if isinstance(chunk, str):
                raise TypeError("put() needs a binary stream, got text")
            return bytes(chunk) if chunk else b""
        if self._pending:
            chunk, self._pending = self._pending[:size], self._pending[size:]
            return chunk
        assert self._iter is not None
        for chunk in self._iter:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(f"put() needs an iterable of bytes, got {type(chunk).__name__}")
            if chunk:
                chunk = bytes(chunk)
                chunk, self._pending = chunk[:size], chunk[size:]
                return chunk
        return b""

    def read(self, size: int = -1) -> bytes:
        """Return up to size bytes (b"" at the end); fills the request when the source allows."""
        if size is None or size < 0:
            size = self._chunk_size
        parts: list[bytes] = []
        wanted = size
        while wanted > 0:
            try:
                chunk = self._pull(wanted)
            except BaseException as exc:
                self.source_error = exc  # the caller's failure, which backends must not re-label
                raise
            if not chunk:
                break
            self._account(chunk)
            parts.append(chunk)
            wanted -= len(chunk)
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def _account(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_size is not None and self.size > self.max_size:
            raise ObjectTooLarge(self.key, self.max_size)
        self._sha256.update(chunk)

    def chunks(self) -> Iterator[bytes]:
        """Iterate the source in chunks of about chunk_size bytes."""
        while True:
            chunk = self.read(self._chunk_size)
            if not chunk:
                return
            yield chunk


def resolve_range(key: str, size: int, start: int, end: int | None) -> tuple[int, int]:
    """Clamp an HTTP-style inclusive range to the object; return (start, length)."""
    if start < 0 or (end is not None and end < start):
        raise InvalidRange(key, start, end, size)
    if size == 0 and start == 0:
        return 0, 0
    if start >= size:
        raise InvalidRange(key, start, end, size)
    last = size - 1 if end is None else min(end, size - 1)
    return start, last - start + 1
