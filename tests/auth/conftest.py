"""Fixtures of the auth tests: settings for HS256 and RS256, key files, a user factory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import Session

from auth import passwords
from auth.models import User
from auth.settings import AuthSettings
from auth.users import create_user

PASSWORD = "Correct-Horse-42"


def _write_keypair(folder: Path, stem: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = folder / f"{stem}.pem"
    public = folder / f"{stem}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture(autouse=True, scope="module")
def production_password_hashing(request: pytest.FixtureRequest) -> Iterator[None]:
    """test_passwords checks the production Argon2 parameters; every other test uses cheap ones (tests/conftest.py)."""
    if not request.module.__name__.endswith("test_passwords"):
        yield
        return
    previous = passwords.configure_hasher(**passwords.DEFAULT_PARAMETERS)
    try:
        yield
    finally:
        passwords.restore_hasher(previous)


@pytest.fixture(scope="session")
def rsa_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A PEM private and public key file pair."""
    return _write_keypair(tmp_path_factory.mktemp("keys"), "signing")


@pytest.fixture(scope="session")
def other_rsa_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A second, unrelated key pair (an attacker's)."""
    return _write_keypair(tmp_path_factory.mktemp("keys-other"), "attacker")


@pytest.fixture
def settings() -> AuthSettings:
    """HS256 settings with a test secret and a small lockout."""
    return AuthSettings(
        secret_key="test-secret-key-for-dataledger-tests-0123456789",
        login_max_failures=3,
        login_lockout_seconds=600,
    )


@pytest.fixture
def rs_settings(rsa_keys: tuple[Path, Path]) -> AuthSettings:
    """RS256 settings with generated key files."""
    private, public = rsa_keys
    return AuthSettings(jwt_algorithm="RS256", jwt_private_key_file=private, jwt_public_key_file=public)


def make_user(
    session: Session,
    *,
    name: str = "zhangsan",
    email: str | None = None,
    password: str = PASSWORD,
    platform_roles: Iterable[str] = (),
    **overrides: object,
) -> User:
    """Create a user through the service, with sensible defaults."""
    return create_user(
        session,
        name=name,
        email=email or f"{name}@example.gov.cn",
        password=password,
        platform_roles=platform_roles,
        **overrides,  # type: ignore[arg-type]
    )
