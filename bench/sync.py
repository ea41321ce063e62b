"""Benchmark background sync: idle cost against a naive poller, mirror latency, messages, memory.

Run from the repository root:  .venv/bin/python -m bench.sync [--quick]
Everything runs in an isolated temporary world (pinned OpenCode, scripted model, Discord
twin); nothing leaves loopback. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.naive_sync import NaiveSync
from discord_twin import Twin
from discord_twin.discordpy import make_test_friendly
from discord_twin.state import Channel
from kimaki import config
from kimaki.app import Kimaki
from kimaki.opencode.models import SessionID, TextPart, ToolPart
from kimaki.opencode.rest import OpenCodeClient
from kimaki.opencode.server import OpenCodeServer, StopPolicy
from kimaki.store import ChannelID, GuildID, Store
from kimaki.sync import SyncLoop, SyncSettings
from scripted_model import ScriptedModel, bash, text
from tests.support.kimaki_process import kimaki as kimaki_process
from tests.support.kimaki_process import kimaki_env
from tests.support.network_guard import loopback_only
from tests.support.processes import group_members
from tests.support.world import World, opencode_binary, opencode_run

INTERVAL = 5.0  # kimaki's default sync interval
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Plan:
    """How big a run is: `--quick` shrinks every dimension."""

    scales: tuple[int, ...] = (1, 10, 100)
    sessions: int = 50
    kimaki_ticks: int = 5
    naive_ticks: int = 3
    turns: int = 20
    steps: int = 100
    idle_window: float = 30.0


QUICK = Plan(scales=(1, 10), kimaki_ticks=3, naive_ticks=2, turns=5, steps=30, idle_window=15.0)


# --- measuring


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


def request_kind(method: str, path: str) -> str:
    if path == "/session" and method == "GET":
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


@dataclass(frozen=True)
class TickCost:
    """Mean cost of one idle tick; per-minute figures assume ticks every `INTERVAL` seconds
    (or back to back when a tick takes longer than that)."""

    ticks: int
    requests: float
    kinds: dict[str, float]
    bot_cpu_ms: float
    opencode_cpu_ms: float
    wall_ms: float

    @property
    def ticks_per_minute(self) -> float:
        return 60.0 / max(INTERVAL, self.wall_ms / 1000)

    def per_minute(self, cpu_ms: float) -> float:
        return cpu_ms * self.ticks_per_minute / 1000


async def measure_ticks(
    tick: Callable[[], Awaitable[None]],
    counter: RequestCounter,
    opencode_pids: Callable[[], list[int]],
    ticks: int,
) -> TickCost:
    """Run `ticks` ticks spaced like the real loop; CPU is counted inside ticks only."""
    before = Counter(counter.kinds)
    bot = server = wall = 0.0
    for n in range(ticks):
        pids = opencode_pids()
        cpu0, oc0, wall0 = time.process_time(), cpu_seconds(pids), time.perf_counter()
        await tick()
        took = time.perf_counter() - wall0
        bot += time.process_time() - cpu0
        server += cpu_seconds(pids) - oc0
        wall += took
        if n < ticks - 1:
            await asyncio.sleep(max(0.0, INTERVAL - took))
    kinds = {k: (v - before[k]) / ticks for k, v in counter.kinds.items() if v - before[k]}
    return TickCost(
        ticks,
        sum(kinds.values()),
        kinds,
        bot * 1000 / ticks,
        server * 1000 / ticks,
        wall * 1000 / ticks,
    )


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

    async def start_kimaki(self, name: str, projects: Sequence[Path], **env: str) -> Kimaki:
        """kimaki in this process against the twin and the shared server (as tests/bot do)."""
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


# --- 1. idle cost at scale


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
            if not prompt:
                return
            body = {"agent": "build", "command": f"echo idle {n}"}
            await bench.client._request(
                "POST", f"/session/{session.id}/shell", directory=where, body=body
            )

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
    """Tick until every session has its Sync thread and its posts are sent."""
    begin = time.perf_counter()
    for _ in range(40):
        await sync.tick()
        await app.sessions.settle()
        if len(bench.sync_threads(parents)) >= want:
            break
    await app.outbox.flush(timeout=600)
    # A tick may return with scans still running (they carry on, and later ticks skip
    # their directories): tick until one lists every directory and reads no messages.
    for _ in range(120):
        before = Counter(counter.kinds)
        await sync.tick()
        lists, reads = counter.kinds["list"] - before["list"], counter.kinds["messages"]
        if lists == len(parents) and reads == before["messages"]:
            return time.perf_counter() - begin
        await asyncio.sleep(1)
    raise RuntimeError("sync did not settle: idle ticks still read messages")


@dataclass(frozen=True)
class ScaleResult:
    directories: int
    sessions: int
    adopt_seconds: float
    kimaki: TickCost
    naive: TickCost


async def idle_cost(bench: Bench, plan: Plan, directories: Sequence[Path]) -> list[ScaleResult]:
    app = await bench.start_kimaki("idle", [], KIMAKI_DISABLE_SYNC="1")
    counter = RequestCounter(app.opencode)
    sync = SyncLoop(app.ctx, app.sessions, SyncSettings(grace=86_400))
    naive_client = OpenCodeClient(lambda: bench.server.endpoint)
    naive_counter = RequestCounter(naive_client)
    parents: set[int] = set()
    results = []
    for scale in plan.scales:
        for project in directories[len(parents) : scale]:
            parents.add(bench.register(app, project).id)
        adopt = await adopt_all(bench, app, sync, counter, parents, scale * plan.sessions)
        ours = await measure_ticks(sync.tick, counter, bench.opencode_pids, plan.kimaki_ticks)
        naive = NaiveSync(naive_client, directories[:scale])
        ticks = plan.naive_ticks if scale < 100 else 1  # a naive tick at 100 takes a minute
        theirs = await measure_ticks(naive.tick, naive_counter, bench.opencode_pids, ticks)
        results.append(ScaleResult(scale, scale * plan.sessions, adopt, ours, theirs))
        print(
            f"  {scale} directories: first sync {adopt:.0f} s; kimaki "
            f"{ours.kinds} per tick, naive {theirs.kinds} per tick",
            flush=True,
        )
    await naive_client.close()
    await app.stop()
    bench.apps.remove(app)
    return results


async def empty_sessions_cost(bench: Bench, plan: Plan) -> TickCost:
    """What kimaki's idle tick costs over sessions that have no prompt (never mirrored)."""
    project = bench.world.make_project("empty")
    await populate(bench, [project], plan.sessions, prompt=False)
    app = await bench.start_kimaki("empty", [project], KIMAKI_DISABLE_SYNC="1")
    counter = RequestCounter(app.opencode)
    sync = SyncLoop(app.ctx, app.sessions, SyncSettings(grace=86_400))
    await sync.tick()
    cost = await measure_ticks(sync.tick, counter, bench.opencode_pids, plan.kimaki_ticks)
    await app.stop()
    bench.apps.remove(app)
    return cost


async def opencode_baseline(bench: Bench, window: float) -> float:
    """OpenCode's own CPU per minute with every instance loaded and no requests at all."""
    pids = bench.opencode_pids()
    before = cpu_seconds(pids)
    await asyncio.sleep(window)
    return (cpu_seconds(pids) - before) * 60 / window


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
    bench: Bench, app: Kimaki, project: Path, channel: Channel, attached: bool, turns: int
) -> list[float]:
    """Turn after turn in one session; ms from a reply's `time.end` to its Discord message.

    The first turn (it creates the session and its thread) is a warm-up and not counted.
    """
    mode = "a" if attached else "s"
    endpoint = app.opencode.endpoint()
    session: SessionID | None = None
    samples = []
    for n in range(turns + 1):
        token = f"lat{mode}{n:03d}z"
        reply = f"Reply {token} done."
        bench.model.add_rule(token, [text(reply)], title=f"Latency {mode}")
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
        posted = await bench.twin.wait_for_message(
            lambda m, reply=reply: reply in m.content, timeout=60
        )
        ended = await part_end(bench.client, session, str(project), reply)
        if n:
            samples.append(posted.created_at * 1000 - ended)
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
    await bench.twin.wait_for_message(lambda m: last in m.content, timeout=120)
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
    empty: TickCost,
    latency: dict[str, list[float]],
    turns: list[LongTurn],
    process: ProcessFigures,
    bench_peak: float,
) -> None:
    print("\n### Idle cost per tick (all sessions mirrored, nothing changing)\n")
    print(
        "| directories × sessions | approach | OpenCode requests / tick | of which message reads "
        "| bot CPU / idle min | OpenCode CPU / idle min | tick wall time |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s in scales:
        for name, cost in (("kimaki", s.kimaki), ("naive", s.naive)):
            print(
                f"| {s.directories} × {plan.sessions} | {name} | {cost.requests:.0f} "
                f"| {cost.kinds.get('messages', 0):.0f} | {cost.per_minute(cost.bot_cpu_ms):.2f} s "
                f"| {cost.per_minute(cost.opencode_cpu_ms):.2f} s | {cost.wall_ms:.0f} ms |"
            )
    print(
        f"| 1 × {plan.sessions} empty (no prompt) | kimaki | {empty.requests:.0f} "
        f"| {empty.kinds.get('messages', 0):.0f} | {empty.per_minute(empty.bot_cpu_ms):.2f} s "
        f"| {empty.per_minute(empty.opencode_cpu_ms):.2f} s | {empty.wall_ms:.0f} ms |"
    )
    print(
        f"\nOpenCode with all {max(plan.scales)} instances loaded and no requests: "
        f"{baseline:.2f} s CPU per minute."
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
    print("| run as | parts (all) | text + tool parts | Discord messages | characters posted |")
    print("| --- | --- | --- | --- | --- |")
    for t in turns:
        how = "attached (`--attach`)" if t.attached else "separate process"
        print(f"| {how} | {t.parts} | {t.content_parts} | {t.messages} | {t.characters} |")

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
            bench, app, lat_project, lat_channel, True, plan.turns
        ),
    }
    sep_project = bench.world.make_project("latency-separate")
    sep_channel = bench.register(app, sep_project)
    latency["separate process (`opencode run`)"] = await mirror_latency(
        bench, app, sep_project, sep_channel, False, plan.turns
    )
    long_channel = bench.register(app, long_project)
    turns = [await long_turn(bench, app, long_project, long_channel, False, plan.steps)]
    att_project = bench.world.make_project("long-attached")
    att_channel = bench.register(app, att_project)
    turns.append(await long_turn(bench, app, att_project, att_channel, True, plan.steps))
    await app.stop()
    bench.apps.remove(app)

    print(f"kimaki as a process … ({elapsed()})", flush=True)
    process = await kimaki_process_figures(bench, directories, plan.sessions, plan.idle_window)
    bench_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"done ({elapsed()})", flush=True)
    print_report(plan, scales, baseline, empty, latency, turns, process, bench_peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="1 and 10 directories, fewer turns (~3 min)"
    )
    args = parser.parse_args()
    with loopback_only():
        asyncio.run(run(QUICK if args.quick else Plan()))


if __name__ == "__main__":
    main()
