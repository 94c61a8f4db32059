"""The Jinja2 environment shared by every page, the page context and the HTML error pages."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from auth.models import User
from auth.policy import ANONYMOUS, Action, Actor, may
from catalog import vocab
from catalog.search.text import HL_END, HL_START
from portal.deps import ActorDep, OptionalUser, SettingsDep
from portal.errors import NotAuthenticated, status_for
from portal.i18n import HTML_LANG, LANG_COOKIE, Lang, negotiate, pick, split_bilingual
from portal.sessions import CSRF_FIELD

log = logging.getLogger("dataledger.pages")

HERE = Path(__file__).parent
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class SlugConvertor(Convertor[str]):
    """Dataset and organization names in page paths: /dataset/x.ttl is left to the DCAT routes."""

    regex = "[a-z0-9][a-z0-9_-]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("slug", SlugConvertor())

templates = Jinja2Templates(directory=HERE / "templates")
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True


@dataclass
class PageContext:
    """What every page knows of the request: language, caller, CSRF token."""

    request: Request
    lang: Lang
    user: User | None = None
    actor: Actor = ANONYMOUS
    csrf_token: str = ""
    set_lang_cookie: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def t(self, zh: str, en: str) -> str:
        """The string in the page's language."""
        return pick(self.lang, zh, en)

    def may(self, action: Action | str, target: Any = None) -> bool:
        """Whether the caller may do this (for showing only the actions that fit)."""
        return may(self.actor, action, target)


def _lang_for(request: Request, default: str) -> tuple[Lang, bool]:
    query = request.query_params.get("lang")
    lang = negotiate(query, request.cookies.get(LANG_COOKIE), default)
    return lang, bool(query) and request.cookies.get(LANG_COOKIE) != lang


def page_context(request: Request, user: OptionalUser, actor: ActorDep, settings: SettingsDep) -> PageContext:
    """The page context of a request (a dependency of every page)."""
    if user is not None and user.state != "active":
        user, actor = None, ANONYMOUS  # a disabled account's cookie signs nobody in
    lang, set_cookie = _lang_for(request, settings.portal.default_language)
    ctx = PageContext(
        request=request,
        lang=lang,
        user=user,
        actor=actor,
        csrf_token=getattr(request.state, "csrf_token", ""),
        set_lang_cookie=set_cookie,
    )
    request.state.page = ctx
    return ctx


Page = Annotated[PageContext, Depends(page_context)]


def render(
    page: PageContext, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render a template with the page context; escapes everything not marked safe."""
    values = {
        "page": page,
        "lang": page.lang,
        "html_lang": HTML_LANG[page.lang],
        "t": page.t,
        "user": page.user,
        "actor": page.actor,
        "csrf_field": Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, page.csrf_token
        ),
        **(context or {}),
    }
    response = templates.TemplateResponse(page.request, template, values, status_code=status)
    response.headers["content-language"] = HTML_LANG[page.lang]
    response.headers.setdefault("x-content-type-options", "nosniff")
    response.headers.setdefault("x-frame-options", "DENY")
    response.headers.setdefault("referrer-policy", "same-origin")
    if page.set_lang_cookie:
        response.set_cookie(LANG_COOKIE, page.lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def redirect(url: str, *, status: int = 303) -> RedirectResponse:
    """A redirect after a form post (303: the browser follows with GET)."""
    return RedirectResponse(url, status_code=status)


# --- filters and globals -------------------------------------------------------------------


def highlight_html(text: str | None) -> Markup:
    """Escape first, then turn the search markers into <mark>: user text can never become markup."""
    safe = str(escape(text or ""))
    return Markup(safe.replace(HL_START, "<mark>").replace(HL_END, "</mark>"))


def filesize(size: int | None) -> str:
    """A byte count for people: 1.2 MB."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def localtime(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp in the portal's time zone (dates as they are)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ)
        return value.strftime(fmt)
    return value.isoformat()


def make_label(lang: str) -> Callable[[str, str | None], str]:
    """A label function bound to one language: label('grades', 'general_1') -> 一般数据（1级）."""

    def label(vocabulary: str, code: str | None) -> str:
        if not code:
            return ""
        term = vocab.get_term(vocabulary, code)
        return term.label(lang) if term else code

    return label


def number(value: float | int | None, digits: int = 0) -> str:
    """A number with thousands separators."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    query = urlencode(items)
    return f"{request.url.path}?{query}" if query else request.url.path


def bilingual(message: str, lang: str) -> str:
    """The half of a bilingual domain message in the page's language."""
    return split_bilingual(message, lang)


env.filters["hl"] = highlight_html
env.filters["filesize"] = filesize
env.filters["localtime"] = localtime
env.filters["number"] = number
env.filters["bilingual"] = bilingual
env.globals["url_with"] = url_with
env.globals["make_label"] = make_label


# --- errors --------------------------------------------------------------------------------


def _fallback_context(request: Request) -> PageContext:
    """A context for an error raised before the page context was built."""
    found = getattr(request.state, "page", None)
    if isinstance(found, PageContext):
        return found
    settings = request.app.state.settings
    lang, _ = _lang_for(request, settings.portal.default_language)
    user = getattr(request.state, "user", None)
    return PageContext(
        request=request,
        lang=lang,
        user=user if isinstance(user, User) else None,
        csrf_token=getattr(request.state, "csrf_token", ""),
    )


def error_page(request: Request, status: int, detail: str = "") -> HTMLResponse:
    """The HTML error page (404, 403, 500 ...) in the request's language."""
    page = _fallback_context(request)
    return render(page, "error.html", {"status": status, "detail": detail}, status=status)


def page_error_response(request: Request, exc: Exception) -> Response:
    """Answer an exception raised by a page: sign-in redirect, a 4xx page or the 500 page."""
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect("/user/login?" + urlencode({"next": target}))
    if isinstance(exc, StarletteHTTPException):
        return error_page(request, exc.status_code, str(exc.detail or ""))
    if isinstance(exc, RequestValidationError):
        return error_page(request, 404 if request.method == "GET" else 400)
    from portal.errors import DomainError

    if isinstance(exc, DomainError):
        status = status_for(exc)
        page = _fallback_context(request)
        return error_page(request, status, bilingual(str(exc), page.lang) if status != 404 else "")
    log.exception("page %s failed", request.url.path, exc_info=exc)
    return error_page(request, 500)


class PageRoute(APIRoute):
    """A route whose errors answer as HTML pages instead of the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return page_error_response(request, exc)

        return page_handler


def int_param(page: PageContext, name: str, default: int, *, low: int = 1, high: int = 10_000) -> int:
    """A whole-number query parameter, clamped; the default when absent or not a number."""
    raw = page.request.query_params.get(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = default
    return max(low, min(high, value))


def new_id() -> str:
    """A fresh id for form elements that need one."""
    return uuid.uuid4().hex[:8]
