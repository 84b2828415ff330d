"""Requests-per-minute and tokens-per-minute limits shared by every concurrent analysis.

A continuous token bucket (the model OpenAI documents for its own limits): capacity refills at
``per_minute / 60`` per second. The burst is a sixth of a minute's allowance because endpoints enforce
"per minute" limits over shorter windows too, so a full minute's burst at once would draw 429s.

The bucket may go into debt: the engine charges an *estimate* before an analysis (it cannot know how
many calls or tokens a transcript costs until it is done) and settles the difference afterwards, so a
sustained rate converges on the limit even when estimates are off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """An asyncio token bucket: ``await acquire(n)`` waits until ``n`` units are available."""

    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.per_minute = float(per_minute)
        self.rate = self.per_minute / 60.0
        self.capacity = float(burst) if burst is not None else max(1.0, self.per_minute / 6.0)
        self._clock = clock
        self._level = self.capacity
        self._stamp = clock()
        self._paused_until = 0.0
        # One waiter at a time, in arrival order, so a large request is not starved by small ones.
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def level(self) -> float:
        """Units available now (negative while in debt)."""
        self._refill()
        return self._level

    def delay_for(self, amount: float) -> float:
        """Seconds until ``amount`` units (capped at the capacity) could be taken; 0 if now."""
        self._refill()
        need = min(amount, self.capacity)
        wait = 0.0 if self._level >= need else (need - self._level) / self.rate
        return max(wait, self._paused_until - self._clock())

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait until ``amount`` units are available and take them.

        An amount larger than the capacity waits for a full bucket and then leaves it in debt, so one
        huge transcript can still run but the ones after it wait their turn.
        """
        async with self._lock:
            while True:
                wait = self.delay_for(amount)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            self._refill()
            self._level -= amount

    def settle(self, delta: float) -> None:
        """Charge (positive) or refund (negative) units after the fact, e.g. actual minus estimate."""
        self._refill()
        self._level = min(self.capacity, self._level - delta)

    def pause(self, seconds: float) -> None:
        """Hold every acquire for ``seconds`` (an endpoint's Retry-After applies to all workers)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
