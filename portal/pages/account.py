"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from auth.errors import AccountDisabled, AccountLocked, InvalidCredentials, RateLimited
from auth.users import authenticate
from portal.deps import SessionDep, SettingsDep
from portal.downloads import client_addr
from portal.i18n import LANG_COOKIE, parse_lang
from portal.pages.forms import CheckedForm, text
from portal.pages.rendering import Page, PageRoute, redirect, render
from portal.sessions import sign_in, sign_out

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def safe_next(target: str | None, default: str = "/workspace") -> str:
    """A local path to go to after signing in (never another site)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@router.get("/user/login", response_class=HTMLResponse)
def login_form(page: Page, next: str = "") -> HTMLResponse:
    """The sign-in form."""
    return render(page, "login.html", {"next": safe_next(next), "login": "", "error": None})


@router.post("/user/login", response_class=HTMLResponse)
def login(page: Page, form: CheckedForm, session: SessionDep, settings: SettingsDep) -> Response:
    """Check the name and password; start a signed-in session."""
    login_name, password = text(form, "login"), form.get("password")
    target = safe_next(text(form, "next"))
    error: tuple[str, str] | None = None
    status = 200
    try:
        user = authenticate(
            session,
            settings.auth,
            login=login_name,
            password=password if isinstance(password, str) else "",
            client_addr=client_addr(page.request),
        )
    except InvalidCredentials:
        session.commit()
        error, status = ("用户名或密码不正确", "Wrong name or password"), 401
    except AccountLocked:
        session.commit()
        error, status = (
            (
                "尝试次数过多，账号已暂时锁定，请稍后再试",
                "Too many attempts: the account is locked for a while",
            ),
            423,
        )
    except AccountDisabled:
        session.commit()
        error, status = ("账号已停用", "This account is disabled"), 403
    except RateLimited:
        error, status = ("请求过于频繁，请稍后再试", "Too many requests: try again later"), 429
    else:
        session.commit()
        sign_in(page.request, user.id)
        return redirect(target)
    return render(page, "login.html", {"next": target, "login": login_name, "error": error}, status=status)


@router.post("/user/logout")
def logout(page: Page, form: CheckedForm) -> Response:
    """End the session."""
    sign_out(page.request)
    return redirect("/")


@router.get("/lang/{code}")
def switch_language(code: str, page: Page, next: str = "/") -> Response:
    """Remember a language in a cookie and go back."""
    lang = parse_lang(code) or page.lang
    response = redirect(safe_next(next, "/"), status=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
