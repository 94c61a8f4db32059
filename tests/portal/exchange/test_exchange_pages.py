"""The marketplace pages: catalog with facets, product page, seller page, certificate check, stats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from catalog.exchange import products, rights
from tests.catalog.exchange.world import attach, authorize_broker, broker_product, build_world, gateway, plan
from tests.factories import make_token


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    """Cheap Argon2 parameters."""
    from auth.passwords import configure_hasher, restore_hasher

    previous = configure_hasher(time_cost=1, memory_cost_kib=8, parallelism=1)
    yield
    restore_hasher(previous)


def test_marketplace_product_seller_verify_and_stats_pages(app_client: TestClient) -> None:
    app = app_client.app
    with Session(app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        world = build_world(s, app.state.storage)  # type: ignore[attr-defined]
        gw = app_client.app.state.settings.auth  # type: ignore[attr-defined]
        product = broker_product(s, world, authorize_broker(s, world))
        attach(s, world, product)
        plan(s, world, product, price_fen=12_345)
        products.submit_product(s, gateway(), actor_id=None, product=product)
        products.approve_product(s, gateway(), actor_id=None, product=product)
        from portal.api_v1.exchange import AuthGateway

        real = AuthGateway(gw)
        reg = rights.apply(s, real, actor_id=None, product=product, holder=world.holder, rights=["holding"])
        rights.certify(s, real, actor_id=None, registration=reg)
        hidden = broker_product(s, world, authorize_broker(s, world), name="draft-product", title="草稿产品")
        regulator = make_token(s, world.users["regulator"])
        s.commit()

    html = app_client.get("/exchange", params={"delivery_mode": "sandbox"}).text
    assert product.title in html and "¥123.45" in html and hidden.title not in html
    assert product.title not in app_client.get("/exchange", params={"price_max": 100}).text
    page = app_client.get(f"/exchange/products/{product.name}")
    assert page.status_code == 200 and "产品说明书" in page.text and "compliance report" in page.text
    assert app_client.get(f"/exchange/products/{hidden.name}").status_code == 404
    assert product.title in app_client.get(f"/exchange/sellers/{world.broker.name}").text
    assert reg.certificate is not None
    ok = app_client.get("/exchange/verify", params={"certificate": reg.certificate})
    assert "签名有效" in ok.text and "registered" in ok.text
    forged = reg.certificate[:-6] + ("AAAAAA" if not reg.certificate.endswith("AAAAAA") else "BBBBBB")
    assert "签名无效" in app_client.get("/exchange/verify", params={"certificate": forged}).text
    assert app_client.get("/exchange/stats").status_code in (303, 307, 403)
    stats = app_client.get("/exchange/stats", headers={"Authorization": f"Bearer {regulator}"})
    assert stats.status_code == 200 and "交易统计" in stats.text
