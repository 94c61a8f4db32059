"""Content negotiation for /catalog, /dataset/{name} and /vocab/domains, as ASGI middleware.

An Accept header that prefers Turtle, RDF/XML or JSON-LD rewrites the path to the suffixed
route (`/dataset/x` -> `/dataset/x.ttl`). A caller that prefers HTML (or anything, */*) goes on to
the page route of that path when the app has one, and gets Turtle when it has none; a caller that
accepts none of these gets 406. Rewriting keeps the decision out of the page routes and works
whatever order the routers were included in.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Media types we serve -> our suffix; HTML is the page's.
RDF_TYPES: dict[str, str] = {
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/rdf+xml": "rdf",
    "application/ld+json": "jsonld",
}
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
NEGOTIATED_PATH = re.compile(r"^/(catalog|vocab/domains|dataset/[a-z0-9][a-z0-9_-]{1,99})/?$")
NOT_ACCEPTABLE = (
    "406 Not Acceptable: text/turtle, application/rdf+xml, application/ld+json, text/html / 不支持的格式"
).encode()


def _accepted(header: str) -> list[tuple[str, float, int]]:
    out: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        out.append((media, q, position))
    return out


def negotiate(accept: str | None) -> str | None:
    """What the caller prefers: "ttl", "rdf", "jsonld", "html", "*" (anything) or None (nothing we serve)."""
    if not accept or not accept.strip():
        return "*"
    best: tuple[float, int, str] | None = None
    for media, q, position in _accepted(accept):
        if q <= 0:
            continue
        if media in RDF_TYPES:
            choice = RDF_TYPES[media]
        elif media in HTML_TYPES:
            choice = "html"
        elif media in ("*/*", "text/*", "application/*"):
            choice, q = "*", q - 0.0001  # a named type at the same q wins over a wildcard
        else:
            continue
        if best is None or (q, -position) > best[:2]:
            best = (q, -position, choice)
    return best[2] if best else None


def _has_other_route(scope: Scope) -> bool:
    app: Any = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", ())
    probe = {k: v for k, v in scope.items() if k != "fastapi"}
    return any(route.matches(dict(probe))[0] == Match.FULL for route in routes)


class NegotiationMiddleware:
    """Serve RDF on the plain paths by Accept; leave HTML to the pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the path of an RDF request to its suffixed route and add Vary: Accept."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        found = NEGOTIATED_PATH.match(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        accept = next((v.decode("latin-1") for k, v in scope.get("headers") or () if k == b"accept"), None)
        choice = negotiate(accept)
        if choice is None:
            await _plain(send, 406, NOT_ACCEPTABLE)
            return
        if choice in ("html", "*"):
            if _has_other_route(scope):
                await self.app(scope, receive, _vary(send))
                return
            choice = "ttl"
        path = f"/{found.group(1)}.{choice}"
        scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, _vary(send))


def _vary(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"vary"]
            message = {**message, "headers": [*headers, (b"vary", b"Accept")]}
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"vary", b"Accept")],
        }
    )
    await send({"type": "http.response.body", "body": body})
