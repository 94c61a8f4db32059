"""Validators: valid and invalid identifiers, and masking that never reveals the raw value."""

from __future__ import annotations

import datetime as dt

import pytest

from quality.validators import (
    SensitiveKind,
    is_bank_card,
    is_cn_date,
    is_credit_code,
    is_email,
    is_mobile,
    is_region_code,
    is_resident_id,
    luhn_ok,
    mask,
    parse_cn_date,
)


@pytest.mark.parametrize(
    "value", ["11010519491231002X", "11010519491231002x", " 440524188001010014 ", "110105491231002"]
)
def test_resident_id_valid(value: str) -> None:
    assert is_resident_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",  # wrong check digit
        "11010519491331002X",  # month 13 -> wrong date (check digit irrelevant)
        "110105194902300027",  # 30 February
        "99010519491231002X",  # no province 99
        f"110105{dt.date.today().year + 1}0101001X",  # born in the future
        "1101051949123100",  # too short
        "11010519491231002Y",
        "",
        None,
        110105194912310021,
    ],
)
def test_resident_id_invalid(value: object) -> None:
    assert not is_resident_id(value)


def test_resident_id_future_birth_with_correct_check_digit() -> None:
    body = f"110105{dt.date.today().year + 1}0101001"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    assert not is_resident_id(body + check)
    past = "11010520000101001"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(past, weights, strict=True)) % 11]
    assert is_resident_id(past + check)


@pytest.mark.parametrize("value", ["91350100M000100Y43", "91110000802100433B", "91350100m000100y43"])
def test_credit_code_valid(value: str) -> None:
    assert is_credit_code(value)


@pytest.mark.parametrize(
    "value",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # 17 chars
        "91350100M0001O0Y43",  # letter O is not in the charset
        "91350100I000100Y43",  # letter I is not in the charset
        "919901000000000000",  # no province 99
        "",
    ],
)
def test_credit_code_invalid(value: str) -> None:
    assert not is_credit_code(value)


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111111",
        "6222 0212 3456 7890 128",
        "5500-0000-0000-0004",
        "378282246310005",
        "6228480402564890018",
    ],
)
def test_bank_card_valid(value: str) -> None:
    assert is_bank_card(value)


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111112",  # Luhn fails
        "6222021234567890127",  # Luhn fails
        "1111111111111117",  # passes Luhn, no issuer starts with 1
        "411111111111",  # 12 digits
        "41111111111111111111",  # 20 digits
        "４１１１１１１１１１１１１１１１",  # full-width digits
        "abcd",
    ],
)
def test_bank_card_invalid(value: str) -> None:
    assert not is_bank_card(value)


def test_luhn() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
    assert not luhn_ok("7992739871x")


@pytest.mark.parametrize(
    "value", ["13812345678", "+86 138 1234 5678", "86-199-1234-5678", "008615912345678", "(+86)17012345678"]
)
def test_mobile_valid(value: str) -> None:
    assert is_mobile(value)


@pytest.mark.parametrize(
    "value", ["12812345678", "1381234567", "138123456789", "0571-88888888", "+1 138 1234 5678", ""]
)
def test_mobile_invalid(value: str) -> None:
    assert not is_mobile(value)


def test_email() -> None:
    assert is_email("zhang.san@example.gov.cn")
    assert is_email("a+b@x.io")
    for bad in ["zhang@", "@x.com", "a b@x.com", "a@x", "a@@x.com", "a@x.c", "张三@例子.中国"]:
        assert not is_email(bad), bad


def test_region_code() -> None:
    assert is_region_code("330102")
    assert is_region_code("820000")
    for bad in ["990102", "3301020", "33010", "33010a", "000000"]:
        assert not is_region_code(bad), bad


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-05", dt.date(2024, 1, 5)),
        ("2024/1/5", dt.date(2024, 1, 5)),
        ("2024年1月5日", dt.date(2024, 1, 5)),
        ("20240105", dt.date(2024, 1, 5)),
        ("2024.12.31", dt.date(2024, 12, 31)),
        ("2024-02-30", None),
        ("2023年2月29日", None),
        ("20241301", None),
        ("05/01/2024", None),
        ("hello", None),
    ],
)
def test_cn_date(value: str, expected: dt.date | None) -> None:
    assert parse_cn_date(value) == expected
    assert is_cn_date(value) is (expected is not None)


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("330102199001011234", "resident_id", "330102********1234"),
        ("13812345678", "mobile", "138****5678"),
        ("张三", "name", "张*"),
        ("欧阳娜娜", "name", "欧***"),
        ("alice@x.com", "email", "a***@x.com"),
        ("6222021234561234", "bank_card", "6222 **** **** 1234"),
        ("91350100M000100Y43", SensitiveKind.CREDIT_CODE, "913501**********43"),
    ],
)
def test_mask_shapes(value: str, kind: str, expected: str) -> None:
    assert mask(value, kind) == expected


@pytest.mark.parametrize("kind", [k.value for k in SensitiveKind] + ["other"])
@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",
        "13812345678",
        "张",
        "李四",
        "a@b.cn",
        "4111111111111111",
        "浙江省杭州市西湖区文三路1号",
        "x",
        "ab",
    ],
)
def test_mask_never_reveals_raw_value(value: str, kind: str) -> None:
    masked = mask(value, kind)
    assert masked != value
    assert "*" in masked
    if len(value) >= 4:
        # at least half of the characters are hidden
        assert sum(1 for a, b in zip(masked, value, strict=False) if a == b) <= len(value) - len(value) // 3


def test_mask_empty() -> None:
    assert mask(None, "name") == ""
    assert mask("  ", "mobile") == ""
