"""Wake background sync when OpenCode's store changes, and tell sync when it has not.

A session run by a separate `opencode` process (a TUI, `opencode run`) reaches no event
stream, but it writes OpenCode's one SQLite store like every other process
(`opencode/store_files.py`). A file watch on that store is a precise and free "something
changed" signal: `watchfiles` (inotify, FSEvents or kqueue) reports the writes, and
after a short debounce — 50 ms without a further write, at most 100 ms after the first —
sync runs a tick. Reads never write there (checked against 1.18.33: listing and reading
sessions leave the files alone once an instance has started), so a tick does not wake
the next one.

The safety poll stays. When the watch runs, a poll tick first compares the store files'
stamps (mtime, size, inode) with those taken before the last listing; unchanged twice in
a row, nothing was written, so the tick needs no OpenCode request at all. The stamp
taken before a listing can include a commit not yet visible to that listing (its frames
written, its index not yet updated), hence "twice": the listing after a change is
always followed by one more.

If the store cannot be found or watched (OpenCode elsewhere, a store in memory, an
environment kimaki does not know) the watch says why once and sync polls as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import watchfiles

from kimaki.opencode.errors import OpenCodeError
from kimaki.opencode.store_files import Stamp, matches_server, store_files
from kimaki.util import background_task

log = logging.getLogger(__name__)

DEBOUNCE_MS = 100
QUIET_MS = 50

ServerPaths = Callable[[], Awaitable[Mapping[str, str]]]
"""`GET /path` of the running server (`OpenCodeClient.paths`)."""


class StoreWatch:
    """Watches OpenCode's store files and calls back (debounced) when they change."""

    def __init__(
        self,
        server_env: Mapping[str, str] | None,
        *,
        debounce_ms: int = DEBOUNCE_MS,
        quiet_ms: int = QUIET_MS,
    ) -> None:
        """`server_env` is the OpenCode server's environment (None: unknown, no watch)."""
        self.server_env = server_env
        self.files = store_files(server_env) if server_env is not None else None
        self.on_change: Callable[[], None] = lambda: None
        self.debounce_ms = debounce_ms
        self.quiet_ms = quiet_ms
        self.changes = 0
        """Debounced change reports so far (each woke sync once)."""
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._marked: Stamp | None = None
        self._stable = False

    @property
    def healthy(self) -> bool:
        """Whether changes are being watched right now."""
        return self._task is not None and not self._task.done()

    async def start(self, server_paths: ServerPaths, on_change: Callable[[], None]) -> str | None:
        """Call `on_change` after each change from now on; None when the watch runs, else
        why it cannot (for one log line)."""
        why = await self._cannot_watch(server_paths)
        if why is not None:
            return why
        self.on_change = on_change
        self._stop.clear()
        self._task = background_task.start(self._watch(), name="store-watch")
        return None

    async def _cannot_watch(self, server_paths: ServerPaths) -> str | None:
        if self.server_env is None:
            return "kimaki does not know the OpenCode server's environment"
        files = self.files
        if files is None:
            return "OpenCode keeps no store on disk here (no HOME, or OPENCODE_DB=:memory:)"
        if not files.directory.is_dir():
            return f"{files.directory} does not exist"
        try:
            paths = await server_paths()
        except OpenCodeError as exc:
            log.debug("cannot ask OpenCode for its paths (%s); watching %s", exc, files.directory)
            return None
        return matches_server(self.server_env, paths)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        files = self.files
        assert files is not None
        try:
            async for _ in watchfiles.awatch(
                files.directory,
                watch_filter=lambda _change, path: files.is_store(Path(path).name),
                recursive=False,
                debounce=self.debounce_ms,
                step=self.quiet_ms,
                stop_event=self._stop,
            ):
                self.changes += 1
                self.on_change()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "the watch on OpenCode's store in %s stopped (%s): sync polls only",
                files.directory,
                exc,
            )

    # --- is the store quiet?

    def mark(self) -> None:
        """Sync is about to list sessions: remember what the store files look like."""
        stamp = self._stamp()
        self._stable = stamp is not None and stamp == self._marked
        self._marked = stamp

    def quiet(self) -> bool:
        """Whether nothing was written to the store since the last two listings began,
        so a listing now would show nothing new (and the watch is running)."""
        if not self.healthy or not self._stable or self._marked is None:
            return False
        return self._stamp() == self._marked

    def _stamp(self) -> Stamp | None:
        if self.files is None:
            return None
        try:
            return self.files.stamp()
        except OSError:
            return None
