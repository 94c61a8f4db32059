"""What the exchange needs from outside the catalog: entitlements, audit and signatures.

The catalog must not import auth, so the exchange states its needs as a protocol; the portal
passes an implementation backed by auth.grants, auth.audit and auth.tokens
(portal.api_v1.exchange.AuthGateway). Entitlements are auth Grants of source "purchase"
(or "targeted"), so downloads and data API calls under them meet the same policy, quotas and audit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class Usage:
    """How much of an entitlement has been used, and whether it is still open."""

    state: str  # active | suspended | revoked | expired
    downloads_used: int
    queries_used: int
    valid_to: datetime

    @property
    def used(self) -> bool:
        """True once anything was delivered under the entitlement."""
        return self.downloads_used > 0 or self.queries_used > 0


class Gateway(Protocol):
    """Entitlements, audit records and signed documents, as the exchange uses them."""

    def grant(
        self,
        session: Session,
        *,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
        dataset_ids: Iterable[uuid.UUID],
        source: str,
        source_id: uuid.UUID,
        valid_from: datetime,
        valid_to: datetime,
        download_quota: int | None,
        query_quota: int | None,
        allowed_use: str,
        actor_id: uuid.UUID | None,
    ) -> uuid.UUID:
        """Open an entitlement; returns its grant id."""
        ...

    def revoke(
        self, session: Session, *, grant_id: uuid.UUID, reason: str, actor_id: uuid.UUID | None
    ) -> None:
        """Close an entitlement for good, at once."""
        ...

    def usage(self, session: Session, *, grant_id: uuid.UUID) -> Usage:
        """Current use of an entitlement."""
        ...

    def consume_query(self, session: Session, *, grant_id: uuid.UUID, actor_id: uuid.UUID | None) -> None:
        """Spend one unit of query quota atomically; raises why the entitlement is unusable."""
        ...

    def audit(
        self,
        session: Session,
        *,
        action: str,
        actor_id: uuid.UUID | None,
        object_type: str,
        object_id: str,
        detail: dict[str, Any] | None = None,
        outcome: str = "ok",
    ) -> None:
        """Append a record to the audit chain."""
        ...

    def sign(self, payload: dict[str, Any]) -> str:
        """Sign a JSON document (compact JWS)."""
        ...

    def verify(self, token: str) -> dict[str, Any]:
        """Verify a signed document and return its payload; raises when it does not verify."""
        ...
