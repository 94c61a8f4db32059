"""Server-rendered pages (Jinja2), zh-CN by default with English available."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from portal.pages import home

HERE = Path(__file__).parent


def install(app: FastAPI) -> None:
    """Mount the static files and the page routes."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(home.router)
