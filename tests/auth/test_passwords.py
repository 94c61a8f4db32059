"""Password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher

from auth import passwords
from auth.passwords import hash_password, needs_rehash, verify_password


def test_hash_verifies_only_the_same_password() -> None:
    digest = hash_password("数据资源一本账-2024")
    assert digest.startswith("$argon2id$")
    assert "数据资源" not in digest
    assert verify_password(digest, "数据资源一本账-2024")
    assert not verify_password(digest, "数据资源一本账-2025")
    assert not verify_password(digest, "")


def test_same_password_gets_different_salts() -> None:
    assert hash_password("same-password-1") != hash_password("same-password-1")


def test_garbage_hash_is_a_mismatch_not_a_crash() -> None:
    assert not verify_password("not-a-hash", "whatever")
    assert not verify_password("", "whatever")


def test_needs_rehash_for_weaker_parameters() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw-123456")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("pw-123456"))
    assert needs_rehash("garbage")


def test_configured_parameters_still_verify_old_hashes() -> None:
    default_hash = hash_password("pw-123456")
    previous = passwords.configure_hasher(time_cost=1, memory_cost_kib=1024)
    try:
        cheap = hash_password("pw-123456")
        assert "m=1024,t=1" in cheap
        assert verify_password(default_hash, "pw-123456")
        assert needs_rehash(default_hash)
        assert not needs_rehash(cheap)
    finally:
        passwords.restore_hasher(previous)
    assert needs_rehash(cheap)
