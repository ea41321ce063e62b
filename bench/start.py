"""Benchmark kimaki's start as a user sees it: the `kimaki` process from spawn to its verdict.

Run from the repository root:  .venv/bin/python -m bench.start [--rounds N] [--kimaki PATH]…

Three figures, each from spawning the console script to the moment that matters:
a wrong token to exit, a missing Message Content intent (gateway close 4014) to exit,
and a good start to its `kimaki ready:` line. Discord is the in-process twin, OpenCode
the pinned one in an isolated world. `--kimaki` (repeatable) times other checkouts'
scripts (e.g. an older main) in the same run, rounds interleaved so that both see the
same machine load, for a before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from discord_twin import Twin
from scripted_model import ScriptedModel
from tests.support.kimaki_process import KIMAKI, kimaki_env
from tests.support.network_guard import loopback_only
from tests.support.world import World

READY = b"kimaki ready:"


async def spawn_until(
    binary: str, env: dict[str, str], data: Path, *, ready: bool
) -> tuple[float, int | None, str]:
    """Seconds from spawn to exit (or to the ready line), the exit code, and the output."""
    begin = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--data-dir",
        str(data),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = b""
    elapsed = None
    while line := await asyncio.wait_for(proc.stdout.readline(), 120):
        output += line
        if ready and READY in line:
            elapsed = time.perf_counter() - begin
            proc.send_signal(signal.SIGTERM)
    code = await proc.wait()
    if elapsed is None:
        elapsed = time.perf_counter() - begin
    return elapsed, code, output.decode(errors="replace")


def row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"| {name} | {len(samples)} | {ordered[0] * 1000:.0f} | "
        f"{statistics.median(ordered) * 1000:.0f} | {ordered[-1] * 1000:.0f} | ms |"
    )


Once = Callable[[str, Path], Awaitable[float]]


async def measure(
    label: str, rounds: int, once: Once, binaries: list[str], root: Path
) -> dict[str, str]:
    """One row per binary; the binaries take turns, round by round."""
    samples: dict[str, list[float]] = {b: [] for b in binaries}
    for n in range(rounds):
        for i, binary in enumerate(binaries):
            data = root / f"{label.split()[0]}-{i}-{n}"
            samples[binary].append(await once(binary, data))
    return {b: row(label, samples[b]) for b in binaries}


async def main(rounds: int, binaries: list[str]) -> None:
    rows: dict[str, list[str]] = {b: [] for b in binaries}
    async with ScriptedModel() as model:
        root = Path(tempfile.mkdtemp(prefix="kimaki-bench-start-"))
        world = World(root, model.base_url)
        world.create_dirs()
        twin = Twin()
        seed = twin.seed_default()
        await twin.start()
        try:
            env = kimaki_env(world, twin, extra={"KIMAKI_DISABLE_SYNC": "1"})
            bad = {**env, "KIMAKI_BOT_TOKEN": "not-the-bot-token"}

            async def wrong_token(binary: str, data: Path) -> float:
                elapsed, code, output = await spawn_until(binary, bad, data, ready=False)
                assert code == 1 and "refused the bot token" in output, output
                return elapsed

            async def no_intent(binary: str, data: Path) -> float:
                twin.update_application(seed.app, message_content=False)
                try:
                    elapsed, code, output = await spawn_until(binary, env, data, ready=False)
                finally:
                    twin.update_application(seed.app, message_content=True)
                assert code == 1 and ("4014" in output or "MESSAGE CONTENT" in output), output
                return elapsed

            async def good_start(binary: str, data: Path) -> float:
                elapsed, code, output = await spawn_until(binary, env, data, ready=True)
                assert code == 0 and "kimaki ready:" in output, output
                return elapsed

            for label, once in (
                ("wrong token → exit", wrong_token),
                ("intent off (4014) → exit", no_intent),
                ("start → kimaki ready", good_start),
            ):
                for binary, line in (await measure(label, rounds, once, binaries, root)).items():
                    rows[binary].append(line)
        finally:
            await twin.stop()
    for binary in binaries:
        print(f"\nkimaki: {binary}")
        print("| measure | n | min | median | max | unit |")
        print("| --- | --- | --- | --- | --- | --- |")
        print("\n".join(rows[binary]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--kimaki", action="append", help="a kimaki script to time (default: this checkout's)"
    )
    args = parser.parse_args()
    with loopback_only():
        asyncio.run(main(args.rounds, args.kimaki or [KIMAKI]))
    sys.exit(0)
