"""Sensitive-column detection by checksum validators, header hints and value shape."""

from __future__ import annotations

import pytest

from quality.sensitive import detect_column, detect_sensitive, header_hint
from quality.validators import SensitiveKind


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        (SensitiveKind.RESIDENT_ID, "col_a"),
        (SensitiveKind.CREDIT_CODE, "col_b"),
        (SensitiveKind.BANK_CARD, "col_c"),
        (SensitiveKind.MOBILE, "col_d"),
        (SensitiveKind.EMAIL, "col_e"),
    ],
)
def test_value_validators_type_a_column_without_hint(ids, kind: SensitiveKind, header: str) -> None:
    make = getattr(ids, kind.value)
    values = [make() for _ in range(50)]
    match = detect_column(header, values)
    assert match is not None
    assert match.kind == kind
    assert match.share == 1.0


def test_threshold_is_eighty_percent(ids) -> None:
    good = [ids.resident_id() for _ in range(8)]
    assert detect_column("x", [*good, "bad", "worse"]).kind == SensitiveKind.RESIDENT_ID
    assert detect_column("x", [*good[:7], "bad", "worse", "nope"]) is None


def test_wrong_check_digits_are_not_ids(ids) -> None:
    values = []
    for _ in range(20):
        rid = ids.resident_id()
        values.append(rid[:17] + ("0" if rid[17] != "0" else "1"))
    assert (
        detect_column("证件", values) is None
        or detect_column("证件", values).kind != SensitiveKind.RESIDENT_ID
    )


def test_nulls_are_ignored(ids) -> None:
    values = [ids.mobile() for _ in range(10)] + [None, "", "  "] * 10
    assert detect_column("电话", values).kind == SensitiveKind.MOBILE


def test_names_need_a_header_hint(ids) -> None:
    names = [ids.name() for _ in range(40)]
    assert detect_column("姓名", names).kind == SensitiveKind.NAME
    assert detect_column("法定代表人", names).kind == SensitiveKind.NAME
    assert detect_column("备注", names) is None
    assert detect_column("单位名称", ["杭州市数据资源管理局"] * 5) is None


def test_addresses_by_hint_or_shape(ids) -> None:
    addresses = [ids.address() for _ in range(30)]
    assert detect_column("住址", addresses).kind == SensitiveKind.ADDRESS
    assert detect_column("col", addresses).kind == SensitiveKind.ADDRESS
    assert detect_column("区县", ["西湖区", "上城区", "滨江区"]) is None


def test_bank_account_by_header_hint() -> None:
    accounts = ["33050161663500000123", "1202020209900012345", "31001234567050012345"]
    assert detect_column("银行账号", accounts).kind == SensitiveKind.BANK_CARD
    assert detect_column("数量", accounts) is None


def test_header_hint() -> None:
    assert header_hint("联系人姓名") == SensitiveKind.NAME
    assert header_hint("企业名称") is None
    assert header_hint("身份证号码") == SensitiveKind.RESIDENT_ID
    assert header_hint("家庭住址") == SensitiveKind.ADDRESS
    assert header_hint("金额") is None


def test_detect_sensitive_per_table(ids) -> None:
    columns = {
        "姓名": [ids.name() for _ in range(20)],
        "身份证号": [ids.resident_id() for _ in range(20)],
        "金额": [str(i) for i in range(20)],
    }
    assert detect_sensitive(columns) == {
        "姓名": SensitiveKind.NAME,
        "身份证号": SensitiveKind.RESIDENT_ID,
        "金额": None,
    }
