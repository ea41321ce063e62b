"""What the sync benchmarks count: OpenCode requests by kind, CPU and memory from /proc."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kimaki.opencode.rest import OpenCodeClient

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class RequestCounter:
    """Counts a client's OpenCode REST requests by kind (wraps its `_request`, bench only)."""

    def __init__(self, client: OpenCodeClient) -> None:
        self.kinds: Counter[str] = Counter()
        original = client._request

        async def counted(method: str, path: str, **kwargs: Any) -> Any:
            self.kinds[request_kind(method, path)] += 1
            return await original(method, path, **kwargs)

        client._request = counted  # type: ignore[method-assign]

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def since(self, before: Counter[str]) -> dict[str, int]:
        return {k: v - before[k] for k, v in self.kinds.items() if v - before[k]}


def request_kind(method: str, path: str) -> str:
    if path in ("/session", "/experimental/session") and method == "GET":
        return "list"
    if path == "/session/status":
        return "status"
    if path.endswith("/message") and method == "GET":
        return "messages"
    return f"{method} other"


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes (from /proc, so it works for any pid)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def proc_status(pid: int, key: str) -> float:
    """A /proc/PID/status size field (VmHWM, VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
