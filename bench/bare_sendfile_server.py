"""The least an HTTP server can do to send a file: answer every GET with it by sendfile.

Usage: python bench/bare_sendfile_server.py PATH PORT

No routing, policy, database or framework: a reference for what loopback TCP allows on this
machine, so the portal's figure can be set beside it (bench/upload_download_rss.py starts it).
"""

from __future__ import annotations

import asyncio
import os
import sys


class FileProtocol(asyncio.Protocol):
    """One connection: read a request head, send the file, close."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.head = b""
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Start sending once the request head is in."""
        self.head += data
        if b"\r\n\r\n" in self.head and self.task is None:
            self.task = asyncio.ensure_future(self.send_file())

    async def send_file(self) -> None:
        """The status line, Content-Length, and the file's bytes by the kernel."""
        assert self.transport is not None
        size = os.path.getsize(self.path)
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size
        )
        with open(self.path, "rb") as f:
            os.posix_fadvise(f.fileno(), 0, size, os.POSIX_FADV_SEQUENTIAL)
            await asyncio.get_running_loop().sendfile(self.transport, f, 0, size)
        self.transport.close()


async def main(path: str, port: int) -> None:
    """Serve path on 127.0.0.1:port until killed."""
    server = await asyncio.get_running_loop().create_server(lambda: FileProtocol(path), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
