"""The marketplace pages: catalog with facets, product page, seller page, certificate check, stats."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from catalog.exchange import products, rights
from tests.catalog.exchange.world import attach, authorize_broker, broker_product, build_world, gateway, plan
from tests.factories import make_token
from tests.portal.pages.conftest import sign_in


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


# --- the whole trade through the page forms ---------------------------------------------------------

FORM_RE = re.compile(r"<form\b[^>]*>.*?</form>", re.S)
ACTION_RE = re.compile(r'action="([^"]*)"')
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS_PRODUCT = "<script>alert('x')</script>人口产品"


def form_token(html: str, action: str) -> str:
    """The CSRF token of the rendered form that posts to `action` (the form must be on the page)."""
    for form in FORM_RE.findall(html):
        found = ACTION_RE.search(form.split(">", 1)[0])
        if found and found.group(1) == action:
            token = TOKEN_RE.search(form)
            assert token, f"the form to {action} carries no CSRF token"
            return token.group(1)
    raise AssertionError(f"no form posts to {action}")


def submit(
    client: TestClient,
    page_url: str,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    expect: int = 303,
    files: dict[str, Any] | None = None,
) -> Response:
    """Open the page, take the form's CSRF token, post the form as a browser would."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code, page.text[:500])
    body = {**(data or {}), "csrf_token": form_token(page.text, action)}
    r = client.post(action, data=body, files=files, follow_redirects=False)
    assert r.status_code == expect, (action, r.status_code, r.text[:2000])
    return r


def options(html: str, select_name: str) -> list[str]:
    """The option values of a <select>."""
    found = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    assert found, f"no select {select_name}"
    return [v for v in re.findall(r'<option value="([^"]*)"', found.group(1)) if v]


@dataclass
class Trade:
    """The exchange world and its users' names."""

    world: Any
    names: dict[str, str]


@pytest.fixture
def trade(app_client: TestClient) -> Trade:
    """Holder, broker, service provider, buyer and operator (the exchange world), made by the services."""
    app = app_client.app
    with Session(app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        world = build_world(s, app.state.storage)  # type: ignore[attr-defined]
        s.commit()
    return Trade(world, {k: u.name for k, u in world.users.items()})


def product_form(world: Any, **overrides: Any) -> dict[str, Any]:
    """What a holder types into the new-product form."""
    data: dict[str, Any] = {
        "seller_org": world.holder.name,
        "seller_role": "holder",
        "authorization_id": "",
        "name": "district-pop",
        "title": "区县人口统计数据产品",
        "description": "杭州市各区县人口与面积",
        "category": "population",
        "dataset_ids": [str(world.dataset.id)],
        "delivery_modes": ["file", "api", "sandbox"],
        "data_source": "杭州市数据资源管理局",
        "lawful_origin": "依法履职采集，授权运营",
        "content": "区县人口与面积",
        "fields": "区县 | text | 行政区\n人口 | int | 常住人口",
        "coverage": "杭州市 2024",
        "update_frequency": "monthly",
        "sample_rows": "区县,人口\n西湖区,1000\n上城区,1007",
        "usage_restrictions": "不得用于识别个人",
        "anonymization_method": "",
    }
    data.update(overrides)
    return data


def test_the_whole_trade_through_page_forms(app_client: TestClient, trade: Trade) -> None:
    c, w, who = app_client, trade.world, trade.names
    today = datetime.now(UTC).date()

    # 1. the holder agency authorizes the broker: who, which data, until when
    sign_in(c, who["holder"])
    submit(
        c,
        "/exchange/authorizations",
        "/exchange/authorizations",
        {
            "holder_org": w.holder.name,
            "agent_org": w.broker.name,
            "agent_role": "broker",
            "dataset_ids": [str(w.dataset.id)],
            "valid_from": today.isoformat(),
            "valid_to": (today + timedelta(days=365)).isoformat(),
            "scope": "经营区县人口数据产品",
        },
    )
    assert "有效" in c.get("/exchange/authorizations").text

    # 2. the broker creates the product from the authorized dataset, adds a plan and submits it
    sign_in(c, who["broker"])
    form_page = c.get("/exchange/seller/new").text
    [auth_id] = options(form_page, "authorization_id")
    created = submit(
        c,
        "/exchange/seller/new",
        "/exchange/seller/new",
        product_form(w, seller_org=w.broker.name, seller_role="broker", authorization_id=auth_id),
    )
    manage = created.headers["location"]
    assert manage == "/exchange/seller/products/district-pop"
    assert "草稿" in c.get(manage).text
    submit(
        c,
        manage,
        f"{manage}/plans",
        {"name": "月度订阅", "kind": "subscription", "price": "999.99", "period_days": "30",
         "download_quota": "2", "query_quota": "3"},
    )  # fmt: skip
    refused = submit(
        c, manage, f"{manage}/plans", {"name": "坏方案", "kind": "subscription", "price": "abc"}, expect=422
    )
    assert "价格须为" in refused.text
    submit(c, manage, f"{manage}/submit")
    page = c.get(manage).text
    assert "待审核" in page and "¥999.99" in page and "须附第三方合规评估报告" in page

    # 3. a service provider attaches its compliance report (the uploaded file is fingerprinted)
    sign_in(c, who["provider"])
    assert "区县人口统计数据产品" in c.get("/exchange/assessments").text
    report = "合规评估报告全文".encode()
    submit(
        c,
        "/exchange/products/district-pop/assess",
        "/exchange/products/district-pop/assess",
        {
            "provider_org": w.provider.name,
            "kind": "compliance",
            "title": "合规评估报告",
            "conclusion": "pass",
        },
        files={"report_file": ("report.pdf", report, "application/pdf")},
    )
    assert hashlib.sha256(report).hexdigest() in c.get("/exchange/products/district-pop/assess").text

    # 4. the operator sees every checklist item pass, and approves
    sign_in(c, who["operator"])
    queue = c.get("/exchange/operator").text
    assert "区县人口统计数据产品" in queue and "✗" not in queue and queue.count("✓ 通过") == 6
    review = "/exchange/operator/review/district-pop"
    submit(c, review, review, {"decision": "approve"})
    assert "已挂牌" in c.get("/exchange/products/district-pop").text

    # 5. rights: the holder applies, the operator certifies; the certificate downloads and verifies
    sign_in(c, who["holder"])
    rights_url = submit(c, manage, f"{manage}/rights", {"rights": ["holding", "operating"]}).headers[
        "location"
    ]
    sign_in(c, who["operator"])
    submit(c, rights_url, f"{rights_url}/certify")
    cert = c.get(f"{rights_url}/certificate.jws")
    assert cert.status_code == 200 and "attachment" in cert.headers["content-disposition"]
    first_certificate = cert.text
    checked = c.get("/exchange/verify", params={"certificate": first_certificate}).text
    assert "签名有效" in checked and "registered" in checked

    # ... and its life: licence and change by the holder, an objection dismissed by the operator
    sign_in(c, who["holder"])
    submit(
        c,
        rights_url,
        f"{rights_url}/license",
        {
            "licensee_org": w.buyer_org.name,
            "rights": ["operating"],
            "until": (today + timedelta(days=90)).isoformat(),
        },
    )
    submit(c, rights_url, f"{rights_url}/change", {"rights": ["holding", "operating", "processing"]})
    sign_in(c, who["stranger"])
    submit(c, rights_url, f"{rights_url}/objection", {"reason": "该数据部分由本单位采集"})
    assert "异议处理中" in c.get(rights_url).text
    sign_in(c, who["operator"])
    objection_page = c.get(rights_url).text
    [decide] = re.findall(r'action="(/exchange/objections/[0-9a-f-]+/decide)"', objection_page)
    submit(c, rights_url, decide, {"decision": "dismissed", "resolution": "采集主体为持有方"})
    history = c.get(rights_url).text
    assert "已登记" in history and all(k in history for k in ("许可", "变更", "异议驳回"))
    superseded = c.get("/exchange/verify", params={"certificate": first_certificate}).text
    assert "superseded" in superseded  # an older certificate shows that a newer one exists

    # 6. the buyer chooses a plan and orders; both sides accept the contract; the buyer pays
    sign_in(c, who["buyer"])
    product_page = c.get("/exchange/products/district-pop").text
    [plan_id] = re.findall(r'name="plan_id" value="([0-9a-f-]+)"', product_page)
    placed = submit(
        c,
        "/exchange/products/district-pop",
        "/exchange/products/district-pop/order",
        {"plan_id": plan_id, "buyer_org": w.buyer_org.name, "scope_of_use": "内部分析"},
    )
    order_url = placed.headers["location"]
    number = order_url.rsplit("/", 1)[1]
    page = c.get(order_url).text
    assert "不得以任何形式转售" in page and "待签合同" in page
    submit(c, order_url, f"{order_url}/accept", {"side": "buyer"})
    sign_in(c, who["broker"])
    assert number in c.get("/exchange/seller").text
    submit(c, order_url, f"{order_url}/accept", {"side": "seller"})
    sign_in(c, who["buyer"])
    wrong = submit(c, order_url, f"{order_url}/pay", {"amount": "1.00"}, expect=422)
    assert "金额与价格不符" in wrong.text
    submit(c, order_url, f"{order_url}/pay", {"amount": "999.99", "payment_ref": "BANK-1"})
    page = c.get(order_url).text
    assert "履约中" in page and number in c.get("/exchange/orders").text

    # 7. delivery: a file download, a data API query, a sandbox query with a small group withheld
    [download] = re.findall(r'href="(/dataset/[^"]+/download)"', page)
    got = c.get(download)
    assert got.status_code == 200 and "区县" in got.content.decode("utf-8")
    rid = str(w.version.resource_id)
    rows = submit(
        c,
        order_url,
        f"{order_url}/data",
        {"resource_id": rid, "fields": "区县,人口", "limit": "5"},
        expect=200,
    ).text
    assert 'id="data-result"' in rows and "西湖区" in rows
    result = submit(
        c,
        order_url,
        f"{order_url}/sandbox",
        {"resource_id": rid, "group_by": ["区县"], "op_1": "count", "op_2": "avg", "field_2": "人口"},
        expect=200,
    ).text
    table = result.split('id="sandbox-result"', 1)[1].split("</table>", 1)[0]
    assert "西湖区" in table and "临平区" not in table
    assert "已隐去 1 个少于 10 行的分组" in result
    assert "已下载 1/2" in result and "已调用 2/3" in result

    # 8. receipt settles; the transaction certificate shows, downloads and verifies
    submit(c, order_url, f"{order_url}/receive")
    certificate_page = c.get(f"{order_url}/certificate").text
    assert "交易凭证" in certificate_page and "签名有效" in certificate_page and "¥999.99" in certificate_page
    token = c.get(f"{order_url}/certificate.jws").text
    assert "签名有效" in c.get("/exchange/verify", params={"certificate": token}).text

    # 9. a dispute: the buyer opens it, the seller answers, the operator resolves with the full record
    submit(c, order_url, f"{order_url}/dispute", {"reason": "数据与说明书不符"})
    [dispute_url] = re.findall(r'href="(/exchange/disputes/[0-9a-f-]+)"', c.get(order_url).text)
    sign_in(c, who["broker"])
    assert dispute_url in c.get("/exchange/seller").text
    submit(c, dispute_url, f"{dispute_url}/answer", {"answer": "已按说明书交付"})
    sign_in(c, who["operator"])
    record = c.get(dispute_url).text
    assert "清算记录" in record and "已按说明书交付" in record and "exchange.order.settle" in record
    submit(
        c, dispute_url, f"{dispute_url}/resolve", {"outcome": "refund", "resolution": "部分字段缺失，退款"}
    )
    assert "已退款" in c.get(order_url).text

    # 10. the operator runs expiry (nothing is due)
    expired = submit(c, "/exchange/operator", "/exchange/operator/expire").headers["location"]
    assert "没有到期的订单" in c.get(expired).text

    # 11. a second order, paid, then cancelled before delivery: refunded
    sign_in(c, who["buyer"])
    second = submit(
        c,
        "/exchange/products/district-pop",
        "/exchange/products/district-pop/order",
        {"plan_id": plan_id, "buyer_org": w.buyer_org.name},
    ).headers["location"]
    submit(c, second, f"{second}/accept", {"side": "buyer"})
    sign_in(c, who["broker"])
    submit(c, second, f"{second}/accept", {"side": "seller"})
    sign_in(c, who["buyer"])
    submit(c, second, f"{second}/pay", {"amount": "999.99"})
    submit(c, second, f"{second}/cancel", {"reason": "需求变更"})
    assert "已退款" in c.get(second).text

    # 12. the holder transfers its registration; the operator revokes it; the broker delists the product
    sign_in(c, who["holder"])
    submit(c, rights_url, f"{rights_url}/transfer", {"to_org": w.buyer_org.name})
    assert w.buyer_org.title in c.get(rights_url).text.split("权利人")[1].split("</dd>")[0]
    sign_in(c, who["operator"])
    submit(c, rights_url, f"{rights_url}/revoke", {"reason": "登记材料不实"})
    assert "已撤销" in c.get(rights_url).text
    sign_in(c, who["broker"])
    submit(c, manage, f"{manage}/delist", {"reason": "停止经营"})
    assert "区县人口统计数据产品" not in c.get("/exchange").text
    assert "Refunded" in c.get(f"{order_url}?lang=en").text
    sign_in(c, who["stranger"])
    assert c.get(order_url).status_code == 404  # not a party: the order does not exist for them


def test_reject_with_reasons_and_escaped_titles(app_client: TestClient, trade: Trade) -> None:
    c, w, who = app_client, trade.world, trade.names
    sign_in(c, who["holder"])
    bad = submit(
        c, "/exchange/seller/new", "/exchange/seller/new", product_form(w, name="Bad Name!"), expect=422
    )
    assert "名称须为" in bad.text and 'aria-invalid="true"' in bad.text
    created = submit(c, "/exchange/seller/new", "/exchange/seller/new", product_form(w, title=XSS_PRODUCT))
    manage = created.headers["location"]
    submit(
        c, manage, f"{manage}/plans", {"name": "免费试用", "kind": "free", "price": "0", "period_days": "7"}
    )
    submit(c, manage, f"{manage}/submit")

    sign_in(c, who["operator"])
    review = "/exchange/operator/review/district-pop"
    pages = {"queue": c.get("/exchange/operator").text, "review": c.get(review).text}
    refused = submit(c, review, review, {"decision": "approve"}, expect=409)
    assert "须附第三方合规评估报告" in refused.text
    empty = submit(c, review, review, {"decision": "reject", "reasons": "  "}, expect=422)
    assert "驳回须说明理由" in empty.text
    submit(c, review, review, {"decision": "reject", "reasons": "缺少第三方合规评估\n样例数据<b>不完整</b>"})

    sign_in(c, who["holder"])
    outcome = c.get(manage).text
    assert "已驳回" in outcome and "缺少第三方合规评估" in outcome
    assert "样例数据&lt;b&gt;不完整&lt;/b&gt;" in outcome
    pages |= {"manage": outcome, "workspace": c.get("/exchange/seller").text}
    for where, html in pages.items():
        assert XSS_PRODUCT not in html, where
        assert "&lt;script&gt;" in html, where
    assert "<b>不完整</b>" not in outcome

    # the holder registers its rights over the rejected product's data, then cancels (注销) them
    rights_url = submit(c, manage, f"{manage}/rights", {"rights": ["holding"]}).headers["location"]
    sign_in(c, who["operator"])
    submit(c, rights_url, f"{rights_url}/certify")
    sign_in(c, who["holder"])
    submit(c, rights_url, f"{rights_url}/cancel", {"reason": "不再经营"})
    cancelled = c.get(rights_url).text
    assert "已注销" in cancelled and "&lt;script&gt;" in cancelled and XSS_PRODUCT not in cancelled
