"""Rate-limit profiles.

`generous` sends headers that never make discord.py wait. `realistic` enforces Discord's
buckets (5 message posts and, separately, 5 edits per 5 s per channel, 2 renames per 10 min per
channel, 50 requests/s globally) with the headers discord.py reads, so a well-behaved client
never sees 429.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field

PROFILES = ("generous", "realistic")


@dataclass(slots=True)
class Window:
    limit: int
    period: float
    count: int = 0
    reset_at: float = 0.0

    def take(self, now: float) -> bool:
        if now >= self.reset_at:
            self.count = 0
            self.reset_at = now + self.period
        if self.count >= self.limit:
            return False
        self.count += 1
        return True


@dataclass(slots=True)
class Decision:
    headers: dict[str, str] = field(default_factory=dict)
    limited: bool = False
    retry_after: float = 0.0
    is_global: bool = False


# (method, route template) -> (limit, period), each per channel; others get DEFAULT_BUCKET.
# Discord documents no numbers; these are what it answers in practice. Edits have a bucket of
# their own (a different X-RateLimit-Bucket from posts, also 5 per 5 s per channel), so a bot
# streaming edits does not slow its posts, and discord.py keys them apart too (method + route).
ROUTE_BUCKETS: dict[tuple[str, str], tuple[int, float]] = {
    ("POST", "/channels/{channel_id}/messages"): (5, 5.0),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"): (5, 5.0),
}
RENAME_BUCKET = (2, 600.0)
DEFAULT_BUCKET = (50, 1.0)
GLOBAL_LIMIT = 50


def bucket_hash(method: str, template: str) -> str:
    return hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:16]


class RateLimiter:
    def __init__(self, profile: str = "generous") -> None:
        self.profile = "generous"
        self.set_profile(profile)
        self._windows: dict[tuple[str, str, str], Window] = {}
        self._global = Window(GLOBAL_LIMIT, 1.0)
        self.limited_count = 0

    def set_profile(self, profile: str) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown rate-limit profile {profile!r}; use one of {PROFILES}")
        self.profile = profile
        self._windows = {}

    def check(
        self,
        method: str,
        template: str,
        major: str,
        *,
        counts_globally: bool = True,
        renames: bool = False,
    ) -> Decision:
        """Account one request and say whether it passes, with the headers to send."""
        bucket = bucket_hash(method, template)
        if self.profile == "generous":
            return Decision(headers=rate_limit_headers(10_000, 9_999, 1.0, bucket))
        now = time.monotonic()
        if counts_globally and not self._global.take(now):
            self.limited_count += 1
            retry = max(0.001, self._global.reset_at - now)
            return Decision(
                headers={"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"},
                limited=True,
                retry_after=retry,
                is_global=True,
            )
        limit, period = (
            RENAME_BUCKET if renames else ROUTE_BUCKETS.get((method, template), DEFAULT_BUCKET)
        )
        key = (method, template + (":rename" if renames else ""), major)
        window = self._windows.setdefault(key, Window(limit, period))
        allowed = window.take(now)
        reset_after = max(0.0, window.reset_at - now)
        headers = rate_limit_headers(limit, limit - window.count, reset_after, bucket)
        if allowed:
            return Decision(headers=headers)
        self.limited_count += 1
        headers["X-RateLimit-Scope"] = "user"
        return Decision(headers=headers, limited=True, retry_after=max(0.001, reset_after))


def rate_limit_headers(
    limit: int, remaining: int, reset_after: float, bucket: str
) -> dict[str, str]:
    # Round up so a client sleeping exactly Reset-After never arrives before the reset.
    reset_after = math.ceil(reset_after * 1000) / 1000
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }
