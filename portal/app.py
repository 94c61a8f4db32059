"""create_app(settings) -> FastAPI: the one place where the surfaces are put together."""

from __future__ import annotations

from fastapi import FastAPI

from portal import api_v1, ckan, dcat, health, pages
from portal.database import make_engine
from portal.errors import install_v1_handlers
from portal.pages import exchange as exchange_pages
from portal.ratelimits import RateLimitMiddleware
from portal.sessions import SessionMiddleware
from portal.settings import Settings, get_settings
from storage import Storage, open_storage


def create_app(settings: Settings | None = None, *, storage: Storage | None = None) -> FastAPI:
    """Build the web application: native API, pages and probes over one engine and one storage."""
    settings = settings or get_settings()
    app = FastAPI(
        title="dataledger",
        summary="数据资源一本账 — provincial public data catalog and exchange",
        version="0.1.0",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.portal.database_url)
    app.state.storage = storage or open_storage(settings.storage)
    install_v1_handlers(app)
    app.include_router(health.router)
    app.include_router(api_v1.router)
    app.include_router(ckan.router)
    dcat.install(app)
    app.include_router(exchange_pages.router)
    pages.install(app)
    app.add_middleware(RateLimitMiddleware)  # inside the session middleware: it reads the cookie user
    app.add_middleware(SessionMiddleware)
    return app
