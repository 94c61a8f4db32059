"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_default = PasswordHasher()
# argon2-cffi's recommended parameters: what production uses unless configure_hasher() says otherwise.
DEFAULT_PARAMETERS = {
    "time_cost": _default.time_cost,
    "memory_cost_kib": _default.memory_cost,
    "parallelism": _default.parallelism,
}
_hasher = _default
# A real hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("dataledger-dummy-password")


def configure_hasher(*, time_cost: int, memory_cost_kib: int, parallelism: int = 1) -> PasswordHasher:
    """Replace the Argon2 parameters (small machines, fast tests); returns the previous hasher.

    Hashes made with other parameters still verify, and needs_rehash() reports them.
    """
    global _hasher, _DUMMY_HASH
    previous = _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash("dataledger-dummy-password")
    return previous


def restore_hasher(hasher: PasswordHasher) -> None:
    """Put back a hasher returned by configure_hasher()."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = _hasher.hash("dataledger-dummy-password")


def hash_password(password: str) -> str:
    """Hash a password (Argon2id, random salt)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash; False for a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_verify(password: str) -> None:
    """Spend the time of one verification, for unknown accounts."""
    verify_password(_DUMMY_HASH, password)
