"""Fixtures for the quality tests: valid identifier generators and a scratch work directory."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华平刚桂兰玉萍红鹏辉建国文斌宇浩凯"


class IdFactory:
    """Deterministic generators of checksum-valid Chinese identifiers (independent of quality.validators)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)

    def resident_id(self) -> str:
        region = self.rng.choice(["110105", "330102", "440305", "510107", "320106", "370202"])
        birth = f"{self.rng.randint(1950, 2005)}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"
        body = region + birth + f"{self.rng.randint(0, 999):03d}"
        check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
        return body + check

    def credit_code(self) -> str:
        body = (
            "91"
            + self.rng.choice(["330100", "110108", "440300"])
            + "".join(self.rng.choice(_USCC_CHARS) for _ in range(9))
        )
        total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
        return body + _USCC_CHARS[(31 - total % 31) % 31]

    def bank_card(self) -> str:
        body = "622202" + "".join(str(self.rng.randint(0, 9)) for _ in range(12))
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:  # doubled positions once the check digit is appended
                d = d * 2 - 9 if d * 2 > 9 else d * 2
            total += d
        return body + str((10 - total % 10) % 10)

    def mobile(self) -> str:
        return f"1{self.rng.choice('3456789')}{self.rng.randint(0, 999_999_999):09d}"

    def name(self) -> str:
        return self.rng.choice(_SURNAMES) + "".join(
            self.rng.choice(_GIVEN) for _ in range(self.rng.randint(1, 2))
        )

    def email(self) -> str:
        return f"user{self.rng.randint(1, 99999)}@example.gov.cn"

    def address(self) -> str:
        city = self.rng.choice(["浙江省杭州市西湖区", "广东省深圳市南山区", "四川省成都市武侯区"])
        return f"{city}{self.rng.choice(['文三路', '科技园路', '人民南路'])}{self.rng.randint(1, 999)}号"


@pytest.fixture
def ids() -> IdFactory:
    """Generators of valid resident IDs, credit codes, bank cards, mobiles, names, e-mails, addresses."""
    return IdFactory()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory for normalized output."""
    out = tmp_path / "work"
    out.mkdir()
    return out


@pytest.fixture(scope="session")
def messy(testdata: Path) -> Path:
    """The messy-csv corpus folder of the shared test data."""
    path = testdata / "messy-csv"
    if not path.is_dir():
        pytest.skip(f"messy-csv corpus not found at {path}")
    return path
