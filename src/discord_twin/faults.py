"""HTTP fault injection: rules that answer matching requests with an error or a delay.

Gateway faults live on `GatewayHub` (close with hold/release, op 7, op 9, muted ACKs) because
they act on live connections.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field


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


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[HTTPFault] = []
        self._random = random.Random(seed)

    def add(self, fault: HTTPFault) -> HTTPFault:
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        self.rules.clear()

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
