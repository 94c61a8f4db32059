"""Pages of the data exchange: the marketplace, product and seller pages, certificate check, statistics."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from auth.policy import AccessDenied, NotVisible
from catalog import service
from catalog.exchange import orders, products, rights
from catalog.exchange.stats import exchange_stats
from portal.api_v1.exchange import check_certificate, gateway, is_operator, may_see_product
from portal.deps import SessionDep, SettingsDep
from portal.pages.rendering import Page, PageRoute, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PAGE_SIZE = 20


def yuan(fen: int | None) -> str:
    """Integer fen as ¥ yuan with two decimals."""
    if fen is None:
        return "—"
    return f"¥{fen // 100:,}.{fen % 100:02d}"


@router.get("/exchange", response_class=HTMLResponse)
def marketplace(
    page: Page,
    session: SessionDep,
    q: str | None = None,
    category: str | None = None,
    seller: str | None = None,
    delivery_mode: str | None = None,
    price_min: Annotated[int | None, Query(description="yuan")] = None,
    price_max: Annotated[int | None, Query(description="yuan")] = None,
    p: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """The marketplace: listed products with search and facets."""
    seller_org = service.get_organization_by_name(session, seller) if seller else None
    found = products.search_products(
        session,
        q=q,
        category=category,
        seller=seller_org.id if seller_org else None,
        delivery_mode=delivery_mode,
        price_min_fen=price_min * 100 if price_min is not None else None,
        price_max_fen=price_max * 100 if price_max is not None else None,
        limit=PAGE_SIZE,
        offset=(p - 1) * PAGE_SIZE,
    )
    orgs = service.organizations_by_id(
        session,
        {prod.seller_org_id for prod in found.products} | {uuid.UUID(s) for s in found.facets["seller"]},
    )
    return render(
        page,
        "exchange/catalog.html",
        {"found": found, "orgs": orgs, "q": q or "", "yuan": yuan, "page_no": p, "page_size": PAGE_SIZE},
    )


@router.get("/exchange/products/{name}", response_class=HTMLResponse)
def product_page(page: Page, session: SessionDep, name: str) -> HTMLResponse:
    """One product: its specification, plans, assessments, rights certificate and seller."""
    product = products.require_product(session, name)
    if not may_see_product(page.actor, product, session):
        raise NotVisible("exchange.product.view", "not visible")
    orgs = service.organizations_by_id(session, [product.seller_org_id, product.holder_org_id])
    assessments = products.assessments_of(session, product)
    providers = service.organizations_by_id(session, [a.provider_org_id for a in assessments])
    return render(
        page,
        "exchange/product.html",
        {
            "product": product,
            "seller": orgs.get(product.seller_org_id),
            "holder": orgs.get(product.holder_org_id),
            "plans": products.active_plans(session, product),
            "assessments": assessments,
            "providers": providers,
            "registrations": rights.registrations_of(session, product),
            "datasets": products.product_datasets(session, product),
            "yuan": yuan,
        },
    )


@router.get("/exchange/sellers/{org_name}", response_class=HTMLResponse)
def seller_page(page: Page, session: SessionDep, org_name: str) -> HTMLResponse:
    """A seller's page: who it is and its listed products."""
    org = service.require_organization(session, org_name)
    listed = products.products_of_seller(session, org.id)
    return render(page, "exchange/seller.html", {"org": org, "listed": listed})


@router.get("/exchange/verify", response_class=HTMLResponse)
def verify_page(
    page: Page,
    session: SessionDep,
    settings: SettingsDep,
    certificate: Annotated[str | None, Query(max_length=20_000)] = None,
) -> HTMLResponse:
    """Public check of a rights certificate or transaction certificate: signature and current status."""
    from auth.tokens import public_key_pem

    result = None
    if certificate and certificate.strip():
        gw = gateway(page.request, settings, page.user)
        result = check_certificate(session, gw, certificate)
    return render(
        page,
        "exchange/verify.html",
        {"result": result, "certificate": certificate or "", "public_key": public_key_pem(settings.auth)},
    )


@router.get("/exchange/stats", response_class=HTMLResponse)
def stats_page(page: Page, session: SessionDep) -> HTMLResponse:
    """Turnover by month and category, top products and sellers, open disputes (operator, regulator)."""
    if not (is_operator(page.actor) or page.actor.is_regulator):
        raise AccessDenied("exchange.stats", "for the operator and the regulator / 仅运营方和监管方")
    return render(
        page,
        "exchange/stats.html",
        {"stats": exchange_stats(session), "disputes": orders.open_disputes(session), "yuan": yuan},
    )
