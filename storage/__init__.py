"""Object storage: one Storage protocol, LocalStorage and S3Storage (minio), safe keys, streaming."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from storage.base import ObjectInfo, Storage, StoredObject
from storage.errors import (
    InvalidKey,
    InvalidRange,
    ObjectMissing,
    ObjectTooLarge,
    StorageError,
    StorageUnavailable,
)
from storage.keys import STAGING_PREFIX, content_disposition, make_key, validate_key
from storage.local import LocalStorage
from storage.s3 import S3Storage
from storage.settings import StorageSettings

__all__ = [
    "STAGING_PREFIX",
    "InvalidKey",
    "InvalidRange",
    "LocalStorage",
    "ObjectInfo",
    "ObjectMissing",
    "ObjectTooLarge",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageSettings",
    "StorageUnavailable",
    "StoredObject",
    "content_disposition",
    "make_key",
    "open_storage",
    "validate_key",
]


def open_storage(settings: StorageSettings) -> Storage:
    """Open the backend that settings.storage_url names (path, file:// URL or s3://bucket/prefix)."""
    url = settings.storage_url.strip()
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise StorageUnavailable(f"DATALEDGER_STORAGE_URL needs a bucket: {url}")
        return S3Storage(settings, parts.netloc, unquote(parts.path).strip("/"))
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise StorageUnavailable(f"file URLs must be local: {url}")
        root = Path(unquote(parts.path))
    elif parts.scheme == "" or (len(parts.scheme) == 1 and url[1:3] in (":\\", ":/")):
        root = Path(url)
    else:
        raise StorageUnavailable(f"unsupported DATALEDGER_STORAGE_URL scheme {parts.scheme!r}: {url}")
    return LocalStorage(root, staging_max_age_seconds=settings.staging_max_age_seconds)
