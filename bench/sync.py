"""Benchmark background sync: idle cost against a naive poller, mirror latency, messages, memory.

Run from the repository root:  .venv/bin/python -m bench.sync [--quick]
Everything runs in an isolated temporary world (pinned OpenCode, scripted model, Discord
twin); nothing leaves loopback. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import cpu_seconds, percentile, proc_status
from bench.sync_idle import (
    INTERVAL,
    IdleCost,
    ScaleResult,
    empty_sessions_cost,
    idle_cost,
    opencode_baseline,
    populate,
)
from discord_twin import Twin
from discord_twin.discordpy import make_test_friendly
from discord_twin.state import Channel
from kimaki import config
from kimaki.app import Kimaki
from kimaki.discord_limits import MESSAGE_LIMIT
from kimaki.opencode.models import SessionID, TextPart, ToolPart
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer
from kimaki.opencode.server_record import StopPolicy
from kimaki.store import ChannelID, GuildID, Store
from scripted_model import ScriptedModel, bash, text
from tests.support.kimaki_process import kimaki as kimaki_process
from tests.support.kimaki_process import kimaki_env
from tests.support.network_guard import loopback_only
from tests.support.processes import group_members
from tests.support.world import World, opencode_binary, opencode_run


@dataclass(frozen=True)
class Plan:
    """How big a run is: `--quick` shrinks every dimension."""

    scales: tuple[int, ...] = (1, 10, 100)
    sessions: int = 50
    turns: int = 20
    steps: int = 100
    idle_window: float = 30.0


QUICK = Plan(scales=(1, 10), turns=5, steps=30, idle_window=15.0)


# --- the world


@dataclass
class Bench:
    world: World
    model: ScriptedModel
    twin: Twin
    server: OpenCodeServer
    client: OpenCodeClient
    apps: list[Kimaki] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.world.root

    def opencode_pids(self) -> list[int]:
        return group_members(self.server.pid) if self.server.pid else []

    def channel_for(self, project: Path) -> Channel:
        assert self.twin.seed is not None
        return self.twin.create_channel(self.twin.seed.guild, project.name[:90])

    async def start_kimaki(
        self, name: str, projects: Sequence[Path], *, watch: bool = True, **env: str
    ) -> Kimaki:
        """kimaki in this process against the twin and the shared server (as tests/bot do);
        without `watch` it does not know the server's environment, so sync only polls."""
        assert self.twin.seed is not None
        settings = config.resolve(
            argparse.Namespace(),
            {
                "KIMAKI_DATA_DIR": str(self.root / name),
                "KIMAKI_DISCORD_API_URL": self.twin.api_url,
                "KIMAKI_DISCORD_GATEWAY_URL": self.twin.gateway_url,
                **env,
            },
        )
        app = Kimaki(
            settings,
            self.twin.seed.token,
            opencode=lambda: self.server.endpoint,
            opencode_version=self.server.version or "?",
            opencode_env=self.server.environment() if watch else None,
            bot_options={"guild_ready_timeout": 0.05},
        )
        make_test_friendly(app.bot)
        for project in projects:
            self.register(app, project)
        self.apps.append(app)
        await app.start()
        return app

    def register(self, app: Kimaki, project: Path) -> Channel:
        assert self.twin.seed is not None
        channel = self.channel_for(project)
        app.store.projects.add(ChannelID(channel.id), GuildID(self.twin.seed.guild.id), project)
        return channel

    def bot_messages(self, channel_id: int) -> list[Any]:
        assert self.twin.seed is not None
        bot = self.twin.seed.bot.id
        return [m for m in self.twin.messages(self.twin.channel(channel_id)) if m.author_id == bot]

    def sync_threads(self, parents: set[int]) -> list[Channel]:
        return [
            c
            for c in self.twin.store.channels.values()
            if c.is_thread and c.parent_id in parents and c.name.startswith("Sync: ")
        ]


# --- 2. mirror latency


async def part_end(client: OpenCodeClient, session_id: SessionID, where: str, words: str) -> int:
    """When the text part holding `words` finished (OpenCode's `time.end`, ms)."""
    page = await client.messages(session_id, where, limit=10)
    for message in page.messages:
        for part in message.parts:
            if isinstance(part, TextPart) and words in part.text and part.end is not None:
                return part.end
    raise RuntimeError(f"no finished text part with {words!r} in {session_id}")


async def newest_session(client: OpenCodeClient, where: str) -> SessionID:
    sessions = await client.sessions(where, roots=True, limit=1)
    return sessions[0].id


async def mirror_latency(
    bench: Bench,
    app: Kimaki,
    project: Path,
    channel: Channel,
    attached: bool,
    turns: int,
    mode: str,
) -> list[float]:
    """Turn after turn in one session; ms from a reply's `time.end` to its Discord message.

    The first turn (it creates the session and its thread) is a warm-up and not counted.
    `mode` keeps each run's replies apart (a reply is found by its words).
    """
    endpoint = app.opencode.endpoint()
    session: SessionID | None = None
    samples = []
    for n in range(turns + 1):
        token = f"lat{mode}{n:03d}z"
        reply = f"Reply {token} done."
        bench.model.add_rule(token, [text(reply)], title=f"Latency {mode}")
        since = bench.twin.cursor()
        result = await opencode_run(
            bench.world,
            project,
            [token, "please"],
            attach=endpoint.base_url if attached else None,
            password=endpoint.password if attached else None,
            session=session,
        )
        if result.returncode != 0:
            raise RuntimeError(f"opencode run failed: {result.stderr[-2000:]}")
        session = session or await newest_session(bench.client, str(project))
        await bench.twin.wait_for_message(
            lambda m, reply=reply: reply in m.content, timeout=60, since=since, edits=True
        )
        # The reply may reach Discord in a new message or appended to the last one by an edit:
        # the first write (post or edit) that holds it is when it arrived.
        arrived = next(w for w in bench.twin.message_writes(since=since) if reply in w.content)
        ended = await part_end(bench.client, session, str(project), reply)
        if n:
            samples.append(arrived.at * 1000 - ended)
    return samples


# --- 3. Discord messages for a long turn


@dataclass(frozen=True)
class LongTurn:
    attached: bool
    parts: int
    content_parts: int
    messages: int
    characters: int


async def long_turn(
    bench: Bench, app: Kimaki, project: Path, channel: Channel, attached: bool, steps: int
) -> LongTurn:
    """One turn of `steps` steps, each a short text and a bash call, mirrored by sync."""
    token = f"long{'a' if attached else 's'}z"
    last = f"Long turn {token} finished."
    script = [text(f"Step {i} of the long turn.") + bash(f"echo part-{i}") for i in range(steps)]
    bench.model.add_rule(token, [*script, text(last)], title=f"Long turn {token}")
    endpoint = app.opencode.endpoint()
    result = await opencode_run(
        bench.world,
        project,
        [token, "go"],
        attach=endpoint.base_url if attached else None,
        password=endpoint.password if attached else None,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"opencode run failed: {result.stderr[-2000:]}")
    await bench.twin.wait_for_message(lambda m: last in m.content, timeout=120, edits=True)
    await app.outbox.flush(timeout=120)
    session = await newest_session(bench.client, str(project))
    messages = await bench.client.all_messages(session, str(project))
    parts = [p for m in messages for p in m.parts]
    content = [p for p in parts if isinstance(p, TextPart | ToolPart)]
    thread = next(iter(bench.sync_threads({channel.id})))
    posted = bench.bot_messages(thread.id)
    return LongTurn(
        attached, len(parts), len(content), len(posted), sum(len(m.content) for m in posted)
    )


# --- 4. kimaki as its own process: memory and whole-process idle CPU


@dataclass(frozen=True)
class ProcessFigures:
    directories: int
    sessions: int
    adopt_seconds: float
    peak_rss_mib: float
    idle_rss_mib: float
    cpu_per_minute: float
    opencode_cpu_per_minute: float


async def kimaki_process_figures(
    bench: Bench, directories: Sequence[Path], sessions: int, window: float
) -> ProcessFigures:
    """`kimaki` (the console script) mirroring every session, then idle for `window` s."""
    assert bench.twin.seed is not None
    data = bench.root / "kimaki-process"
    store = Store.open(data)
    parents = set()
    for project in directories:
        channel = bench.channel_for(project)
        store.projects.add(ChannelID(channel.id), GuildID(bench.twin.seed.guild.id), project)
        parents.add(channel.id)
    store.close()
    env = kimaki_env(bench.world, bench.twin, extra={"KIMAKI_SYNC_GRACE": "86400"})
    want = len(directories) * sessions
    async with kimaki_process(env, data) as proc:
        await proc.wait_for_line("kimaki ready:", timeout=120)
        begin = time.perf_counter()
        while len(bench.sync_threads(parents)) < want:
            if time.perf_counter() - begin > 900:
                raise RuntimeError("kimaki did not mirror every session within 15 minutes")
            await asyncio.sleep(1)
        await settle_messages(bench, parents, want)
        adopt = time.perf_counter() - begin
        pid = proc.proc.pid
        server = group_members(proc.server_pid())
        cpu0, oc0 = cpu_seconds([pid]), cpu_seconds(server)
        await asyncio.sleep(window)
        cpu, oc = cpu_seconds([pid]) - cpu0, cpu_seconds(server) - oc0
        peak, rss = proc_status(pid, "VmHWM"), proc_status(pid, "VmRSS")
        code = await proc.stop()
        if code != 0:
            raise RuntimeError(f"kimaki exited {code}:\n{proc.output[-3000:]}")
    per_minute = 60.0 / window
    return ProcessFigures(
        len(directories), want, adopt, peak, rss, cpu * per_minute, oc * per_minute
    )


async def settle_messages(bench: Bench, parents: set[int], want: int) -> None:
    """Wait until every Sync thread has its first post and no new posts come for 2 ticks."""
    last = -1
    while True:
        threads = bench.sync_threads(parents)
        count = sum(t.message_count for t in threads)
        if count >= want and count == last:
            return
        last = count
        await asyncio.sleep(2 * INTERVAL)


# --- report


def print_report(
    plan: Plan,
    scales: list[ScaleResult],
    baseline: float,
    empty: IdleCost,
    latency: dict[str, list[float]],
    turns: list[LongTurn],
    process: ProcessFigures,
    bench_peak: float,
) -> None:
    print("\n### Idle cost (all sessions mirrored, nothing changing)\n")
    print(
        "| directories × sessions | approach | OpenCode requests / idle min | of which message "
        "reads | requests / tick | bot CPU / idle min | OpenCode CPU / idle min | wall time of "
        "a tick that asks |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = [(f"{s.directories} × {plan.sessions}", c) for s in scales for c in s.costs]
    rows.append((f"1 × {plan.sessions} empty (no prompt)", empty))
    for label, cost in rows:
        reads = cost.requests.get("messages", 0)
        print(
            f"| {label} | {cost.approach} | {cost.per_minute(cost.total):.0f} "
            f"| {cost.per_minute(reads):.0f} | {cost.per_tick:.2f} "
            f"| {cost.per_minute(cost.bot_cpu):.3f} s | {cost.per_minute(cost.opencode_cpu):.2f} s "
            f"| {cost.wall_ms:.0f} ms |"
        )
    print(
        f"\nOpenCode with all {max(plan.scales)} instances loaded and no requests: "
        f"{baseline:.2f} s CPU per minute (included in the OpenCode column above)."
    )
    print("\nFirst sync of every session (kimaki, in-process, incremental per scale):")
    for s in scales:
        print(f"- {s.directories} directories: {s.adopt_seconds:.1f} s")

    print("\n### Mirror latency: part `time.end` → message in the Discord twin\n")
    print("| sessions | turns | p50 | p95 | max |")
    print("| --- | --- | --- | --- | --- |")
    for name, samples in latency.items():
        print(
            f"| {name} | {len(samples)} | {statistics.median(samples):.0f} ms "
            f"| {percentile(samples, 0.95):.0f} ms | {max(samples):.0f} ms |"
        )

    print("\n### Discord messages for one long turn (default verbosity)\n")
    print(
        "| run as | parts (all) | text + tool parts | Discord messages | characters posted "
        "| minimum (characters ÷ 2,000, up) | messages ÷ minimum |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for t in turns:
        how = "attached (`--attach`)" if t.attached else "separate process"
        least = max(1, math.ceil(t.characters / MESSAGE_LIMIT))
        print(
            f"| {how} | {t.parts} | {t.content_parts} | {t.messages} | {t.characters} "
            f"| {least} | {t.messages / least:.1f}× |"
        )

    print("\n### kimaki as a process\n")
    print(
        f"`kimaki` mirroring {process.directories} directories × "
        f"{process.sessions // process.directories} sessions ({process.sessions} Sync threads, "
        f"first sync {process.adopt_seconds:.0f} s): peak RSS (VmHWM) "
        f"{process.peak_rss_mib:.0f} MiB, RSS when idle {process.idle_rss_mib:.0f} MiB; "
        f"idle CPU {process.cpu_per_minute:.2f} s per minute (whole process), its OpenCode "
        f"server {process.opencode_cpu_per_minute:.2f} s per minute."
    )
    print(
        f"\nThis benchmark process (in-process kimaki + Discord twin + scripted model): "
        f"peak RSS {bench_peak:.0f} MiB."
    )


# --- main

STARTED = time.perf_counter()


def elapsed() -> str:
    return f"{time.perf_counter() - STARTED:.0f} s"


async def run(plan: Plan) -> None:
    async with ScriptedModel() as model:
        root = Path(tempfile.mkdtemp(prefix="kimaki-bench-sync-"))
        world = World(root, model.base_url)
        world.create_dirs()
        twin = Twin()
        twin.seed_default()
        await twin.start()
        server = OpenCodeServer(
            opencode_binary(),
            data_dir=root / "server",
            extra_env=world.env,
            stop=StopPolicy(first_wait=3, second_wait=3),
        )
        await server.start()
        client = OpenCodeClient(lambda: server.endpoint)
        bench = Bench(world, model, twin, server, client)
        try:
            await run_phases(bench, plan)
        finally:
            for app in bench.apps:
                await app.stop()
            await client.close()
            await server.stop()
            await twin.stop()


async def run_phases(bench: Bench, plan: Plan) -> None:
    largest = max(plan.scales)
    directories = [bench.world.make_project(f"d{n:03d}") for n in range(largest)]
    took = await populate(bench, directories, plan.sessions)
    print(f"created {largest * plan.sessions} sessions in {took:.0f} s", flush=True)

    print(f"idle cost … ({elapsed()})", flush=True)
    scales = await idle_cost(bench, plan, directories)
    baseline = await opencode_baseline(bench, plan.idle_window / 2)
    empty = await empty_sessions_cost(bench, plan)

    print(f"latency and long turns … ({elapsed()})", flush=True)
    lat_project = bench.world.make_project("latency")
    long_project = bench.world.make_project("long")
    app = await bench.start_kimaki("live", [], KIMAKI_SYNC_GRACE="86400")
    lat_channel = bench.register(app, lat_project)
    latency = {
        "attached (`opencode run --attach`)": await mirror_latency(
            bench, app, lat_project, lat_channel, True, plan.turns, "a"
        ),
    }
    sep_project = bench.world.make_project("latency-separate")
    sep_channel = bench.register(app, sep_project)
    latency["separate process (`opencode run`), store watch"] = await mirror_latency(
        bench, app, sep_project, sep_channel, False, plan.turns, "w"
    )
    long_channel = bench.register(app, long_project)
    turns = [await long_turn(bench, app, long_project, long_channel, False, plan.steps)]
    att_project = bench.world.make_project("long-attached")
    att_channel = bench.register(app, att_project)
    turns.append(await long_turn(bench, app, att_project, att_channel, True, plan.steps))
    await app.stop()
    bench.apps.remove(app)
    polling = await bench.start_kimaki("live-poll", [], watch=False, KIMAKI_SYNC_GRACE="86400")
    poll_project = bench.world.make_project("latency-poll")
    poll_channel = bench.register(polling, poll_project)
    latency["separate process (`opencode run`), poll only"] = await mirror_latency(
        bench, polling, poll_project, poll_channel, False, plan.turns, "p"
    )
    await polling.stop()
    bench.apps.remove(polling)

    print(f"kimaki as a process … ({elapsed()})", flush=True)
    process = await kimaki_process_figures(bench, directories, plan.sessions, plan.idle_window)
    bench_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"done ({elapsed()})", flush=True)
    print_report(plan, scales, baseline, empty, latency, turns, process, bench_peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="1 and 10 directories, fewer turns (~8 min)"
    )
    args = parser.parse_args()
    with loopback_only():
        asyncio.run(run(QUICK if args.quick else Plan()))


if __name__ == "__main__":
    main()
