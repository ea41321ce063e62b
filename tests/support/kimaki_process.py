"""Run the `kimaki` console script as a user would, against the Discord twin and a test world.

The process's stdout and stderr are merged and read continuously by a background task,
so kimaki never blocks on a full pipe and a test can wait for a log line (from any
point, or only for lines after a mark) instead of sleeping. Cleanup kills a kimaki the
test left running and reaps the OpenCode server it recorded, so a failing test does
not leak processes into the next one. A kimaki the test killed with -9 leaves its
server running on purpose (the next start in the same data dir re-attaches): that one
is reaped when the test ends (`reap_survivors`, called by the root conftest).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from discord_twin import Twin
from kimaki.opencode.server_record import StopPolicy, reap_orphan
from tests.support.world import World, opencode_binary

KIMAKI = str(Path(sys.executable).parent / "kimaki")
REAP_POLICY = StopPolicy(first_wait=2, second_wait=1)
_survivors: list[Path] = []


def reap_survivors() -> None:
    """Stop the OpenCode servers that kill -9'd kimakis of this test left running."""
    while _survivors:
        reap_orphan(_survivors.pop() / "opencode-server.json", REAP_POLICY)


def kimaki_env(
    world: World,
    twin: Twin,
    *,
    token: str | None = None,
    api_url: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a kimaki process: the world's (isolated OpenCode) plus the twin's."""
    assert twin.seed is not None
    env = {
        "KIMAKI_OPENCODE_BIN": str(opencode_binary()),
        "KIMAKI_DISCORD_API_URL": api_url or twin.api_url,
        "KIMAKI_DISCORD_GATEWAY_URL": twin.gateway_url,
        "KIMAKI_BOT_TOKEN": token if token is not None else twin.seed.token,
        **(extra or {}),
    }
    if not env["KIMAKI_BOT_TOKEN"]:
        del env["KIMAKI_BOT_TOKEN"]
    return world.full_env(env)


@dataclass
class KimakiProcess:
    proc: asyncio.subprocess.Process
    data_dir: Path
    lines: list[str] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _eof: bool = False
    _reader: asyncio.Task[None] | None = None
    killed: bool = False

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def mark(self) -> int:
        """A position in the output; `wait_for_line(since=mark)` only looks after it."""
        return len(self.lines)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while raw := await self.proc.stdout.readline():
            async with self._changed:
                self.lines.append(raw.decode(errors="replace"))
                self._changed.notify_all()
        async with self._changed:
            self._eof = True
            self._changed.notify_all()

    async def wait_for_line(self, needle: str, *, since: int = 0, timeout: float = 60) -> str:
        """The first output line from `since` containing `needle`; fail if kimaki exits first."""

        def found() -> str | None:
            return next((line for line in self.lines[since:] if needle in line), None)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: found() is not None or self._eof)
        except TimeoutError:
            raise AssertionError(
                f"no {needle!r} from kimaki within {timeout:g}s:\n{self.output}"
            ) from None
        line = found()
        if line is None:
            raise AssertionError(f"kimaki exited before {needle!r}:\n{self.output}")
        return line

    async def wait_exit(self, timeout: float = 60) -> int:
        """Wait for the process to end and for all its output to be read."""
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout)
        return code

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as a service manager would, and wait for the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout)

    async def kill9(self) -> None:
        """kill -9: the OpenCode server runs on (reaped when the test ends)."""
        self.killed = True
        self.proc.kill()
        await self.wait_exit()

    def server_pid(self) -> int:
        """The `opencode serve` pid kimaki recorded in its data dir."""
        record = json.loads((self.data_dir / "opencode-server.json").read_text())
        return int(record["pid"])

    def error_lines(self) -> list[str]:
        return [line for line in self.lines if " ERROR " in line or "Traceback" in line]


@asynccontextmanager
async def kimaki(
    env: Mapping[str, str], data_dir: Path, *args: str, program: Sequence[str] = (KIMAKI,)
) -> AsyncIterator[KimakiProcess]:
    """`kimaki --data-dir DATA_DIR ARGS…` with no terminal (stdin is /dev/null);
    `program` runs it another way (a benchmark's probe)."""
    proc = await asyncio.create_subprocess_exec(
        *program,
        "--data-dir",
        str(data_dir),
        *args,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    run = KimakiProcess(proc, data_dir)
    run._reader = asyncio.create_task(run._read())
    try:
        yield run
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if run._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run._reader, 10)
        if run.killed:
            _survivors.append(data_dir)
        else:
            await asyncio.to_thread(reap_orphan, data_dir / "opencode-server.json", REAP_POLICY)


async def project_add(env: Mapping[str, str], data_dir: Path, project: Path) -> int:
    """`kimaki project add PROJECT`, as a user registers a project: the new channel's id."""
    proc = await asyncio.create_subprocess_exec(
        KIMAKI,
        "project",
        "add",
        str(project),
        env={**env, "KIMAKI_DATA_DIR": str(data_dir)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode(errors="replace")
    return int(out.decode().strip().splitlines()[-1])


async def kimaki_command(
    env: Mapping[str, str], data_dir: Path, *args: str, timeout: float = 90
) -> tuple[int, str, str]:
    """`kimaki ARGS…` on `data_dir` to its end: exit code, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        KIMAKI,
        *args,
        env={**env, "KIMAKI_DATA_DIR": str(data_dir)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
