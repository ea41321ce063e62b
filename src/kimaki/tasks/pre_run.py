"""`--pre-run CMD`: a shell command that decides whether a scheduled send runs.

Exit 0 runs the send, with the command's standard output appended to the prompt;
any other exit (or no exit within the timeout) skips this occurrence. It runs in the
project's directory with the agent's environment: the user's, minus kimaki's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from kimaki.agent_env import agent_environment

TIMEOUT_SECONDS = 300.0
OUTPUT_LIMIT = 100_000


@dataclass(frozen=True)
class PreRun:
    go: bool
    output: str
    why: str
    """One line: how it exited."""


async def pre_run(command: str, directory: Path, *, timeout: float = TIMEOUT_SECONDS) -> PreRun:
    try:
        proc = await asyncio.create_subprocess_shell(
            command,
            cwd=directory,
            env=agent_environment(os.environ),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        return PreRun(False, "", f"pre-run could not start: {exc}")
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        await proc.wait()
        return PreRun(False, "", f"pre-run did not finish within {timeout:g}s")
    output = out.decode(errors="replace").strip()[:OUTPUT_LIMIT]
    if proc.returncode != 0:
        return PreRun(False, output, f"pre-run exited {proc.returncode}")
    return PreRun(True, output, "pre-run exited 0")
