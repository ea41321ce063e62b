"""Benchmark the OpenCode side: server start, idle memory, REST latency, turn latency.

Run from the repository root:  .venv/bin/python -m bench.opencode [--rounds N]
Uses the pinned OpenCode and the scripted model in an isolated temporary world.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from kimaki.opencode.events import EventStream
from kimaki.opencode.models import SessionID, SessionIdle
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer
from scripted_model import ScriptedModel, text
from tests.support.processes import group_members
from tests.support.world import World, opencode_binary


def rss_mib(pids: list[int]) -> float:
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


async def timed(call: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, samples: list[float], unit: str) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"| {name} | {len(samples)} | {ordered[0]:.1f} | {statistics.median(ordered):.1f} "
        f"| {p95:.1f} | {unit} |"
    )


async def turn(
    client: OpenCodeClient, stream: EventStream, session_id: SessionID, directory: str
) -> None:
    sub = stream.subscribe()
    try:
        await client.prompt_async(session_id, directory, [TextInput("bench-turn")])
        async for item in sub:
            if isinstance(item, SessionIdle) and item.session_id == session_id:
                return
    finally:
        sub.close()


async def main(rounds: int) -> None:
    rows: list[str] = []
    async with ScriptedModel() as model:
        model.add_rule("bench-turn", [text("A short benchmark reply.")])
        root = Path(tempfile.mkdtemp(prefix="kimaki-bench-"))
        world = World(root, model.base_url)
        world.create_dirs()
        project = world.make_project("bench")

        starts = []
        for n in range(3):
            server = OpenCodeServer(opencode_binary(), data_dir=root / f"d{n}", extra_env=world.env)
            begin = time.perf_counter()
            await server.start()
            starts.append(time.perf_counter() - begin)
            if n < 2:
                await server.stop()
        rows.append(row("server start → healthy", [s * 1000 for s in starts], "ms"))

        assert server.pid is not None
        idle_rss = rss_mib(group_members(server.pid))
        async with OpenCodeClient(lambda: server.endpoint) as client:
            stream = EventStream(client)
            stream.start()
            await asyncio.wait_for(stream.connected.wait(), 30)
            session = await client.create_session(str(project))
            rows.append(row("GET /global/health", await timed(client.health, rounds), "ms"))
            for _ in range(20):
                await client.create_session(str(project))
            rows.append(
                row(
                    "GET /session (21 sessions)",
                    await timed(lambda: client.sessions(str(project), roots=True), rounds),
                    "ms",
                )
            )
            turns = await timed(lambda: turn(client, stream, session.id, str(project)), 10)
            rows.append(row("one-step turn: prompt_async → session.idle", turns, "ms"))
            rows.append(
                row(
                    "GET /session/{id}/message (20 messages)",
                    await timed(lambda: client.messages(session.id, str(project)), rounds),
                    "ms",
                )
            )
            busy_rss = rss_mib(group_members(server.pid))
            await stream.stop()
        await server.stop()

    print("| measure | n | min | median | p95 | unit |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"\nOpenCode server RSS: idle {idle_rss:.0f} MiB, after the turns {busy_rss:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(main(parser.parse_args().rounds))
