"""DCAT-AP routes: /catalog, /dataset/{name} and /vocab/domains as Turtle, RDF/XML and JSON-LD.

`/catalog.ttl` (and .rdf, .jsonld) name the format; `/catalog`, `/dataset/{name}` and
`/vocab/domains` choose it from the Accept header (portal.dcat.negotiation).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, func, select

from auth.policy import Action, Actor, authorize, listing_scope
from catalog import service
from catalog.models import Dataset
from portal.dcat.graph import (
    FORMATS,
    DatasetBundle,
    Page,
    catalog_graph,
    dataset_graph,
    domains_graph,
    serialize,
)
from portal.deps import ActorDep, SessionDep, SettingsDep
from portal.settings import DcatSettings


def get_dcat_settings(request: Request) -> DcatSettings:
    """The app's DCAT settings (app.state.dcat_settings in tests, else the app's Settings.dcat)."""
    found = getattr(request.app.state, "dcat_settings", None)
    return found if isinstance(found, DcatSettings) else request.app.state.settings.dcat


DcatSettingsDep = Annotated[DcatSettings, Depends(get_dcat_settings)]

router = APIRouter(include_in_schema=False)


def _respond(body: bytes, suffix: str) -> Response:
    return Response(content=body, media_type=FORMATS[suffix][1])


def bundles_for(session: Session, datasets: list[Dataset]) -> list[DatasetBundle]:
    """Datasets with their organizations, resources and latest files, in a fixed number of queries."""
    orgs = service.organizations_by_id(session, (d.owner_org_id for d in datasets))
    resources = service.resources_by_dataset(session, (d.id for d in datasets))
    versions = service.latest_versions(session, (r for rs in resources.values() for r in rs))
    return [
        DatasetBundle(
            dataset=d,
            organization=orgs.get(d.owner_org_id),
            resources=resources.get(d.id, []),
            versions=versions,
        )
        for d in datasets
    ]


def visible_page(
    session: Session, actor: Actor, *, page: int, page_size: int
) -> tuple[int, datetime | None, list[Dataset]]:
    """One page of the datasets the actor may list, by name, with the total and the latest change."""
    scope = listing_scope(actor)
    conds = [col(Dataset.status).in_(sorted(scope.statuses))]
    if scope.org_ids:
        conds.append(col(Dataset.owner_org_id).in_(sorted(scope.org_ids)))
    where = sa.or_(*conds)
    total, modified = session.exec(select(func.count(), func.max(Dataset.updated_at)).where(where)).one()
    rows = session.exec(
        select(Dataset)
        .where(where)
        .order_by(col(Dataset.name))
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    if isinstance(modified, str):  # SQLite aggregates lose the column type
        modified = datetime.fromisoformat(modified)
    return int(total), modified, list(rows)


def _catalog(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Any,
    dcat: DcatSettings,
    suffix: str,
    page: int,
    page_size: int | None,
) -> Response:
    size = min(page_size or dcat.page_size, dcat.max_page_size)
    total, modified, rows = visible_page(session, actor, page=page, page_size=size)
    base = settings.portal.base_url
    url = f"{base.rstrip('/')}/catalog.{suffix}"
    paging = Page(number=page, size=size, total=total, url=url, custom_size=page_size is not None)
    graph = catalog_graph(bundles_for(session, rows), base_url=base, page=paging, modified=modified)
    return _respond(serialize(graph, suffix), suffix)


PageQuery = Annotated[int, Query(ge=1, description="Page number, from 1.")]
PageSizeQuery = Annotated[int | None, Query(ge=1, description="Datasets per page (capped).")]


def _catalog_route(suffix: str) -> Callable[..., Response]:
    def route(
        request: Request,
        session: SessionDep,
        actor: ActorDep,
        settings: SettingsDep,
        dcat: DcatSettingsDep,
        page: PageQuery = 1,
        page_size: PageSizeQuery = None,
    ) -> Response:
        return _catalog(request, session, actor, settings, dcat, suffix, page, page_size)

    route.__doc__ = f"The catalog as {FORMATS[suffix][1].split(';')[0]}, one page at a time."
    return route


for _suffix in FORMATS:
    router.add_api_route(f"/catalog.{_suffix}", _catalog_route(_suffix), methods=["GET"])


def _dataset_response(name: str, session: Session, actor: Actor, settings: Any, suffix: str) -> Response:
    dataset = service.require_dataset(session, name)
    authorize(actor, Action.DATASET_VIEW, dataset, surface="dcat")
    [bundle] = bundles_for(session, [dataset])
    graph = dataset_graph(bundle, base_url=settings.portal.base_url)
    return _respond(serialize(graph, suffix), suffix)


def _dataset_route(suffix: str) -> Callable[..., Response]:
    def route(name: str, session: SessionDep, actor: ActorDep, settings: SettingsDep) -> Response:
        return _dataset_response(name, session, actor, settings, suffix)

    route.__doc__ = f"One dataset as {FORMATS[suffix][1].split(';')[0]}."
    return route


for _suffix in FORMATS:
    router.add_api_route(f"/dataset/{{name}}.{_suffix}", _dataset_route(_suffix), methods=["GET"])


def _domains_route(suffix: str) -> Callable[..., Response]:
    def route(settings: SettingsDep) -> Response:
        return _respond(serialize(domains_graph(base_url=settings.portal.base_url), suffix), suffix)

    route.__doc__ = "Our data-domain taxonomy (skos:ConceptScheme)."
    return route


for _suffix in FORMATS:
    router.add_api_route(f"/vocab/domains.{_suffix}", _domains_route(_suffix), methods=["GET"])
