"""Domain errors mapped to HTTP, as data: one table and one handler per surface."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from auth import applications, grants, inbox
from auth import errors as ae
from auth.errors import AuthError
from auth.policy import AccessDenied, NotVisible
from catalog import errors as ce
from catalog.dataapi import InvalidQuery
from catalog.exchange import errors as xe
from catalog.feedback import InvalidFeedback
from catalog.harvest.errors import RemoteUnreadable
from catalog.importer import InvalidMapping, MappingNotFound, UnreadableCatalog
from catalog.registration import InvalidRegistration
from catalog.search.errors import InvalidSearchQuery
from quality.errors import QualityError
from storage import errors as se
from storage.errors import StorageError


class NotAuthenticated(Exception):
    """The route needs a signed-in caller and none was presented."""


DomainError = (ce.CatalogError, AuthError, QualityError, StorageError, NotAuthenticated)

# Most specific class first; the first match wins.
V1_STATUS: list[tuple[type[Exception], int]] = [
    (NotAuthenticated, 401),
    (ae.TokenInvalid, 401),
    (ae.TokenExpired, 401),
    (ae.TokenRevoked, 401),
    (ae.InvalidCredentials, 401),
    (ae.AccountLocked, 423),
    (ae.AccountDisabled, 403),
    (ae.RateLimited, 429),
    (ae.UserNotFound, 404),
    (ae.ApiTokenNotFound, 404),
    (ae.UserNameTaken, 409),
    (ae.EmailTaken, 409),
    (ae.InvalidUserName, 422),
    (ae.InvalidEmail, 422),
    (ae.WeakPassword, 422),
    (ae.InvalidRole, 422),
    (ae.KeyConfigurationError, 500),
    (NotVisible, 404),
    (AccessDenied, 403),
    (grants.GrantNotFound, 404),
    (grants.GrantUnusable, 403),
    (grants.GrantStateConflict, 409),
    (grants.InvalidGrant, 422),
    (applications.ApplicationNotFound, 404),
    (applications.TemplateNotFound, 404),
    (applications.ReportNotFound, 404),
    (applications.ApplicationStateConflict, 409),
    (applications.ReportAlreadyFiled, 409),
    (applications.AgreementMismatch, 409),
    (applications.InvalidApplication, 422),
    (inbox.NotificationNotFound, 404),
    (xe.CertificateInvalid, 400),
    (xe.SandboxRefused, 400),
    (xe.InvalidProduct, 422),
    (xe.InvalidAuthorization, 422),
    (InvalidQuery, 400),
    (InvalidRegistration, 422),
    (InvalidFeedback, 422),
    (RemoteUnreadable, 502),
    (MappingNotFound, 404),
    (InvalidMapping, 422),
    (UnreadableCatalog, 422),
    (InvalidSearchQuery, 400),
    (ce.NotFound, 404),
    (ce.Conflict, 409),
    (ce.InvalidState, 409),
    (ce.FileTooLarge, 413),
    (ce.UploadRejected, 422),
    (se.ObjectMissing, 404),
    (se.InvalidRange, 416),
    (se.ObjectTooLarge, 413),
    (se.InvalidKey, 400),
    (se.StorageUnavailable, 503),
    (QualityError, 422),  # InvalidSchema and UnreadableFile among them
]


def status_for(exc: Exception) -> int:
    """The HTTP status that answers a domain error."""
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
