"""Signed tokens: the happy paths, and every known attack as its own test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from auth.errors import KeyConfigurationError, TokenExpired, TokenInvalid
from auth.settings import AuthSettings
from auth.tokens import (
    create_access_token,
    decode_access_token,
    issue_download_token,
    public_key_pem,
    sign_document,
    verify_document,
    verify_download_token,
)

USER = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
RESOURCE = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
OTHER_RESOURCE = uuid.UUID("00000000-0000-0000-0000-0000000000b2")
GRANT = uuid.UUID("00000000-0000-0000-0000-0000000000c1")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def valid_claims(settings: AuthSettings, **overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(USER),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "scope": "read write",
    }
    claims.update(overrides)
    return claims


def forge(claims: dict[str, Any], key: str | bytes, alg: str = "HS256") -> str:
    """A token signed by hand, independently of python-jose (which refuses PEM keys as HMAC secrets)."""
    raw_key = key.encode() if isinstance(key, str) else key
    signing_input = (
        b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    )
    if alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        signature = hmac.new(raw_key, signing_input.encode("ascii"), digest).digest()
    else:
        private = serialization.load_pem_private_key(raw_key, password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        signature = private.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64(signature)


def header_of(token: str) -> dict[str, Any]:
    return json.loads(unb64(token.split(".")[0]))  # type: ignore[no-any-return]


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(unb64(token.split(".")[1]))  # type: ignore[no-any-return]


# --- happy paths ----------------------------------------------------------------------------


def test_access_token_round_trip_hs256(settings: AuthSettings) -> None:
    token = create_access_token(settings, user_id=USER, scopes=("read",))
    claims = decode_access_token(settings, token)
    assert claims.user_id == USER
    assert claims.scopes == ("read",)
    assert claims.expires_at - claims.issued_at == timedelta(seconds=settings.access_token_ttl_seconds)
    header = header_of(token)
    assert header["alg"] == "HS256"
    body = claims_of(token)
    assert {"iss", "aud", "sub", "exp", "iat", "nbf", "jti", "typ"} <= body.keys()


def test_access_token_round_trip_rs256(rs_settings: AuthSettings, rsa_keys: tuple[Path, Path]) -> None:
    token = create_access_token(rs_settings, user_id=USER)
    assert header_of(token)["alg"] == "RS256"
    # A verifier that holds only the public key accepts it.
    verifier = AuthSettings(jwt_algorithm="RS256", jwt_public_key_file=rsa_keys[1])
    assert decode_access_token(verifier, token).user_id == USER


def test_every_token_has_its_own_jti(settings: AuthSettings) -> None:
    a = decode_access_token(settings, create_access_token(settings, user_id=USER))
    b = decode_access_token(settings, create_access_token(settings, user_id=USER))
    assert a.jti != b.jti


def test_download_token_round_trip(settings: AuthSettings) -> None:
    token = issue_download_token(settings, user_id=USER, resource_id=RESOURCE, grant_id=GRANT)
    claims = verify_download_token(settings, token, resource_id=RESOURCE)
    assert (claims.user_id, claims.resource_id, claims.grant_id) == (USER, RESOURCE, GRANT)
    assert claims.expires_at - claims.issued_at == timedelta(seconds=settings.download_token_ttl_seconds)
    open_data = issue_download_token(settings, user_id=USER, resource_id=RESOURCE, grant_id=None)
    assert verify_download_token(settings, open_data, resource_id=RESOURCE).grant_id is None


# --- attacks: algorithm ---------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(settings: AuthSettings, alg: str) -> None:
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps(valid_claims(settings)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}.c2ln"):
        with pytest.raises(TokenInvalid, match="alg 'none'"):
            decode_access_token(settings, token)


def test_hs256_token_refused_by_rs256_config(rs_settings: AuthSettings, settings: AuthSettings) -> None:
    token = forge(valid_claims(rs_settings), settings.secret_key, "HS256")
    with pytest.raises(TokenInvalid, match="'HS256' is not accepted"):
        decode_access_token(rs_settings, token)


def test_rs256_public_key_as_hmac_secret_is_refused(
    rs_settings: AuthSettings, rsa_keys: tuple[Path, Path]
) -> None:
    public_pem = rsa_keys[1].read_bytes()
    assert public_key_pem(rs_settings) == public_pem.decode()
    token = forge(valid_claims(rs_settings), public_pem)
    with pytest.raises(TokenInvalid, match="'HS256' is not accepted"):
        decode_access_token(rs_settings, token)
    # The same confusion aimed at a signed document.
    doc = forge({"certificate": "forged"}, public_pem)
    with pytest.raises(TokenInvalid):
        verify_document(public_pem.decode(), doc)
    with pytest.raises(TokenInvalid):
        verify_document(rs_settings, doc)


def test_rs256_token_refused_by_hs256_config(
    settings: AuthSettings, other_rsa_keys: tuple[Path, Path]
) -> None:
    token = forge(valid_claims(settings), other_rsa_keys[0].read_bytes(), "RS256")
    with pytest.raises(TokenInvalid, match="'RS256' is not accepted"):
        decode_access_token(settings, token)


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_hmac_algorithms_refused(settings: AuthSettings, alg: str) -> None:
    token = forge(valid_claims(settings), settings.secret_key, alg)
    with pytest.raises(TokenInvalid, match="not accepted"):
        decode_access_token(settings, token)


# --- attacks: signature and payload ---------------------------------------------------------


@pytest.mark.parametrize("which", ["settings", "rs_settings"])
def test_tampered_payload_is_refused(which: str, request: pytest.FixtureRequest) -> None:
    cfg: AuthSettings = request.getfixturevalue(which)
    token = create_access_token(cfg, user_id=USER, scopes=("read",))
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload))
    claims["scope"] = "read write admin"
    claims["sub"] = str(uuid.uuid4())
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(TokenInvalid, match="invalid token"):
        decode_access_token(cfg, forged)


def test_bad_signature_is_refused(settings: AuthSettings) -> None:
    token = create_access_token(settings, user_id=USER)
    header, payload, signature = token.split(".")
    raw = bytearray(unb64(signature))
    raw[0] ^= 0x01
    with pytest.raises(TokenInvalid):
        decode_access_token(settings, f"{header}.{payload}.{b64(bytes(raw))}")
    with pytest.raises(TokenInvalid):
        decode_access_token(settings, f"{header}.{payload}.")


def test_token_signed_with_another_secret_is_refused(settings: AuthSettings) -> None:
    attacker = AuthSettings(secret_key="guessed-secret")
    with pytest.raises(TokenInvalid):
        decode_access_token(settings, create_access_token(attacker, user_id=USER))


def test_token_signed_with_another_rsa_key_is_refused(
    rs_settings: AuthSettings, other_rsa_keys: tuple[Path, Path]
) -> None:
    attacker = AuthSettings(jwt_algorithm="RS256", jwt_private_key_file=other_rsa_keys[0])
    with pytest.raises(TokenInvalid):
        decode_access_token(rs_settings, create_access_token(attacker, user_id=USER))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "ey.ey.ey.ey", "..."])
def test_garbage_is_refused(settings: AuthSettings, garbage: str) -> None:
    with pytest.raises(TokenInvalid):
        decode_access_token(settings, garbage)


# --- attacks: claims ------------------------------------------------------------------------


def test_expired_token_is_refused(settings: AuthSettings) -> None:
    token = create_access_token(settings, user_id=USER, now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(TokenExpired, match="expired"):
        decode_access_token(settings, token)


def test_expired_download_token_is_refused(settings: AuthSettings) -> None:
    token = issue_download_token(
        settings, user_id=USER, resource_id=RESOURCE, grant_id=GRANT, ttl=timedelta(seconds=-60)
    )
    with pytest.raises(TokenExpired):
        verify_download_token(settings, token, resource_id=RESOURCE)


def test_token_not_yet_valid_is_refused(settings: AuthSettings) -> None:
    token = create_access_token(settings, user_id=USER, now=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(TokenInvalid, match="not yet valid"):
        decode_access_token(settings, token)


def test_wrong_audience_is_refused(settings: AuthSettings) -> None:
    other = settings.model_copy(update={"jwt_audience": "another-portal"})
    with pytest.raises(TokenInvalid, match=r"(?i)audience"):
        decode_access_token(settings, create_access_token(other, user_id=USER))


def test_wrong_issuer_is_refused(settings: AuthSettings) -> None:
    other = settings.model_copy(update={"jwt_issuer": "evil-issuer"})
    with pytest.raises(TokenInvalid, match=r"(?i)issuer"):
        decode_access_token(settings, create_access_token(other, user_id=USER))


@pytest.mark.parametrize("missing", ["exp", "aud", "iss", "sub", "jti", "typ"])
def test_token_missing_a_required_claim_is_refused(settings: AuthSettings, missing: str) -> None:
    claims = valid_claims(settings)
    del claims[missing]
    token = forge(claims, settings.secret_key)
    with pytest.raises(TokenInvalid):
        decode_access_token(settings, token)


def test_sub_must_be_a_user_id(settings: AuthSettings) -> None:
    token = forge(valid_claims(settings, sub="admin"), settings.secret_key)
    with pytest.raises(TokenInvalid, match="sub"):
        decode_access_token(settings, token)


# --- token kinds and bindings ---------------------------------------------------------------


def test_download_token_for_another_resource_is_refused(settings: AuthSettings) -> None:
    token = issue_download_token(settings, user_id=USER, resource_id=RESOURCE, grant_id=GRANT)
    with pytest.raises(TokenInvalid, match="another resource"):
        verify_download_token(settings, token, resource_id=OTHER_RESOURCE)


def test_access_token_is_not_a_download_token(settings: AuthSettings) -> None:
    token = create_access_token(settings, user_id=USER)
    with pytest.raises(TokenInvalid, match="download"):
        verify_download_token(settings, token, resource_id=RESOURCE)


def test_download_token_is_not_an_access_token(settings: AuthSettings) -> None:
    token = issue_download_token(settings, user_id=USER, resource_id=RESOURCE, grant_id=None)
    with pytest.raises(TokenInvalid, match="access"):
        decode_access_token(settings, token)


def test_download_token_with_forged_resource_is_refused(settings: AuthSettings) -> None:
    token = issue_download_token(settings, user_id=USER, resource_id=RESOURCE, grant_id=GRANT)
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload))
    claims["rid"] = str(OTHER_RESOURCE)
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(TokenInvalid):
        verify_download_token(settings, forged, resource_id=OTHER_RESOURCE)


# --- signed documents -----------------------------------------------------------------------


def test_document_round_trip_rs256_with_public_key(
    rs_settings: AuthSettings, rsa_keys: tuple[Path, Path]
) -> None:
    payload = {"certificate": "数据产品登记证书", "number": 42, "holder": "某某数据有限公司"}
    token = sign_document(rs_settings, payload)
    assert verify_document(rsa_keys[1].read_text(), token) == payload
    assert verify_document(rsa_keys[1].read_bytes(), token) == payload
    assert verify_document(rs_settings, token) == payload


def test_document_round_trip_hs256(settings: AuthSettings) -> None:
    token = sign_document(settings, {"a": 1})
    assert verify_document(settings, token) == {"a": 1}


def test_tampered_document_is_refused(rs_settings: AuthSettings, rsa_keys: tuple[Path, Path]) -> None:
    token = sign_document(rs_settings, {"holder": "甲公司", "valid": True})
    header, _payload, signature = token.split(".")
    forged = f"{header}.{b64(json.dumps({'holder': '乙公司', 'valid': True}).encode())}.{signature}"
    with pytest.raises(TokenInvalid):
        verify_document(rsa_keys[1].read_text(), forged)


def test_document_signed_by_another_key_is_refused(
    rsa_keys: tuple[Path, Path], other_rsa_keys: tuple[Path, Path]
) -> None:
    attacker = AuthSettings(jwt_algorithm="RS256", jwt_private_key_file=other_rsa_keys[0])
    with pytest.raises(TokenInvalid):
        verify_document(rsa_keys[1].read_text(), sign_document(attacker, {"holder": "x"}))


def test_unsigned_document_is_refused(rsa_keys: tuple[Path, Path]) -> None:
    token = b64(b'{"alg":"none"}') + "." + b64(b'{"holder":"x"}') + "."
    with pytest.raises(TokenInvalid, match="alg 'none'"):
        verify_document(rsa_keys[1].read_text(), token)


# --- key configuration ----------------------------------------------------------------------


def test_rs256_without_keys_is_a_configuration_error(tmp_path: Path, rs_settings: AuthSettings) -> None:
    bare = AuthSettings(jwt_algorithm="RS256")
    with pytest.raises(KeyConfigurationError, match="PRIVATE_KEY_FILE"):
        create_access_token(bare, user_id=USER)
    with pytest.raises(KeyConfigurationError, match="PUBLIC_KEY_FILE"):
        decode_access_token(bare, create_access_token(rs_settings, user_id=USER))
    not_pem = tmp_path / "key.pem"
    not_pem.write_text("hello", encoding="ascii")
    with pytest.raises(KeyConfigurationError, match="not a PEM"):
        create_access_token(AuthSettings(jwt_algorithm="RS256", jwt_private_key_file=not_pem), user_id=USER)
    with pytest.raises(KeyConfigurationError, match="cannot read"):
        create_access_token(
            AuthSettings(jwt_algorithm="RS256", jwt_private_key_file=tmp_path / "missing.pem"), user_id=USER
        )


def test_rs256_verifies_with_only_the_private_key_configured(rsa_keys: tuple[Path, Path]) -> None:
    signer = AuthSettings(jwt_algorithm="RS256", jwt_private_key_file=rsa_keys[0])
    token = create_access_token(signer, user_id=USER)
    assert decode_access_token(signer, token).user_id == USER
    assert public_key_pem(signer) is not None


def test_dev_secret_is_flagged(settings: AuthSettings, rs_settings: AuthSettings) -> None:
    assert AuthSettings(secret_key="dataledger-dev-secret-key-change-me-in-production").uses_dev_secret
    assert not settings.uses_dev_secret
    assert not rs_settings.uses_dev_secret
    assert public_key_pem(settings) is None


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATALEDGER_SECRET_KEY", "from-env")
    monkeypatch.setenv("DATALEDGER_ACCESS_TOKEN_TTL_SECONDS", "60")
    cfg = AuthSettings()
    assert (cfg.secret_key, cfg.access_token_ttl_seconds) == ("from-env", 60)


def test_hand_forged_token_with_the_right_key_is_accepted(
    settings: AuthSettings, rs_settings: AuthSettings, rsa_keys: tuple[Path, Path]
) -> None:
    # The forging helpers are sound: with the real key and valid claims the token passes.
    assert decode_access_token(settings, forge(valid_claims(settings), settings.secret_key)).user_id == USER
    rs_token = forge(valid_claims(rs_settings), rsa_keys[0].read_bytes(), "RS256")
    assert decode_access_token(rs_settings, rs_token).user_id == USER
