"""S3Storage: objects in an S3-compatible bucket (MinIO, AWS, moto) through the minio client."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

from storage.base import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    HashingReader,
    ObjectInfo,
    StoredObject,
    resolve_range,
)
from storage.errors import ObjectMissing, StorageError, StorageUnavailable
from storage.keys import STAGING_PREFIX, content_disposition, validate_key, validate_prefix
from storage.settings import StorageSettings

if TYPE_CHECKING:
    from minio import Minio

MIN_PART_SIZE = 5 * 1024 * 1024
_MISSING_CODES = {"NoSuchKey", "NoSuchObject", "NotFound"}
_UNAVAILABLE_CODES = {
    "NoSuchBucket",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AllAccessDisabled",
    "ServiceUnavailable",
    "SlowDown",
    "InternalError",
}


def minio_client(settings: StorageSettings, *, public: bool = False) -> Minio:
    """Build a Minio client from settings, with short connect timeouts and bounded retries.

    With public=True the client is for signing URLs that downloaders open: it names
    DATALEDGER_S3_PUBLIC_ENDPOINT (the host is part of the signature) and never connects anywhere,
    since the region is given.
    """
    import urllib3
    from minio import Minio

    name = "DATALEDGER_S3_PUBLIC_ENDPOINT" if public else "DATALEDGER_S3_ENDPOINT"
    endpoint = (settings.s3_public_endpoint if public else settings.s3_endpoint).strip()
    endpoint = endpoint or "https://s3.amazonaws.com"
    if "://" not in endpoint:
        endpoint = "https://" + endpoint
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise StorageUnavailable(f"{name} must look like http(s)://host[:port], got {endpoint}")
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5.0, read=120.0),
        maxsize=16,
        retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
    return Minio(
        parts.netloc,
        access_key=settings.s3_access_key or None,
        secret_key=settings.s3_secret_key or None,
        secure=parts.scheme == "https",
        region=settings.s3_region or None,
        http_client=http,
    )


@contextlib.contextmanager
def _translated(key: str) -> Iterator[None]:
    """Turn minio and transport exceptions into storage errors."""
    from minio.error import S3Error, ServerError
    from urllib3.exceptions import HTTPError

    try:
        yield
    except S3Error as exc:
        if exc.code in _MISSING_CODES:
            raise ObjectMissing(key) from None
        if exc.code in _UNAVAILABLE_CODES:
            raise StorageUnavailable(f"{exc.code}: {exc.message}") from exc
        raise StorageError(f"S3 error {exc.code} on {key}: {exc.message}") from exc
    except ServerError as exc:
        raise StorageUnavailable(f"S3 server error {exc.status_code}") from exc
    except (HTTPError, ConnectionError, TimeoutError) as exc:
        raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class S3Storage:
    """Objects stored in one bucket, optionally below a prefix; uploads are multipart and streamed."""

    def __init__(
        self,
        client_or_settings: Minio | StorageSettings,
        bucket: str,
        prefix: str = "",
        *,
        part_size: int | None = None,
        presign_ttl_seconds: int | None = None,
        staging_max_age_seconds: int | None = None,
    ) -> None:
        settings = client_or_settings if isinstance(client_or_settings, StorageSettings) else None
        # Without settings use the declared defaults; domain code never reads the environment itself.
        defaults = settings or StorageSettings.model_construct()
        self.client: Minio = minio_client(settings) if settings else client_or_settings  # type: ignore[assignment]
        # Presigned URLs are signed for the host downloaders reach, which may not be the one we use.
        public = settings is not None and settings.s3_public_endpoint.strip()
        self.presign_client: Minio = minio_client(settings, public=True) if public else self.client  # type: ignore[arg-type]
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = validate_prefix(prefix + "/") if prefix else ""
        self.part_size = max(part_size or defaults.s3_part_size, MIN_PART_SIZE)
        self.presign_ttl_seconds = presign_ttl_seconds or defaults.presign_ttl_seconds
        self.staging_max_age_seconds = staging_max_age_seconds or defaults.staging_max_age_seconds
        self.region = defaults.s3_region

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet."""
        from minio.error import S3Error

        with _translated(self.bucket):
            if self.client.bucket_exists(self.bucket):
                return
            try:
                location = self.region if self.region and self.region != "us-east-1" else None
                self.client.make_bucket(self.bucket, location=location)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    # -- protocol ----------------------------------------------------------------------------
    def put(
        self,
        key: str,
        data: BinaryIO | Iterable[bytes],
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_size: int | None = None,
    ) -> StoredObject:
        """Stream data into key with a multipart upload; it is aborted on failure or ObjectTooLarge."""
        name = self._name(key)
        reader = HashingReader(key, data, max_size=max_size)
        try:
            with _translated(key):
                # One part in flight at a time keeps memory at about two parts whatever the object size.
                result = self.client.put_object(
                    self.bucket,
                    name,
                    reader,  # type: ignore[arg-type]
                    length=-1,
                    part_size=self.part_size,
                    content_type=content_type or DEFAULT_CONTENT_TYPE,
                    num_parallel_uploads=1,
                )
        except StorageError:
            if reader.source_error is not None:
                raise reader.source_error from None
            raise
        return StoredObject(
            key=key, size=reader.size, sha256=reader.sha256, etag=(result.etag or "").strip('"')
        )

    def read(
        self, key: str, *, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream bytes start..end (inclusive, like HTTP Range); ObjectMissing is raised on the call."""
        info = self.stat(key)
        offset, length = resolve_range(key, info.size, start, end)
        return self._stream(key, offset, length, info.etag, chunk_size)

    def _stream(self, key: str, offset: int, length: int, etag: str, chunk_size: int) -> Iterator[bytes]:
        if length == 0:
            return
        response = None
        with _translated(key):
            try:
                # If-Match: never splice bytes of a newer version into a range of the stat'ed one.
                response = self.client.get_object(
                    self.bucket,
                    self._name(key),
                    offset=offset,
                    length=length,
                    request_headers={"If-Match": f'"{etag}"'} if etag else None,
                )
                yield from response.stream(chunk_size)
            finally:
                if response is not None:
                    response.close()
                    response.release_conn()

    def stat(self, key: str) -> ObjectInfo:
        """Metadata of key, or ObjectMissing."""
        with _translated(key):
            obj = self.client.stat_object(self.bucket, self._name(key))
        return ObjectInfo(
            key=key,
            size=obj.size or 0,
            etag=(obj.etag or "").strip('"'),
            modified_at=_utc(obj.last_modified),
            content_type=obj.content_type,
        )

    def exists(self, key: str) -> bool:
        """Whether an object is stored under key."""
        try:
            self.stat(key)
        except ObjectMissing:
            return False
        return True

    def delete(self, key: str) -> None:
        """Delete key; deleting a missing key is not an error."""
        with contextlib.suppress(ObjectMissing), _translated(key):
            self.client.remove_object(self.bucket, self._name(key))

    def move(self, src: str, dst: str) -> None:
        """Server-side copy src to dst, then delete src."""
        from minio.commonconfig import ComposeSource

        src_name, dst_name = self._name(src), self._name(dst)
        if src_name == dst_name:
            self.stat(src)
            return
        with _translated(src):
            # compose_object does a plain CopyObject below 5 GiB and a multipart copy above it.
            self.client.compose_object(self.bucket, dst_name, [ComposeSource(self.bucket, src_name)])
        self.delete(src)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with prefix, in key order."""
        validate_prefix(prefix)
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        with _translated(prefix):
            for obj in self.client.list_objects(self.bucket, prefix=self.prefix + prefix, recursive=True):
                if obj.is_dir or obj.object_name is None:
                    continue
                yield ObjectInfo(
                    key=obj.object_name[len(self.prefix) :],
                    size=obj.size or 0,
                    etag=(obj.etag or "").strip('"'),
                    modified_at=_utc(obj.last_modified),
                    content_type=None,
                )

    def presigned_url(
        self,
        key: str,
        *,
        expires_seconds: int | None = None,
        download_name: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """A presigned GET URL; download_name sets an RFC 6266 Content-Disposition (UTF-8 filename*)."""
        headers: dict[str, str] = {}
        if download_name:
            headers["response-content-disposition"] = content_disposition(download_name)
        if content_type:
            headers["response-content-type"] = content_type
        expires = timedelta(seconds=expires_seconds or self.presign_ttl_seconds)
        with _translated(key):
            return self.presign_client.presigned_get_object(
                self.bucket, self._name(key), expires=expires, response_headers=headers or None
            )

    def local_path(self, key: str) -> Path | None:
        """Always None: S3 objects have no local file."""
        validate_key(key)
        return None

    def check(self) -> None:
        """Raise StorageUnavailable unless the bucket answers."""
        try:
            with _translated(self.bucket):
                found = self.client.bucket_exists(self.bucket)
        except StorageError as exc:
            if isinstance(exc, StorageUnavailable):
                raise
            raise StorageUnavailable(str(exc)) from exc
        if not found:
            raise StorageUnavailable(f"bucket {self.bucket!r} does not exist")

    def sweep_staging(
        self,
        prefix: str = STAGING_PREFIX,
        older_than_seconds: int | None = None,
        *,
        now: datetime | None = None,
    ) -> int:
        """Delete objects under prefix last modified before the cutoff; return the count."""
        from minio.deleteobjects import DeleteObject

        validate_prefix(prefix)
        age = self.staging_max_age_seconds if older_than_seconds is None else older_than_seconds
        cutoff = (now.timestamp() if now is not None else time.time()) - age
        stale = [info.key for info in self._list(prefix) if info.modified_at.timestamp() < cutoff]
        if not stale:
            return 0
        with _translated(prefix):
            errors = list(
                self.client.remove_objects(self.bucket, (DeleteObject(self.prefix + k) for k in stale))
            )
        return len(stale) - len(errors)
