"""Sensitive-field detection per column: identifiers by checksum, names and addresses by header and shape."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from quality.validators import (
    SensitiveKind,
    is_bank_card,
    is_credit_code,
    is_email,
    is_mobile,
    is_resident_id,
)

__all__ = ["MATCH_SHARE", "SensitiveMatch", "detect_column", "detect_sensitive", "header_hint"]

MATCH_SHARE = 0.8

_VALUE_CHECKS: tuple[tuple[SensitiveKind, Callable[[object], bool]], ...] = (
    (SensitiveKind.RESIDENT_ID, is_resident_id),
    (SensitiveKind.CREDIT_CODE, is_credit_code),
    (SensitiveKind.MOBILE, is_mobile),
    (SensitiveKind.BANK_CARD, is_bank_card),
    (SensitiveKind.EMAIL, is_email),
)

_HINTS: dict[SensitiveKind, tuple[str, ...]] = {
    SensitiveKind.NAME: (
        "姓名", "名字", "联系人", "法人", "法定代表人", "负责人", "申请人", "户主", "经办人", "收件人",
        "持卡人", "患者", "责任人", "代理人", "监护人", "person_name", "full_name", "fullname",
        "contact_name", "contact", "legal_person", "legal_representative", "applicant",
    ),
    SensitiveKind.ADDRESS: (
        "地址", "住址", "住所", "居住地", "户籍地", "通讯地址", "联系地址", "家庭住址", "注册地址",
        "address", "addr", "residence",
    ),
    SensitiveKind.BANK_CARD: (
        "卡号", "银行账号", "银行帐号", "银行卡", "开户账号", "账号", "帐号", "card_no", "card_number",
        "account_no", "account_number", "bank_account", "iban",
    ),
    SensitiveKind.RESIDENT_ID: ("身份证", "证件号", "公民身份号码", "id_card", "idcard"),
    SensitiveKind.MOBILE: ("手机", "联系电话", "移动电话", "mobile", "cellphone"),
    SensitiveKind.EMAIL: ("邮箱", "电子邮件", "email", "e-mail"),
    SensitiveKind.CREDIT_CODE: ("信用代码", "uscc", "credit_code"),
}  # fmt: skip

# Organisation names contain these: a 名称 column is not a person's name.
_NOT_NAME = ("名称", "单位", "企业", "公司", "机构", "产品", "项目", "文件", "file", "company", "org")
_PERSON_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$|^[\u4e00-\u9fff]{1,6}[·•][\u4e00-\u9fff]{1,8}$")
_LATIN_NAME = re.compile(r"^[A-Z][a-z]+(?:[ '-][A-Z][a-z]+){1,3}$")
_ADDRESS_ADMIN = re.compile(r"[省市区县州盟旗]")
_ADDRESS_DETAIL = re.compile(r"[路街道巷弄号村镇乡组栋幢室楼]|小区|大厦|社区")
_DIGITS = re.compile(r"^\d{12,30}$")
_SEPARATORS = re.compile(r"[\s-]")


@dataclass(frozen=True)
class SensitiveMatch:
    """A column's sensitive type and the share of sampled values that matched."""

    kind: SensitiveKind
    share: float
    by_header: bool = False


def header_hint(name: str) -> SensitiveKind | None:
    """The sensitive kind that a column header suggests, if any."""
    low = name.strip().lower().replace(" ", "_")
    if not low:
        return None
    for kind in (
        SensitiveKind.RESIDENT_ID,
        SensitiveKind.CREDIT_CODE,
        SensitiveKind.EMAIL,
        SensitiveKind.MOBILE,
        SensitiveKind.BANK_CARD,
        SensitiveKind.ADDRESS,
        SensitiveKind.NAME,
    ):
        if any(h in low for h in _HINTS[kind]):
            if kind == SensitiveKind.NAME and any(x in low for x in _NOT_NAME):
                continue
            return kind
    if low in {"name", "名", "xm"}:
        return SensitiveKind.NAME
    return None


def _is_person_name(value: str) -> bool:
    v = value.strip()
    return bool(_PERSON_NAME.match(v) or _LATIN_NAME.match(v))


def _is_address(value: str) -> bool:
    v = value.strip()
    return len(v) >= 6 and bool(_ADDRESS_ADMIN.search(v)) and bool(_ADDRESS_DETAIL.search(v))


def _is_account_number(value: str) -> bool:
    return bool(_DIGITS.match(_SEPARATORS.sub("", value)))


def _share(values: Sequence[str], check: Callable[[str], bool]) -> float:
    return sum(1 for v in values if check(v)) / len(values) if values else 0.0


def detect_column(
    name: str, values: Iterable[str | None], *, threshold: float = MATCH_SHARE
) -> SensitiveMatch | None:
    """Detect the sensitive type of one column from its header and a sample of its values."""
    sample = [v for v in values if v is not None and str(v).strip()]
    if not sample:
        return None
    hint = header_hint(name)
    best: SensitiveMatch | None = None
    for kind, check in _VALUE_CHECKS:
        share = _share(sample, check)
        if share >= threshold and (best is None or share > best.share):
            best = SensitiveMatch(kind, share)
    if best is not None:
        return best
    if hint == SensitiveKind.NAME:
        share = _share(sample, _is_person_name)
        if share >= threshold:
            return SensitiveMatch(SensitiveKind.NAME, share, by_header=True)
    if hint == SensitiveKind.ADDRESS:
        share = _share(sample, lambda v: len(v.strip()) >= 4)
        if share >= threshold:
            return SensitiveMatch(SensitiveKind.ADDRESS, share, by_header=True)
    if hint == SensitiveKind.BANK_CARD:
        share = _share(sample, _is_account_number)
        if share >= threshold:
            return SensitiveMatch(SensitiveKind.BANK_CARD, share, by_header=True)
    share = _share(sample, _is_address)
    if share >= threshold:
        return SensitiveMatch(SensitiveKind.ADDRESS, share)
    return None


def detect_sensitive(
    columns: Mapping[str, Iterable[str | None]], *, threshold: float = MATCH_SHARE
) -> dict[str, SensitiveKind | None]:
    """Sensitive type per column (None where nothing sensitive was found)."""
    out: dict[str, SensitiveKind | None] = {}
    for name, values in columns.items():
        match = detect_column(name, values, threshold=threshold)
        out[name] = match.kind if match else None
    return out
