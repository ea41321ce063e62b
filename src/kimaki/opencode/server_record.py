"""The server's pid record, and stopping the processes it names.

`opencode-server.json` (private: it holds the password) is written by the keeper and read
by a start that may re-attach; when the server it names does not answer, `reap_orphan`
stops it and its keeper. These need no server object, so tests and the set-up use them too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kimaki.opencode.keeper_handle import pid_alive

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StopPolicy:
    """TERM, wait, TERM again (a server busy fetching a plugin may ignore the first), KILL."""

    first_wait: float = 3.0
    second_wait: float = 3.0


@dataclass(frozen=True)
class ServerRecord:
    """`opencode-server.json`, written by the keeper (private: it holds the password)."""

    pid: int
    keeper: int | None
    url: str | None
    password: str | None


def read_record(pid_path: Path) -> ServerRecord | None:
    try:
        data = json.loads(pid_path.read_text())
        keeper = data.get("keeper")
        return ServerRecord(
            pid=int(data["pid"]),
            keeper=int(keeper) if keeper is not None else None,
            url=data.get("url") or None,
            password=data.get("password") or None,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def reap_orphan(pid_path: Path, policy: StopPolicy) -> bool:
    """Stop the server (and keeper) an earlier run left behind; True if one was found.

    Used when a start cannot re-attach to it (it does not answer) and by tests cleaning up.
    """
    record = read_record(pid_path)
    if record is None:
        return False
    keeper = record.keeper if record.keeper is not None and is_keeper(record.keeper) else None
    pid = record.pid
    if not is_opencode_serve(pid) and keeper is None:
        pid_path.unlink(missing_ok=True)
        return False
    log.warning("stopping an orphaned opencode server from an earlier run (pid %s)", pid)
    if keeper is not None:
        # The keeper stops its server the way a clean stop does.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(keeper, signal.SIGTERM)
        if not wait_until(
            lambda: not pid_alive(keeper), policy.first_wait + policy.second_wait + 6
        ):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(keeper, signal.SIGKILL)
    for sig, wait in (
        (signal.SIGTERM, policy.first_wait),
        (signal.SIGTERM, policy.second_wait),
        (signal.SIGKILL, 5.0),
    ):
        if not is_opencode_serve(pid):
            break
        signal_group(pid, sig)
        if wait_until(lambda: not is_opencode_serve(pid), wait):
            break
    signal_group(pid, signal.SIGKILL)
    pid_path.unlink(missing_ok=True)
    return True


def _cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def is_opencode_serve(pid: int) -> bool:
    cmdline = _cmdline(pid)
    return b"serve" in cmdline and any(b"opencode" in part for part in cmdline) and pid_alive(pid)


def is_keeper(pid: int) -> bool:
    return b"kimaki.opencode.keeper" in _cmdline(pid) and pid_alive(pid)


def wait_until(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.05)
    return done()


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
