"""The fault suite's heavy variants: kill -9 at many seeded points, OpenCode killed again and
again, and a soak of 20 concurrent sessions; every run judged by the exactly-once oracle.

The scenarios are the test suite's (`tests/faults/kill_points.py`, `tests/faults/oracle.py`);
the tests run one seed and every kind of point once, this runs more seeds and points, and
measures. kimaki runs as its own process (`kimaki` console script, or `bench/kimaki_probe.py`
for the soak, which samples RSS, fds and asyncio tasks inside it).

    .venv/bin/python -m bench.faults --seeds 2 3 --points 10 --opencode-kills 5
    .venv/bin/python -m bench.faults --soak --minutes 10 --sessions 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tests.faults.kill_points
import tests.faults.rig
from discord_twin import Twin
from discord_twin.errors import TwinError
from discord_twin.faults import HTTPFault
from discord_twin.state import Channel
from kimaki.opencode.models import TextPart
from kimaki.opencode.prompt import TextInput
from kimaki.opencode.rest import OpenCodeClient
from kimaki.store import SessionID
from scripted_model import ScriptedModel, bash, text
from tests.faults.kill_points import POINTS, opencode_killed, pick
from tests.faults.oracle import PART_MARKER, OracleResult
from tests.faults.rig import Rig
from tests.support.network_guard import loopback_only
from tests.support.waiting import eventually
from tests.support.world import World

PROBE = (sys.executable, "-m", "bench.kimaki_probe")


@dataclass
class KillRun:
    seed: int
    kinds: Counter[str]
    opencode_kills: int
    seconds: float
    result: OracleResult


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def kill_run(
    world: World, twin: Twin, model: ScriptedModel, root: Path, seed: int, points: int, oc: int
) -> KillRun:
    project = world.make_project(f"faults-seed-{seed}")
    rig = await Rig.create(world, twin, model, root / f"data-{seed}", project)
    rng = random.Random(seed)
    chosen = pick(rng, points, f"s{seed}k")
    began = time.monotonic()
    await rig.start()
    try:
        for point in chosen:
            at = time.monotonic()
            await POINTS[point.kind](rig, point.tag, rng)
            print(f"  seed {seed} {point.kind}: {time.monotonic() - at:.1f}s", flush=True)
        for n in range(oc):
            await opencode_killed(rig, f"s{seed}oc{n}", rng)
            print(f"  seed {seed} OpenCode killed #{n + 1}", flush=True)
        result = await rig.check()
        assert await rig.stop() == 0
    finally:
        if rig.running:  # a failed run: stop cleanly, so no OpenCode server is left behind
            await rig.stop()
    kinds = Counter(p.kind for p in chosen)
    return KillRun(seed, kinds, oc, time.monotonic() - began, result)


# --- soak


@dataclass
class Soak:
    rig: Rig
    client: OpenCodeClient
    deadline: float
    turns: Counter[str] = field(default_factory=Counter)
    sessions: dict[str, SessionID] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def rule(self, tag: str) -> str:
        prompt = f"fxq-{tag}:"
        self.rig.model.add_rule(
            prompt,
            [
                text(f"fx-{tag}-a step one.") + bash(f"echo fx-{tag}-b"),
                text(f"fx-{tag}-c step two.") + bash(f"echo fx-{tag}-d"),
                text(f"fx-{tag}-e done."),
            ],
        )
        return prompt

    async def discord_session(self, n: int) -> None:
        rig, k = self.rig, 0
        thread: Channel | None = None
        while time.monotonic() < self.deadline:
            prompt = self.rule(f"skd{n}t{k}")
            if thread is None:
                first = rig.owner.send(rig.channel, f"{prompt} soak session {n}")

                async def made(first_id: int = first.id) -> Channel | None:
                    try:
                        return rig.twin.channel(first_id)  # the thread takes its message's id
                    except TwinError:
                        return None  # not made yet

                thread = await eventually(made, timeout=tests.faults.rig.TIMEOUT, what="the thread")
            else:
                rig.owner.send(thread, f"{prompt} next turn")
            await rig.posted(f"fx-skd{n}t{k}-e", timeout=300)
            self.turns["discord"] += 1
            k += 1

    async def synced_session(self, n: int) -> None:
        rig, k = self.rig, 0
        where = str(rig.project)
        session = await self.client.create_session(where)
        self.sessions[f"sync{n}"] = session.id
        while time.monotonic() < self.deadline:
            prompt = self.rule(f"sks{n}t{k}")
            await self.client.prompt_async(session.id, where, [TextInput(f"{prompt} terminal")])
            await rig.posted(f"fx-sks{n}t{k}-e", timeout=300)
            self.turns["synced"] += 1
            k += 1


async def latencies(rig: Rig, client: OpenCodeClient) -> list[float]:
    """ms from each finished text part's `time.end` to the Discord message carrying it."""
    assert rig.twin.seed is not None
    bot = rig.twin.seed.bot.id
    first_post: dict[str, float] = {}
    for thread in rig.twin.threads(rig.channel):
        for message in rig.twin.messages(thread):
            if message.author_id == bot:
                for marker in PART_MARKER.findall(message.content):
                    first_post.setdefault(marker, message.created_at * 1000)
    samples: list[float] = []
    for session in await client.sessions(str(rig.project), roots=True, limit=200):
        page = await client.messages(session.id, str(rig.project), limit=200)
        for reply in page.messages:
            for part in reply.parts:
                if not isinstance(part, TextPart) or part.end is None:
                    continue
                for marker in PART_MARKER.findall(part.text):
                    if marker in first_post:
                        samples.append(first_post[marker] - part.end)
    return samples


def db_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("kimaki.db*"))


TROUBLE_EVERY = 45.0
"""Seconds between gateway faults in a soak with `--trouble`."""


def add_trouble(twin: Twin) -> list[HTTPFault]:
    """Discord at its worst, all the time: injected 429s with `retry_after`, 5xx bursts and
    2-second answers on message posts, on top of the realistic rate limits."""
    posts = "/channels/*/messages"
    return [
        twin.add_http_fault("POST", posts, 429, count=None, probability=0.05, retry_after=0.5),
        twin.add_http_fault("POST", posts, 502, count=None, probability=0.03),
        twin.add_http_fault("POST", posts, None, count=None, probability=0.03, delay=2.0),
    ]


async def gateway_trouble(twin: Twin, done: list[str]) -> None:
    """Close, op 7, op 9 resumable, op 9 not resumable, in turn, while the turns stream."""
    faults: list[tuple[str, Callable[[], object]]] = [
        ("close 4000", lambda: twin.gateway.close_connections(4000)),
        ("op 7", twin.gateway.send_reconnect),
        ("op 9 resumable", lambda: twin.gateway.invalidate_sessions(resumable=True)),
        ("op 9 not resumable", lambda: twin.gateway.invalidate_sessions(resumable=False)),
    ]
    n = 0
    while True:
        await asyncio.sleep(TROUBLE_EVERY)
        name, fault = faults[n % len(faults)]
        fault()
        done.append(name)
        n += 1


async def soak(
    world: World,
    twin: Twin,
    model: ScriptedModel,
    root: Path,
    minutes: float,
    sessions: int,
    *,
    trouble: bool = False,
) -> None:
    twin.set_rate_limits("realistic")
    injected = add_trouble(twin) if trouble else []
    gateway_faults: list[str] = []
    probe_file = root / "probe.jsonl"
    project = world.make_project("faults-soak")
    rig = await Rig.create(
        world,
        twin,
        model,
        root / "data-soak",
        project,
        extra_env={"KIMAKI_PROBE_FILE": str(probe_file), "KIMAKI_PROBE_EVERY": "30"},
    )
    rig.program = PROBE
    await rig.start()
    db_start = db_bytes(rig.data)
    limited_start = twin.ratelimits.limited_count
    try:
        async with OpenCodeClient(rig.endpoint) as client:
            run = Soak(rig, client, time.monotonic() + minutes * 60)
            work = [run.discord_session(n) for n in range(sessions)]
            work += [run.synced_session(n) for n in range(sessions)]
            gateway = (
                asyncio.create_task(gateway_trouble(twin, gateway_faults)) if trouble else None
            )
            outcomes = await asyncio.gather(*work, return_exceptions=True)
            if gateway is not None:
                gateway.cancel()
            twin.faults.clear()
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            samples = await latencies(rig, client)
        result = await rig.check()
        assert await rig.stop() == 0
    finally:
        if rig.running:  # a failed run: stop cleanly, so no OpenCode server is left behind
            await rig.stop()
    assert twin.seed is not None
    bot = twin.seed.bot.id
    posted = sum(
        m.author_id == bot
        for channel in [rig.channel, *twin.threads(rig.channel)]
        for m in twin.messages(channel)
    )
    print(f"\n## soak: {sessions} Discord-started + {sessions} synced sessions, {minutes:g} min")
    if trouble:
        hits = [f.hits for f in injected]
        print(
            f"injected: {hits[0]} 429s, {hits[1]} 502s, {hits[2]} 2-s delays; "
            f"gateway: {gateway_faults}"
        )
    print(f"turns finished: {dict(run.turns)}; failed sessions: {len(failed)}")
    for error in failed[:5]:
        print(f"  {type(error).__name__}: {str(error)[:300]}")
    print(f"oracle: {result.summary()}; clean: {result.clean}")
    limited = twin.ratelimits.limited_count - limited_start
    print(f"bot messages posted: {posted}; 429s served (rate-limit waits): {limited}")
    print(
        f"part → Discord latency over {len(samples)} parts: median "
        f"{percentile(samples, 0.5):.0f} ms, p95 {percentile(samples, 0.95):.0f} ms, "
        f"max {max(samples, default=0):.0f} ms"
    )
    print(f"database: {db_start / 1024:.0f} KiB → {db_bytes(rig.data) / 1024:.0f} KiB")
    print("\n| minute | RSS MiB | open fds | asyncio tasks |\n| --- | --- | --- | --- |")
    rows = [json.loads(line) for line in probe_file.read_text().splitlines()]
    for row in rows:
        minute = (row["t"] - rows[0]["t"]) / 60
        print(f"| {minute:.1f} | {row['rss_mib']} | {row['fds']} | {row['tasks']} |")


async def main(args: argparse.Namespace) -> None:
    async with ScriptedModel() as model:
        root = Path(tempfile.mkdtemp(prefix="kimaki-bench-faults-"))
        world = World(root, model.base_url)
        world.create_dirs()
        twin = Twin()
        twin.seed_default()
        await twin.start()
        try:
            if args.soak:
                await soak(
                    world, twin, model, root, args.minutes, args.sessions, trouble=args.trouble
                )
                return
            runs = []
            for seed in args.seeds:
                runs.append(
                    await kill_run(world, twin, model, root, seed, args.points, args.opencode_kills)
                )
                print(f"seed {seed}: {runs[-1].result.summary()}", flush=True)
        finally:
            await twin.stop()
    print(
        "\n| seed | kill -9 points (kinds) | OpenCode kills | parts checked | messages checked "
        "| lost | duplicated | misplaced/out of order | minutes |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in runs:
        r = run.result
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(run.kinds.items()))
        print(
            f"| {run.seed} | {sum(run.kinds.values())} ({kinds}) | {run.opencode_kills} "
            f"| {r.parts_checked} | {r.messages_checked} "
            f"| {len(r.lost) + len(r.turns_lost)} | {len(r.duplicated) + len(r.turns_doubled)} "
            f"| {len(r.misplaced) + len(r.out_of_order)} | {run.seconds / 60:.1f} |"
        )
    if not all(run.result.clean for run in runs):
        raise SystemExit("the oracle found lost, doubled or misplaced parts")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--points", type=int, default=10, help="kill -9 points per seed")
    parser.add_argument("--opencode-kills", type=int, default=5, help="per seed, in a row")
    parser.add_argument("--soak", action="store_true", help="the soak instead of kill points")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--trouble", action="store_true", help="the soak with Discord faults all along"
    )
    parser.add_argument("--sessions", type=int, default=10, help="of each kind (Discord, synced)")
    parser.add_argument(
        "--timeout", type=float, default=240.0, help="seconds a step may take (a loaded machine)"
    )
    arguments = parser.parse_args()
    tests.faults.rig.TIMEOUT = arguments.timeout
    vars(tests.faults.kill_points)["TIMEOUT"] = arguments.timeout  # its copy of the rig's
    with loopback_only():
        asyncio.run(main(arguments))
