"""A small in-process, thread-safe token-bucket rate limiter keyed by client."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from auth.errors import RateLimited


class RateLimiter:
    """Allow ``rate`` requests per ``period`` seconds per key, with bursts up to ``burst``.

    Each key has a bucket of ``burst`` tokens (default ``rate``) refilled continuously at
    ``rate / period`` tokens a second; a request takes one token. Buckets of idle keys are
    dropped (least recently used first) beyond ``max_keys``, so memory stays bounded.
    In-process only: with several workers each one counts on its own.
    """

    def __init__(
        self,
        rate: int,
        period: float = 60.0,
        *,
        burst: int | None = None,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or period <= 0:
            raise ValueError("rate and period must be positive")
        self.rate = rate
        self.period = period
        self.capacity = float(burst if burst is not None else rate)
        self.max_keys = max_keys
        self._refill_per_second = rate / period
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _take(self, key: str, cost: float) -> float:
        """Take tokens if available; return 0.0 on success, else seconds until it would succeed."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self._refill_per_second)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (cost - tokens) / self._refill_per_second
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Take one request's worth for this key; False when it is over the limit."""
        return self._take(key, cost) == 0.0

    def check(self, key: str, cost: float = 1.0) -> None:
        """Like allow(), but raise RateLimited (with retry_after seconds) when over the limit."""
        wait = self._take(key, cost)
        if wait > 0.0:
            raise RateLimited(key, wait)

    def remaining(self, key: str) -> int:
        """Whole requests this key could make right now."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            return int(min(self.capacity, tokens + (now - at) * self._refill_per_second))

    def reset(self, key: str | None = None) -> None:
        """Forget one key's usage, or every key's."""
        with self._lock:
            if key is None:
                self._buckets.clear()
            else:
                self._buckets.pop(key, None)
