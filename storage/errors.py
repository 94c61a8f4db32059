"""Errors raised by the storage package; portal/errors.py maps them to HTTP."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error the storage package raises."""


class ObjectMissing(StorageError):
    """No object is stored under the key (对象不存在)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"对象不存在 / object not found: {key}")
        self.key = key


class InvalidKey(StorageError, ValueError):
    """The key is not a safe storage key (非法的存储键)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"非法的存储键 / invalid storage key {key!r}: {reason}")
        self.key = key
        self.reason = reason


class InvalidRange(StorageError, ValueError):
    """The requested byte range lies outside the object (请求的字节范围无效)."""

    def __init__(self, key: str, start: int, end: int | None, size: int) -> None:
        super().__init__(
            f"请求的字节范围无效 / range {start}-{'' if end is None else end} "
            f"not satisfiable for {key} of {size} bytes"
        )
        self.key = key
        self.start = start
        self.end = end
        self.size = size


class ObjectTooLarge(StorageError):
    """The upload exceeded its size limit and nothing was stored (文件超过大小上限)."""

    def __init__(self, key: str, max_size: int) -> None:
        super().__init__(f"文件超过大小上限 / object exceeds the limit of {max_size} bytes: {key}")
        self.key = key
        self.max_size = max_size


class StorageUnavailable(StorageError):
    """The storage backend cannot be reached or is misconfigured (存储服务不可用)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"存储服务不可用 / storage unavailable: {detail}")
        self.detail = detail
