"""Per-client upload rate limit: a token bucket for each client address, in memory.

Each client may send ``burst`` uploads at once, then ``per_minute`` a minute. Buckets live only in this
process (a restart forgets them), and only the most recently seen clients are kept, so a flood of
addresses cannot grow memory without bound.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

_MAX_CLIENTS = 10_000


class UploadLimiter:
    """Token buckets keyed by client; :meth:`take` answers how long to wait (0 means go)."""

    def __init__(self, per_minute: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        """``per_minute`` 0 turns the limit off."""
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend one upload for ``client``: 0.0 when allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        tokens, then = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > _MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
