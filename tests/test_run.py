"""`kimaki` as a process: it starts OpenCode, says it is ready, and leaves nothing behind.

Discord is the in-process twin; tests/bot/test_process.py covers the Discord side of a run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from discord_twin import Twin
from tests.support.processes import alive, group_members, opencode_processes_under
from tests.support.world import World, opencode_binary

KIMAKI = str(Path(sys.executable).parent / "kimaki")


@dataclass
class KimakiProcess:
    proc: asyncio.subprocess.Process
    data_dir: Path
    lines: list[str] = field(default_factory=list)

    async def wait_for_line(self, needle: str, timeout: float = 90) -> str:
        assert self.proc.stderr is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stderr.readline()
                if not raw:
                    raise AssertionError(f"kimaki exited before {needle!r}: {self.lines}")
                line = raw.decode(errors="replace")
                self.lines.append(line)
                if needle in line:
                    return line

    async def finish(self, timeout: float = 60) -> int:
        assert self.proc.stderr is not None
        rest = await asyncio.wait_for(self.proc.stderr.read(), timeout)
        self.lines.extend(rest.decode(errors="replace").splitlines(keepends=True))
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def server_pid(self) -> int:
        return int(json.loads((self.data_dir / "opencode-server.json").read_text())["pid"])


def discord_env(twin: Twin) -> dict[str, str]:
    assert twin.seed is not None
    return {
        "KIMAKI_BOT_TOKEN": twin.seed.token,
        "KIMAKI_DISCORD_API_URL": twin.api_url,
        "KIMAKI_DISCORD_GATEWAY_URL": twin.gateway_url,
    }


@asynccontextmanager
async def kimaki(
    world: World, twin: Twin, data_dir: Path, *args: str
) -> AsyncIterator[KimakiProcess]:
    env = world.full_env({"KIMAKI_OPENCODE_BIN": str(opencode_binary()), **discord_env(twin)})
    proc = await asyncio.create_subprocess_exec(
        KIMAKI,
        "--data-dir",
        str(data_dir),
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield KimakiProcess(proc, data_dir)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_kimaki_cleanly_with_no_opencode_left(
    world: World, twin: Twin, tmp_path: Path, sig: signal.Signals
) -> None:
    async with kimaki(world, twin, tmp_path / "data") as run:
        ready = await run.wait_for_line("kimaki ready:")
        assert ready.rstrip().endswith("opencode 1.18.33")
        server_pid = run.server_pid()
        assert alive(server_pid)
        run.proc.send_signal(sig)
        code = await run.finish()
    assert code == 0, "".join(run.lines)
    assert not group_members(server_pid)
    assert not opencode_processes_under(tmp_path)
    assert not (tmp_path / "data" / "opencode-server.json").exists()
    assert (tmp_path / "data" / "logs" / "opencode-server.log").stat().st_size > 0


async def test_after_kill_9_the_server_runs_on_and_the_next_run_takes_it_over(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    async with kimaki(world, twin, tmp_path / "data") as first:
        await first.wait_for_line("kimaki ready:")
        survivor = first.server_pid()
        first.proc.kill()
        await first.proc.wait()
    assert alive(survivor), "a kill -9 of kimaki must not take the OpenCode server with it"
    async with kimaki(world, twin, tmp_path / "data") as second:
        await second.wait_for_line(
            f"re-attached to the OpenCode server of the earlier run (pid {survivor}"
        )
        await second.wait_for_line("kimaki ready:")
        assert second.server_pid() == survivor
        second.proc.send_signal(signal.SIGTERM)
        assert await second.finish() == 0
    assert not alive(survivor)
    assert not opencode_processes_under(tmp_path)


async def test_a_missing_opencode_binary_is_one_clear_error(
    world: World, twin: Twin, tmp_path: Path
) -> None:
    env = world.full_env(discord_env(twin))
    proc = await asyncio.create_subprocess_exec(
        KIMAKI,
        "--data-dir",
        str(tmp_path / "data"),
        "--opencode-bin",
        str(tmp_path / "nowhere" / "opencode"),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert "is not an executable file" in err.decode()
    assert os.listdir(tmp_path / "data" / "logs") == ["kimaki.log"]
