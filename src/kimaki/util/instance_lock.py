"""One running kimaki per data dir: an OS file lock, not a port.

`flock` on `DATA_DIR/kimaki.lock` is held for the life of the process and released by
the kernel however it ends (a `kill -9` included), so a stale lock never blocks a
start. The holder writes its pid into the file; a second kimaki that cannot take the
lock reads it back to say who runs. Commands that act through the store (`project`,
`guild`, `send`, `status`, `task`, `setup`) take no lock; `status` only asks whether
it is held.

The descriptor is not inherited by child processes (Python opens files
non-inheritable), so the OpenCode server never keeps the lock alive after kimaki.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from kimaki.util.private_files import FILE_MODE

LOCK_FILENAME = "kimaki.lock"


class AlreadyRunning(RuntimeError):
    """Another process holds the data dir's lock; `pid` is its pid, if it wrote one."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid is not None else "another process"
        super().__init__(
            f"kimaki is already running on {data_dir} ({who}); stop it first, or use "
            "another --data-dir"
        )
        self.pid = pid


class InstanceLock:
    """The data dir's lock, held from `acquire` until `release` or the process ends."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILENAME
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        """Take the lock at once (no waiting), or raise `AlreadyRunning`."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.data_dir, holder_pid(self.data_dir)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def __enter__(self) -> InstanceLock:
        return self if self._fd is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_pid(data_dir: Path) -> int | None:
    """The pid written by the lock's holder (None if unreadable or empty)."""
    try:
        text = (data_dir / LOCK_FILENAME).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def running_pid(data_dir: Path) -> int | None:
    """The pid of the kimaki running on `data_dir` (0 if it has not written it yet), or
    None when none runs.

    Probes with a shared, non-blocking lock that is dropped at once: it fails only while
    a kimaki holds the exclusive one.
    """
    path = data_dir / LOCK_FILENAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return holder_pid(data_dir) or 0
    finally:
        os.close(fd)  # also drops the probe's shared lock
    return None
