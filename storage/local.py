"""LocalStorage: objects as files under one root directory."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from storage.base import DEFAULT_CHUNK_SIZE, DEFAULT_CONTENT_TYPE, HashingReader, ObjectInfo, StoredObject
from storage.base import resolve_range as _resolve_range
from storage.errors import InvalidKey, ObjectMissing, StorageError, StorageUnavailable
from storage.keys import STAGING_PREFIX, TEMP_MARKER, validate_key, validate_prefix

_XATTR = "user.dataledger.content_type"
DEFAULT_STAGING_MAX_AGE = 86400


def _etag(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


class LocalStorage:
    """Objects stored as files below root; writes go to a temp file and are renamed into place."""

    def __init__(self, root: Path | str, *, staging_max_age_seconds: int = DEFAULT_STAGING_MAX_AGE) -> None:
        self.root = Path(root).expanduser().resolve()
        self.staging_max_age_seconds = staging_max_age_seconds

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------------
    def _inside(self, path: Path, key: str) -> Path:
        resolved = path.resolve()
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise InvalidKey(key, "resolves outside the storage root")
        return resolved

    def _path(self, key: str) -> Path:
        """The file for key; refuses keys whose real path (symlinks followed) leaves the root."""
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        self._inside(path.parent, key)
        if path.is_symlink():
            self._inside(path, key)
        return path

    def _file(self, key: str) -> tuple[Path, os.stat_result]:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectMissing(key) from None
        if not path.is_file():
            raise ObjectMissing(key)
        return path, st

    def _content_type(self, path: Path, key: str) -> str:
        with contextlib.suppress(OSError, AttributeError):
            return os.getxattr(path, _XATTR).decode("utf-8")
        guessed, _ = mimetypes.guess_type(key.rsplit("/", 1)[-1])
        return guessed or DEFAULT_CONTENT_TYPE

    def _info(self, key: str, st: os.stat_result, content_type: str | None) -> ObjectInfo:
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return ObjectInfo(
            key=key, size=st.st_size, etag=_etag(st), modified_at=modified, content_type=content_type
        )

    def _make_parent(self, path: Path, key: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidKey(key, "a parent segment is already an object") from None
        except OSError as exc:
            raise StorageUnavailable(f"cannot create {path.parent}: {exc}") from exc
        self._inside(path.parent, key)

    # -- protocol ----------------------------------------------------------------------------
    def put(
        self,
        key: str,
        data: BinaryIO | Iterable[bytes],
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_size: int | None = None,
    ) -> StoredObject:
        """Stream data into key atomically; nothing is left behind on failure or ObjectTooLarge."""
        path = self._path(key)
        if path.is_dir() and not path.is_symlink():
            raise InvalidKey(key, "a prefix of other objects, cannot hold an object")
        self._make_parent(path, key)
        tmp = path.with_name(f"{TEMP_MARKER}{secrets.token_hex(8)}.part")
        reader = HashingReader(key, data, max_size=max_size)
        try:
            with open(tmp, "xb") as out:
                for chunk in reader.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(OSError):
                os.setxattr(tmp, _XATTR, content_type.encode("utf-8"))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        st = path.stat()
        return StoredObject(key=key, size=reader.size, sha256=reader.sha256, etag=_etag(st))

    def read(
        self, key: str, *, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream bytes start..end (inclusive, like HTTP Range); ObjectMissing is raised on the call."""
        path, st = self._file(key)
        offset, length = _resolve_range(key, st.st_size, start, end)
        # Opened now so that a concurrent delete cannot surface as a late error mid-stream.
        handle = open(path, "rb")  # noqa: SIM115 (closed by _stream)
        return self._stream(handle, offset, length, chunk_size)

    @staticmethod
    def _stream(handle: BinaryIO, offset: int, length: int, chunk_size: int) -> Iterator[bytes]:
        with handle:
            handle.seek(offset)
            remaining = length
            while remaining > 0:
                chunk = handle.read(min(chunk_size, remaining))
                if not chunk:
                    raise StorageError("object shrank while it was being read")
                remaining -= len(chunk)
                yield chunk

    def stat(self, key: str) -> ObjectInfo:
        """Metadata of key, or ObjectMissing."""
        path, st = self._file(key)
        return self._info(key, st, self._content_type(path, key))

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        try:
            self._file(key)
        except ObjectMissing:
            return False
        return True

    def delete(self, key: str) -> None:
        """Delete key; deleting a missing key is not an error."""
        path = self._path(key)
        if path.is_dir() and not path.is_symlink():
            return
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()

    def move(self, src: str, dst: str) -> None:
        """Move src to dst (replacing dst) with one rename."""
        src_path, _ = self._file(src)
        dst_path = self._path(dst)
        if dst_path.is_dir() and not dst_path.is_symlink():
            raise InvalidKey(dst, "a prefix of other objects, cannot hold an object")
        self._make_parent(dst_path, dst)
        try:
            os.replace(src_path, dst_path)
        except FileNotFoundError:
            raise ObjectMissing(src) from None

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with prefix, in key order."""
        validate_prefix(prefix)
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        base_dir = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        top = self.root.joinpath(*base_dir.split("/")) if base_dir else self.root
        if not top.is_dir():
            return
        self._inside(top, prefix)
        found: list[tuple[str, os.stat_result]] = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            rel = "" if rel == "." else rel + "/"
            for name in filenames:
                if name.startswith(TEMP_MARKER):
                    continue
                key = rel + name
                if not key.startswith(prefix):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    found.append((key, os.stat(os.path.join(dirpath, name), follow_symlinks=False)))
        for key, st in sorted(found):
            yield self._info(key, st, None)

    def presigned_url(
        self,
        key: str,
        *,
        expires_seconds: int | None = None,
        download_name: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Always None: local objects are served by the application (see local_path)."""
        validate_key(key)
        return None

    def local_path(self, key: str) -> Path | None:
        """The file behind key (for zero-copy serving), or ObjectMissing."""
        path, _ = self._file(key)
        return path

    def check(self) -> None:
        """Raise StorageUnavailable unless the root exists and is writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create {self.root}: {exc}") from exc
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"{self.root} is not a writable directory")

    def sweep_staging(
        self,
        prefix: str = STAGING_PREFIX,
        older_than_seconds: int | None = None,
        *,
        now: datetime | None = None,
    ) -> int:
        """Delete objects (and stray temp files) under prefix older than the cutoff; return the count."""
        validate_prefix(prefix)
        age = self.staging_max_age_seconds if older_than_seconds is None else older_than_seconds
        cutoff = (now.timestamp() if now is not None else time.time()) - age
        removed = 0
        for info in list(self.list(prefix)):
            if info.modified_at.timestamp() < cutoff:
                self.delete(info.key)
                removed += 1
        removed += self._sweep_temp_files(prefix, cutoff)
        return removed

    def _sweep_temp_files(self, prefix: str, cutoff: float) -> int:
        """Remove temp files that a crashed put() left behind."""
        base_dir = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        top = self.root.joinpath(*base_dir.split("/")) if base_dir else self.root
        removed = 0
        if not top.is_dir():
            return 0
        for dirpath, _dirs, filenames in os.walk(top):
            for name in filenames:
                if not name.startswith(TEMP_MARKER):
                    continue
                full = os.path.join(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    if os.stat(full).st_mtime < cutoff:
                        os.unlink(full)
                        removed += 1
        return removed
