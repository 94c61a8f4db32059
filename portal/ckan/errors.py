"""CKAN's error envelope: domain errors mapped, as data, to CKAN's status codes and `__type` names.

ckanapi turns `error.__type` back into exceptions (NotFound, NotAuthorized, ValidationError,
SearchQueryError), so the names and statuses here are a wire contract, not decoration.
"""

from __future__ import annotations

from typing import Any

import pydantic

from auth.errors import AuthError
from catalog import errors as ce
from catalog.search.errors import InvalidSearchQuery
from portal.errors import NotAuthenticated
from quality.errors import QualityError
from storage.errors import ObjectMissing, StorageError

NOT_FOUND = "Not Found Error"
VALIDATION = "Validation Error"
AUTHORIZATION = "Authorization Error"
SEARCH_QUERY = "Search Query Error"
UNKNOWN_ACTION = "Bad request - Action name not known"
JSON_ERROR = "Bad request - JSON Error"
INTERNAL = "Internal Server Error"


class CkanError(Exception):
    """Base class of the errors raised by the CKAN surface itself."""


class CkanValidationError(CkanError):
    """Invalid input, field by field: {"name": ["That URL is already in use."]}."""

    def __init__(self, fields: dict[str, list[str]], message: str = "") -> None:
        self.fields = {k: list(v) for k, v in fields.items()}
        self.message = message or "; ".join(f"{k}: {' '.join(v)}" for k, v in self.fields.items())
        super().__init__(self.message)


class SearchQueryError(CkanError):
    """A q, fq or sort that this surface cannot read."""


class UnknownAction(CkanError):
    """No action has that name."""


class BadRequestBody(CkanError):
    """The body is not a JSON object (nor a form)."""


class CkanNotFound(CkanError):
    """Something the caller named does not exist here (or is not enabled, like the datastore)."""


_AUTH_NOT_FOUND = {"NotVisible", "UserNotFound", "GrantNotFound", "ApplicationNotFound", "ApiTokenNotFound"}
_AUTH_VALIDATION = {
    "UserNameTaken",
    "EmailTaken",
    "InvalidRole",
    "WeakPassword",
    "InvalidUserName",
    "InvalidEmail",
    "InvalidTransition",
}

# Most specific first; the first match wins. Auth errors are matched by name (auth has many modules).
CKAN_ERROR: list[tuple[type[Exception], int, str]] = [
    (UnknownAction, 400, UNKNOWN_ACTION),
    (BadRequestBody, 400, JSON_ERROR),
    (SearchQueryError, 400, SEARCH_QUERY),
    (InvalidSearchQuery, 400, SEARCH_QUERY),
    (CkanValidationError, 409, VALIDATION),
    (pydantic.ValidationError, 409, VALIDATION),
    (CkanNotFound, 404, NOT_FOUND),
    (ce.NotFound, 404, NOT_FOUND),
    (ObjectMissing, 404, NOT_FOUND),
    (NotAuthenticated, 403, AUTHORIZATION),
    (ce.FileTooLarge, 413, VALIDATION),
    (ce.Conflict, 409, VALIDATION),
    (ce.InvalidState, 409, VALIDATION),
    (ce.UploadRejected, 409, VALIDATION),
    (ce.CatalogError, 409, VALIDATION),
    (QualityError, 409, VALIDATION),
    (StorageError, 409, VALIDATION),
]


def ckan_status(exc: Exception) -> tuple[int, str]:
    """CKAN's status code and `__type` for an error."""
    if isinstance(exc, AuthError):
        name = type(exc).__name__
        if name in _AUTH_NOT_FOUND:
            return 404, NOT_FOUND
        if name in _AUTH_VALIDATION:
            return 409, VALIDATION
        return 403, AUTHORIZATION  # AccessDenied, token and account errors, quotas
    for cls, status, kind in CKAN_ERROR:
        if isinstance(exc, cls):
            return status, kind
    return 500, INTERNAL


_PREFIX = {NOT_FOUND: "Not found", AUTHORIZATION: "Access denied", SEARCH_QUERY: "Search Query is invalid"}

_CONFLICT_FIELD = {
    ce.DatasetNameTaken: ("name", "That URL is already in use. / 该名称已被使用"),
    ce.OrganizationNameTaken: ("name", "Group name already exists in database / 该机构名称已被使用"),
}


def _validation_fields(exc: Exception) -> dict[str, list[str]]:
    if isinstance(exc, CkanValidationError):
        return exc.fields
    if isinstance(exc, pydantic.ValidationError):
        fields: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]] or ["__all__"]
            msg = err["msg"].removeprefix("Value error, ")
            fields.setdefault(loc[0], []).append(msg)
        return fields
    for cls, (field, msg) in _CONFLICT_FIELD.items():
        if isinstance(exc, cls):
            return {field: [msg]}
    return {}


def error_dict(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The status and the `error` member of CKAN's envelope for an exception."""
    status, kind = ckan_status(exc)
    if status == 500:
        return status, {"__type": INTERNAL, "message": "Internal Server Error"}
    detail = str(exc) if not isinstance(exc, CkanValidationError) else exc.message
    if isinstance(exc, pydantic.ValidationError):
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in _validation_fields(exc).items())
    if kind == VALIDATION:
        return status, {"__type": kind, "message": detail, **_validation_fields(exc)}
    prefix = _PREFIX.get(kind)
    message = f"{prefix}: {detail}" if prefix and detail else (prefix or detail)
    return status, {"__type": kind, "message": message}
