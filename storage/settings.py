"""Settings of the storage package (prefix DATALEDGER_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class StorageSettings(BaseSettings):
    """Where and how objects (uploaded files, exports) are stored."""

    model_config = SettingsConfigDict(env_prefix="DATALEDGER_", extra="ignore")

    storage_url: str = Field(
        "var/objects",
        description="Object store: a local path, file:///abs/path, or s3://bucket[/prefix].",
    )
    s3_endpoint: str = Field(
        "",
        description="S3/MinIO endpoint URL, e.g. http://127.0.0.1:9000 (https means TLS); empty means AWS.",
    )
    s3_public_endpoint: str = Field(
        "",
        description="S3 endpoint URL that downloaders reach, for presigned URLs in redirect mode "
        "(e.g. https://objects.example.gov.cn); empty means the same as DATALEDGER_S3_ENDPOINT.",
    )
    s3_access_key: str = Field("", description="S3 access key (empty for anonymous access).")
    s3_secret_key: str = Field("", description="S3 secret key.")
    s3_region: str = Field("us-east-1", description="S3 region used for signing and bucket creation.")
    s3_part_size: int = Field(
        16 * MIB, ge=5 * MIB, description="Multipart upload part size in bytes (at least 5 MiB)."
    )
    presign_ttl_seconds: int = Field(
        300, gt=0, description="Lifetime of presigned S3 download URLs, in seconds."
    )
    staging_max_age_seconds: int = Field(
        86400, gt=0, description="Age after which the sweeper deletes abandoned staging uploads, in seconds."
    )
