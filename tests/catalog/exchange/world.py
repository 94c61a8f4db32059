"""A small exchange world made through the services: holder, broker, provider, operator, buyer."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlmodel import Session

from auth.models import User
from auth.settings import AuthSettings
from catalog import service
from catalog.exchange import products
from catalog.exchange.models import BrokerAuthorization, DataProduct
from catalog.exchange.products import AssessmentCreate, PlanCreate, ProductCreate, ProductSpec
from catalog.models import Dataset, Organization, ResourceVersion
from catalog.schemas import ResourceCreate
from portal.api_v1.exchange import AuthGateway
from storage import Storage, make_key
from tests.factories import make_dataset, make_org, make_user, publish

DISTRICTS = ["西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "临平区"]
# 西湖区..萧山区 get 12 rows each, 临平区 only 3: the sandbox must withhold that group at k=10.
ROWS = [(i, DISTRICTS[i % 5], 1000 + i * 7, round(10.5 + i * 0.5, 2)) for i in range(60)] + [
    (60 + i, "临平区", 5000 + i, 99.0) for i in range(3)
]


def sample_table() -> pa.Table:
    """63 rows: five districts of 12 rows and one of 3."""
    return pa.table(
        {
            "id": pa.array([r[0] for r in ROWS], pa.int64()),
            "区县": [r[1] for r in ROWS],
            "人口": pa.array([r[2] for r in ROWS], pa.int64()),
            "面积": [r[3] for r in ROWS],
        }
    )


def add_table_resource(
    session: Session, storage: Storage, dataset: Dataset, *, name: str = "表"
) -> ResourceVersion:
    """A resource with an uploaded CSV and its normalized Parquet copy, as ingestion leaves them."""
    table = sample_table()
    resource = service.create_resource(
        session, actor_id=None, dataset=dataset, data=ResourceCreate(name=name)
    )
    sink = io.StringIO()
    writer = csv.writer(sink)
    writer.writerow(table.column_names)
    writer.writerows(zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True))
    version = service.upload_resource_file(
        session,
        storage,
        actor_id=None,
        resource=resource,
        filename=f"{name}.csv",
        data=[sink.getvalue().encode("utf-8")],
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    key = make_key("datasets", str(dataset.id), str(resource.id), f"v{version.version}.normalized.parquet")
    storage.put(key, buffer, content_type="application/vnd.apache.parquet")
    version.normalized_key = key
    version.row_count = table.num_rows
    version.quality_score = 92.5
    version.quality_status = "passed"
    session.add(version)
    session.flush()
    return version


def gateway() -> AuthGateway:
    """The real auth-backed gateway with a test secret."""
    return AuthGateway(AuthSettings(secret_key="test-secret-key-0123456789abcdef"), actor_name="test")


@dataclass
class World:
    """Organizations, users and one dataset per role in the story."""

    holder: Organization
    broker: Organization
    provider: Organization
    buyer_org: Organization
    users: dict[str, User]
    dataset: Dataset
    version: ResourceVersion
    extra: dict[str, Any] = field(default_factory=dict)


def build_world(
    session: Session,
    storage: Storage,
    *,
    open_type: str = "conditional",
    grade: str = "general_3",
    published: bool = True,
) -> World:
    """An agency holding one dataset with a table; a broker, a service provider, an enterprise buyer."""
    holder = make_org(session, org_type="agency")
    broker = make_org(session, org_type="broker")
    provider = make_org(session, org_type="service_provider")
    buyer_org = make_org(session, org_type="enterprise")
    operator_org = make_org(session, org_type="exchange_operator")
    users = {
        "holder": make_user(session, org=holder, role="admin"),
        "broker": make_user(session, org=broker, role="admin"),
        "provider": make_user(session, org=provider, role="editor"),
        "buyer": make_user(session, org=buyer_org, role="editor"),
        "operator": make_user(session, org=operator_org, role="admin", platform_roles=["operator"]),
        "regulator": make_user(session, platform_roles=["regulator"]),
        "stranger": make_user(session),
    }
    dataset = make_dataset(session, holder, open_type=open_type, grade=grade)
    if published:
        publish(session, dataset)
    else:
        dataset.grade_confirmed = True
        session.add(dataset)
    version = add_table_resource(session, storage, dataset)
    session.flush()
    return World(holder, broker, provider, buyer_org, users, dataset, version)


def authorize_broker(session: Session, world: World, **overrides: Any) -> BrokerAuthorization:
    """The holder authorizes the broker for its dataset for a year."""
    now = datetime.now(UTC)
    args: dict[str, Any] = {
        "holder": world.holder,
        "agent": world.broker,
        "dataset_ids": [world.dataset.id],
        "valid_from": now - timedelta(days=1),
        "valid_to": now + timedelta(days=365),
    }
    args.update(overrides)
    return products.authorize_agent(session, gateway(), actor_id=world.users["holder"].id, **args)


def spec() -> ProductSpec:
    """A complete 产品说明书."""
    return ProductSpec(
        data_source="杭州市数据资源管理局 / Hangzhou data bureau",
        lawful_origin="依法履职采集，经授权运营 / collected in the course of statutory duties",
        content="各区县人口与面积 / population and area by district",
        fields=[{"name": "区县", "type": "text", "description": "district"}],
        coverage="杭州市 2024",
        update_frequency="monthly",
        sample_rows=[{"区县": "西湖区", "人口": 1000}],
        usage_restrictions="仅用于商业分析 / business analysis only",
    )


def broker_product(
    session: Session, world: World, auth: BrokerAuthorization, **overrides: Any
) -> DataProduct:
    """A draft product the broker sells for the holder under the authorization."""
    data: dict[str, Any] = {
        "name": f"product-{world.dataset.name}",
        "title": "区县人口数据产品",
        "category": "population",
        "seller_role": "broker",
        "holder_org": world.holder.name,
        "authorization_id": auth.id,
        "dataset_ids": [world.dataset.id],
        "delivery_modes": ["file", "api", "sandbox"],
        "spec": spec(),
    }
    data.update(overrides)
    return products.create_product(
        session, gateway(), actor_id=world.users["broker"].id, seller=world.broker, data=ProductCreate(**data)
    )


def attach(
    session: Session, world: World, product: DataProduct, kind: str = "compliance", conclusion: str = "pass"
) -> Any:
    """The service provider attaches an assessment."""
    return products.attach_assessment(
        session,
        gateway(),
        actor_id=world.users["provider"].id,
        product=product,
        provider=world.provider,
        data=AssessmentCreate(kind=kind, title=f"{kind} report", conclusion=conclusion),
    )


def plan(session: Session, world: World, product: DataProduct, **overrides: Any) -> Any:
    """A subscription plan by default."""
    data: dict[str, Any] = {
        "name": "月度订阅",
        "kind": "subscription",
        "price_fen": 99_999,
        "download_quota": 2,
        "query_quota": 3,
    }
    data.update(overrides)
    return products.add_plan(
        session, gateway(), actor_id=world.users["broker"].id, product=product, data=PlanCreate(**data)
    )
