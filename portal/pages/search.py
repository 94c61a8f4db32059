"""Search results: /dataset?q=... with facet filters, sort, paging and highlighted matches."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from catalog.models import Organization
from catalog.search import InvalidSearchQuery, SearchQuery, search
from portal.deps import SessionDep
from portal.pages.rendering import Page, PageRoute, make_label, render
from portal.visibility import search_visibility

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PAGE_FACETS = ("organization", "domain", "grade", "open_type", "format", "region", "update_frequency")
FACET_VOCAB = {
    "domain": "domains",
    "grade": "grades",
    "open_type": "open_types",
    "region": "regions",
    "update_frequency": "frequencies",
}
FACET_TITLES = {
    "organization": ("提供机构", "Organization"),
    "domain": ("数据领域", "Domain"),
    "grade": ("数据分级", "Grade"),
    "open_type": ("开放属性", "Open type"),
    "format": ("格式", "Format"),
    "region": ("行政区划", "Region"),
    "update_frequency": ("更新频率", "Update frequency"),
}
SORTS = {
    "relevance": ("相关度", "Relevance"),
    "modified": ("最近更新", "Recently updated"),
    "popularity": ("下载量", "Most downloaded"),
    "title": ("名称", "Title"),
}
PER_PAGE = 20


@router.get("/dataset", response_class=HTMLResponse)
def search_page(page: Page, session: SessionDep, q: str = "", sort: str = "relevance") -> HTMLResponse:
    """Datasets the caller may see that match the words and filters."""
    params = page.request.query_params
    page_no = _int(params.get("page"), 1)
    filters = {f: [v for v in params.getlist(f) if v] for f in PAGE_FACETS if params.getlist(f)}
    if sort not in SORTS:
        sort = "relevance"
    error = ""
    try:
        query = SearchQuery(
            text=q[:200],
            filters=filters,
            sort=sort,  # type: ignore[arg-type]
            page=max(1, min(page_no, 500)),
            limit=PER_PAGE,
            facets=PAGE_FACETS,
            facet_limit=12,
            **search_visibility(page.actor),
        )
        result = search(session, query)
    except InvalidSearchQuery as exc:
        error = str(exc)
        result = None
    label = make_label(page.lang)
    org_names = set()
    if result is not None:
        org_names = {v for v, _ in result.facets.get("organization", [])} | set(
            filters.get("organization", [])
        )
    orgs = (
        {
            o.name: o
            for o in session.exec(
                select(Organization).where(col(Organization.name).in_(sorted(org_names)))
            ).all()
        }
        if org_names
        else {}
    )

    def facet_label(facet: str, value: str) -> str:
        if facet == "organization":
            org = orgs.get(value)
            return (org.title_en or org.title) if org and page.lang == "en" else (org.title if org else value)
        if facet in FACET_VOCAB:
            return label(FACET_VOCAB[facet], value)
        return value

    return render(
        page,
        "search.html",
        {
            "q": q,
            "sort": sort,
            "sorts": SORTS,
            "result": result,
            "error": error,
            "filters": filters,
            "facet_names": PAGE_FACETS,
            "facet_titles": FACET_TITLES,
            "facet_label": facet_label,
            "page_no": page_no,
            "per_page": PER_PAGE,
        },
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
