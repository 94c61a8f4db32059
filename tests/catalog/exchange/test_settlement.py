"""Commission splits: integer fen, commissions round down, the seller gets the remainder."""

from __future__ import annotations

import random

import pytest

from catalog.exchange.errors import InvalidProduct
from catalog.exchange.settlement import split


def test_splits_always_sum_to_the_price() -> None:
    rng = random.Random(20250101)
    for _ in range(5000):
        price = rng.choice([0, 1, 7, 99, 100, 101, rng.randint(0, 10**9)])
        ex, br = rng.randint(0, 5000), rng.randint(0, 5000)
        for has_broker in (True, False):
            s = split(price, commission_bp=ex, broker_commission_bp=br, has_broker=has_broker)
            assert s.exchange_fen + s.broker_fen + s.seller_fen == price
            assert min(s.exchange_fen, s.broker_fen, s.seller_fen) >= 0
            assert s.exchange_fen == price * ex // 10_000
            if not has_broker:
                assert s.broker_fen == 0


def test_remainder_goes_to_the_seller() -> None:
    s = split(99_999, commission_bp=300, broker_commission_bp=500, has_broker=True)
    assert (s.exchange_fen, s.broker_fen, s.seller_fen) == (2_999, 4_999, 92_001)
    assert split(1, commission_bp=300, broker_commission_bp=500, has_broker=True).seller_fen == 1


def test_rates_over_a_hundred_percent_never_make_a_negative_share() -> None:
    s = split(1000, commission_bp=7000, broker_commission_bp=7000, has_broker=True)
    assert (s.exchange_fen, s.broker_fen, s.seller_fen) == (700, 300, 0)
    with pytest.raises(InvalidProduct):
        split(-1, commission_bp=0, broker_commission_bp=0, has_broker=False)
