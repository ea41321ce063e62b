"""Idle cost of background sync at scale: kimaki, with and without the store watch, against
the naive poller, in the same run.

Every session is mirrored first. Then each approach runs idle for a window as it runs in
production — kimaki's real `SyncLoop` (its own ticks every `INTERVAL` s, the store watch
on or off), the naive loop ticking every `INTERVAL` s (back to back when a tick takes
longer) — and what the window cost is counted: OpenCode requests by kind, the bot's CPU
inside ticks, OpenCode's CPU over the whole window (its own idle work included; the
baseline without any request is measured separately). Per minute = × 60 / window.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.measure import RequestCounter, cpu_seconds
from bench.naive_sync import NaiveSync
from kimaki.app import Kimaki
from kimaki.opencode.rest import OpenCodeClient
from kimaki.sync import SyncLoop, SyncSettings
from kimaki.sync.watch import StoreWatch

if TYPE_CHECKING:
    from bench.sync import Bench, Plan

INTERVAL = 5.0  # kimaki's default sync interval
GRACE = SyncSettings(grace=86_400)  # every session the benchmark made is new enough


@dataclass(frozen=True)
class IdleCost:
    """What one idle window cost an approach."""

    approach: str
    window: float
    ticks: int
    asked: int
    """Ticks that made at least one OpenCode request."""
    requests: dict[str, int]
    bot_cpu: float
    opencode_cpu: float
    wall_ms: float
    """Mean wall time of a tick that asked OpenCode."""

    def per_minute(self, amount: float) -> float:
        return amount * 60 / self.window

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def per_tick(self) -> float:
        return self.total / max(1, self.ticks)


# --- getting every session mirrored


async def populate(
    bench: Bench, directories: Sequence[Path], per_directory: int, *, prompt: bool = True
) -> float:
    """`per_directory` sessions in each directory, each with one finished turn.

    The turn is a shell command (`POST /session/{id}/shell`: a user message and a
    completed assistant message with a bash part), so no model runs and the sessions
    look like finished terminal sessions. A prompt stored with `noReply` would not do:
    sync treats an unanswered prompt as a running turn for 10 minutes.
    Without `prompt` they stay empty, like a TUI opened and left without a word.
    """
    begin = time.perf_counter()
    limit = asyncio.Semaphore(16)

    async def one(directory: Path, n: int) -> None:
        async with limit:
            where = str(directory)
            session = await bench.client.create_session(where, title=f"{directory.name} #{n}")
            if prompt:
                await bench.client.shell(session.id, where, f"echo idle {n}")

    await asyncio.gather(*(one(d, n) for d in directories for n in range(per_directory)))
    return time.perf_counter() - begin


async def adopt_all(
    bench: Bench,
    app: Kimaki,
    sync: SyncLoop,
    counter: RequestCounter,
    parents: set[int],
    want: int,
) -> float:
    """Tick until every session has its Sync thread, its posts are sent, and a tick reads
    no messages and leaves nothing pending."""
    begin = time.perf_counter()
    while len(bench.sync_threads(parents)) < want or sync.pending:
        if time.perf_counter() - begin > 1800:
            raise RuntimeError("sync did not mirror every session within 30 minutes")
        await sync.tick()
        await sync.settle()
        await app.bridges.settle()
    await app.outbox.flush(timeout=600)
    for _ in range(60):
        before = Counter(counter.kinds)
        await sync.tick()
        await sync.settle()
        if counter.kinds["messages"] == before["messages"] and not sync.pending:
            return time.perf_counter() - begin
        await asyncio.sleep(1)
    raise RuntimeError("sync did not settle: idle ticks still read messages")


# --- measuring an idle window


async def measure_loop(
    approach: str,
    sync: SyncLoop,
    counter: RequestCounter,
    opencode_pids: Callable[[], list[int]],
    window: float,
) -> IdleCost:
    """Run kimaki's real loop; count whole intervals, from the end of a tick to the end of
    the first tick at least `window` s later, skipping the loop's first two ticks (the
    first listing of a new loop pages through everything; with the watch, the one after
    it confirms the store is quiet)."""
    spent = [0.0]
    walls: list[float] = []
    ticked = asyncio.Event()
    tick = sync.tick

    async def timed(*, forced: bool = True) -> None:
        cpu, wall, asked = time.process_time(), time.perf_counter(), counter.total
        try:
            await tick(forced=forced)
        finally:
            spent[0] += time.process_time() - cpu
            if counter.total > asked:
                walls.append(time.perf_counter() - wall)
            ticked.set()

    async def next_tick() -> None:
        ticked.clear()
        await asyncio.wait_for(ticked.wait(), 600)

    sync.tick = timed  # type: ignore[method-assign]
    sync.start()
    try:
        for _ in range(2):
            await next_tick()
        before, ticks, pids = Counter(counter.kinds), sync.ticks, opencode_pids()
        spent[0], walls[:], listings = 0.0, [], sync.listings
        opencode, begin = cpu_seconds(pids), time.perf_counter()
        await asyncio.sleep(window - INTERVAL / 2)
        await next_tick()
        return IdleCost(
            approach,
            time.perf_counter() - begin,
            sync.ticks - ticks,
            sync.listings - listings,
            counter.since(before),
            spent[0],
            cpu_seconds(pids) - opencode,
            1000 * sum(walls) / max(1, len(walls)),
        )
    finally:
        await sync.stop()


async def measure_naive(
    naive: NaiveSync,
    counter: RequestCounter,
    opencode_pids: Callable[[], list[int]],
    window: float,
) -> IdleCost:
    """Naive ticks every `INTERVAL` s (back to back when slower) for at least `window` s."""
    before, pids = Counter(counter.kinds), opencode_pids()
    opencode, begin = cpu_seconds(pids), time.perf_counter()
    spent, walls = 0.0, []
    while True:
        cpu, wall = time.process_time(), time.perf_counter()
        await naive.tick()
        took = time.perf_counter() - wall
        spent += time.process_time() - cpu
        walls.append(took)
        if time.perf_counter() - begin >= window:
            break
        await asyncio.sleep(max(0.0, INTERVAL - took))
    elapsed = time.perf_counter() - begin
    return IdleCost(
        "naive",
        elapsed,
        len(walls),
        len(walls),
        counter.since(before),
        spent,
        cpu_seconds(pids) - opencode,
        1000 * sum(walls) / len(walls),
    )


@dataclass(frozen=True)
class ScaleResult:
    directories: int
    sessions: int
    adopt_seconds: float
    costs: list[IdleCost]


async def idle_cost(bench: Bench, plan: Plan, directories: Sequence[Path]) -> list[ScaleResult]:
    app = await bench.start_kimaki("idle", [], KIMAKI_DISABLE_SYNC="1")
    counter = RequestCounter(app.opencode)
    adopter = SyncLoop(app.bridges, GRACE)
    naive_client = OpenCodeClient(lambda: bench.server.endpoint)
    naive_counter = RequestCounter(naive_client)
    parents: set[int] = set()
    results = []
    for scale in plan.scales:
        for project in directories[len(parents) : scale]:
            parents.add(bench.register(app, project).id)
        adopt = await adopt_all(bench, app, adopter, counter, parents, scale * plan.sessions)
        window = plan.idle_window
        watched = SyncLoop(
            app.bridges,
            GRACE,
            watch=StoreWatch(bench.server.environment()),
            events_up=app.events.connected.is_set,
        )
        polling = SyncLoop(app.bridges, GRACE)
        pids = bench.opencode_pids
        costs = [
            await measure_loop("kimaki, store watch", watched, counter, pids, window),
            await measure_loop("kimaki, poll only", polling, counter, pids, window),
            await measure_naive(
                NaiveSync(naive_client, directories[:scale]),
                naive_counter,
                bench.opencode_pids,
                window,
            ),
        ]
        results.append(ScaleResult(scale, scale * plan.sessions, adopt, costs))
        print(
            f"  {scale} directories: first sync {adopt:.0f} s; "
            + "; ".join(f"{c.approach} {c.requests} in {c.window:.0f} s" for c in costs),
            flush=True,
        )
    await naive_client.close()
    await app.stop()
    bench.apps.remove(app)
    return results


async def empty_sessions_cost(bench: Bench, plan: Plan) -> IdleCost:
    """What kimaki's idle loop costs over sessions that have no prompt (never mirrored)."""
    project = bench.world.make_project("empty")
    await populate(bench, [project], plan.sessions, prompt=False)
    app = await bench.start_kimaki("empty", [project], KIMAKI_DISABLE_SYNC="1")
    counter = RequestCounter(app.opencode)
    sync = SyncLoop(app.bridges, GRACE)
    window = plan.idle_window
    cost = await measure_loop("kimaki, poll only", sync, counter, bench.opencode_pids, window)
    await app.stop()
    bench.apps.remove(app)
    return cost


async def opencode_baseline(bench: Bench, window: float) -> float:
    """OpenCode's own CPU per minute with every instance loaded and no requests at all."""
    pids = bench.opencode_pids()
    before = cpu_seconds(pids)
    await asyncio.sleep(window)
    return (cpu_seconds(pids) - before) * 60 / window
