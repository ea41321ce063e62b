"""The one shared `opencode serve` process: spawn, health, restart, stop.

Every project goes through this single server. It listens on loopback only and is
protected by a password made fresh at each kimaki start, so other local users cannot
drive agents through its port. It runs in its own process group so that stopping it
also stops whatever it spawned, and its pid is recorded in the data dir so that a
kimaki killed with -9 can reap the orphan at its next start.

Its environment is the agent's (`agent_env`: no kimaki secret), and everything it
prints goes through a pump into `logs/opencode-server.log` with every known secret
hidden, so neither the bot token nor the server password reaches that file.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import re
import secrets
import signal
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from kimaki.agent_env import agent_environment
from kimaki.opencode.endpoint import Endpoint
from kimaki.opencode.server_log import ServerLog
from kimaki.util.backoff import Backoff
from kimaki.util.private_files import private_dir, write_private
from kimaki.util.redaction import SECRETS

log = logging.getLogger(__name__)

_LISTENING = re.compile(r"listening on (http://\S+)")
_PR_SET_PDEATHSIG = 1


class OpenCodeServerError(RuntimeError):
    """The server could not be started (or restarted) in time; the message says why."""


@dataclass(frozen=True)
class RestartPolicy:
    """Bounded restarts with exponential backoff.

    `max_restarts` counts restarts without a long enough healthy run in between: a
    server that stays up for `stable_after` seconds earns a fresh budget.
    """

    max_restarts: int = 5
    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 120.0

    def delay(self, attempt: int) -> float:
        return Backoff(initial=self.first_delay, maximum=self.max_delay).delay(attempt)


@dataclass(frozen=True)
class StopPolicy:
    """TERM, wait, TERM again (a server busy fetching a plugin may ignore the first), KILL."""

    first_wait: float = 3.0
    second_wait: float = 3.0


class OpenCodeServer:
    """Supervises one `opencode serve` child process."""

    def __init__(
        self,
        binary: Path,
        *,
        data_dir: Path,
        extra_env: Mapping[str, str] | None = None,
        restart: RestartPolicy | None = None,
        stop: StopPolicy | None = None,
        start_timeout: float = 90.0,
        cwd: Path | None = None,
    ) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.extra_env = dict(extra_env or {})
        self.restart_policy = restart or RestartPolicy()
        self.stop_policy = stop or StopPolicy()
        self.start_timeout = start_timeout
        self.cwd = cwd or data_dir
        self.password = secrets.token_urlsafe(32)
        SECRETS.add_basic_auth("opencode", self.password)
        self.version: str | None = None
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._endpoint: Endpoint | None = None
        self._ready = asyncio.Event()
        self._failed: OpenCodeServerError | None = None
        self.gave_up = asyncio.Event()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._log = ServerLog(self.log_path)

    # --- public surface

    @property
    def endpoint(self) -> Endpoint | None:
        """The live endpoint, or None while the server is (re)starting or stopped."""
        return self._endpoint if self._ready.is_set() else None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "opencode-server.log"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "opencode-server.json"

    def environment(self) -> dict[str, str]:
        """The server's environment, its password aside (sync finds OpenCode's store by it)."""
        env = agent_environment({**os.environ, **self.extra_env})
        env["PWD"] = str(self.cwd)  # OpenCode trusts $PWD over getcwd()
        env.setdefault("OPENCODE_DISABLE_AUTOUPDATE", "1")
        return env

    async def start(self) -> Endpoint:
        """Start the server and its supervisor; return once it answers health checks."""
        private_dir(self.data_dir)
        await asyncio.to_thread(reap_orphan, self.pid_path, self.stop_policy)
        self._stopping = False
        endpoint = await self._spawn_until_ready()
        self._supervisor = asyncio.create_task(self._supervise(), name="opencode-supervisor")
        return endpoint

    async def wait_ready(self, timeout: float) -> Endpoint:
        """Wait until the server is up (e.g. after a crash); raise if it gave up."""
        async with asyncio.timeout(timeout):
            while True:
                if self._failed is not None:
                    raise self._failed
                if self._ready.is_set() and self._endpoint is not None:
                    return self._endpoint
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop the server and everything in its process group; idempotent."""
        self._stopping = True
        self._ready.clear()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._terminate()
        self._log.close()
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()

    def kill_now(self) -> None:
        """Last-resort synchronous kill, for interpreter exit paths that cannot await."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            _signal_group(proc.pid, signal.SIGKILL)

    # --- spawning

    async def _spawn_until_ready(self) -> Endpoint:
        port = _free_port()
        self._log.open()
        env = self.environment()
        env["OPENCODE_SERVER_PASSWORD"] = self.password  # after: its value is a secret
        args = [str(self.binary), "serve", "--hostname", "127.0.0.1", "--port", str(port)]
        args.append("--print-logs")
        if log.isEnabledFor(logging.DEBUG):  # `kimaki -v`: OpenCode's log in detail too
            args += ["--log-level", "DEBUG"]
        self._log.write(f"--- kimaki: starting {' '.join(args)}\n")
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._record_pid(self._proc.pid)
        log.info("opencode server starting (pid %s, %s)", self._proc.pid, self.binary)
        listening: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._pumps = [
            asyncio.create_task(
                self._log.pump(self._proc.stdout, _spot_listening(listening)),
                name="opencode-stdout",
            ),
            asyncio.create_task(self._log.pump(self._proc.stderr), name="opencode-stderr"),
        ]
        try:
            async with asyncio.timeout(self.start_timeout):
                base_url = await self._wait_listening(self._proc, listening)
                endpoint = Endpoint(base_url, self.password)
                self.version = await _wait_healthy(endpoint, self._proc)
        except (TimeoutError, OpenCodeServerError) as exc:
            await self._terminate()
            reason = str(exc) or f"not ready within {self.start_timeout:g}s"
            raise OpenCodeServerError(
                f"opencode server did not start: {reason} (log: {self.log_path})"
            ) from None
        self._endpoint = endpoint
        self._ready.set()
        log.info("opencode server %s ready at %s", self.version, base_url)
        return endpoint

    async def _wait_listening(
        self, proc: asyncio.subprocess.Process, listening: asyncio.Future[str]
    ) -> str:
        exited: asyncio.Future[Any] = asyncio.ensure_future(proc.wait())
        waiting: set[asyncio.Future[Any]] = {listening, exited}
        try:
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if listening in done:
            return listening.result()
        raise OpenCodeServerError(f"process exited with code {proc.returncode}")

    # --- supervision

    async def _supervise(self) -> None:
        attempt = 0
        while not self._stopping:
            proc = self._proc
            assert proc is not None
            started = time.monotonic()
            code = await proc.wait()
            if self._stopping:
                return
            self._ready.clear()
            if time.monotonic() - started >= self.restart_policy.stable_after:
                attempt = 0
            attempt += 1
            if attempt > self.restart_policy.max_restarts:
                self._give_up(code, attempt - 1)
                return
            await self._restart(code, attempt)

    async def _restart(self, code: int, attempt: int) -> None:
        delay = self.restart_policy.delay(attempt)
        limit = self.restart_policy.max_restarts
        log.warning(
            "opencode server exited with code %s; restarting in %.1fs (attempt %d of %d)",
            code,
            delay,
            attempt,
            limit,
        )
        await asyncio.sleep(delay)
        try:
            await self._spawn_until_ready()
            self.restarts += 1
        except OpenCodeServerError as exc:
            log.error("%s", exc)
            # _spawn_until_ready left a dead process behind: the loop sees it exit at once.

    def _give_up(self, code: int, restarts: int) -> None:
        message = (
            f"opencode server exited with code {code} after {restarts} restarts; giving up "
            f"(log: {self.log_path})"
        )
        log.error("%s", message)
        self._failed = OpenCodeServerError(message)
        self.gave_up.set()

    # --- stopping

    async def _terminate(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            policy = self.stop_policy
            for sig, wait in (
                (signal.SIGTERM, policy.first_wait),
                (signal.SIGTERM, policy.second_wait),
                (signal.SIGKILL, None),
            ):
                _signal_group(proc.pid, sig)
                try:
                    await asyncio.wait_for(proc.wait(), wait)
                    break
                except TimeoutError:
                    continue
        # The leader is gone; make sure nothing it spawned outlives it.
        _signal_group(proc.pid, signal.SIGKILL)
        for pump in self._pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(pump, 2)
        self._pumps = []
        log.info("opencode server stopped (pid %s, code %s)", proc.pid, proc.returncode)

    # --- files

    def _record_pid(self, pid: int) -> None:
        record = {"pid": pid, "binary": str(self.binary), "started": time.time()}
        write_private(self.pid_path, json.dumps(record))


# --- helpers that need no server object


def reap_orphan(pid_path: Path, policy: StopPolicy) -> bool:
    """Stop an `opencode serve` left by a kimaki that was killed; True if one was found."""
    try:
        record = json.loads(pid_path.read_text())
        pid = int(record["pid"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return False
    if not _is_opencode_serve(pid):
        pid_path.unlink(missing_ok=True)
        return False
    log.warning("stopping an orphaned opencode server from an earlier run (pid %s)", pid)
    for sig, wait in (
        (signal.SIGTERM, policy.first_wait),
        (signal.SIGTERM, policy.second_wait),
        (signal.SIGKILL, 5.0),
    ):
        _signal_group(pid, sig)
        if _wait_gone(pid, wait):
            break
    _signal_group(pid, signal.SIGKILL)
    pid_path.unlink(missing_ok=True)
    return True


def _is_opencode_serve(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"serve" in cmdline and any(b"opencode" in part for part in cmdline)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_opencode_serve(pid):
            return True
        time.sleep(0.05)
    return not _is_opencode_serve(pid)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if kimaki dies without stopping us (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _spot_listening(listening: asyncio.Future[str]) -> Callable[[bytes], None]:
    """Resolve `listening` with the URL of the first "listening on" line."""

    def on_line(line: bytes) -> None:
        if listening.done():
            return
        match = _LISTENING.search(line.decode(errors="replace"))
        if match:
            listening.set_result(match.group(1).rstrip("/"))

    return on_line


async def _wait_healthy(endpoint: Endpoint, proc: asyncio.subprocess.Process) -> str:
    """Poll `/global/health` with a short timeout: a request made as the port opens can hang."""
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout, headers=endpoint.headers) as http:
        while True:
            if proc.returncode is not None:
                raise OpenCodeServerError(f"process exited with code {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                async with http.get(f"{endpoint.base_url}/global/health") as resp:
                    if resp.status == 200:
                        body = json.loads(await resp.text())
                        if isinstance(body, dict) and body.get("healthy"):
                            return str(body.get("version", "unknown"))
            await asyncio.sleep(0.2)
