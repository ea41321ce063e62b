"""Shell commands people run from Discord (`/run-shell-command`, `!git status`).

They run here, not through OpenCode: OpenCode's `/session/{id}/shell` reports no exit
code and stores the command in the session, where the model would read it next turn,
while these are for the person alone. Each runs in the project's directory, in its own
process group (so a time limit stops its children too), with the agent's environment
(no kimaki secret), stdin closed, stdout and stderr merged, and its output capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kimaki.agent_env import agent_environment

TIME_LIMIT = 120.0
"""Seconds a command may run before it and its children are killed."""
OUTPUT_LIMIT = 1024 * 1024
"""Bytes of output kept; the rest is read and dropped so the command never blocks."""
READ_CHUNK = 65536


@dataclass(frozen=True)
class ShellResult:
    command: str
    directory: Path
    exit_code: int | None
    """None when the command was killed at the time limit."""
    output: str
    truncated: bool
    timed_out: bool
    time_limit: float


@dataclass(frozen=True)
class ShellRunner:
    time_limit: float = TIME_LIMIT
    output_limit: int = OUTPUT_LIMIT
    environ: Mapping[str, str] | None = None
    """The environment to strip kimaki's secrets from (default: this process's)."""

    async def run(self, command: str, directory: Path) -> ShellResult:
        shell = shutil.which("bash") or "/bin/sh"
        process = await asyncio.create_subprocess_exec(
            shell,
            "-c",
            command,
            cwd=directory,
            env=agent_environment(self.environ if self.environ is not None else os.environ),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        kept = bytearray()
        truncated = False

        async def read_all() -> None:
            nonlocal truncated
            assert process.stdout is not None
            while chunk := await process.stdout.read(READ_CHUNK):
                room = self.output_limit - len(kept)
                if len(chunk) > room:
                    truncated = True
                kept.extend(chunk[: max(room, 0)])
            await process.wait()

        timed_out = False
        try:
            await asyncio.wait_for(read_all(), self.time_limit)
        except TimeoutError:
            timed_out = True
        finally:
            await _stop(process)
        return ShellResult(
            command=command,
            directory=directory,
            exit_code=None if timed_out else process.returncode,
            output=kept.decode(errors="replace"),
            truncated=truncated,
            timed_out=timed_out,
            time_limit=self.time_limit,
        )


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Kill what is left of the command's process group (children included)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        await process.wait()
