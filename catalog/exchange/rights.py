"""数据产权登记: the holder registers its rights over a product; the operator certifies them.

Life of a registration: apply (首次登记申请) -> register (certificate issued) -> license (许可),
transfer (转让), change (变更), objection (异议) -> upheld (revoked) | dismissed, cancel (注销 by the
holder), revoke (撤销 by the operator). Every event is recorded and re-issues the certificate with
the current status and a higher version, so the newest certificate always tells the truth; the
verification page shows the current state of older ones.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from catalog import ledger, service
from catalog.exchange import certificates
from catalog.exchange.errors import InvalidProduct, InvalidTransition, RegistrationNotFound
from catalog.exchange.models import (
    DataProduct,
    Right,
    RightsEvent,
    RightsEventKind,
    RightsObjection,
    RightsRegistration,
    RightsState,
)
from catalog.exchange.ports import Gateway
from catalog.exchange.products import _record, fingerprint
from catalog.models import Organization, utcnow

LIVE = (RightsState.REGISTERED.value, RightsState.OBJECTED.value)


def get_registration(session: Session, ref: str | uuid.UUID) -> RightsRegistration | None:
    """A registration by id or certificate number, or None."""
    return service.by_id_or_key(session, RightsRegistration, ref, "number")


def require_registration(session: Session, ref: str | uuid.UUID) -> RightsRegistration:
    """A registration by id or number; raises RegistrationNotFound."""
    found = get_registration(session, ref)
    if found is None:
        raise RegistrationNotFound(f"产权登记不存在 / rights registration not found: {ref}")
    return found


def registrations_of(session: Session, product: DataProduct) -> list[RightsRegistration]:
    """A product's registrations, newest first."""
    stmt = select(RightsRegistration).where(RightsRegistration.product_id == product.id)
    return list(session.exec(stmt.order_by(col(RightsRegistration.created_at).desc())))


def events_of(session: Session, registration: RightsRegistration) -> list[RightsEvent]:
    """A registration's events, oldest first."""
    stmt = select(RightsEvent).where(RightsEvent.registration_id == registration.id)
    return list(session.exec(stmt.order_by(col(RightsEvent.at))))


def objections_of(session: Session, registration: RightsRegistration) -> list[RightsObjection]:
    """A registration's objections, oldest first."""
    stmt = select(RightsObjection).where(RightsObjection.registration_id == registration.id)
    return list(session.exec(stmt.order_by(col(RightsObjection.created_at))))


def _event(
    session: Session,
    gw: Gateway,
    registration: RightsRegistration,
    kind: RightsEventKind,
    *,
    actor_id: uuid.UUID | None,
    detail: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
) -> RightsEvent:
    event = RightsEvent(
        registration_id=registration.id, kind=kind.value, detail=detail or {}, actor_id=actor_id
    )
    session.add(event)
    registration.updated_at = utcnow()
    session.add(registration)
    session.flush()
    _record(
        session,
        gw,
        actor_id=actor_id,
        action=f"exchange.rights.{kind.value}",
        subject=registration,
        org_id=registration.holder_org_id,
        before=before,
        detail={"number": registration.number, "state": registration.state, **(detail or {})},
    )
    return event


def _reissue(session: Session, gw: Gateway, registration: RightsRegistration, *, now: datetime) -> None:
    """Sign a fresh certificate carrying the registration's current state."""
    product = session.get(DataProduct, registration.product_id)
    holder = session.get(Organization, registration.holder_org_id)
    assert product is not None and holder is not None
    registration.certificate_version += 1
    payload = certificates.rights_payload(registration, product=product, holder=holder, issued_at=now)
    registration.certificate = gw.sign(payload)
    session.add(registration)


def apply(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    product: DataProduct,
    holder: Organization,
    rights: list[str],
    data_sha256: str | None = None,
) -> RightsRegistration:
    """The holder applies to register its rights; the fingerprint must match the stored data."""
    if holder.id != product.holder_org_id:
        raise InvalidProduct("only the holder registers rights over its data / 仅数据持有方可登记")
    wanted = sorted({Right(r).value for r in rights})
    if not wanted:
        raise InvalidProduct("name at least one right / 须至少登记一项权利")
    actual = fingerprint(session, product)
    if data_sha256 is not None and data_sha256.lower() != actual:
        raise InvalidProduct("the sha256 does not match the stored data / 数据指纹与存储数据不符")
    live = [r for r in registrations_of(session, product) if r.state in (*LIVE, RightsState.PENDING.value)]
    if live:
        raise InvalidTransition("the product already has a registration in force / 该产品已有有效登记")
    registration = RightsRegistration(
        product_id=product.id, holder_org_id=holder.id, rights=wanted, data_sha256=actual, created_by=actor_id
    )
    session.add(registration)
    session.flush()
    _event(session, gw, registration, RightsEventKind.APPLY, actor_id=actor_id, detail={"rights": wanted})
    session.flush()
    return registration


def certify(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    registration: RightsRegistration,
    now: datetime | None = None,
) -> RightsRegistration:
    """The exchange operator registers the rights and issues the signed certificate."""
    if registration.state != RightsState.PENDING.value:
        raise InvalidTransition(f"registration is {registration.state}: only pending ones are certified")
    moment = now or utcnow()
    before = ledger.snapshot(registration)
    registration.number = f"DR{moment:%Y%m%d}{secrets.token_hex(4).upper()}"
    registration.state = RightsState.REGISTERED.value
    registration.certified_at = moment
    _reissue(session, gw, registration, now=moment)
    _event(session, gw, registration, RightsEventKind.REGISTER, actor_id=actor_id, before=before)
    session.flush()
    return registration


def _require_live(registration: RightsRegistration, what: str) -> None:
    if registration.state not in LIVE:
        raise InvalidTransition(f"registration is {registration.state}: cannot {what} / 登记状态不允许{what}")


def license_rights(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    registration: RightsRegistration,
    licensee: Organization,
    rights: list[str],
    until: datetime,
    now: datetime | None = None,
) -> RightsRegistration:
    """许可: the holder licenses some of its registered rights to another organization until a date."""
    _require_live(registration, "license")
    granted = sorted({Right(r).value for r in rights})
    if not granted or not set(granted) <= set(registration.rights):
        raise InvalidProduct("only registered rights can be licensed / 仅可许可已登记的权利")
    before = ledger.snapshot(registration)
    entry = {
        "licensee_id": str(licensee.id),
        "licensee": licensee.name,
        "rights": granted,
        "until": until.isoformat(),
    }
    registration.licenses = [*registration.licenses, entry]
    _reissue(session, gw, registration, now=now or utcnow())
    _event(session, gw, registration, RightsEventKind.LICENSE, actor_id=actor_id, detail=entry, before=before)
    session.flush()
    return registration


def transfer_rights(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    registration: RightsRegistration,
    to: Organization,
    now: datetime | None = None,
) -> RightsRegistration:
    """转让: the registered rights pass to another holder; the certificate names the new holder."""
    _require_live(registration, "transfer")
    if registration.state == RightsState.OBJECTED.value:
        raise InvalidTransition(
            "an objection is open: no transfer until it is decided / 异议处理期间不得转让"
        )
    before = ledger.snapshot(registration)
    previous = registration.holder_org_id
    registration.holder_org_id = to.id
    _reissue(session, gw, registration, now=now or utcnow())
    _event(
        session,
        gw,
        registration,
        RightsEventKind.TRANSFER,
        actor_id=actor_id,
        detail={"from": str(previous), "to": str(to.id)},
        before=before,
    )
    session.flush()
    return registration


def change_registration(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    registration: RightsRegistration,
    rights: list[str] | None = None,
    refresh_fingerprint: bool = False,
    now: datetime | None = None,
) -> RightsRegistration:
    """变更: change the registered rights, or record the fingerprint of updated data."""
    _require_live(registration, "change")
    before = ledger.snapshot(registration)
    detail: dict[str, Any] = {}
    if rights is not None:
        wanted = sorted({Right(r).value for r in rights})
        if not wanted:
            raise InvalidProduct("name at least one right / 须至少登记一项权利")
        detail["rights"] = {"from": registration.rights, "to": wanted}
        registration.rights = wanted
    if refresh_fingerprint:
        product = session.get(DataProduct, registration.product_id)
        assert product is not None
        new = fingerprint(session, product)
        detail["data_sha256"] = {"from": registration.data_sha256, "to": new}
        registration.data_sha256 = new
    if not detail:
        raise InvalidProduct("nothing to change / 无变更内容")
    _reissue(session, gw, registration, now=now or utcnow())
    _event(session, gw, registration, RightsEventKind.CHANGE, actor_id=actor_id, detail=detail, before=before)
    session.flush()
    return registration


def cancel_registration(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    registration: RightsRegistration,
    reason: str,
) -> RightsRegistration:
    """注销: the holder gives up the registration."""
    _require_live(registration, "cancel")
    before = ledger.snapshot(registration)
    registration.state = RightsState.CANCELLED.value
    _reissue(session, gw, registration, now=utcnow())
    _event(
        session,
        gw,
        registration,
        RightsEventKind.CANCEL,
        actor_id=actor_id,
        detail={"reason": reason},
        before=before,
    )
    session.flush()
    return registration


def revoke_registration(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    registration: RightsRegistration,
    reason: str,
) -> RightsRegistration:
    """撤销: the operator revokes a registration (e.g. obtained by false statements)."""
    if registration.state in (RightsState.CANCELLED.value, RightsState.REVOKED.value):
        raise InvalidTransition(f"registration is {registration.state} already")
    before = ledger.snapshot(registration)
    registration.state = RightsState.REVOKED.value
    if registration.number:
        _reissue(session, gw, registration, now=utcnow())
    _event(
        session,
        gw,
        registration,
        RightsEventKind.REVOKE,
        actor_id=actor_id,
        detail={"reason": reason},
        before=before,
    )
    session.flush()
    return registration


def file_objection(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    objector_name: str,
    registration: RightsRegistration,
    reason: str,
) -> RightsObjection:
    """A third party objects to a registration; its status shows the objection until decided."""
    _require_live(registration, "object")
    if not reason.strip():
        raise InvalidProduct("an objection states its grounds / 异议须说明理由")
    objection = RightsObjection(
        registration_id=registration.id,
        objector_id=actor_id,
        objector_name=objector_name[:200],
        reason=reason,
    )
    session.add(objection)
    before = ledger.snapshot(registration)
    registration.state = RightsState.OBJECTED.value
    _reissue(session, gw, registration, now=utcnow())
    session.flush()
    _event(
        session,
        gw,
        registration,
        RightsEventKind.OBJECTION,
        actor_id=actor_id,
        detail={"objection_id": str(objection.id), "objector": objector_name, "reason": reason},
        before=before,
    )
    session.flush()
    return objection


def decide_objection(
    session: Session,
    gw: Gateway,
    *,
    actor_id: uuid.UUID | None,
    objection: RightsObjection,
    upheld: bool,
    resolution: str,
) -> RightsObjection:
    """The operator decides an objection: upheld revokes the registration, dismissed restores it."""
    if objection.state != "open":
        raise InvalidTransition(f"objection is {objection.state} already")
    registration = session.get(RightsRegistration, objection.registration_id)
    assert registration is not None
    objection.state = "upheld" if upheld else "dismissed"
    objection.resolution = resolution
    objection.resolved_by, objection.resolved_at = actor_id, utcnow()
    session.add(objection)
    before = ledger.snapshot(registration)
    still_open = [
        o for o in objections_of(session, registration) if o.state == "open" and o.id != objection.id
    ]
    if upheld:
        registration.state = RightsState.REVOKED.value
    elif not still_open and registration.state == RightsState.OBJECTED.value:
        registration.state = RightsState.REGISTERED.value
    _reissue(session, gw, registration, now=utcnow())
    kind = RightsEventKind.OBJECTION_UPHELD if upheld else RightsEventKind.OBJECTION_DISMISSED
    _event(
        session,
        gw,
        registration,
        kind,
        actor_id=actor_id,
        detail={"objection_id": str(objection.id), "resolution": resolution},
        before=before,
    )
    session.flush()
    return objection


def require_objection(session: Session, objection_id: uuid.UUID) -> RightsObjection:
    """One objection; raises RegistrationNotFound."""
    found = session.get(RightsObjection, objection_id)
    if found is None:
        raise RegistrationNotFound(f"objection not found: {objection_id}")
    return found
