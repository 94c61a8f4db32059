"""DCAT-AP 3 (Turtle, RDF/XML, JSON-LD) and schema.org exports of the catalog."""

from fastapi import FastAPI

from portal.dcat.negotiation import NegotiationMiddleware, negotiate
from portal.dcat.router import DcatSettings, router
from portal.dcat.schema_org import schema_org_jsonld

__all__ = ["DcatSettings", "install", "negotiate", "router", "schema_org_jsonld"]


def install(app: FastAPI) -> None:
    """Add the DCAT routes and content negotiation on /catalog and /dataset/{name}."""
    app.include_router(router)
    app.add_middleware(NegotiationMiddleware)
