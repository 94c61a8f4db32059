"""Acceptance: a broker lists a product, the operator approves, an enterprise buys and receives it.

Everything goes through the HTTP API of a real app (RS256 keys, local storage), on SQLite and
PostgreSQL: authorization, listing, assessment, review, rights certificate (verified offline, and
refused when tampered), order, contract, payment, downloads and data API calls within quota and
stopping at its end and at expiry, the sandbox's k threshold, settlement splits, the transaction
certificate, a targeted grant revoked mid-way, statistics, and the audit chain.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth import audit
from auth.errors import TokenInvalid
from auth.settings import AuthSettings
from auth.tokens import verify_document
from catalog.exchange import orders as order_service
from catalog.exchange.models import ExchangeOrder
from catalog.exchange.settings import ExchangeSettings
from portal.api_v1.exchange import AuthGateway
from portal.app import create_app
from portal.settings import PortalSettings, Settings
from storage import LocalStorage, StorageSettings
from tests.catalog.exchange.world import build_world
from tests.factories import make_token, make_user


@pytest.fixture(autouse=True)
def fast_passwords() -> Iterator[None]:
    """Cheap Argon2 parameters: these tests are about trading, not passwords."""
    from auth.passwords import configure_hasher, restore_hasher

    previous = configure_hasher(time_cost=1, memory_cost_kib=8, parallelism=1)
    yield
    restore_hasher(previous)


def rsa_keys(folder: Path) -> tuple[Path, Path]:
    """A fresh RSA key pair as PEM files."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = folder / "exchange.key"
    public = folder / "exchange.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture
def rs_client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """An app that signs with RS256, so certificates verify offline with the public key."""
    private, public = rsa_keys(tmp_path)
    settings = Settings(
        portal=PortalSettings(database_url=db_url, var_dir=tmp_path, load_demo=False),
        storage=StorageSettings(storage_url=str(tmp_path / "objects")),
        auth=AuthSettings(jwt_algorithm="RS256", jwt_private_key_file=private, jwt_public_key_file=public),
    )
    app = create_app(settings, storage=LocalStorage(tmp_path / "objects"))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


class Api:
    """A client that speaks as one of the world's users."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def __call__(
        self, method: str, path: str, who: str | None = None, expect: int | None = 200, **kw: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        url = path if path.startswith("/api/v1/resources") else f"/api/v1/exchange{path}"
        r = self.client.request(method, url, headers=headers, **kw)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path} as {who}: {r.status_code} {r.text}"
        return r


def tamper(token: str) -> str:
    """The same certificate with its price (or holder) changed, keeping the original signature."""
    header, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if "price_fen" in payload:
        payload["price_fen"] = 1
    else:
        payload["holder"]["title"] = "冒名持有方"
    forged = base64.urlsafe_b64encode(json.dumps(payload, ensure_ascii=False).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_broker_lists_operator_approves_enterprise_buys_and_receives(rs_client: TestClient) -> None:
    app = rs_client.app
    storage = app.state.storage  # type: ignore[attr-defined]
    with Session(app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        world = build_world(s, storage)
        world.users["buyer2"] = make_user(s, org=world.buyer_org, role="member")
        tokens = {k: make_token(s, u) for k, u in world.users.items()}
        s.commit()
    api = Api(rs_client, tokens)
    rid = str(world.version.resource_id)
    now = datetime.now(UTC)

    # 1. the agency (holder) authorizes the broker; the broker lists a product under it
    auth = api(
        "POST",
        "/authorizations",
        "holder",
        201,
        json={
            "holder_org": world.holder.name,
            "agent_org": world.broker.name,
            "dataset_ids": [str(world.dataset.id)],
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_to": (now + timedelta(days=365)).isoformat(),
            "scope": "经营该数据产品 / operate the product",
        },
    ).json()
    api(
        "POST",
        "/authorizations",
        "broker",
        403,
        json={**auth, "holder_org": world.holder.name, "agent_org": world.broker.name},
    )
    product = api(
        "POST",
        "/products",
        "broker",
        201,
        json={
            "seller_org": world.broker.name,
            "name": "district-population",
            "title": "区县人口统计数据产品",
            "description": "杭州市各区县人口与面积",
            "category": "population",
            "seller_role": "broker",
            "holder_org": world.holder.name,
            "authorization_id": auth["id"],
            "dataset_ids": [str(world.dataset.id)],
            "delivery_modes": ["file", "api", "sandbox"],
            "spec": {
                "data_source": "杭州市数据资源管理局",
                "lawful_origin": "依法履职采集，授权运营",
                "content": "区县人口",
                "coverage": "杭州市 2024",
                "update_frequency": "monthly",
                "sample_rows": [{"区县": "西湖区", "人口": 1000}],
                "usage_restrictions": "不得用于识别个人",
            },
        },
    ).json()
    name = product["name"]
    assert product["status"] == "draft" and product["seller_role"] == "broker"
    api("GET", f"/products/{name}", None, 404)  # drafts are not public
    plan = api(
        "POST",
        f"/products/{name}/plans",
        "broker",
        201,
        json={
            "name": "月度订阅",
            "kind": "subscription",
            "price_fen": 99_999,
            "period_days": 30,
            "download_quota": 2,
            "query_quota": 3,
        },
    ).json()
    api("POST", f"/products/{name}/submit", "broker")

    # 2. a service provider attaches an assessment; 3. the operator works the queue and approves
    queue = api("GET", "/review-queue", "operator").json()
    assert [p["name"] for p in queue] == [name]
    assert {c["code"] for c in queue[0]["review_checklist"] if not c["ok"]} == {"assessments"}
    api("POST", f"/products/{name}/review", "operator", 409, json={"decision": "approve"})
    api(
        "POST",
        f"/products/{name}/assessments",
        "provider",
        201,
        json={
            "provider_org": world.provider.name,
            "kind": "compliance",
            "title": "合规评估报告",
            "conclusion": "pass",
        },
    )
    api("POST", f"/products/{name}/review", "broker", 403, json={"decision": "approve"})
    listed = api("POST", f"/products/{name}/review", "operator", json={"decision": "approve"}).json()
    assert listed["status"] == "listed" and all(c["ok"] for c in listed["review_checklist"])
    catalog = api(
        "GET", "/products", None, params={"delivery_mode": "sandbox", "price_max_fen": 100_000}
    ).json()
    assert [p["name"] for p in catalog["products"]] == [name] and catalog["facets"]["category"] == {
        "population": 1
    }
    assert api("GET", "/products", None, params={"price_max_fen": 1000}).json()["total"] == 0

    # 4. rights registration: the holder applies, the operator certifies; the certificate verifies
    registration = api(
        "POST", f"/products/{name}/rights", "holder", 201, json={"rights": ["holding", "operating"]}
    ).json()
    registration = api("POST", f"/rights/{registration['id']}/certify", "operator").json()
    certificate = registration["certificate"]
    pem = api("GET", "/certificates/public-key").json()["public_key_pem"]
    offline = verify_document(pem, certificate)  # offline, with nothing but the public key
    assert offline["status"] == "registered" and offline["data_sha256"] == registration["data_sha256"]
    with pytest.raises(TokenInvalid):
        verify_document(pem, tamper(certificate))
    page = api("POST", "/certificates/verify", None, json={"certificate": certificate}).json()
    assert (
        page["valid"] and page["current_status"] == "registered" and page["number"] == registration["number"]
    )
    assert not api("POST", "/certificates/verify", None, json={"certificate": tamper(certificate)}).json()[
        "valid"
    ]

    # 5. the enterprise orders; both sides accept the contract; payment is recorded
    order = api(
        "POST",
        "/orders",
        "buyer",
        201,
        json={
            "product": name,
            "plan_id": plan["id"],
            "buyer_org": world.buyer_org.name,
            "scope_of_use": "内部分析",
        },
    ).json()
    ref = order["number"]
    assert "不得以任何形式转售" in order["contract"]["text"] and order["status"] == "pending_contract"
    api("POST", f"/orders/{ref}/pay", "buyer", 409, json={"amount_fen": 99_999})
    api("POST", f"/orders/{ref}/accept", "buyer", json={"side": "buyer"})
    api("POST", f"/orders/{ref}/accept", "buyer", 403, json={"side": "seller"})
    order = api("POST", f"/orders/{ref}/accept", "broker", json={"side": "seller"}).json()
    assert order["status"] == "pending_payment"
    api("POST", f"/orders/{ref}/pay", "buyer", 422, json={"amount_fen": 100})  # wrong amount
    order = api(
        "POST", f"/orders/{ref}/pay", "buyer", json={"amount_fen": 99_999, "payment_ref": "BANK-1"}
    ).json()
    assert order["status"] == "active" and order["grant_id"]

    # 6. downloads and data API calls within quota, then they stop
    api("GET", f"/api/v1/resources/{rid}/data", "stranger", 403)
    for _ in range(2):
        api("GET", f"/api/v1/resources/{rid}/download", "buyer")
    api("GET", f"/api/v1/resources/{rid}/download", "buyer", 403)
    for _ in range(2):
        assert api("GET", f"/api/v1/resources/{rid}/data", "buyer", params={"limit": 5}).json()["records"]

    # 7. the sandbox releases only groups of at least k rows, and counts against the same quota
    result = api(
        "POST",
        f"/orders/{ref}/sandbox",
        "buyer",
        json={
            "resource_id": rid,
            "group_by": ["区县"],
            "measures": [{"op": "count"}, {"op": "avg", "field": "人口"}],
        },
    ).json()
    assert result["k"] == 10 and result["withheld_groups"] == 1
    assert "临平区" not in [r["区县"] for r in result["rows"]] and all(
        r["count"] >= 10 for r in result["rows"]
    )
    api("GET", f"/api/v1/resources/{rid}/data", "buyer", 403)  # query quota (3) used up
    api(
        "POST",
        f"/orders/{ref}/sandbox",
        "buyer",
        403,
        json={"resource_id": rid, "measures": [{"op": "count"}]},
    )

    # 8. receipt, settlement: the splits sum to the price; the transaction certificate verifies
    order = api("POST", f"/orders/{ref}/confirm-receipt", "buyer").json()
    assert order["status"] == "received" and order["settled_at"]
    assert order["exchange_fee_fen"] + order["broker_fee_fen"] + order["seller_net_fen"] == 99_999
    assert (order["exchange_fee_fen"], order["broker_fee_fen"]) == (2_999, 4_999)
    tx = verify_document(pem, order["certificate"])
    assert tx["price_fen"] == 99_999 and tx["no"] == ref
    assert (
        api("POST", "/certificates/verify", None, json={"certificate": order["certificate"]}).json()[
            "current_status"
        ]
        == "received"
    )
    assert not api(
        "POST", "/certificates/verify", None, json={"certificate": tamper(order["certificate"])}
    ).json()["valid"]
    stats = api("GET", "/stats", "regulator").json()
    assert stats["turnover_fen"] == 99_999 and stats["by_category"] == {"population": 99_999}
    balances = stats["clearing_balances"]
    assert sum(balances.values()) == 0 and balances.get("escrow", 0) == 0
    assert balances[f"seller:{world.holder.id}"] == order["seller_net_fen"]
    api("GET", "/stats", "buyer", 403)

    # 9. expiry ends delivery at once: an order paid 31 days ago under a 30-day plan
    with Session(app.state.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
        gw = AuthGateway(app.state.settings.auth)  # type: ignore[attr-defined]
        from catalog.exchange import products as product_service

        p = product_service.require_product(s, name)
        old = order_service.place_order(
            s,
            gw,
            actor_id=world.users["buyer2"].id,
            product=p,
            plan=product_service.require_plan(s, p, uuid.UUID(plan["id"])),
            buyer_org=world.buyer_org,
            buyer_user_id=world.users["buyer2"].id,
            settings=ExchangeSettings(),
        )
        order_service.accept_contract(s, gw, actor_id=None, order=old, side="buyer")
        order_service.accept_contract(s, gw, actor_id=None, order=old, side="seller")
        order_service.record_payment(
            s, gw, actor_id=None, order=old, amount_fen=99_999, now=now - timedelta(days=31)
        )
        s.commit()
        old_ref = old.number
    api("GET", f"/api/v1/resources/{rid}/download", "buyer2", 403)
    api("GET", f"/api/v1/resources/{rid}/data", "buyer2", 403)
    assert old_ref in api("POST", "/expire", "operator").json()["expired"]
    assert api("GET", f"/orders/{old_ref}", "buyer2").json()["status"] == "expired"

    # 10. a targeted grant, revoked by the seller with a reason: delivery stops at once
    granted = api(
        "POST",
        f"/products/{name}/targeted-grants",
        "broker",
        201,
        json={
            "buyer_org": world.buyer_org.name,
            "buyer_user": world.users["buyer2"].name,
            "download_quota": 5,
        },
    ).json()
    assert granted["price_fen"] == 0 and granted["targeted"]
    api("GET", f"/api/v1/resources/{rid}/download", "buyer2")
    api("POST", f"/orders/{granted['number']}/revoke", "broker", json={"reason": "违反使用范围"})
    api("GET", f"/api/v1/resources/{rid}/download", "buyer2", 403)

    # 11. a dispute, answered and resolved by the operator with the full record at hand
    dispute = api("POST", f"/orders/{ref}/disputes", "buyer", 201, json={"reason": "数据与说明书不符"}).json()
    api("POST", f"/disputes/{dispute['id']}/answer", "broker", json={"answer": "已按说明书交付"})
    record = api("GET", f"/orders/{ref}/record", "operator").json()
    assert record["entitlement"]["queries_used"] == 3 and len(record["clearing"]) >= 5
    assert [d["state"] for d in record["disputes"]] == ["answered"]
    assert api("GET", "/stats", "operator").json()["open_disputes"] == 1
    api(
        "POST",
        f"/disputes/{dispute['id']}/resolve",
        "operator",
        json={"outcome": "refund", "resolution": "部分字段缺失，退款"},
    )
    refunded = api("GET", f"/orders/{ref}", "buyer").json()
    assert refunded["status"] == "refunded"
    balances = api("GET", "/stats", "operator").json()["clearing_balances"]
    assert balances[f"buyer:{world.buyer_org.id}"] == -99_999  # the second (expired) order stays paid
    assert balances["exchange"] == 2_999 and sum(balances.values()) == 0

    # 12. every step is in the audit chain, and the chain verifies
    with Session(app.state.engine) as s:  # type: ignore[attr-defined]
        actions = {e.action for e in audit.query(s, action="exchange.", limit=1000)}
        assert {
            "exchange.product.approve",
            "exchange.order.pay",
            "exchange.sandbox.query",
            "exchange.rights.register",
        } <= actions
        assert s.get(ExchangeOrder, uuid.UUID(order["id"])) is not None
        assert audit.verify_chain(s) is None
