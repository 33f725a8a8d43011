"""The school's rate limit: at most N requests per rolling window per client id.

A rolling (sliding) log: a request is admitted when fewer than N admitted requests arrived in
the last `window` seconds of the injected clock; a refused request (429) is not counted, so a
client that waits for the window to pass gets through. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import deque

from learnworlds_mcp.clock import Clock


class RateLimiter:
    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate limit must be at least 1 request per positive window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str) -> float | None:
        """None if the request may pass (and count it); else seconds until a slot frees up."""
        with self._lock:
            now = self._clock.monotonic()
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(0.0, seen[0] + self.window - now)
            seen.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
