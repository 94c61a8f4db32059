"""Streaming files over HTTP: request bodies into storage, stored objects out with Range support."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import anyio.from_thread
from fastapi import Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from catalog.models import ResourceVersion
from storage import Storage, content_disposition

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def body_chunks(request: Request) -> Iterator[bytes]:
    """The request body as a blocking iterator, for use in a worker thread."""
    stream: AsyncIterator[bytes] = request.stream()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(start, end) of a single `bytes=` range, None for no range, or "unsatisfiable"."""
    if not header:
        return None
    match = RANGE_RE.match(header.strip())
    if match is None:
        return None  # multi-range or garbage: serve the whole file, as RFC 9110 allows
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def etag_of(version: ResourceVersion) -> str:
    """A strong ETag: the content's sha256."""
    return f'"{version.sha256}"'


def serve_version(
    request: Request,
    storage: Storage,
    version: ResourceVersion,
    *,
    redirect: bool = False,
    presign_ttl: int | None = None,
) -> Response:
    """Answer a download of one stored version: a presigned redirect, or a streamed (ranged) body."""
    disposition = content_disposition(version.filename)
    if redirect:
        url = storage.presigned_url(
            version.storage_key,
            expires_seconds=presign_ttl,
            download_name=version.filename,
            content_type=version.media_type,
        )
        if url is not None:
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    etag = etag_of(version)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Content-Disposition": disposition,
        "Cache-Control": "private, no-transform",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    size = version.size
    wanted = parse_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range != etag:
        wanted = None
    if wanted == "unsatisfiable":
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    status = 200
    start, end = 0, size - 1
    if isinstance(wanted, tuple):
        start, end = wanted
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(max(end - start + 1, 0))
    if size == 0:
        return Response(b"", status_code=200, headers=headers, media_type=version.media_type)
    chunks = storage.read(version.storage_key, start=start, end=end)
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=version.media_type)
