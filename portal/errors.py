"""Domain errors mapped to HTTP, as data: one table and one handler per surface."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from auth.errors import AuthError
from catalog import errors as ce
from quality.errors import QualityError
from storage.errors import ObjectMissing, StorageError


class NotAuthenticated(Exception):
    """The route needs a signed-in caller and none was presented."""


DomainError = (ce.CatalogError, AuthError, QualityError, StorageError, NotAuthenticated)

# Most specific class first; the first match wins.
V1_STATUS: list[tuple[type[Exception], int]] = [
    (ce.NotFound, 404),
    (ObjectMissing, 404),
    (ce.Conflict, 409),
    (ce.InvalidState, 409),
    (ce.UploadRejected, 422),
    (QualityError, 422),
]


def _auth_status(exc: Exception) -> int | None:
    """Auth errors carry their meaning in their names; map them without importing each module."""
    name = type(exc).__name__
    if name in {"NotVisible", "UserNotFound", "GrantNotFound", "ApplicationNotFound", "TokenNotFound"}:
        return 404
    if name in {"AccessDenied", "QuotaExhausted", "GrantRevoked", "GrantExpired", "GrantSuspended"}:
        return 403
    if name in {"TokenInvalid", "TokenExpired", "TokenRevoked", "InvalidCredentials", "NotAuthenticated"}:
        return 401
    if name in {"AccountLocked"}:
        return 423
    if name in {"UserNameTaken", "EmailTaken", "InvalidTransition"}:
        return 409
    if name in {"RateLimited"}:
        return 429
    if isinstance(exc, AuthError):
        return 400
    return None


def status_for(exc: Exception) -> int:
    """The HTTP status that answers a domain error."""
    auth_status = _auth_status(exc)
    if auth_status is not None:
        return auth_status
    for cls, status in V1_STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(exc: Exception) -> dict[str, str]:
    """The native API's one error shape."""
    return {"error": type(exc).__name__, "detail": str(exc)}


def install_v1_handlers(app: FastAPI) -> None:
    """Answer domain errors on the native API with {"error", "detail"} and the mapped status."""

    async def domain_error(request: Request, exc: Exception) -> Response:
        status = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(exc), status_code=status, headers=headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'] if p != 'body')}: {err['msg']}" for err in exc.errors()
        )
        return JSONResponse({"error": "ValidationError", "detail": detail}, status_code=422)

    for cls in DomainError:
        app.add_exception_handler(cls, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
