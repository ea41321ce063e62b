"""HTTP fault injection: rules that answer matching requests with an error or a delay, holds
that keep matching requests unanswered until a test releases them, and per-channel access loss.

Gateway faults live on `GatewayHub` (close with hold/release, op 7, op 9, muted ACKs) because
they act on live connections.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from dataclasses import dataclass, field

_hold_ids = itertools.count(1)


def _compile(pattern: str) -> re.Pattern[str]:
    """`/channels/*/messages` or `/channels/{id}/messages`: `*`/`{x}` is one segment, `**` any."""
    out = []
    for part in re.split(r"(\*\*|\*|\{[^}]*\})", pattern):
        if part == "**":
            out.append(".*")
        elif part == "*" or (part.startswith("{") and part.endswith("}")):
            out.append("[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "/?$")


@dataclass(eq=False)
class HTTPFault:
    """Answer `status` (None = pass through after `delay`) to `method path` requests.

    `count` limits how many requests it hits (None = until removed); `probability` makes it flaky.
    """

    method: str
    path: str
    status: int | None = 500
    count: int | None = 1
    probability: float = 1.0
    retry_after: float = 0.0
    delay: float = 0.0
    is_global: bool = False
    message: str | None = None
    hits: int = 0
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._regex = _compile(self.path)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and bool(self._regex.match(path))


@dataclass(eq=False)
class RequestHold:
    """Keep up to `count` matching requests (None = all) unanswered until `release()`; then
    each is processed normally, even if its client has gone (Discord got the request).

    With `after_processing`, the request is processed at once and only the answer is held: the
    effect exists (e.g. the message was posted) while the client still waits.
    """

    method: str
    path: str
    count: int | None = 1
    after_processing: bool = False
    id: int = field(default_factory=lambda: next(_hold_ids))
    caught: list[str] = field(default_factory=list)
    _regex: re.Pattern[str] = field(init=False, repr=False)
    _released: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._regex = _compile(self.path)

    @property
    def released(self) -> bool:
        return self._released.is_set()

    @property
    def full(self) -> bool:
        return self.count is not None and len(self.caught) >= self.count

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and bool(self._regex.match(path))

    def catch(self, path: str) -> None:
        self.caught.append(path)
        self._arrived.set()

    async def wait_held(self, count: int = 1, timeout: float = 30.0) -> list[str]:
        """Until `count` requests have been caught; returns their paths."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.caught) < count:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{len(self.caught)} of {count} {self.method} {self.path} requests held "
                f"within {timeout}s"
            ) from None
        return list(self.caught)

    async def until_released(self) -> None:
        await self._released.wait()

    def release(self) -> None:
        """Let every held request through; later ones pass as if the hold never existed."""
        self._released.set()


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[HTTPFault] = []
        self.holds: list[RequestHold] = []
        self.denied: dict[int, int] = {}
        """channel id -> JSON error code answered with 403 (a permission lost for a while)."""
        self._random = random.Random(seed)

    def add(self, fault: HTTPFault) -> HTTPFault:
        self.rules.append(fault)
        return fault

    def add_hold(self, hold: RequestHold) -> RequestHold:
        self.holds.append(hold)
        return hold

    def clear(self) -> None:
        """Drop every rule, release every hold, restore every channel's access."""
        self.rules.clear()
        for hold in self.holds:
            hold.release()
        self.holds.clear()
        self.denied.clear()

    def take_hold(self, method: str, path: str) -> RequestHold | None:
        """The first live hold that catches this request (it counts toward the hold's `count`)."""
        for hold in self.holds:
            if not hold.released and not hold.full and hold.matches(method, path):
                hold.catch(path)
                return hold
        return None

    def take(self, method: str, path: str) -> HTTPFault | None:
        """The first live rule that fires for this request (it counts as a hit)."""
        for rule in list(self.rules):
            if rule.exhausted or not rule.matches(method, path):
                continue
            if rule.probability < 1.0 and self._random.random() >= rule.probability:
                continue
            rule.hits += 1
            if rule.exhausted:
                self.rules.remove(rule)
            return rule
        return None
