"""`kimaki` with a sampler: every `KIMAKI_PROBE_EVERY` seconds one JSON line in
`KIMAKI_PROBE_FILE` with the process's RSS, open fds and asyncio task count.

Bench only (`bench/faults.py --soak`): the task count can only be read inside kimaki's
own event loop, so this wraps `asyncio.run` of the console script's `main` and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from kimaki.cli import entrypoint


def sample() -> dict[str, float]:
    rss_kib = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
    return {
        "t": time.time(),
        "rss_mib": round(rss_kib / 1024, 1),
        "fds": len(os.listdir("/proc/self/fd")),
        "tasks": len(asyncio.all_tasks()),
    }


async def _sampler(path: Path, every: float) -> None:
    while True:
        with path.open("a") as file:
            file.write(json.dumps(sample()) + "\n")
        await asyncio.sleep(every)


_run = asyncio.run


def run_sampled(main: Coroutine[Any, Any, Any], **kwargs: Any) -> Any:
    async def sampled() -> Any:
        where = os.environ.get("KIMAKI_PROBE_FILE")
        every = float(os.environ.get("KIMAKI_PROBE_EVERY", "30"))
        probe = asyncio.create_task(_sampler(Path(where), every)) if where else None
        try:
            return await main
        finally:
            if probe is not None:
                probe.cancel()

    return _run(sampled(), **kwargs)


if __name__ == "__main__":
    asyncio.run = run_sampled
    sys.argv[0] = "kimaki"
    entrypoint()
