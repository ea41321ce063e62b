"""The one shared `opencode serve` process: spawn, health, restart, stop, re-attach.

Every project goes through this single server. It listens on loopback only and is
protected by a password, so other local users cannot drive agents through its port.
It is not kimaki's child: a small keeper process (`keeper.py`) holds it, pumps its
output into `logs/opencode-server.log` with every known secret hidden, and records it
(pids, URL, password) in the private pid record `opencode-server.json`. So when kimaki
dies in any way but a clean stop (kill -9, the OOM killer, a crash), the server and
the turn it runs go on; the next start finds the record, checks the server's health
and re-attaches to it, instead of starting another. An orphaned server stops by itself
(`OrphanPolicy`). A clean stop (SIGTERM, Ctrl-C) stops it as before.

Its environment is the agent's (`agent_env`: no kimaki secret), and so is the keeper's.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from kimaki.agent_env import agent_environment
from kimaki.opencode.endpoint import Endpoint
from kimaki.opencode.keeper import KeeperSpec
from kimaki.opencode.keeper_handle import KeeperExited, KeeperHandle
from kimaki.opencode.server_record import (
    StopPolicy,
    is_keeper,
    is_opencode_serve,
    read_record,
    reap_orphan,
    signal_group,
)
from kimaki.util.backoff import Backoff
from kimaki.util.private_files import private_dir
from kimaki.util.redaction import SECRETS

log = logging.getLogger(__name__)


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
class OrphanPolicy:
    """How long a server nobody is attached to lives (see `keeper.py`).

    It stops once no session is busy and `after` seconds have passed, or after
    `limit` seconds whatever runs: no server is left running for ever.
    """

    after: float = 600.0
    limit: float = 7200.0
    poll: float = 1.0
    busy_poll: float = 15.0


ATTACH_WAIT = 10.0
"""How long a start waits for the attach lock (another kimaki on this data dir holds it)."""
ADOPT_HEALTH_TIMEOUT = 10.0


class OpenCodeServer:
    """Supervises one `opencode serve`, held by a keeper process (started or re-attached)."""

    def __init__(
        self,
        binary: Path,
        *,
        data_dir: Path,
        extra_env: Mapping[str, str] | None = None,
        restart: RestartPolicy | None = None,
        stop: StopPolicy | None = None,
        orphan: OrphanPolicy | None = None,
        start_timeout: float = 90.0,
        cwd: Path | None = None,
        projects_db: Path | None = None,
    ) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.extra_env = dict(extra_env or {})
        self.restart_policy = restart or RestartPolicy()
        self.stop_policy = stop or StopPolicy()
        self.orphan_policy = orphan or OrphanPolicy()
        self.start_timeout = start_timeout
        self.cwd = cwd or data_dir
        self.projects_db = projects_db or data_dir / "kimaki.db"
        self.password = secrets.token_urlsafe(32)
        SECRETS.add_basic_auth("opencode", self.password)
        self.version: str | None = None
        self.restarts = 0
        self.reattached = False
        """Whether this start took over the server of an earlier run."""
        self._keeper: KeeperHandle | None = None
        self._endpoint: Endpoint | None = None
        self._ready = asyncio.Event()
        self._failed: OpenCodeServerError | None = None
        self.gave_up = asyncio.Event()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._lock_fd: int | None = None

    # --- public surface

    @property
    def endpoint(self) -> Endpoint | None:
        """The live endpoint, or None while the server is (re)starting or stopped."""
        return self._endpoint if self._ready.is_set() else None

    @property
    def pid(self) -> int | None:
        """The `opencode serve` process, while it runs."""
        keeper = self._keeper
        if keeper is None or keeper.server_pid is None:
            return None
        return keeper.server_pid if is_opencode_serve(keeper.server_pid) else None

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

    @property
    def attach_lock_path(self) -> Path:
        return self.data_dir / "opencode-attach.lock"

    async def start(self) -> Endpoint:
        """Re-attach to the server of an earlier run, or start one; return once healthy."""
        private_dir(self.data_dir)
        self._stopping = False
        await self._take_attach_lock()
        endpoint = await self._adopt()
        if endpoint is None:
            await asyncio.to_thread(reap_orphan, self.pid_path, self.stop_policy)
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
        await self._cancel_supervisor()
        await self._terminate()
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()
        self._release_attach_lock()

    async def detach(self) -> None:
        """Leave the server running, as a kimaki that crashed would (tests and benches).

        The keeper then counts as orphaned: a later `start` re-attaches, or the server
        stops by itself (`OrphanPolicy`).
        """
        self._stopping = True
        self._ready.clear()
        await self._cancel_supervisor()
        if self._keeper is not None:
            self._keeper.forget()
            self._keeper = None
        self._release_attach_lock()

    def kill_now(self) -> None:
        """Last-resort synchronous kill, for interpreter exit paths that cannot await."""
        keeper = self._keeper
        if keeper is not None:
            if keeper.server_pid is not None:
                signal_group(keeper.server_pid, signal.SIGKILL)
            signal_group(keeper.pid, signal.SIGKILL)

    # --- attaching

    async def _take_attach_lock(self) -> None:
        """Hold `opencode-attach.lock` while this kimaki runs: the keeper's sign of life.

        The kernel drops it with the process, however it ends. The keeper's probe holds
        it for an instant, so a start retries for a while before it gives up.
        """
        if self._lock_fd is not None:
            return
        fd = os.open(self.attach_lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        deadline = time.monotonic() + ATTACH_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise OpenCodeServerError(
                        f"another kimaki is running with the data dir {self.data_dir}; "
                        "stop it first"
                    ) from None
                await asyncio.sleep(0.05)
                continue
            self._lock_fd = fd
            return

    def _release_attach_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    async def _adopt(self) -> Endpoint | None:
        """The server an earlier kimaki left running, if it is healthy; else None."""
        record = read_record(self.pid_path)
        if record is None or record.keeper is None or not record.url or not record.password:
            return None
        if not is_keeper(record.keeper) or not is_opencode_serve(record.pid):
            return None
        endpoint = Endpoint(record.url, record.password)
        SECRETS.add_basic_auth("opencode", record.password)
        try:
            version = await asyncio.wait_for(
                _wait_healthy(endpoint, lambda: is_opencode_serve(record.pid)),
                ADOPT_HEALTH_TIMEOUT,
            )
        except (TimeoutError, OpenCodeServerError):
            log.warning(
                "the OpenCode server of the earlier run (pid %s) does not answer; replacing it",
                record.pid,
            )
            return None
        self.password = record.password
        self._keeper = KeeperHandle.adopted(record.keeper, record.pid)
        self._endpoint = endpoint
        self.version = version
        self.reattached = True
        self._ready.set()
        log.info(
            "re-attached to the OpenCode server of the earlier run (pid %s, %s)",
            record.pid,
            record.url,
        )
        return endpoint

    # --- spawning

    async def _spawn_until_ready(self) -> Endpoint:
        port = _free_port()
        env = self.environment()
        env["OPENCODE_SERVER_PASSWORD"] = self.password  # after: its value is a secret
        args = [str(self.binary), "serve", "--hostname", "127.0.0.1", "--port", str(port)]
        args.append("--print-logs")
        if log.isEnabledFor(logging.DEBUG):  # `kimaki -v`: OpenCode's log in detail too
            args += ["--log-level", "DEBUG"]
        orphan = self.orphan_policy
        spec = KeeperSpec(
            args=args,
            env=env,
            cwd=str(self.cwd),
            log_path=str(self.log_path),
            record_path=str(self.pid_path),
            attach_lock=str(self.attach_lock_path),
            db_path=str(self.projects_db),
            password=self.password,
            binary=str(self.binary),
            secrets=list(SECRETS.values),
            stop_waits=(self.stop_policy.first_wait, self.stop_policy.second_wait),
            orphan_after=orphan.after,
            orphan_limit=orphan.limit,
            poll=orphan.poll,
            busy_poll=orphan.busy_poll,
        )
        private_dir(self.log_path.parent)
        keeper = await KeeperHandle.spawn(spec, cwd=self.cwd)
        self._keeper = keeper
        try:
            async with asyncio.timeout(self.start_timeout):
                pid = await keeper.spawned()
                log.info("opencode server starting (pid %s, %s)", pid, self.binary)
                endpoint = Endpoint(await keeper.listening(), self.password)
                self.version = await _wait_healthy(endpoint, keeper.running)
        except (TimeoutError, OpenCodeServerError, KeeperExited) as exc:
            await self._terminate()
            reason = str(exc) or f"not ready within {self.start_timeout:g}s"
            raise OpenCodeServerError(
                f"opencode server did not start: {reason} (log: {self.log_path})"
            ) from None
        self._endpoint = endpoint
        self._ready.set()
        log.info("opencode server %s ready at %s", self.version, endpoint.base_url)
        return endpoint

    # --- supervision

    async def _supervise(self) -> None:
        attempt = 0
        while not self._stopping:
            keeper = self._keeper
            assert keeper is not None
            started = time.monotonic()
            code = await keeper.wait()
            if self._stopping:
                return
            self._ready.clear()
            keeper.kill_leftovers()
            if time.monotonic() - started >= self.restart_policy.stable_after:
                attempt = 0
            attempt += 1
            if attempt > self.restart_policy.max_restarts:
                self._give_up(code, attempt - 1)
                return
            await self._restart(code, attempt)

    async def _restart(self, code: int | None, attempt: int) -> None:
        delay = self.restart_policy.delay(attempt)
        limit = self.restart_policy.max_restarts
        log.warning(
            "opencode server exited with code %s; restarting in %.1fs (attempt %d of %d)",
            "?" if code is None else code,
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
            # _spawn_until_ready left a dead keeper behind: the loop sees it exit at once.

    def _give_up(self, code: int | None, restarts: int) -> None:
        message = (
            f"opencode server exited with code {'?' if code is None else code} after "
            f"{restarts} restarts; giving up (log: {self.log_path})"
        )
        log.error("%s", message)
        self._failed = OpenCodeServerError(message)
        self.gave_up.set()

    async def _cancel_supervisor(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None

    # --- stopping

    async def _terminate(self) -> None:
        keeper = self._keeper
        if keeper is None:
            return
        policy = self.stop_policy
        code = await keeper.stop(policy.first_wait + policy.second_wait + 8.0)
        log.info("opencode server stopped (pid %s, code %s)", keeper.server_pid, code)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_healthy(endpoint: Endpoint, alive: Callable[[], bool]) -> str:
    """Poll `/global/health` with a short timeout: a request made as the port opens can hang."""
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout, headers=endpoint.headers) as http:
        while True:
            if not alive():
                raise OpenCodeServerError("the process exited")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                async with http.get(f"{endpoint.base_url}/global/health") as resp:
                    if resp.status == 200:
                        body = json.loads(await resp.text())
                        if isinstance(body, dict) and body.get("healthy"):
                            return str(body.get("version", "unknown"))
            await asyncio.sleep(0.2)
