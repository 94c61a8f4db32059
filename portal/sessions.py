"""Signed session cookie and CSRF tokens for the pages (a pure-ASGI middleware).

Every browser gets one signed cookie holding {user id or none, CSRF secret, issued at}. The
middleware verifies it and exposes `request.state.cookie_user_id` (read by portal.deps.optional_user)
and `request.state.csrf_token`; routes that sign in or out set `request.state.session_update`, which
the middleware turns into a fresh Set-Cookie. The cookie is HttpOnly, SameSite=Lax and Secure when
settings.portal.cookie_secure is set.

Forms carry the CSRF token in a hidden field `csrf_token` (checked by the pages). Unsafe requests to
other surfaces (the XHR upload to /api/v1) that rely on the cookie rather than a bearer token must
send it in the `X-CSRF-Token` header; without it the cookie does not sign them in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection

COOKIE_NAME = "dl_session"
LANG_COOKIE = "dl_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_MAX_AGE = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str) -> bytes:
    # A key of its own, so that a session signature can never pass for a token signature.
    return hashlib.sha256(b"dataledger-session\x00" + secret.encode("utf-8")).digest()


def encode_session(secret: str, data: dict[str, Any]) -> str:
    """Sign a session payload into a cookie value."""
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    sig = _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{sig}"


def decode_session(secret: str, value: str, *, max_age: int = SESSION_MAX_AGE) -> dict[str, Any] | None:
    """The payload of a cookie value signed with `secret` and younger than max_age, else None."""
    body, _, sig = value.partition(".")
    if not body or not sig:
        return None
    expected = _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, sig):
        return None
    try:
        data = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    issued = data.get("t")
    if not isinstance(issued, int) or time.time() - issued > max_age:
        return None
    return data


def new_session(user_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A fresh payload: a new CSRF secret (also on sign-in, so a planted token dies with it)."""
    return {"u": str(user_id) if user_id else None, "c": secrets.token_urlsafe(24), "t": int(time.time())}


def sign_in(request: HTTPConnection, user_id: uuid.UUID) -> None:
    """Have the middleware start a signed-in session on this response."""
    request.state.session_update = new_session(user_id)


def sign_out(request: HTTPConnection) -> None:
    """Have the middleware replace the session with an anonymous one on this response."""
    request.state.session_update = new_session(None)


def csrf_valid(request: HTTPConnection, token: str | None) -> bool:
    """True when `token` is this session's CSRF token."""
    expected = getattr(request.state, "csrf_token", None)
    return bool(token and expected and hmac.compare_digest(str(token), str(expected)))


class SessionMiddleware:
    """Verify the session cookie, expose the user and CSRF token, and write the cookie back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        secret: str = settings.auth.secret_key
        secure: bool = settings.portal.cookie_secure
        conn = HTTPConnection(scope)
        raw = conn.cookies.get(COOKIE_NAME)
        data = decode_session(secret, raw) if raw else None
        fresh = data is None
        if data is None:
            data = new_session(None)
        state = scope.setdefault("state", {})
        state["csrf_token"] = data["c"]
        user_id = _user_id(data.get("u"))
        if user_id is not None and self._cookie_may_act(conn, data["c"]):
            state["cookie_user_id"] = user_id
        if user_id is not None and not fresh and time.time() - int(data["t"]) > SESSION_MAX_AGE / 2:
            data = {**data, "t": int(time.time())}  # sliding expiry for an active session
            fresh = True

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                update = state.get("session_update")
                payload = update if update is not None else (data if fresh else None)
                if payload is not None:
                    headers = MutableHeaders(scope=message)
                    headers.append(
                        "set-cookie", _cookie(COOKIE_NAME, encode_session(secret, payload), secure)
                    )
                    if update is not None:
                        headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    def _cookie_may_act(conn: HTTPConnection, csrf: str) -> bool:
        """Cookie auth acts on pages always (forms are checked there) and elsewhere only with the header."""
        if conn.scope["method"] in SAFE_METHODS:
            return True
        path: str = conn.scope["path"]
        if not path.startswith("/api/"):
            return True
        header = conn.headers.get(CSRF_HEADER, "")
        return bool(header) and hmac.compare_digest(header, csrf)


def _user_id(value: object) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _cookie(name: str, value: str, secure: bool) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={SESSION_MAX_AGE}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
