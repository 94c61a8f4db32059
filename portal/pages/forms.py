"""Form posts: the CSRF check every page form passes, and pydantic errors as field messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from portal.i18n import validation_messages
from portal.sessions import CSRF_FIELD, csrf_valid

CSRF_MESSAGE = "表单已失效，请刷新页面后重试 / the form has expired: reload the page and try again"


async def checked_form(request: Request) -> FormData:
    """The posted form, if it carries this session's CSRF token (403 otherwise)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not csrf_valid(request, token if isinstance(token, str) else None):
        raise HTTPException(403, CSRF_MESSAGE)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]

FieldErrors = dict[str, tuple[str, str]]


def field_errors(exc: ValidationError) -> FieldErrors:
    """Field name -> (zh, en) message."""
    return validation_messages(exc.errors())


def text(form: FormData, name: str) -> str:
    """A text field, stripped ('' when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
