"""The keeper: a small process that holds the shared `opencode serve` and outlives kimaki.

kimaki does not run OpenCode as its own child. It starts this keeper (`python -m
kimaki.opencode.keeper`, in a session of its own), which starts OpenCode, pumps
everything OpenCode prints into `logs/opencode-server.log` with every secret hidden, and
records the server (pids, URL, password) in the private pid record. So a kimaki killed
with -9, by the OOM killer or by a crash takes neither the server nor its log pipes
with it: the agent's turn goes on, and the next kimaki re-attaches to the same server
(`server.py`) and mirrors the turn.

Who is attached is told by a lock: a running kimaki holds `opencode-attach.lock`
exclusively, and the kernel drops the lock with the process however it dies. While
nobody holds it the keeper is *orphaned*: it stops the server itself once no session
of kimaki's projects is busy and `orphan_after` seconds have passed, and after
`orphan_limit` seconds whatever runs, so no server is left running for ever. A clean
stop (SIGTERM from kimaki) stops the server at once. When OpenCode exits by itself,
the keeper exits with its code (128 + the signal's number if killed): kimaki's
supervisor restarts both.

kimaki talks to the keeper through pipes while it is its parent: the spec (one JSON
line on stdin; later lines add secrets learned after the start, such as a bot token
pasted during setup), and what happened (JSON lines on stdout: `spawned`, `listening`,
`exited`). This module imports nothing heavy: it starts with every server start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import json
import os
import signal
import sqlite3
import sys
import time
import traceback
import urllib.parse
import urllib.request
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kimaki.opencode.server_log import ServerLog
from kimaki.util.private_files import write_private
from kimaki.util.redaction import SECRETS

_PR_SET_PDEATHSIG = 1
_LISTENING = b"listening on "
BUSY_TIMEOUT = 5.0


@dataclass(frozen=True)
class KeeperSpec:
    """What kimaki asks the keeper to run, and how long an orphan may live."""

    args: list[str]
    env: dict[str, str]
    cwd: str
    log_path: str
    record_path: str
    attach_lock: str
    db_path: str
    password: str
    binary: str
    secrets: list[str]
    stop_waits: tuple[float, float] = (3.0, 3.0)
    orphan_after: float = 600.0
    orphan_limit: float = 7200.0
    poll: float = 1.0
    busy_poll: float = 15.0

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, line: str) -> KeeperSpec:
        data = json.loads(line)
        data["stop_waits"] = tuple(data["stop_waits"])
        return cls(**data)


class Keeper:
    def __init__(
        self, spec: KeeperSpec, report: IO[str] | None, orders: asyncio.StreamReader
    ) -> None:
        self.spec = spec
        self.report = report
        self.orders = orders
        self.log = ServerLog(Path(spec.log_path))
        self.proc: asyncio.subprocess.Process | None = None
        self.url: str | None = None
        self.stopping = asyncio.Event()
        self.started = time.time()

    def say(self, text: str) -> None:
        self.log.write(f"--- kimaki keeper: {text}\n")

    def tell(self, **event: Any) -> None:
        """A line for the kimaki that started us (gone after a crash: then nobody hears)."""
        if self.report is None:
            return
        try:
            self.report.write(json.dumps(event) + "\n")
            self.report.flush()
        except (OSError, ValueError):
            self.report = None

    async def run(self) -> int:
        self.log.open()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        self.say(f"starting {' '.join(self.spec.args)}")
        self.proc = await asyncio.create_subprocess_exec(
            *self.spec.args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.spec.env,
            cwd=self.spec.cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.record()
        self.tell(event="spawned", pid=self.proc.pid)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        pumps = [
            asyncio.create_task(self.log.pump(self.proc.stdout, self.spot_listening)),
            asyncio.create_task(self.log.pump(self.proc.stderr)),
        ]
        reading = asyncio.create_task(self.read_secrets())
        code = await self.watch()
        reading.cancel()
        for pump in pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(pump, 2)
        self.tell(event="exited", code=self.proc.returncode)
        return code

    def record(self) -> None:
        assert self.proc is not None
        record = {
            "pid": self.proc.pid,
            "keeper": os.getpid(),
            "binary": self.spec.binary,
            "started": self.started,
            "url": self.url,
            "password": self.spec.password,
        }
        write_private(Path(self.spec.record_path), json.dumps(record))

    def spot_listening(self, line: bytes) -> None:
        if self.url is not None or _LISTENING not in line:
            return
        self.url = line.split(_LISTENING, 1)[1].split()[0].decode(errors="replace").rstrip("/")
        self.record()
        self.tell(event="listening", url=self.url)

    async def read_secrets(self) -> None:
        """Secrets kimaki learns later (a token pasted during setup): hidden from then on."""
        with contextlib.suppress(OSError, ValueError):
            while line := await self.orders.readline():
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    for value in json.loads(line).get("secrets", []):
                        SECRETS.add(str(value))

    # --- the watch

    async def watch(self) -> int:
        """Until OpenCode exits, a clean stop, or the end of an orphan's life: its exit code."""
        proc = self.proc
        assert proc is not None
        exited = asyncio.ensure_future(proc.wait())
        orphaned_since: float | None = None
        last_busy_look = 0.0
        busy = told_busy = False
        while True:
            stop = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait({exited, stop}, timeout=self.spec.poll)
            stop.cancel()
            if exited.done():
                return _exit_code(proc.returncode)
            if self.stopping.is_set():
                self.say("stopping the server (kimaki stopped cleanly)")
                return await self.stop_server(remove_record=True)
            if self.attached():
                if orphaned_since is not None:
                    self.say("a kimaki re-attached")
                orphaned_since = None
                continue
            now = time.monotonic()
            if orphaned_since is None:
                orphaned_since, last_busy_look = now, -self.spec.busy_poll
                self.say(
                    f"kimaki is gone; the server stops once no session is busy and "
                    f"{self.spec.orphan_after:g}s have passed"
                )
            alone = now - orphaned_since
            if alone >= self.spec.orphan_limit:
                self.say(f"no kimaki for {alone:.0f}s: stopping the server, busy or not")
                return await self.stop_server(remove_record=True)
            if alone < self.spec.orphan_after:
                continue
            if now - last_busy_look >= self.spec.busy_poll:
                busy = await asyncio.to_thread(self.any_busy)
                last_busy_look = now
                if busy and not told_busy:
                    self.say(f"no kimaki for {alone:.0f}s; a session is busy: waiting for it")
                told_busy = busy
            if not busy and not self.attached():
                self.say(f"no kimaki for {alone:.0f}s and no session busy: stopping the server")
                return await self.stop_server(remove_record=True)

    def attached(self) -> bool:
        """Whether a kimaki holds the attach lock (a shared probe fails while it does)."""
        try:
            fd = os.open(self.spec.attach_lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)  # closing drops a lock we got
        return False

    def any_busy(self) -> bool:
        """Whether a session of one of kimaki's projects runs a turn (or retries one)."""
        if self.url is None:
            return False
        auth = b64encode(f"opencode:{self.spec.password}".encode()).decode()
        for directory in self.directories():
            query = urllib.parse.urlencode({"directory": directory})
            request = urllib.request.Request(
                f"{self.url}/session/status?{query}", headers={"Authorization": f"Basic {auth}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=BUSY_TIMEOUT) as resp:
                    status = json.loads(resp.read())
            except (OSError, ValueError) as exc:
                self.say(f"cannot read the sessions' status of {directory}: {exc}")
                continue
            if isinstance(status, dict) and any(
                isinstance(s, dict) and s.get("type") != "idle" for s in status.values()
            ):
                return True
        return False

    def directories(self) -> list[str]:
        """kimaki's project directories, read from its store (the only ones it runs turns in)."""
        try:
            db = sqlite3.connect(f"file:{self.spec.db_path}?mode=ro", uri=True, timeout=2)
        except sqlite3.Error:
            return []
        try:
            rows = db.execute("SELECT DISTINCT directory FROM projects").fetchall()
        except sqlite3.Error:
            return []
        finally:
            db.close()
        return [str(row[0]) for row in rows]

    async def stop_server(self, *, remove_record: bool) -> int:
        """TERM, wait, TERM (a server fetching a plugin may ignore the first), KILL."""
        proc = self.proc
        assert proc is not None
        first, second = self.spec.stop_waits
        for sig, wait in ((signal.SIGTERM, first), (signal.SIGTERM, second), (signal.SIGKILL, 5)):
            signal_group(proc.pid, sig)
            try:
                await asyncio.wait_for(proc.wait(), wait)
                break
            except TimeoutError:
                continue
        signal_group(proc.pid, signal.SIGKILL)  # whatever it started goes too
        if remove_record:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.spec.record_path)
        self.say(f"server stopped (pid {proc.pid}, code {proc.returncode})")
        return 0


def _exit_code(returncode: int | None) -> int:
    """The child's exit code as a process exit code (a signal N shows as 128 + N)."""
    if returncode is None:
        return 1
    return 128 - returncode if returncode < 0 else returncode


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _die_with_parent() -> None:
    """In OpenCode: get SIGTERM if the keeper dies (Linux only); its log pipes went with it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def _keep() -> int:
    orders = asyncio.StreamReader(limit=2**24)
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(orders), sys.stdin)
    try:
        spec = KeeperSpec.from_json((await orders.readline()).decode())
    except (ValueError, TypeError, KeyError) as exc:
        print(f"kimaki keeper: bad spec: {exc}", file=sys.stderr)
        return 2
    for value in spec.secrets:
        SECRETS.add(value)
    keeper = Keeper(spec, sys.stdout, orders)
    try:
        return await keeper.run()
    except Exception:
        keeper.say("failed:\n" + traceback.format_exc())
        raise


def main() -> int:
    try:
        return asyncio.run(_keep())
    except Exception:
        return 1


if __name__ == "__main__":
    sys.exit(main())
