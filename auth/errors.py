"""Errors raised by the auth package; portal/errors.py maps them to HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar


class AuthError(Exception):
    """Base class of every error the auth package raises."""

    # True when the service flushed rows (failure counters, audit records) that must be kept:
    # the edge commits the session before turning the error into a response.
    commit_on_raise: ClassVar[bool] = False


# --- accounts -------------------------------------------------------------------------------


class UserNotFound(AuthError):
    """No such user."""

    def __init__(self, ref: object) -> None:
        super().__init__(f"用户不存在 / user not found: {ref}")
        self.ref = ref


class InvalidUserName(AuthError):
    """The user name is not a valid slug."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"用户名无效 / invalid user name {name!r}: 2-100 lowercase letters, digits, '-' or '_'"
        )
        self.name = name


class InvalidEmail(AuthError):
    """The e-mail address is not valid."""

    def __init__(self, email: str) -> None:
        super().__init__(f"邮箱地址无效 / invalid e-mail address: {email!r}")
        self.email = email


class UserNameTaken(AuthError):
    """Another account already has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"用户名已被使用 / user name already taken: {name}")
        self.name = name


class EmailTaken(AuthError):
    """Another account already has this e-mail address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"邮箱已被使用 / e-mail address already registered: {email}")
        self.email = email


class WeakPassword(AuthError):
    """The new password does not meet the password rules."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"密码强度不足 / weak password: {reason}")
        self.reason = reason


class InvalidRole(AuthError):
    """An unknown role, platform role or scope name."""

    def __init__(self, kind: str, value: str) -> None:
        super().__init__(f"无效的{kind} / invalid {kind}: {value!r}")
        self.kind = kind
        self.value = value


class InvalidCredentials(AuthError):
    """Wrong login or password; the same message whether or not the account exists."""

    commit_on_raise = True

    def __init__(self) -> None:
        super().__init__("用户名或密码错误 / invalid user name or password")


class AccountLocked(AuthError):
    """Too many failed sign-ins: the account is locked until a given time."""

    commit_on_raise = True

    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"登录失败次数过多，账号已锁定至 {until:%Y-%m-%d %H:%M:%S} UTC / "
            f"too many failed sign-ins, account locked until {until.isoformat()}"
        )
        self.until = until


class AccountDisabled(AuthError):
    """The account has been disabled by an administrator."""

    commit_on_raise = True

    def __init__(self) -> None:
        super().__init__("账号已停用 / account disabled")


# --- tokens ---------------------------------------------------------------------------------


class TokenInvalid(AuthError):
    """A token is malformed, forged, of the wrong kind or for something else."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"令牌无效 / invalid token: {reason}")
        self.reason = reason


class TokenExpired(AuthError):
    """A token was valid but its lifetime is over."""

    def __init__(self, reason: str = "token has expired") -> None:
        super().__init__(f"令牌已过期 / expired token: {reason}")
        self.reason = reason


class TokenRevoked(AuthError):
    """An API token was revoked by its owner or an administrator."""

    commit_on_raise = True

    def __init__(self, prefix: str = "") -> None:
        super().__init__(f"令牌已撤销 / revoked token {prefix}".rstrip())
        self.prefix = prefix


class ApiTokenNotFound(AuthError):
    """No such API token for this user."""

    def __init__(self, token_id: object) -> None:
        super().__init__(f"API 令牌不存在 / API token not found: {token_id}")
        self.token_id = token_id


class KeyConfigurationError(AuthError):
    """The signing or verification keys are not configured correctly."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"签名密钥配置错误 / key configuration error: {reason}")
        self.reason = reason


# --- abuse ----------------------------------------------------------------------------------


class RateLimited(AuthError):
    """Too many requests from one client; retry after some seconds."""

    def __init__(self, key: str, retry_after: float) -> None:
        super().__init__(
            f"请求过于频繁，请 {retry_after:.0f} 秒后重试 / "
            f"too many requests, retry after {retry_after:.0f} s"
        )
        self.key = key
        self.retry_after = retry_after
