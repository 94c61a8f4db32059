"""Server-rendered pages (Jinja2), zh-CN by default with English available."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from portal.pages import account, dataset, feedback, home, ledger, organizations, regulator, search, workspace
from portal.pages.rendering import error_page

HERE = Path(__file__).parent

# Paths of the other surfaces: their errors keep their own (JSON) shape.
NON_PAGE_PREFIXES = ("/api/", "/static/", "/docs", "/openapi", "/health", "/ready", "/catalog.", "/vocab/")


def wants_html(request: Request) -> bool:
    """True for a browser asking for a page (not an API client)."""
    if request.url.path.startswith(NON_PAGE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Mount the static files, the page routes and the HTML 404/405 page for unknown paths."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (home, search, dataset, organizations, ledger, account, workspace, regulator, feedback):
        app.include_router(module.router)

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if wants_html(request) and exc.status_code in (404, 405):
            return error_page(request, exc.status_code)
        return await http_exception_handler(request, exc)

    app.add_exception_handler(StarletteHTTPException, not_found)
