"""Errors of the data exchange; each is also a catalog error category, so portal/errors.py maps it."""

from __future__ import annotations

from typing import Any

from catalog.errors import CatalogError, Conflict, InvalidState, NotFound


class ExchangeError(CatalogError):
    """Base class of every error the exchange raises."""


class ProductNotFound(ExchangeError, NotFound):
    """No data product has that name or id."""


class PlanNotFound(ExchangeError, NotFound):
    """No price plan has that id (on that product)."""


class OrderNotFound(ExchangeError, NotFound):
    """No order has that id or number."""


class RegistrationNotFound(ExchangeError, NotFound):
    """No rights registration has that id or number."""


class DisputeNotFound(ExchangeError, NotFound):
    """No dispute has that id."""


class AuthorizationNotFound(ExchangeError, NotFound):
    """No broker authorization has that id."""


class ProductNameTaken(ExchangeError, Conflict):
    """A product with that name exists."""


class InvalidTransition(ExchangeError, InvalidState):
    """The product, order, registration or dispute is not in a state that allows this step."""


class InvalidProduct(ExchangeError, InvalidState):
    """The product, plan or order data does not make sense (e.g. a dataset of another holder)."""


class ListingRefused(ExchangeError, InvalidState):
    """The review checklist fails: the product cannot be submitted or listed; `failures` say why."""

    def __init__(self, message: str, failures: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.failures = failures or []


class InvalidAuthorization(ExchangeError, InvalidState):
    """A broker authorization is missing, expired, revoked or does not cover the data."""


class CertificateInvalid(ExchangeError):
    """A certificate's signature does not verify, or it is not an exchange certificate."""


class SandboxRefused(ExchangeError):
    """A sandbox query is malformed or asks for something the sandbox never releases (400)."""
