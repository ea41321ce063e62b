"""`logs/opencode-server.log`: what the shared server prints, kept private and secret-free.

Both of the child's output streams are pumped through here (never handed to the child
as a file), so each line can have every secret kimaki knows replaced before it is
written. The pipes must stay drained whatever happens, or the server blocks on a
write: a failing disk closes the file, and the pumps read on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO

from kimaki.util.private_files import open_private, private_dir
from kimaki.util.redaction import SECRETS

log = logging.getLogger(__name__)

ROTATE_AT = 20 * 1024 * 1024
# A line longer than this is written in pieces (a secret split between two is not hidden).
LONGEST_LINE = 1024 * 1024


class ServerLog:
    """The log file, opened (and rotated when large) once per kimaki run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def open(self) -> None:
        if self._file is not None:
            return
        private_dir(self.path.parent)
        _rotate(self.path)
        self._file = open_private(self.path, "ab", buffering=0)

    def write(self, data: bytes | str) -> None:
        """Write `data` with every known secret hidden."""
        if self._file is None:
            return
        raw = data.encode() if isinstance(data, str) else data
        try:
            self._file.write(SECRETS.redact_bytes(raw))
        except OSError as exc:
            log.warning("cannot write %s: %s; closing it", self.path, exc)
            self.close()

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    async def pump(
        self, stream: asyncio.StreamReader, on_line: Callable[[bytes], None] | None = None
    ) -> None:
        """Copy `stream` into the log line by line until it ends; `on_line` sees each line."""
        async for line in lines(stream):
            self.write(line)
            if on_line is not None:
                on_line(line)


async def lines(stream: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """`stream`'s lines, each whole (a secret is hidden only within one piece of text).

    `readline` would drop a line longer than the stream's buffer limit; here such a line
    is gathered, and only one longer than `LONGEST_LINE` comes out in pieces.
    """
    partial = bytearray()
    while True:
        try:
            line = await stream.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:  # end of stream
            if partial or exc.partial:
                yield bytes(partial) + exc.partial
            return
        except asyncio.LimitOverrunError as exc:
            partial += await stream.readexactly(exc.consumed)
            if len(partial) >= LONGEST_LINE:
                yield bytes(partial)
                partial.clear()
            continue
        yield bytes(partial) + line
        partial.clear()


def _rotate(path: Path) -> None:
    """Keep one older file: the current log moves to `.1` once it passes `ROTATE_AT`."""
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > ROTATE_AT:
            path.replace(path.with_suffix(path.suffix + ".1"))
