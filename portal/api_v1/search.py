"""Full-text, faceted search over the catalog, in Chinese and English."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from catalog.search.index import FACETS
from catalog.search.query import SearchQuery, SearchResult, search
from portal.deps import ActorDep, SessionDep
from portal.visibility import search_visibility

router = APIRouter(tags=["search"])


@router.get("/search")
def search_datasets(
    session: SessionDep,
    actor: ActorDep,
    q: Annotated[
        str, Query(max_length=500, description="Words to look for (简体 or 繁體, or English).")
    ] = "",
    organization: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default
    domain: Annotated[list[str], Query()] = [],  # noqa: B006
    industry: Annotated[list[str], Query()] = [],  # noqa: B006
    grade: Annotated[list[str], Query()] = [],  # noqa: B006
    open_type: Annotated[list[str], Query()] = [],  # noqa: B006
    format: Annotated[list[str], Query()] = [],  # noqa: B006
    tags: Annotated[list[str], Query()] = [],  # noqa: B006
    update_frequency: Annotated[list[str], Query()] = [],  # noqa: B006
    region: Annotated[list[str], Query()] = [],  # noqa: B006
    facet: Annotated[list[str], Query(description="Facets to count.")] = [],  # noqa: B006
    sort: Literal["relevance", "modified", "title", "popularity"] = "relevance",
    order: Literal["asc", "desc"] | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=0, le=1000)] = 20,
) -> SearchResult:
    """Search the datasets the caller may see; filters AND across facets and OR within one."""
    given = {
        "organization": organization,
        "domain": domain,
        "industry": industry,
        "grade": grade,
        "open_type": open_type,
        "format": format,
        "tags": tags,
        "update_frequency": update_frequency,
        "region": region,
    }
    query = SearchQuery(
        text=q,
        filters={k: v for k, v in given.items() if v and k in FACETS},
        sort=sort,
        order=order,
        page=page,
        limit=limit,
        facets=tuple(facet),
        **search_visibility(actor),
    )
    return search(session, query)
