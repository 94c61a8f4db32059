"""/api/action/{name} and /api/3/action/{name}: CKAN's Action API over our services and policy.

One endpoint dispatches every action: it reads the data dict (query string for GET, a JSON
body, or a form with files for POST), finds the caller, runs the action in a worker thread,
commits once, and answers CKAN's envelope; every error goes through portal.ckan.errors. The
URLs answer with and without a trailing slash, never with a redirect.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from auth.grants import load_actor
from auth.models import User
from portal.ckan.actions import ACTIONS, Ctx
from portal.ckan.errors import BadRequestBody, UnknownAction, error_dict
from portal.deps import (
    API_TOKEN_PREFIX,
    SessionDep,
    SettingsDep,
    StorageDep,
    bearer_credential,
    user_from_credential,
)

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

JSON_TYPE = "application/json;charset=utf-8"


def _json(body: Any, status: int = 200) -> Response:
    text = json.dumps(body, ensure_ascii=False, default=str)
    return Response(content=text.encode("utf-8"), status_code=status, media_type=JSON_TYPE)


def _help_url(request: Request, name: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={name}"


def _mixed(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """A multi-dict as CKAN reads it: one value as itself, repeated values as a list."""
    out: dict[str, Any] = {}
    for key, value in items:
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


async def _request_data(request: Request, read: bool) -> tuple[dict[str, Any], dict[str, UploadFile]]:
    """The data dict and the uploaded files of a request."""
    if request.method == "GET":
        if not read:
            raise BadRequestBody("JSON Error: Invalid request. Please use POST method for your request")
        return _mixed(list(request.query_params.multi_items())), {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()
        files = {k: v for k, v in form.multi_items() if isinstance(v, UploadFile)}
        fields = [(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)]
        if len(fields) == 1 and not files and fields[0][1] in ("", "1"):
            # CKAN's old clients post the JSON document as the name of a single form field.
            try:
                data = json.loads(fields[0][0])
            except ValueError:
                data = None
            if isinstance(data, dict):
                return data, {}
        return _mixed(fields), files
    body = await request.body()
    if not body.strip():
        return _mixed(list(request.query_params.multi_items())), {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BadRequestBody(f"JSON Error: Error decoding JSON data: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequestBody(
            f"JSON Error: Request data JSON decoded to {type(data).__name__} but it needs to be a dictionary."
        )
    return data, {}


def _caller(session: Any, settings: Any, request: Request, *, read: bool) -> tuple[User | None, str | None]:
    """The caller and its token's scope; a bad token is an Authorization Error, not anonymity."""
    credential = bearer_credential(request)
    if credential:
        try:
            if credential.startswith(API_TOKEN_PREFIX):
                from auth.api_tokens import authenticate_api_token

                client = request.client.host if request.client else ""
                user, token = authenticate_api_token(session, credential, client_addr=client)
                return user, token.scope
            return user_from_credential(session, settings, credential), None
        except Exception:
            session.commit()  # keep the audit record of a revoked token's use
            raise
    cookie_user = getattr(request.state, "cookie_user_id", None)
    if read and cookie_user is not None:
        # Cookies sign in read actions only: a write needs a token (no cross-site writes).
        return session.get(User, cookie_user), None
    return None, None


def _run(
    name: str,
    data: dict[str, Any],
    files: dict[str, UploadFile],
    request: Request,
    session: Any,
    settings: Any,
    storage: Any,
) -> Any:
    spec = ACTIONS[name]
    user, scope = _caller(session, settings, request, read=spec.read)
    actor = load_actor(session, user=user)
    ctx = Ctx(session, settings, storage, request, user, actor, scope, files)
    result = spec.fn(ctx, data)
    try:
        session.commit()
    except Exception:
        session.rollback()
        for key in ctx.written_keys:
            storage.delete(key)
        raise
    return result


async def action(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, storage: StorageDep
) -> Response:
    """Run one CKAN action and answer CKAN's envelope."""
    help_url = _help_url(request, name)
    try:
        spec = ACTIONS.get(name)
        if spec is None:
            raise UnknownAction(f"Action name not known: {name}")
        data, files = await _request_data(request, spec.read)
        data.pop("callback", None)
        result = await anyio.to_thread.run_sync(
            partial(_run, name, data, files, request, session, settings, storage)
        )
    except Exception as exc:
        await anyio.to_thread.run_sync(session.rollback)
        status, error = error_dict(exc)
        if status >= 500:
            log.exception("CKAN action %s failed", name)
        return _json({"help": help_url, "success": False, "error": error}, status)
    return _json({"help": help_url, "success": True, "result": result})


async def no_action(request: Request) -> Response:
    """/api/3/action without a name."""
    _status, error = error_dict(UnknownAction("Action name not known: "))
    return _json({"help": _help_url(request, ""), "success": False, "error": error}, 400)


async def api_version(request: Request) -> Response:
    """/api and /api/3: the API version, as CKAN answers."""
    return _json({"version": 3})


for _prefix in ("/api/action", "/api/3/action"):
    router.add_api_route(_prefix + "/{name}", action, methods=["GET", "POST"])
    router.add_api_route(_prefix + "/{name}/", action, methods=["GET", "POST"])
    router.add_api_route(_prefix, no_action, methods=["GET", "POST"])
    router.add_api_route(_prefix + "/", no_action, methods=["GET", "POST"])
for _path in ("/api/3", "/api/3/"):
    router.add_api_route(_path, api_version, methods=["GET"])
