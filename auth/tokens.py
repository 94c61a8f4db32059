"""Signed tokens: access tokens, download links and signed documents (the only python-jose import).

Every decode accepts exactly one algorithm, the configured ``settings.jwt_algorithm``; the header's
``alg`` is checked before the signature, so "none", algorithm swaps (HS256 <-> RS256) and the
RS256 public key used as an HMAC secret are all refused. Each token carries a ``typ`` claim
("access" or "download") and a token of one kind is never accepted as the other.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from jose import ExpiredSignatureError, JWTError, jws, jwt
from jose.exceptions import JWSError

from auth.errors import KeyConfigurationError, TokenExpired, TokenInvalid
from auth.settings import AuthSettings

ACCESS = "access"
DOWNLOAD = "download"
DEFAULT_SCOPES: tuple[str, ...] = ("read", "write")
_PEM_PREFIX = "-----BEGIN"
_REQUIRED = ("iss", "aud", "sub", "exp", "iat", "nbf", "jti")
_DECODE_OPTIONS: dict[str, Any] = {
    "verify_signature": True,
    "verify_aud": True,
    "verify_iat": True,
    "verify_exp": True,
    "verify_nbf": True,
    "verify_iss": True,
    "verify_sub": True,
    "verify_jti": True,
    "leeway": 5,
    **{f"require_{claim}": True for claim in _REQUIRED},
}


@dataclass(frozen=True)
class AccessClaims:
    """The verified content of an access token."""

    user_id: uuid.UUID
    scopes: tuple[str, ...]
    jti: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class DownloadClaims:
    """The verified content of a download token, bound to one resource and (optionally) one grant."""

    user_id: uuid.UUID
    resource_id: uuid.UUID
    grant_id: uuid.UUID | None
    jti: str
    issued_at: datetime
    expires_at: datetime


# --- keys -----------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _read_pem(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise KeyConfigurationError(f"cannot read key file {path}: {exc.strerror}") from exc
    if not text.lstrip().startswith(_PEM_PREFIX):
        raise KeyConfigurationError(f"{path} is not a PEM file")
    return text


def _public_from_private(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _signing_key(settings: AuthSettings) -> str:
    if settings.jwt_algorithm == "HS256":
        if not settings.secret_key:
            raise KeyConfigurationError("DATALEDGER_SECRET_KEY is empty")
        return settings.secret_key
    if settings.jwt_private_key_file is None:
        raise KeyConfigurationError("RS256 needs DATALEDGER_JWT_PRIVATE_KEY_FILE to sign")
    return _read_pem(settings.jwt_private_key_file)


def _verification_key(settings: AuthSettings) -> str:
    if settings.jwt_algorithm == "HS256":
        if not settings.secret_key:
            raise KeyConfigurationError("DATALEDGER_SECRET_KEY is empty")
        return settings.secret_key
    if settings.jwt_public_key_file is not None:
        return _read_pem(settings.jwt_public_key_file)
    if settings.jwt_private_key_file is not None:
        return _public_from_private(_read_pem(settings.jwt_private_key_file))
    raise KeyConfigurationError("RS256 needs DATALEDGER_JWT_PUBLIC_KEY_FILE (or the private key) to verify")


def public_key_pem(settings: AuthSettings) -> str | None:
    """The PEM public key that verifies this deployment's signatures (None with HS256)."""
    if settings.jwt_algorithm != "RS256":
        return None
    return _verification_key(settings)


# --- helpers --------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _check_header(token: str, algorithm: str) -> None:
    """Refuse a token whose header names any algorithm other than the configured one."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenInvalid("not a compact JWS (header.payload.signature)")
    try:
        header = jwt.get_unverified_header(token)
    except JWTError as exc:
        raise TokenInvalid("malformed header") from exc
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise TokenInvalid("unsigned tokens (alg 'none') are not accepted")
    if alg != algorithm:
        raise TokenInvalid(f"algorithm {alg!r} is not accepted (expected {algorithm})")


def _decode(settings: AuthSettings, token: str, typ: str) -> dict[str, Any]:
    _check_header(token, settings.jwt_algorithm)
    try:
        claims = jwt.decode(
            token,
            _verification_key(settings),
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=_DECODE_OPTIONS,
        )
    except ExpiredSignatureError as exc:
        raise TokenExpired(f"{typ} token has expired") from exc
    except JWTError as exc:
        raise TokenInvalid(str(exc) or "signature verification failed") from exc
    found = claims.get("typ")
    if found != typ:
        raise TokenInvalid(f"expected token type {typ!r}, got {found!r}")
    return claims


def _uuid_claim(claims: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims[name]))
    except (KeyError, ValueError) as exc:
        raise TokenInvalid(f"claim {name!r} is missing or not a UUID") from exc


def _times(claims: dict[str, Any]) -> tuple[datetime, datetime]:
    return (
        datetime.fromtimestamp(int(claims["iat"]), UTC),
        datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


def _encode(settings: AuthSettings, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, _signing_key(settings), algorithm=settings.jwt_algorithm)


def _base_claims(
    settings: AuthSettings, *, typ: str, user_id: uuid.UUID, ttl: timedelta, now: datetime | None
) -> dict[str, Any]:
    issued = _now(now)
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": typ,
    }


# --- access tokens --------------------------------------------------------------------------


def create_access_token(
    settings: AuthSettings,
    *,
    user_id: uuid.UUID,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    ttl: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """Sign a short-lived access token for one user."""
    lifetime = ttl if ttl is not None else timedelta(seconds=settings.access_token_ttl_seconds)
    claims = _base_claims(settings, typ=ACCESS, user_id=user_id, ttl=lifetime, now=now)
    claims["scope"] = " ".join(scopes)
    return _encode(settings, claims)


def decode_access_token(settings: AuthSettings, token: str) -> AccessClaims:
    """Verify an access token and return its claims (TokenInvalid / TokenExpired otherwise)."""
    claims = _decode(settings, token, ACCESS)
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise TokenInvalid("claim 'scope' must be a string")
    issued_at, expires_at = _times(claims)
    return AccessClaims(
        user_id=_uuid_claim(claims, "sub"),
        scopes=tuple(scope.split()),
        jti=str(claims["jti"]),
        issued_at=issued_at,
        expires_at=expires_at,
    )


# --- download tokens ------------------------------------------------------------------------


def issue_download_token(
    settings: AuthSettings,
    *,
    user_id: uuid.UUID,
    resource_id: uuid.UUID,
    grant_id: uuid.UUID | None,
    ttl: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """Sign a short-lived download link for one resource under one grant (or none for open data)."""
    lifetime = ttl if ttl is not None else timedelta(seconds=settings.download_token_ttl_seconds)
    claims = _base_claims(settings, typ=DOWNLOAD, user_id=user_id, ttl=lifetime, now=now)
    claims["rid"] = str(resource_id)
    claims["gid"] = str(grant_id) if grant_id is not None else None
    return _encode(settings, claims)


def verify_download_token(settings: AuthSettings, token: str, *, resource_id: uuid.UUID) -> DownloadClaims:
    """Verify a download token for this resource; the caller still checks that the grant is valid."""
    claims = _decode(settings, token, DOWNLOAD)
    bound = _uuid_claim(claims, "rid")
    if bound != resource_id:
        raise TokenInvalid("download token was issued for another resource")
    grant_id = _uuid_claim(claims, "gid") if claims.get("gid") is not None else None
    issued_at, expires_at = _times(claims)
    return DownloadClaims(
        user_id=_uuid_claim(claims, "sub"),
        resource_id=bound,
        grant_id=grant_id,
        jti=str(claims["jti"]),
        issued_at=issued_at,
        expires_at=expires_at,
    )


# --- signed documents -----------------------------------------------------------------------


def sign_document(settings: AuthSettings, payload: dict[str, Any]) -> str:
    """Sign a JSON document as a compact JWS (RS256 when keys are configured, for certificates)."""
    try:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise TokenInvalid(f"document is not JSON-serializable: {exc}") from exc
    return jws.sign(
        body.encode("utf-8"),
        _signing_key(settings),
        headers={"typ": "dataledger-doc+jws"},
        algorithm=settings.jwt_algorithm,
    )


def verify_document(settings_or_public_key: AuthSettings | str | bytes, token: str) -> dict[str, Any]:
    """Verify a signed document with the settings or a PEM public key (RS256) and return its payload."""
    if isinstance(settings_or_public_key, AuthSettings):
        algorithm = settings_or_public_key.jwt_algorithm
        key = _verification_key(settings_or_public_key)
    else:
        key = (
            settings_or_public_key.decode("ascii")
            if isinstance(settings_or_public_key, bytes)
            else settings_or_public_key
        )
        if not key.lstrip().startswith(_PEM_PREFIX):
            raise KeyConfigurationError("verify_document needs AuthSettings or a PEM public key")
        algorithm = "RS256"
    _check_header(token, algorithm)
    try:
        body = jws.verify(token, key, algorithms=[algorithm])
    except (JWSError, JWTError) as exc:
        raise TokenInvalid(str(exc) or "signature verification failed") from exc
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise TokenInvalid("document payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise TokenInvalid("document payload is not a JSON object")
    return payload
