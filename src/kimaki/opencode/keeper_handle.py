"""kimaki's side of the keeper (`keeper.py`): start it, hear from it, wait for it, stop it.

A keeper is either kimaki's child (started by this run: its stdout says what happens,
its stdin takes secrets learned later) or adopted (left by a run that died: only its
pid is known, and its end is seen through a pidfd).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from kimaki.agent_env import agent_environment
from kimaki.opencode.keeper import KeeperSpec, signal_group
from kimaki.util.redaction import SECRETS

log = logging.getLogger(__name__)

KEEPER_MODULE = "kimaki.opencode.keeper"


class KeeperExited(RuntimeError):
    """The keeper (and so the server) ended before it was ready; the text says how."""


class KeeperHandle:
    def __init__(
        self,
        pid: int,
        *,
        proc: asyncio.subprocess.Process | None = None,
        server_pid: int | None = None,
    ) -> None:
        self.pid = pid
        self.proc = proc
        self.server_pid = server_pid
        self.exit_code: int | None = None
        loop = asyncio.get_running_loop()
        self._spawned: asyncio.Future[int] = loop.create_future()
        self._listening: asyncio.Future[str] = loop.create_future()
        self._reports: asyncio.Task[None] | None = None
        if server_pid is not None:
            self._spawned.set_result(server_pid)

    @classmethod
    async def spawn(cls, spec: KeeperSpec, *, cwd: Path) -> KeeperHandle:
        """Start a keeper in a session of its own (a terminal's Ctrl-C is kimaki's to handle)."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            KEEPER_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=agent_environment(os.environ),
            cwd=cwd,
            start_new_session=True,
        )
        handle = cls(proc.pid, proc=proc)
        assert proc.stdin is not None
        proc.stdin.write(spec.to_json().encode() + b"\n")
        handle._reports = asyncio.create_task(handle._read_reports(), name="opencode-keeper")
        SECRETS.listen(handle._share)
        return handle

    @classmethod
    def adopted(cls, pid: int, server_pid: int) -> KeeperHandle:
        return cls(pid, server_pid=server_pid)

    # --- what the keeper says

    async def spawned(self) -> int:
        """The server's pid, once the keeper started it."""
        return await asyncio.shield(self._spawned)

    async def listening(self) -> str:
        """The server's URL, once it printed its "listening on" line."""
        return await asyncio.shield(self._listening)

    async def _read_reports(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("event")
            if kind == "spawned" and not self._spawned.done():
                self.server_pid = int(event["pid"])
                self._spawned.set_result(self.server_pid)
            elif kind == "listening" and not self._listening.done():
                self._listening.set_result(str(event["url"]))
            elif kind == "exited":
                self.exit_code = int(event["code"])
        code = await self.proc.wait()
        if self.exit_code is None:
            self.exit_code = code
        ended = KeeperExited(f"process exited with code {self.exit_code}")
        for future in (self._spawned, self._listening):
            if not future.done():
                future.set_exception(ended)
                future.exception()  # retrieved: a start that never asks is no error

    def _share(self, value: str) -> None:
        """A secret learned after the start: the keeper hides it from the log too."""
        stdin = self.proc.stdin if self.proc is not None else None
        if stdin is None or stdin.is_closing():
            return
        with contextlib.suppress(OSError, RuntimeError):
            stdin.write(json.dumps({"secrets": [value]}).encode() + b"\n")

    # --- its life

    def running(self) -> bool:
        if self.proc is not None:
            return self.proc.returncode is None
        return pid_alive(self.pid)

    async def wait(self) -> int | None:
        """Until the keeper ends: the server's exit code (None if not our child)."""
        if self.proc is None:
            await wait_gone(self.pid)
            return None
        await self.proc.wait()
        if self._reports is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._reports), 5)
        return self.exit_code if self.exit_code is not None else self.proc.returncode

    async def stop(self, timeout: float) -> int | None:
        """Ask the keeper to stop the server (TERM → TERM → KILL there); KILL both if it
        does not end within `timeout`."""
        SECRETS.unlisten(self._share)
        code: int | None = None
        if self.running():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                code = await asyncio.wait_for(self.wait(), timeout)
            except TimeoutError:
                log.warning("the opencode keeper (pid %s) did not stop; killing it", self.pid)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(self.pid, signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    code = await asyncio.wait_for(self.wait(), 5)
        else:
            code = self.exit_code
        self.kill_leftovers()
        self._close_pipes()
        return code

    def kill_leftovers(self) -> None:
        """After the keeper ended: nothing of the server's process group may outlive it."""
        if self.server_pid is not None:
            signal_group(self.server_pid, signal.SIGKILL)

    def forget(self) -> None:
        """Stop listening to a keeper that goes on without us (`OpenCodeServer.detach`)."""
        SECRETS.unlisten(self._share)
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self._reports is not None and not self._reports.done():
            self._reports.cancel()
        if self.proc is not None and self.proc.stdin is not None:
            with contextlib.suppress(OSError, RuntimeError):
                self.proc.stdin.close()


def pid_alive(pid: int) -> bool:
    """A running process (a zombie waiting for its parent counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def wait_gone(pid: int) -> None:
    """Until `pid` (not necessarily our child) has ended."""
    fd: int | None
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (OSError, AttributeError):  # no pidfd (an old kernel): look every second
        fd = None
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not gone.done():
            gone.set_result(None)

    if fd is not None:
        loop.add_reader(fd, readable)
    try:
        while not gone.done():
            # A zombie is "ended" for the pidfd but still in /proc: either way it is gone.
            await asyncio.wait({gone}, timeout=1.0)
            if not pid_alive(pid):
                break
    finally:
        if fd is not None:
            loop.remove_reader(fd)
            os.close(fd)
