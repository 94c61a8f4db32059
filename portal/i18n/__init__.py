"""Languages of the pages: zh-CN by default, English on request (?lang=en or the dl_lang cookie).

Strings live next to each other in the templates as `t("中文", "English")`, so a page can never
have one language without the other; this module picks the language and translates validation
messages, whose field names and rules come from pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
HTML_LANG: Mapping[str, str] = {"zh": "zh-CN", "en": "en"}
LANG_COOKIE = "dl_lang"

_CJK = re.compile(r"[\u3400-\u9fff]")


def parse_lang(value: str | None) -> Lang | None:
    """A supported language code from a query value or cookie ("en", "en-US", "zh-CN" ...)."""
    if not value:
        return None
    code = value.strip().lower()[:2]
    return code if code in LANGS else None  # type: ignore[return-value]


def negotiate(query: str | None, cookie: str | None, default: str = "zh") -> Lang:
    """The language of a page: the query wins, then the cookie, then the portal's default."""
    return parse_lang(query) or parse_lang(cookie) or parse_lang(default) or "zh"


def pick(lang: str, zh: str, en: str) -> str:
    """The string in the page's language."""
    return en if lang == "en" else zh


def split_bilingual(message: str, lang: str) -> str:
    """The half of an "english / 中文" (or "中文 / english") domain message in the page's language.

    The half with the larger share of Chinese characters is the Chinese one, so that Chinese names
    quoted inside the English half ("线路编号 must be unique") do not confuse the split.
    """
    if " / " not in message:
        return message
    parts = [p.strip() for p in message.split(" / ")]
    if len(parts) != 2:
        return message
    share = [len(_CJK.findall(p)) / max(1, len(p)) for p in parts]
    if share[0] == share[1]:
        return message
    zh, en = (parts[0], parts[1]) if share[0] > share[1] else (parts[1], parts[0])
    return en if lang == "en" else zh


# pydantic error type -> (zh, en) templates; {ctx keys} are filled from the error's context.
_ERRORS: dict[str, tuple[str, str]] = {
    "missing": ("此项必填", "This field is required"),
    "string_too_short": ("至少需要 {min_length} 个字符", "Must be at least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "Must be at most {max_length} characters"),
    "string_pattern_mismatch": ("格式不正确", "Wrong format"),
    "enum": ("请从列表中选择", "Choose one of the listed values"),
    "literal_error": ("请从列表中选择", "Choose one of the listed values"),
    "int_parsing": ("请输入整数", "Enter a whole number"),
    "int_type": ("请输入整数", "Enter a whole number"),
    "greater_than_equal": ("不能小于 {ge}", "Must be at least {ge}"),
    "date_from_datetime_parsing": ("日期格式应为 YYYY-MM-DD", "Dates are written YYYY-MM-DD"),
    "date_parsing": ("日期格式应为 YYYY-MM-DD", "Dates are written YYYY-MM-DD"),
    "date_type": ("日期格式应为 YYYY-MM-DD", "Dates are written YYYY-MM-DD"),
    "value_error": ("{msg}", "{msg}"),
}


def validation_messages(errors: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    """Field name -> (zh, en) message for each pydantic error ("" for errors of the whole form)."""
    out: dict[str, tuple[str, str]] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        field = loc[0] if loc else ""
        kind = str(err.get("type", ""))
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        msg = str(err.get("msg", ""))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if kind == "value_error" and "email" in msg.lower():
            zh_en = ("邮箱地址无效", "Not a valid email address")
        elif kind in _ERRORS:
            zh_t, en_t = _ERRORS[kind]
            ctx["msg"] = msg
            try:
                zh_en = (
                    split_bilingual(zh_t.format(**ctx), "zh"),
                    split_bilingual(en_t.format(**ctx), "en"),
                )
            except (KeyError, IndexError):
                zh_en = (msg, msg)
        else:
            zh_en = (msg, msg)
        out.setdefault(field, zh_en)
    return out
