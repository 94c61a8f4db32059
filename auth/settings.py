"""Settings of the auth package (prefix DATALEDGER_); portal/settings.py combines them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dataledger-dev-secret-key-change-me-in-production"


class AuthSettings(BaseSettings):
    """Accounts, tokens and abuse limits. Production MUST set DATALEDGER_SECRET_KEY (or RS256 keys)."""

    model_config = SettingsConfigDict(env_prefix="DATALEDGER_", extra="ignore")

    secret_key: str = Field(
        DEV_SECRET_KEY,
        description="HMAC secret for HS256 tokens; the default is for development only, "
        "production must set a long random value.",
    )
    jwt_algorithm: Literal["HS256", "RS256"] = Field(
        "HS256",
        description="Signing algorithm of tokens and documents: HS256 (secret_key) or RS256 (PEM keys).",
    )
    jwt_private_key_file: Path | None = Field(
        None, description="PEM file of the RSA private key used to sign when jwt_algorithm is RS256."
    )
    jwt_public_key_file: Path | None = Field(
        None, description="PEM file of the RSA public key used to verify when jwt_algorithm is RS256."
    )
    jwt_issuer: str = Field(
        "dataledger",
        description="The 'iss' claim written into and required of tokens.",
    )
    jwt_audience: str = Field(
        "dataledger", description="The 'aud' claim written into and required of tokens."
    )
    access_token_ttl_seconds: int = Field(900, gt=0, description="Lifetime of an access token in seconds.")
    download_token_ttl_seconds: int = Field(
        300, gt=0, description="Lifetime of a signed download link in seconds."
    )
    login_max_failures: int = Field(
        5, gt=0, description="Failed sign-ins in a row after which the account is locked."
    )
    login_lockout_seconds: int = Field(
        900, gt=0, description="How long an account stays locked after too many failed sign-ins."
    )
    password_min_length: int = Field(8, ge=6, description="Minimum length of a new password.")
    anonymous_rate_limit_per_minute: int = Field(
        120, gt=0, description="API requests per minute allowed to one anonymous client address."
    )
    download_rate_limit_per_minute: int = Field(
        30, gt=0, description="File downloads per minute allowed to one client (user or address)."
    )

    @property
    def uses_dev_secret(self) -> bool:
        """True when HS256 signs with the published development secret (never acceptable in production)."""
        return self.jwt_algorithm == "HS256" and self.secret_key == DEV_SECRET_KEY
