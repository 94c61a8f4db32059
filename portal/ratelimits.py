"""Rate limits (a pure-ASGI middleware over auth.ratelimit): anonymous API use and file downloads.

- Anonymous API use (/api/..., no credential and no signed-in session): at most
  ``anonymous_rate_limit_per_minute`` requests a minute per client address. A request with a
  credential is not held to that limit; but credentials that fail (401) are counted against the
  address, and an address that spent its budget on failed credentials is refused like an
  anonymous one, so sending garbage tokens is no way round the limit.
- Downloads (every download route): at most ``download_rate_limit_per_minute`` a minute per user
  (API token, access token, signed link or session cookie) or, for anonymous callers, per address.
- Health probes, static files and pages are never limited.

Refusals are 429 with Retry-After and the native error shape {"error": "RateLimited", ...}.
Limits are in-process (each worker counts on its own) and live on the app, so every app starts
afresh; they must sit inside SessionMiddleware, which tells who is signed in by cookie.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
from starlette.requests import HTTPConnection

from auth.errors import AuthError, RateLimited
from auth.ratelimit import RateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIXES = ("/api/",)
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/static/", "/docs", "/openapi.json")
DOWNLOAD_PATHS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^/api/v1/resources/(?P<rid>[^/]+)/download$"),
    re.compile(r"^/dataset/[^/]+/resource/(?P<rid>[^/]+)/download$"),
)
API_TOKEN_PREFIX = "dl_"


class Limits:
    """The limiters of one app, built from its AuthSettings."""

    def __init__(self, anonymous_per_minute: int, download_per_minute: int) -> None:
        self.anonymous = RateLimiter(anonymous_per_minute, 60.0)
        self.failed_credentials = RateLimiter(anonymous_per_minute, 60.0)
        self.downloads = RateLimiter(download_per_minute, 60.0)


def limits_of(app: Any) -> Limits:
    """The app's limiters (created on first use from app.state.settings.auth)."""
    limits = getattr(app.state, "rate_limits", None)
    if limits is None:
        auth = app.state.settings.auth
        limits = Limits(auth.anonymous_rate_limit_per_minute, auth.download_rate_limit_per_minute)
        app.state.rate_limits = limits
    return limits


def client_address(conn: HTTPConnection) -> str:
    """The peer address (uvicorn's proxy_headers puts the forwarded one here behind a proxy)."""
    return conn.client.host if conn.client else "unknown"


def _credential(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "").strip()
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value else header
    return conn.headers.get("x-ckan-api-key", "").strip() or None


def download_target(path: str) -> tuple[bool, uuid.UUID | None]:
    """Whether a path is a download, and its resource id (None when not a UUID)."""
    for pattern in DOWNLOAD_PATHS:
        found = pattern.match(path)
        if found:
            try:
                return True, uuid.UUID(found.group("rid"))
            except ValueError:
                return True, None
    return False, None


def _user_key(app: Any, conn: HTTPConnection, resource_id: uuid.UUID | None) -> str | None:
    """The verified user behind a download request, as a limiter key; None when there is none."""
    settings = app.state.settings
    link = conn.query_params.get("token")
    if link and resource_id is not None:
        from auth.tokens import verify_download_token

        try:
            return f"user:{verify_download_token(settings.auth, link, resource_id=resource_id).user_id}"
        except AuthError:
            return None
    credential = _credential(conn)
    if credential:
        if credential.startswith(API_TOKEN_PREFIX):
            from sqlmodel import Session, select

            from auth.api_tokens import hash_token
            from auth.models import ApiToken

            with Session(app.state.engine) as session:
                owner = session.exec(
                    select(ApiToken.user_id).where(ApiToken.token_hash == hash_token(credential))
                ).first()
            return f"user:{owner}" if owner is not None else None
        from auth.tokens import decode_access_token

        try:
            return f"user:{decode_access_token(settings.auth, credential).user_id}"
        except AuthError:
            return None
    cookie_user = conn.scope.get("state", {}).get("cookie_user_id")
    return f"user:{cookie_user}" if cookie_user is not None else None


def _signed_in_by_cookie(conn: HTTPConnection) -> bool:
    return conn.scope.get("state", {}).get("cookie_user_id") is not None


async def _refuse(send: Send, exc: RateLimited) -> None:
    body = json.dumps({"error": "RateLimited", "detail": str(exc)}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"retry-after", str(max(1, math.ceil(exc.retry_after))).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimitMiddleware:
    """Apply the anonymous-API and download limits before the request reaches a route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        limits = limits_of(scope["app"])
        address = client_address(conn)
        is_api = path.startswith(API_PREFIXES)
        has_credential = _credential(conn) is not None
        try:
            if is_api and not has_credential and not _signed_in_by_cookie(conn):
                limits.anonymous.check(f"addr:{address}")
            elif is_api and has_credential and limits.failed_credentials.remaining(f"addr:{address}") < 1:
                limits.failed_credentials.check(f"addr:{address}")
            is_download, resource = download_target(path)
            if is_download:
                app = scope["app"]
                key = await anyio.to_thread.run_sync(_user_key, app, conn, resource)
                limits.downloads.check(key or f"addr:{address}")
        except RateLimited as exc:
            await _refuse(send, exc)
            return

        if not (is_api and has_credential):
            await self.app(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                limits.failed_credentials.allow(f"addr:{address}")
            await send(message)

        await self.app(scope, receive, watch)
