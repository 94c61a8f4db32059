"""The in-process rate limiter."""

from __future__ import annotations

import threading

import pytest

from auth.errors import RateLimited
from auth.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_rate_then_refuses() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, 60, clock=clock)
    assert [limiter.allow("1.2.3.4") for _ in range(6)] == [True] * 5 + [False]
    # Another client has its own bucket.
    assert limiter.allow("5.6.7.8")


def test_refills_over_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 60, clock=clock)  # one a second
    for _ in range(60):
        assert limiter.allow("k")
    assert not limiter.allow("k")
    clock.now += 1.0
    assert limiter.allow("k")
    assert not limiter.allow("k")
    clock.now += 3600
    assert limiter.remaining("k") == 60


def test_check_raises_with_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 60, clock=clock)
    limiter.check("k")
    limiter.check("k")
    with pytest.raises(RateLimited) as exc:
        limiter.check("k")
    assert exc.value.retry_after == pytest.approx(30.0)
    assert "30" in str(exc.value)
    limiter.reset("k")
    limiter.check("k")


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(1, 60, max_keys=100, clock=FakeClock())
    for i in range(1000):
        limiter.allow(f"client-{i}")
    assert len(limiter._buckets) == 100


def test_thread_safe_under_contention() -> None:
    limiter = RateLimiter(500, 3600, clock=FakeClock())
    allowed = []
    lock = threading.Lock()

    def hammer() -> None:
        n = sum(limiter.allow("shared") for _ in range(200))
        with lock:
            allowed.append(n)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 500


def test_rejects_nonsense_configuration() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
