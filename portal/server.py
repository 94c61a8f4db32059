"""uvicorn's httptools protocol with ASGI's zero-copy send extension, so file bodies go out by sendfile.

uvicorn copies every response body through Python; a download of a stored file then costs a read
into user space and a write back to the kernel per chunk. This protocol advertises the ASGI
`http.response.zerocopysend` extension (https://asgi.readthedocs.io/en/latest/extensions.html) and
answers it with `loop.sendfile`, which on asyncio's selector loop is `os.sendfile`: the kernel
moves the file's pages to the socket itself. Everything else is uvicorn's own code path.

`dataledger serve` selects it with asyncio's loop (uvloop has no sendfile); applications must still
work without the extension (tests, other servers), so they check `scope["extensions"]` first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

ZERO_COPY = "http.response.zerocopysend"
# How `dataledger serve` (and the benches that measure it) run uvicorn.
UVICORN_OPTIONS: dict[str, str] = {"http": "portal.server:ZeroCopyHttpToolsProtocol", "loop": "asyncio"}


class ZeroCopyCycle(RequestResponseCycle):
    """One request/response exchange that also accepts `http.response.zerocopysend` messages."""

    async def send(self, message: Any) -> None:  # the ASGI send callable
        """uvicorn's send, plus the zero-copy message: `file`, `offset`, `count`, `more_body`."""
        if message.get("type") != ZERO_COPY:
            await super().send(message)
            return
        if not self.response_started or self.response_complete:
            raise RuntimeError(f"Unexpected ASGI message '{ZERO_COPY}' outside a response body.")
        if self.chunked_encoding or self.scope["method"] == "HEAD":
            raise RuntimeError(f"'{ZERO_COPY}' needs a Content-Length response to a GET.")
        file = message["file"]
        offset = int(message.get("offset") or 0)
        count = message.get("count")
        count = self.expected_content_length if count is None else int(count)
        if count > self.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        try:
            sent = await asyncio.get_running_loop().sendfile(self.transport, file, offset, count)
        except (ConnectionError, OSError):
            # The client went away mid-file: the connection is unusable, as with any broken write.
            self.disconnected = True
            self.transport.close()
            return
        self.expected_content_length -= sent
        if sent != count:
            self.transport.close()
            raise RuntimeError("The file ended before Content-Length bytes were sent")
        if not message.get("more_body", False):
            await super().send({"type": "http.response.body", "body": b"", "more_body": False})


class ZeroCopyHttpToolsProtocol(HttpToolsProtocol):
    """httptools HTTP/1.1 whose requests may answer with `http.response.zerocopysend`."""

    def on_message_begin(self) -> None:
        """uvicorn's scope, with the extension advertised when the loop can sendfile natively."""
        super().on_message_begin()
        if isinstance(self.loop, asyncio.selector_events.BaseSelectorEventLoop):
            extensions = dict(self.scope.get("extensions") or {})
            extensions[ZERO_COPY] = {}
            self.scope["extensions"] = extensions  # type: ignore[typeddict-unknown-key]

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        cycle.__class__ = ZeroCopyCycle  # the same state; only `send` learns one more message
        super()._start_asgi_task(cycle, app)
