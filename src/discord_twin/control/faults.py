"""Trouble on demand: rate-limit profiles, HTTP faults, held requests, a channel's access lost
for a while. Gateway faults are on `twin.gateway` (they act on live connections)."""

from __future__ import annotations

from ..errors import MISSING_ACCESS
from ..faults import Faults, HTTPFault, RequestHold
from ..ratelimit import RateLimiter
from ..state import Channel


class FaultControls:
    faults: Faults
    ratelimits: RateLimiter

    def set_rate_limits(self, profile: str) -> None:
        self.ratelimits.set_profile(profile)

    def add_http_fault(
        self,
        method: str,
        path: str,
        status: int | None = 500,
        *,
        count: int | None = 1,
        probability: float = 1.0,
        retry_after: float = 0.0,
        delay: float = 0.0,
        is_global: bool = False,
    ) -> HTTPFault:
        """E.g. `add_http_fault("POST", "/channels/*/messages", 429, retry_after=0.1)`."""
        return self.faults.add(
            HTTPFault(
                method=method,
                path=path,
                status=status,
                count=count,
                probability=probability,
                retry_after=retry_after,
                delay=delay,
                is_global=is_global,
            )
        )

    def hold_requests(
        self, method: str, path: str, *, count: int | None = 1, after_processing: bool = False
    ) -> RequestHold:
        """Hold matching requests unanswered: `await hold.wait_held()`, then kill the client or
        `hold.release()` to let them through. Same path patterns as `add_http_fault`."""
        return self.faults.add_hold(
            RequestHold(method=method, path=path, count=count, after_processing=after_processing)
        )

    def revoke_access(self, channel: Channel, *, code: int = MISSING_ACCESS) -> None:
        """Every REST call on `channel` (and threads under it) answers 403 with `code` (50001
        Missing Access, or 50013 Missing Permissions) until `restore_access`; a deleted
        channel answers 404 / 10003 instead."""
        self.faults.denied[channel.id] = code

    def restore_access(self, channel: Channel) -> None:
        self.faults.denied.pop(channel.id, None)
