"""Pure validators for Chinese identifiers and contact data, with their checksums, and masking."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

__all__ = [
    "PROVINCE_PREFIXES",
    "SensitiveKind",
    "is_bank_card",
    "is_cn_date",
    "is_credit_code",
    "is_email",
    "is_mobile",
    "is_region_code",
    "is_resident_id",
    "luhn_ok",
    "mask",
    "parse_cn_date",
]


class SensitiveKind(StrEnum):
    """Kinds of sensitive values that the quality package detects and masks."""

    RESIDENT_ID = "resident_id"
    CREDIT_CODE = "credit_code"
    BANK_CARD = "bank_card"
    MOBILE = "mobile"
    EMAIL = "email"
    NAME = "name"
    ADDRESS = "address"


# GB/T 2260 province-level prefixes (incl. 71 Taiwan, 81 Hong Kong, 82 Macao).
PROVINCE_PREFIXES: frozenset[str] = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# Issuer prefixes: UnionPay 62/60/81, Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37, JCB 35,
# Diners 30/36/38, and the legacy domestic 9xxx debit cards (e.g. 9558 ICBC, 95599 ABC).
_CARD_PREFIXES = (
    "62",
    "60",
    "81",
    "4",
    "51",
    "52",
    "53",
    "54",
    "55",
    "34",
    "37",
    "35",
    "30",
    "36",
    "38",
    "9",
)
_CARD_SEPARATORS = re.compile(r"[\s-]")

_MOBILE = re.compile(r"^(?:\+?86|0086)?1[3-9]\d{9}$")
_MOBILE_SEPARATORS = re.compile(r"[\s\-()]")

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _clean(s: object) -> str:
    return s.strip() if isinstance(s, str) else ""


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _birth_ok(year: int, month: int, day: int, today: dt.date | None = None) -> bool:
    born = _date_or_none(year, month, day)
    return born is not None and born.year >= 1880 and born <= (today or dt.date.today())


def is_resident_id(s: object) -> bool:
    """True for a checksum-valid 18-digit (or plausible 15-digit) 居民身份证号."""
    value = _clean(s).upper()
    if _ID18.match(value):
        if value[:2] not in PROVINCE_PREFIXES:
            return False
        if not _birth_ok(int(value[6:10]), int(value[10:12]), int(value[12:14])):
            return False
        total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11] == value[17]
    if _ID15.match(value):
        # The 15-digit form (before 1999) has no check digit; year is 19YY.
        return value[:2] in PROVINCE_PREFIXES and _birth_ok(
            1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])
        )
    return False


def is_credit_code(s: object) -> bool:
    """True for a checksum-valid 统一社会信用代码 (GB 32100-2015)."""
    value = _clean(s).upper()
    if not _USCC.match(value):
        return False
    if value[2:4] not in PROVINCE_PREFIXES and value[2:8] != "100000":  # 100000: central level
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return _USCC_CHARS[check] == value[17]


def luhn_ok(digits: str) -> bool:
    """True when a string of digits passes the Luhn (mod 10) check."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_bank_card(s: object) -> bool:
    """True for a 13-19 digit card number with a known issuer prefix that passes Luhn."""
    value = _CARD_SEPARATORS.sub("", _clean(s))
    if not (13 <= len(value) <= 19 and value.isascii() and value.isdigit()):
        return False
    if not (value.startswith(_CARD_PREFIXES) or 2221 <= int(value[:4]) <= 2720):
        return False
    return luhn_ok(value)


def is_mobile(s: object) -> bool:
    """True for a mainland mobile number (1[3-9]x, 11 digits), optionally +86/86/0086-prefixed."""
    value = _MOBILE_SEPARATORS.sub("", _clean(s))
    return value.isascii() and bool(_MOBILE.match(value))


def is_email(s: object) -> bool:
    """True for a plausible e-mail address (ASCII local part and domain with a TLD)."""
    value = _clean(s)
    return len(value) <= 254 and bool(_EMAIL.match(value))


def is_region_code(s: object) -> bool:
    """True for a 6-digit administrative division code with a real province prefix."""
    value = _clean(s)
    return len(value) == 6 and value.isascii() and value.isdigit() and value[:2] in PROVINCE_PREFIXES


def parse_cn_date(s: object) -> dt.date | None:
    """Parse 2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日 or 20240105; None if not a real date."""
    value = _clean(s)
    if not value or (not value.isascii() and "年" not in value):
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            year, month, day = (int(g) for g in m.groups())
            if not 1000 <= year <= 9999:
                return None
            return _date_or_none(year, month, day)
    return None


def is_cn_date(s: object) -> bool:
    """True for a real calendar date in a common Chinese/ISO notation."""
    return parse_cn_date(s) is not None


def _stars(n: int) -> str:
    return "*" * max(n, 1)


def _keep(value: str, head: int, tail: int) -> str:
    """Keep head and tail characters, but always hide at least half of the value."""
    n = len(value)
    if n <= 1:
        return "*"
    while head + tail > n // 2 and (head or tail):
        if head >= tail and head:
            head -= 1
        else:
            tail -= 1
    return value[:head] + _stars(n - head - tail) + (value[n - tail :] if tail else "")


def mask(value: object, kind: str | SensitiveKind) -> str:
    """Mask a sensitive value so that it can be shown (e.g. 330102********1234, 138****5678, 张*)."""
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    kind = str(kind)
    if kind == SensitiveKind.RESIDENT_ID:
        return text[:6] + _stars(len(text) - 10) + text[-4:] if len(text) >= 15 else _keep(text, 1, 1)
    if kind == SensitiveKind.MOBILE:
        digits = _MOBILE_SEPARATORS.sub("", text)
        local, prefix = digits[-11:], digits[:-11]
        if len(local) == 11 and prefix in {"", "86", "+86", "0086"}:
            return prefix + local[:3] + "****" + local[-4:]
        return _keep(digits, 2, 2)
    if kind == SensitiveKind.BANK_CARD:
        digits = _CARD_SEPARATORS.sub("", text)
        if len(digits) >= 12:
            middle = len(digits) - 8
            groups = " ".join("****" for _ in range((middle + 3) // 4))
            return f"{digits[:4]} {groups} {digits[-4:]}"
        return _keep(digits, 1, 1)
    if kind == SensitiveKind.CREDIT_CODE:
        return text[:6] + _stars(len(text) - 8) + text[-2:] if len(text) >= 12 else _keep(text, 1, 1)
    if kind == SensitiveKind.EMAIL:
        local, at, domain = text.partition("@")
        if not at:
            return _keep(text, 1, 0)
        return (local[:1] if len(local) > 1 else "") + "***@" + domain
    if kind == SensitiveKind.NAME:
        return text[0] + _stars(len(text) - 1) if len(text) >= 2 else "*"
    if kind == SensitiveKind.ADDRESS:
        keep = min(6, len(text) // 2)
        return text[:keep] + "****"
    return _keep(text, 1, 1)
