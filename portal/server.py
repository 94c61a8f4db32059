"""uvicorn's httptools protocol with ASGI's zero-copy send extension, so file bodies go out by sendfile.

uvicorn copies every response body through Python; a download of a stored file then costs a read
into user space and a write back to the kernel per chunk. This protocol advertises the ASGI
`http.response.zerocopysend` extension (https://asgi.readthedocs.io/en/latest/extensions.html) on
plain-TCP connections and answers it with `os.sendfile`: the kernel moves the file's pages to the
socket itself. Everything else is uvicorn's own code path, on uvicorn's usual loop (uvloop, which
serves API requests about twice as fast here as asyncio's own loop, whose `loop.sendfile` we would
otherwise use). Applications must still work without the extension (tests, other servers, TLS), so
they check `scope["extensions"]` first.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

ZERO_COPY = "http.response.zerocopysend"
# How `dataledger serve` (and the benches that measure it) run uvicorn.
UVICORN_OPTIONS: dict[str, str] = {"http": "portal.server:ZeroCopyHttpToolsProtocol"}
# Most bytes handed to one sendfile call (the kernel takes what the socket buffer has room for); it
# bounds how long one call can hold the event loop reading pages of a file not yet in memory.
SENDFILE_STEP = 2 * 1024 * 1024


async def sendfile(transport: asyncio.Transport, file: Any, offset: int, count: int) -> int:
    """Send count bytes of file from offset on transport's socket by os.sendfile; the bytes sent.

    The transport's own buffer is let drain first, so bytes never overtake the headers. The wait
    for a writable socket is on a duplicate of its descriptor: event loops refuse to watch a
    descriptor a transport owns (reading, and the disconnect it tells of, go on meanwhile).
    """
    while transport.get_write_buffer_size() and not transport.is_closing():
        await asyncio.sleep(0.001)
    loop = asyncio.get_running_loop()
    fd = os.dup(transport.get_extra_info("socket").fileno())
    source = file.fileno()
    sent = 0
    try:
        while sent < count:
            if transport.is_closing():
                raise ConnectionResetError("the connection closed during sendfile")
            try:
                n = os.sendfile(fd, source, offset + sent, min(count - sent, SENDFILE_STEP))
            except BlockingIOError:
                await _writable(loop, fd)
                continue
            if n == 0:
                break  # the file ended early
            sent += n
    finally:
        os.close(fd)
    return sent


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    """Wait until fd can take more bytes."""
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(fd, wake)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


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
            sent = await sendfile(self.transport, file, offset, count)
        except OSError:
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
        """uvicorn's scope, with the extension advertised on plain TCP (TLS must encrypt the bytes)."""
        super().on_message_begin()
        transport = self.transport
        if transport.get_extra_info("sslcontext") is None and transport.get_extra_info("socket") is not None:
            extensions = dict(self.scope.get("extensions") or {})
            extensions[ZERO_COPY] = {}
            self.scope["extensions"] = extensions  # type: ignore[typeddict-unknown-key]

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        cycle.__class__ = ZeroCopyCycle  # the same state; only `send` learns one more message
        super()._start_asgi_task(cycle, app)
